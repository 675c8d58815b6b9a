//! Delivery hours: windows on the region's wall clock, DST-aware.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use platform::ApiError;

use crate::{
    DeliveryRequest, Region, ScheduledDelivery, DELIVERY_MAX_DAYS_AHEAD, DELIVERY_WINDOW_MINUTES,
};

impl Region {
    /// Turns a delivery request into a committed window of
    /// [`DELIVERY_WINDOW_MINUTES`]. Delivery hours are `[opens, closes)` on
    /// the region's local wall clock.
    ///
    /// - `Asap` inside hours starts at `now`. Outside hours it moves to the
    ///   next opening (today's if the local time is before `opens`, else
    ///   tomorrow's) with `rescheduled = true`. An asap window may run past
    ///   closing (ordered at 21:59, delivered by 22:59): the order was placed
    ///   while open and the driver is already out.
    /// - `Window { start }` is taken as is or refused with 422:
    ///   `delivery_window_in_past` if `start < now`,
    ///   `delivery_window_too_far` if `start` is more than
    ///   [`DELIVERY_MAX_DAYS_AHEAD`] days after `now`,
    ///   `delivery_window_outside_hours` unless the whole window lies within
    ///   `[opens, closes]` of the local day on which it starts (08:00-22:00:
    ///   08:00 and 21:00 are fine, 07:59 and 21:01 are not). These are checked
    ///   in that order.
    ///
    /// Local opening times are turned into instants with the time zone's DST
    /// rules: a time skipped by spring-forward maps to the first instant after
    /// the gap, a time repeated by fall-back to the earlier instant.
    pub fn schedule_delivery(
        &self,
        request: &DeliveryRequest,
        now: DateTime<Utc>,
    ) -> Result<ScheduledDelivery, ApiError> {
        let window = TimeDelta::minutes(DELIVERY_WINDOW_MINUTES);
        let hours = &self.delivery_hours;
        let tz = hours.time_zone;
        match *request {
            DeliveryRequest::Asap => {
                let local = now.with_timezone(&tz);
                let (today, time) = (local.date_naive(), local.time());
                let (window_start, rescheduled) = if hours.opens <= time && time < hours.closes {
                    (now, false)
                } else if time < hours.opens {
                    (local_to_utc(tz, today.and_time(hours.opens)), true)
                } else {
                    let tomorrow = today
                        .succ_opt()
                        .ok_or_else(|| ApiError::internal("date out of range"))?;
                    (local_to_utc(tz, tomorrow.and_time(hours.opens)), true)
                };
                Ok(ScheduledDelivery {
                    window_start,
                    window_end: window_start + window,
                    rescheduled,
                })
            }
            DeliveryRequest::Window { start } => {
                if start < now {
                    return Err(ApiError::unprocessable(
                        "delivery_window_in_past",
                        "the requested delivery window has already started",
                    ));
                }
                if start > now + TimeDelta::days(DELIVERY_MAX_DAYS_AHEAD) {
                    return Err(ApiError::unprocessable(
                        "delivery_window_too_far",
                        format!(
                            "delivery can be booked at most {DELIVERY_MAX_DAYS_AHEAD} days ahead"
                        ),
                    )
                    .with_detail("max_days_ahead", DELIVERY_MAX_DAYS_AHEAD));
                }
                let end = start + window;
                let day = start.with_timezone(&tz).date_naive();
                let opens_at = local_to_utc(tz, day.and_time(hours.opens));
                let closes_at = local_to_utc(tz, day.and_time(hours.closes));
                if start < opens_at || end > closes_at {
                    let (opens, closes) = (
                        crate::hh_mm(hours.opens),
                        crate::hh_mm(hours.closes),
                    );
                    return Err(ApiError::unprocessable(
                        "delivery_window_outside_hours",
                        format!(
                            "{} delivers between {opens} and {closes} ({}); a window lasts \
                             {DELIVERY_WINDOW_MINUTES} minutes and must end by closing",
                            self.name,
                            tz.name()
                        ),
                    )
                    .with_detail("opens", opens)
                    .with_detail("closes", closes)
                    .with_detail("time_zone", tz.name()));
                }
                Ok(ScheduledDelivery {
                    window_start: start,
                    window_end: end,
                    rescheduled: false,
                })
            }
        }
    }
}

/// The instant a local wall-clock time names in `tz`.
///
/// - Normal times have exactly one instant.
/// - Ambiguous times (the hour repeated when clocks fall back) take the
///   earlier instant: a delivery promised "at 01:30" should not slip an hour.
/// - Times that do not exist (skipped when clocks spring forward) take the
///   first instant after the gap, i.e. the moment the clock jumps: 02:30 on a
///   US spring-forward day becomes 03:00 daylight time.
///
/// Callers pass dates near `now`, far inside chrono's range.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        LocalResult::None => first_instant_at_or_after(tz, local),
    }
}

/// The first whole second whose wall-clock reading in `tz` is at or after
/// `local`, by bisection. Every UTC offset in the tz database is far below
/// 36 hours, so the wall clock reads before `local` at the lower bound and
/// after it at the upper bound.
fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    const SPAN_SECONDS: i64 = 36 * 3600;
    let instant = |secs: i64| DateTime::from_timestamp(secs, 0).expect("date near now");
    let wall = |secs: i64| instant(secs).with_timezone(&tz).naive_local();
    let target = local.and_utc().timestamp();
    // Invariant: wall(lo) < local <= wall(hi).
    let (mut lo, mut hi) = (target - SPAN_SECONDS, target + SPAN_SECONDS);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if wall(mid) >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    instant(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    // US-CA: 08:00-22:00 America/Los_Angeles; in June that is PDT = UTC-7.

    #[test]
    fn asap_inside_hours_starts_now() {
        for now in [
            "2026-06-10T15:00:00Z", // 08:00 PDT
            "2026-06-10T20:00:00Z", // 13:00 PDT
            "2026-06-11T04:59:00Z", // 21:59 PDT
        ] {
            let d = schedule("US-CA", DeliveryRequest::Asap, now);
            assert_eq!(d.window_start, utc(now));
            assert_eq!(d.window_end, utc(now) + TimeDelta::minutes(60));
            assert!(!d.rescheduled, "{now}");
        }
    }

    #[test]
    fn asap_outside_hours_moves_to_the_next_opening() {
        for (now, opening) in [
            ("2026-06-10T14:59:00Z", "2026-06-10T15:00:00Z"), // 07:59 → 08:00 same day
            ("2026-06-11T07:30:00Z", "2026-06-11T15:00:00Z"), // 00:30 → 08:00 same day
            ("2026-06-11T05:00:00Z", "2026-06-11T15:00:00Z"), // 22:00 → 08:00 next day
            ("2026-06-11T05:01:00Z", "2026-06-11T15:00:00Z"), // 22:01 → 08:00 next day
            ("2026-06-11T06:59:59Z", "2026-06-11T15:00:00Z"), // 23:59:59
        ] {
            let d = schedule("US-CA", DeliveryRequest::Asap, now);
            assert_eq!(d.window_start, utc(opening), "{now}");
            assert_eq!(d.window_end, utc(opening) + TimeDelta::minutes(60));
            assert!(d.rescheduled, "{now}");
        }
    }

    #[test]
    fn requested_windows_must_fit_inside_delivery_hours() {
        let now = "2026-06-10T17:00:00Z"; // 10:00 PDT
        for ok in [
            "2026-06-11T15:00:00Z", // 08:00 PDT
            "2026-06-12T04:00:00Z", // 21:00 PDT, ends at 22:00
            "2026-06-10T17:00:00Z", // exactly now
            "2026-06-24T17:00:00Z", // exactly 14 days ahead
        ] {
            let d = schedule("US-CA", window(ok), now);
            assert_eq!(
                d,
                ScheduledDelivery {
                    window_start: utc(ok),
                    window_end: utc(ok) + TimeDelta::minutes(60),
                    rescheduled: false
                }
            );
        }
        for outside in [
            "2026-06-11T14:59:00Z", // 07:59 PDT
            "2026-06-12T04:01:00Z", // 21:01 PDT, would end 22:01
            "2026-06-12T06:00:00Z", // 23:00 PDT
        ] {
            assert_eq!(
                window_error("US-CA", outside, now),
                "delivery_window_outside_hours",
                "{outside}"
            );
        }
        // 09:00 PDT today, inside hours but already past.
        assert_eq!(
            window_error("US-CA", "2026-06-10T16:00:00Z", now),
            "delivery_window_in_past"
        );
        // 10:00:01 PDT two weeks ahead, inside hours but too far.
        assert_eq!(
            window_error("US-CA", "2026-06-24T17:00:01Z", now),
            "delivery_window_too_far"
        );
    }

    #[test]
    fn outside_hours_errors_tell_the_client_the_hours() {
        let e = region("US-CA")
            .schedule_delivery(&window("2026-06-11T14:59:00Z"), utc("2026-06-10T17:00:00Z"))
            .unwrap_err();
        let details = e.details.unwrap();
        assert_eq!(details["opens"], "08:00");
        assert_eq!(details["closes"], "22:00");
        assert_eq!(details["time_zone"], "America/Los_Angeles");
    }

    #[test]
    fn asap_across_daylight_saving_changes() {
        for (now, opening) in [
            // 22:01 PST on Mar 7 → 08:00 PDT on Mar 8 (spring forward that night).
            ("2026-03-08T06:01:00Z", "2026-03-08T15:00:00Z"),
            // 22:01 PDT on Mar 8 → 08:00 PDT on Mar 9.
            ("2026-03-09T05:01:00Z", "2026-03-09T15:00:00Z"),
            // 22:01 PDT on Oct 31 → 08:00 PST on Nov 1 (fall back that night).
            ("2026-11-01T05:01:00Z", "2026-11-01T16:00:00Z"),
            // 22:01 PST on Nov 1 → 08:00 PST on Nov 2.
            ("2026-11-02T06:01:00Z", "2026-11-02T16:00:00Z"),
        ] {
            let d = schedule("US-CA", DeliveryRequest::Asap, now);
            assert_eq!(d.window_start, utc(opening), "{now}");
            assert_eq!(d.window_end - d.window_start, TimeDelta::minutes(60));
            assert!(d.rescheduled);
        }
    }

    #[test]
    fn requested_windows_on_daylight_saving_days_use_that_days_offset() {
        let now = "2026-03-07T20:00:00Z";
        // Mar 8 is PDT (UTC-7) from 03:00: 08:00 PDT = 15:00Z.
        assert!(region("US-CA")
            .schedule_delivery(&window("2026-03-08T15:00:00Z"), utc(now))
            .is_ok());
        // 14:59Z is 07:59 PDT (it would be 06:59 PST, but that is not the time).
        assert_eq!(
            window_error("US-CA", "2026-03-08T14:59:00Z", now),
            "delivery_window_outside_hours"
        );
        // Nov 1 is PST (UTC-8) after 02:00: 08:00 PST = 16:00Z, 21:00 PST = 05:00Z.
        let now = "2026-10-31T20:00:00Z";
        assert_eq!(
            window_error("US-CA", "2026-11-01T15:00:00Z", now),
            "delivery_window_outside_hours"
        );
        assert!(region("US-CA")
            .schedule_delivery(&window("2026-11-01T16:00:00Z"), utc(now))
            .is_ok());
        assert!(region("US-CA")
            .schedule_delivery(&window("2026-11-02T05:00:00Z"), utc(now))
            .is_ok());
    }

    #[test]
    fn local_times_in_dst_gaps_and_overlaps() {
        let la = Tz::America__Los_Angeles;
        let at =
            |d: &str, t: &str| date(d).and_time(NaiveTime::parse_from_str(t, "%H:%M:%S").unwrap());
        // Spring forward: 02:00-02:59:59 do not exist on 2026-03-08; the clock
        // jumps from 01:59:59 PST (09:59:59Z) to 03:00 PDT (10:00Z).
        assert_eq!(
            local_to_utc(la, at("2026-03-08", "02:30:00")),
            utc("2026-03-08T10:00:00Z")
        );
        assert_eq!(
            local_to_utc(la, at("2026-03-08", "02:00:00")),
            utc("2026-03-08T10:00:00Z")
        );
        assert_eq!(
            local_to_utc(la, at("2026-03-08", "01:59:59")),
            utc("2026-03-08T09:59:59Z")
        );
        assert_eq!(
            local_to_utc(la, at("2026-03-08", "03:00:00")),
            utc("2026-03-08T10:00:00Z")
        );
        // Fall back: 01:00-01:59:59 happen twice on 2026-11-01; take the first (PDT).
        assert_eq!(
            local_to_utc(la, at("2026-11-01", "01:30:00")),
            utc("2026-11-01T08:30:00Z")
        );
        // Ordinary times.
        assert_eq!(
            local_to_utc(la, at("2026-06-10", "08:00:00")),
            utc("2026-06-10T15:00:00Z")
        );
        assert_eq!(
            local_to_utc(la, at("2026-11-01", "08:00:00")),
            utc("2026-11-01T16:00:00Z")
        );
        // A zone east of UTC with a gap: Berlin springs forward 2026-03-29 02:00 CET → 03:00 CEST.
        assert_eq!(
            local_to_utc(Tz::Europe__Berlin, at("2026-03-29", "02:30:00")),
            utc("2026-03-29T01:00:00Z")
        );
    }

    #[test]
    fn an_opening_inside_the_dst_gap_opens_when_the_clock_jumps() {
        let regions = single_region(&[(
            "delivery_hours",
            r#"{ opens = "02:30", closes = "22:00", time_zone = "America/Los_Angeles" }"#,
        )])
        .unwrap();
        let r = regions.get(&RegionCode::parse("XX-T").unwrap()).unwrap();
        // 01:00 PST on 2026-03-08; 02:30 does not exist that day.
        let d = r
            .schedule_delivery(&DeliveryRequest::Asap, utc("2026-03-08T09:00:00Z"))
            .unwrap();
        assert_eq!(d.window_start, utc("2026-03-08T10:00:00Z"));
        assert!(d.rescheduled);
    }
}

//! Age verification on the region's local calendar.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use platform::ApiError;

use crate::{AgeAttestation, AgeRule, Region};

/// Oldest plausible shopper. An older date of birth is a typo (1925 for 1995)
/// and must not pass an age check by accident.
const MAX_PLAUSIBLE_AGE_YEARS: u32 = 150;

impl Region {
    /// Checks the shopper's age against the region's rule.
    ///
    /// - [`AgeRule::None`]: `Ok(None)`; the date of birth is ignored, even if
    ///   missing or implausible (we have no business judging it there).
    /// - [`AgeRule::Minimum`]`(n)`: the shopper qualifies when their n-th
    ///   birthday is on or before *today's date in the region's time zone*:
    ///   the law follows the local calendar, not UTC. Someone born on
    ///   29 February reaches the age on 1 March in a non-leap year (the
    ///   conservative reading: 28 February would let them through a day early
    ///   where the law counts that way).
    ///
    /// Errors: no date of birth or under age → 422 `age_verification_failed`
    /// (the message never echoes the date of birth); a date of birth in the
    /// future or more than 150 years ago → 422 `invalid_date_of_birth` (a
    /// well-formed date the rules cannot accept; a malformed one is a 400 of
    /// the request's parser).
    /// On success returns the attestation to store instead of the birth date.
    pub fn verify_age(
        &self,
        date_of_birth: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Option<AgeAttestation>, ApiError> {
        let minimum_age = match self.age_verification {
            AgeRule::None => return Ok(None),
            AgeRule::Minimum(n) => n,
        };
        let refused = |message: String| {
            ApiError::unprocessable("age_verification_failed", message)
                .with_detail("minimum_age", minimum_age)
        };
        let Some(dob) = date_of_birth else {
            return Err(refused(format!(
                "a date of birth is required: {} requires age {minimum_age} or over",
                self.name
            )));
        };

        let today = now
            .with_timezone(&self.delivery_hours.time_zone)
            .date_naive();
        let oldest = today.checked_sub_months(Months::new(12 * MAX_PLAUSIBLE_AGE_YEARS));
        if dob > today || oldest.is_some_and(|oldest| dob < oldest) {
            return Err(ApiError::unprocessable(
                "invalid_date_of_birth",
                "date of birth must be in the past and within the last 150 years",
            ));
        }

        let qualifies = nth_birthday(dob, minimum_age.into()).is_some_and(|day| day <= today);
        if !qualifies {
            return Err(refused(format!(
                "{} requires age {minimum_age} or over",
                self.name
            )));
        }
        Ok(Some(AgeAttestation {
            minimum_age,
            verified_at: now,
        }))
    }
}

/// The date someone born on `dob` turns `years` old. A 29 February birthday
/// falls on 1 March in non-leap years (see [`Region::verify_age`]). `None`
/// only beyond chrono's calendar range.
fn nth_birthday(dob: NaiveDate, years: i32) -> Option<NaiveDate> {
    let year = dob.year().checked_add(years)?;
    NaiveDate::from_ymd_opt(year, dob.month(), dob.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use crate::AgeAttestation;

    #[test]
    fn the_birthday_itself_counts_and_the_day_before_does_not() {
        let ca = region("US-CA");
        let now = utc("2026-06-01T20:00:00Z"); // 13:00 PDT on June 1
        assert_eq!(
            ca.verify_age(Some(date("2005-06-01")), now).unwrap(),
            Some(AgeAttestation {
                minimum_age: 21,
                verified_at: now
            })
        );
        let e = ca.verify_age(Some(date("2005-06-02")), now).unwrap_err();
        assert_eq!((e.status, e.code), (422, "age_verification_failed"));
        assert!(!e.message.contains("2005"), "echoes the dob: {}", e.message);
        assert_eq!(e.details.unwrap()["minimum_age"], 21);
        // Far older is fine.
        assert!(ca.verify_age(Some(date("1950-01-01")), now).is_ok());
    }

    #[test]
    fn age_follows_the_regions_local_calendar() {
        let born = Some(date("2005-06-01")); // 21 on 2026-06-01
                                             // 05:00Z: already June 1 in New York (01:00 EDT), still May 31 in LA (22:00 PDT).
        let instant = utc("2026-06-01T05:00:00Z");
        let e = region("US-CA").verify_age(born, instant).unwrap_err();
        assert_eq!(e.code, "age_verification_failed");
        assert!(region("US-NY").verify_age(born, instant).is_ok());
        // Two hours later it is midnight in LA and the same shopper passes.
        assert!(region("US-CA")
            .verify_age(born, utc("2026-06-01T07:00:00Z"))
            .is_ok());
        // A shopper born "today" in LA terms is not born in the future.
        let e = region("US-CA")
            .verify_age(Some(date("2026-05-31")), instant)
            .unwrap_err();
        assert_eq!(e.code, "age_verification_failed");
    }

    #[test]
    fn leap_day_birthdays_arrive_on_march_first_in_common_years() {
        let ca = region("US-CA");
        let born = Some(date("2004-02-29")); // 21 in 2025, a common year
        let e = ca
            .verify_age(born, utc("2025-02-28T20:00:00Z"))
            .unwrap_err();
        assert_eq!(e.code, "age_verification_failed");
        assert!(ca.verify_age(born, utc("2025-03-01T20:00:00Z")).is_ok());
        // In a leap year the birthday exists: 2000-02-29 turns 28 on 2028-02-29.
        let regions = single_region(&[("age_verification", "{ minimum_age = 28 }")]).unwrap();
        let r = regions.get(&RegionCode::parse("XX-T").unwrap()).unwrap();
        let born = Some(date("2000-02-29"));
        assert!(r.verify_age(born, utc("2028-02-28T20:00:00Z")).is_err());
        assert!(r.verify_age(born, utc("2028-02-29T20:00:00Z")).is_ok());
    }

    #[test]
    fn a_missing_date_of_birth_fails_where_age_is_checked() {
        let e = region("US-CA")
            .verify_age(None, utc("2026-06-01T20:00:00Z"))
            .unwrap_err();
        assert_eq!((e.status, e.code), (422, "age_verification_failed"));
    }

    #[test]
    fn regions_without_age_rules_ignore_the_date_of_birth() {
        let or = region("US-OR");
        let now = utc("2026-06-01T20:00:00Z");
        assert_eq!(or.verify_age(None, now).unwrap(), None);
        assert_eq!(or.verify_age(Some(date("2020-01-01")), now).unwrap(), None);
        assert_eq!(or.verify_age(Some(date("2030-01-01")), now).unwrap(), None);
    }

    #[test]
    fn implausible_dates_of_birth_are_bad_requests() {
        let ca = region("US-CA");
        let now = utc("2026-06-01T20:00:00Z");
        for dob in ["2026-06-02", "2100-01-01", "1876-05-31", "0001-01-01"] {
            let e = ca.verify_age(Some(date(dob)), now).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_date_of_birth"), "{dob}");
        }
        // Exactly 150 years is still plausible.
        assert!(ca.verify_age(Some(date("1876-06-01")), now).is_ok());
        // "Future" is judged on the local calendar: at 05:00Z it is still
        // May 31 in Los Angeles, so June 1 is tomorrow there.
        let e = ca
            .verify_age(Some(date("2026-06-01")), utc("2026-06-01T05:00:00Z"))
            .unwrap_err();
        assert_eq!(e.code, "invalid_date_of_birth");
    }
}

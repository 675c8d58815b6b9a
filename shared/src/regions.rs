//! Region rules: sales tax, delivery hours, age verification and currency per
//! region, read from configuration instead of being written as code.
//!
//! The reviewed source is `shared/regions.toml`. `build.rs` turns it into JSON
//! at compile time (the wasm carries serde_json anyway, but no TOML parser) and
//! [`Regions::builtin`] parses that JSON once. [`Regions::from_json`] validates
//! every field, and a unit test runs it on the compiled-in file, so a bad value
//! fails `cargo test` rather than a request. Adding a region means adding a
//! block to the TOML file and nothing else: the rules below are generic.
//!
//! Every rule that depends on the time takes `now` as a parameter. Nothing here
//! reads the clock, so tests can stand anywhere in time (and on wasm32 chrono's
//! `Utc::now()` is not available anyway: Workers get the time from
//! `worker::Date::now()`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::Value;

use crate::money::Currency;
use crate::ApiError;

/// Length of every delivery window.
pub const DELIVERY_WINDOW_MINUTES: i64 = 60;

/// How far ahead a shopper may book a delivery window: further out, stock and
/// driver rosters are guesses.
pub const DELIVERY_MAX_DAYS_AHEAD: i64 = 14;

/// Oldest plausible shopper. An older date of birth is a typo (1925 for 1995)
/// and must not pass an age check by accident.
const MAX_PLAUSIBLE_AGE_YEARS: u32 = 150;

/// Highest `minimum_age` the config may ask for; anything above is a typo.
const MAX_MINIMUM_AGE: u64 = 120;

/// At most this many decimal places in a tax rate (0.000001 = 0.0001 %).
const MAX_RATE_DECIMALS: u32 = 6;

/// `regions.toml`, converted to JSON by build.rs.
const BUILTIN_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/regions.json"));

// ---------------------------------------------------------------------------
// Region code
// ---------------------------------------------------------------------------

/// An ISO 3166-2 style region code such as `US-CA`: two capital letters, `-`,
/// then one to three capitals or digits. Holding one proves it is well formed
/// (not that we serve it: that is [`Regions::get`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(String);

impl RegionCode {
    /// 400 `invalid_region` unless `s` matches `^[A-Z]{2}-[A-Z0-9]{1,3}$`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let b = s.as_bytes();
        let well_formed = (4..=6).contains(&b.len())
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2] == b'-'
            && b[3..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !well_formed {
            return Err(ApiError::bad_request(
                "invalid_region",
                "region must be a code such as US-CA: two capital letters, '-', \
                 then 1 to 3 capital letters or digits",
            ));
        }
        Ok(RegionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 3166-1 country, e.g. `US`.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// The subdivision within the country, e.g. `CA`.
    pub fn subdivision(&self) -> &str {
        &self.0[3..]
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---------------------------------------------------------------------------
// Region types
// ---------------------------------------------------------------------------

/// Whether a region requires proof of age, and which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeRule {
    /// No age check; the date of birth is not even looked at.
    None,
    /// The shopper must have reached this age (in whole years).
    Minimum(u8),
}

/// The local opening window for deliveries, `[opens, closes)` on the wall
/// clock of `time_zone`. `opens < closes`: windows never cross midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub time_zone: Tz,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub currency: Currency,
    /// A fraction, `0 <= rate < 1` (0.0725 = 7.25 %).
    pub sales_tax: Decimal,
    pub age_verification: AgeRule,
    pub delivery_hours: DeliveryHours,
}

/// What we store instead of the birth date: that the shopper was checked
/// against this minimum age, and when. The date of birth itself is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeAttestation {
    pub minimum_age: u8,
    pub verified_at: DateTime<Utc>,
}

/// What the shopper asked for at checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryRequest {
    /// As soon as possible: now if the region is open, else its next opening.
    Asap,
    /// A window of [`DELIVERY_WINDOW_MINUTES`] starting at `start`.
    Window { start: DateTime<Utc> },
}

/// The delivery window we commit to. `window_end - window_start` is always
/// [`DELIVERY_WINDOW_MINUTES`] of real time (also across a DST change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledDelivery {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// True when an `Asap` request arrived outside delivery hours and was
    /// moved to the next opening, so the client can tell the shopper.
    pub rescheduled: bool,
}

// ---------------------------------------------------------------------------
// The region table
// ---------------------------------------------------------------------------

/// All regions we serve, keyed by code.
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    regions: BTreeMap<String, Region>,
}

impl Regions {
    /// The regions compiled in from `shared/regions.toml`, parsed on first use.
    ///
    /// Panics if that file is invalid, which the unit test
    /// `builtin_config_parses_and_has_the_reviewed_values` rules out before
    /// anything ships.
    pub fn builtin() -> &'static Regions {
        static BUILTIN: OnceLock<Regions> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Regions::from_json(BUILTIN_JSON)
                .unwrap_or_else(|e| panic!("shared/regions.toml is invalid: {e}"))
        })
    }

    /// Parses and validates a config of the shape
    /// `{"regions": {"US-CA": {name, currency, sales_tax, age_verification,
    /// delivery_hours}}}` (regions.toml converted to JSON).
    ///
    /// Rejects, with a message naming the region and the field:
    /// - a code not matching [`RegionCode::parse`];
    /// - an empty `name`; a `currency` that is not three capital letters;
    /// - a `sales_tax` that is not a quoted plain decimal (a TOML/JSON number
    ///   is refused: binary floats cannot hold most rates exactly), is
    ///   negative, is 1 or more, or has more than 6 significant decimals;
    /// - `opens`/`closes` not `"HH:MM"` (24 h), or `opens >= closes`;
    /// - a `time_zone` that is not an IANA name known to chrono-tz;
    /// - `age_verification` other than `"none"` or `{ minimum_age = 1..=120 }`;
    /// - any missing or unknown field (a typo must not silently drop a rule);
    /// - a config without any region.
    pub fn from_json(json: &str) -> Result<Regions, String> {
        let raw: RawConfig =
            serde_json::from_str(json).map_err(|e| format!("regions config: {e}"))?;
        if raw.regions.is_empty() {
            return Err("regions config: no regions defined".to_string());
        }
        let mut regions = BTreeMap::new();
        for (key, value) in raw.regions {
            let region = parse_region(&key, value).map_err(|e| format!("region {key:?}: {e}"))?;
            regions.insert(key, region);
        }
        Ok(Regions { regions })
    }

    /// 422 `unknown_region` for a well-formed code we do not serve.
    pub fn get(&self, code: &RegionCode) -> Result<&Region, ApiError> {
        self.regions.get(code.as_str()).ok_or_else(|| {
            ApiError::unprocessable("unknown_region", format!("we do not serve region {code}"))
                .with_detail("region", code.as_str())
        })
    }

    /// Codes of all regions, in sorted order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.regions.keys().map(String::as_str)
    }
}

// ---------------------------------------------------------------------------
// Validation of the config
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    regions: BTreeMap<String, Value>,
}

// Fields stay `Value` so each one can be checked with an error naming it;
// serde's own type errors do not say which field they are about.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: Value,
    currency: Value,
    sales_tax: Value,
    age_verification: Value,
    delivery_hours: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeliveryHours {
    opens: Value,
    closes: Value,
    time_zone: Value,
}

fn parse_region(key: &str, value: Value) -> Result<Region, String> {
    let code = RegionCode::parse(key).map_err(|_| {
        "code must be two capital letters, '-', then 1 to 3 capital letters or digits \
         (e.g. US-CA)"
            .to_string()
    })?;
    let raw: RawRegion = serde_json::from_value(value).map_err(|e| e.to_string())?;

    let name = string(&raw.name, "name")?;
    if name.trim().is_empty() {
        return Err("name: must not be empty".to_string());
    }
    let currency = Currency::parse(string(&raw.currency, "currency")?)
        .map_err(|_| "currency: must be an ISO 4217 code such as \"USD\"".to_string())?;
    let sales_tax = parse_rate(&raw.sales_tax).map_err(|e| format!("sales_tax: {e}"))?;
    let age_verification =
        parse_age_rule(&raw.age_verification).map_err(|e| format!("age_verification: {e}"))?;
    let delivery_hours =
        parse_delivery_hours(raw.delivery_hours).map_err(|e| format!("delivery_hours: {e}"))?;

    Ok(Region {
        code,
        name: name.to_string(),
        currency,
        sales_tax,
        age_verification,
        delivery_hours,
    })
}

fn string<'a>(value: &'a Value, field: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{field}: must be a string, got {value}"))
}

/// A rate is a quoted plain decimal. Numbers are refused on purpose: TOML
/// `0.0725` is a binary float and would arrive as 0.07249999999999999.
fn parse_rate(value: &Value) -> Result<Decimal, String> {
    let Some(s) = value.as_str() else {
        return Err(format!(
            "must be a quoted decimal string such as \"0.0725\", got {value}"
        ));
    };
    // Decimal::from_str also accepts "1_000" and friends; a rate is plain digits.
    let plain = !s.is_empty()
        && s.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'));
    let rate = Decimal::from_str(s)
        .ok()
        .filter(|_| plain)
        .ok_or_else(|| format!("{s:?} is not a plain decimal such as \"0.0725\""))?;
    if s.starts_with('-') {
        return Err(format!("{s:?} is negative"));
    }
    if rate >= Decimal::ONE {
        return Err(format!(
            "{s:?} must be below 1: it is a fraction (\"0.0725\" = 7.25 %)"
        ));
    }
    // Trailing zeros add no precision, so "0.0725000" is fine.
    if rate.normalize().scale() > MAX_RATE_DECIMALS {
        return Err(format!(
            "{s:?} has more than {MAX_RATE_DECIMALS} decimal places"
        ));
    }
    Ok(rate)
}

fn parse_age_rule(value: &Value) -> Result<AgeRule, String> {
    const EXPECTED: &str = "must be \"none\" or { minimum_age = N } with N in 1..=120";
    match value {
        Value::String(s) if s == "none" => Ok(AgeRule::None),
        Value::Object(fields) if fields.len() == 1 => {
            let age = fields
                .get("minimum_age")
                .ok_or_else(|| format!("{EXPECTED}, got {value}"))?;
            age.as_u64()
                .filter(|n| (1..=MAX_MINIMUM_AGE).contains(n))
                .and_then(|n| u8::try_from(n).ok())
                .map(AgeRule::Minimum)
                .ok_or_else(|| format!("minimum_age {EXPECTED}, got {age}"))
        }
        _ => Err(format!("{EXPECTED}, got {value}")),
    }
}

fn parse_delivery_hours(value: Value) -> Result<DeliveryHours, String> {
    let raw: RawDeliveryHours = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let opens = parse_hhmm(string(&raw.opens, "opens")?).map_err(|e| format!("opens: {e}"))?;
    let closes = parse_hhmm(string(&raw.closes, "closes")?).map_err(|e| format!("closes: {e}"))?;
    if opens >= closes {
        return Err(format!(
            "opens ({}) must be before closes ({}); hours cannot cross midnight",
            opens.format("%H:%M"),
            closes.format("%H:%M")
        ));
    }
    let tz_name = string(&raw.time_zone, "time_zone")?;
    let time_zone = Tz::from_str(tz_name).map_err(|_| {
        format!("time_zone: {tz_name:?} is not an IANA time zone such as \"America/Los_Angeles\"")
    })?;
    Ok(DeliveryHours {
        opens,
        closes,
        time_zone,
    })
}

/// Exactly `HH:MM`, 00:00 to 23:59. chrono's `%H:%M` would also take "8:00".
fn parse_hhmm(s: &str) -> Result<NaiveTime, String> {
    let b = s.as_bytes();
    let digit = |i: usize| u32::from(b[i] - b'0');
    let shaped =
        b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
    shaped
        .then(|| NaiveTime::from_hms_opt(digit(0) * 10 + digit(1), digit(3) * 10 + digit(4), 0))
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a 24-hour \"HH:MM\" time (00:00 to 23:59)"))
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

impl Region {
    /// Sales tax on an order subtotal.
    ///
    /// Computed once on the subtotal, not per line: rounding each line would
    /// drift from what the tax authority computes on the receipt total. The
    /// result is rounded half-up (away from zero) to the currency's minor
    /// units and always carries exactly that scale, so a zero rate gives
    /// `0.00` (USD) and JSON shows "0.00", not "0".
    ///
    /// Cannot overflow: the rate is below 1, so the tax is below the subtotal.
    pub fn tax_on(&self, subtotal: Decimal) -> Decimal {
        let digits = self.currency.minor_digits();
        let mut tax = (subtotal * self.sales_tax)
            .round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
        tax.rescale(digits);
        tax
    }

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
    /// future or more than 150 years ago → 400 `invalid_date_of_birth`.
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
            return Err(ApiError::bad_request(
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
                        hours.opens.format("%H:%M").to_string(),
                        hours.closes.format("%H:%M").to_string(),
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

impl DeliveryRequest {
    /// Reads the `delivery` field of a checkout body: `"asap"` or
    /// `{"window_start": "<RFC 3339 date-time with offset>"}`. Anything else
    /// (other spellings, extra keys, a time without offset) is 400
    /// `invalid_delivery`: guessing would deliver at the wrong hour.
    pub fn from_json(v: &Value) -> Result<Self, ApiError> {
        let parsed = match v {
            Value::String(s) if s == "asap" => Some(DeliveryRequest::Asap),
            Value::Object(fields) if fields.len() == 1 => fields
                .get("window_start")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|start| DeliveryRequest::Window {
                    start: start.with_timezone(&Utc),
                }),
            _ => None,
        };
        parsed.ok_or_else(|| {
            ApiError::bad_request(
                "invalid_delivery",
                "delivery must be \"asap\" or {\"window_start\": \"<RFC 3339 date-time>\"}",
            )
        })
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
pub(crate) mod tests {
    use super::*;

    /// The TOML text build.rs compiles in.
    pub(crate) const REGIONS_TOML: &str = include_str!("../regions.toml");

    /// TOML → JSON exactly as build.rs does it (build.rs cannot be imported).
    fn toml_to_json(text: &str) -> String {
        let value: Value = toml::from_str(text).expect("valid TOML");
        serde_json::to_string(&value).unwrap()
    }

    pub(crate) fn regions_from_toml(text: &str) -> Result<Regions, String> {
        Regions::from_json(&toml_to_json(text))
    }

    fn region(code: &str) -> &'static Region {
        Regions::builtin()
            .get(&RegionCode::parse(code).unwrap())
            .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn hm(s: &str) -> NaiveTime {
        parse_hhmm(s).unwrap()
    }

    /// A one-region config ("XX-T") whose fields can be overridden or added to.
    fn single_region(overrides: &[(&str, &str)]) -> Result<Regions, String> {
        let mut fields = vec![
            ("name", r#""Test""#.to_string()),
            ("currency", r#""USD""#.to_string()),
            ("sales_tax", r#""0.05""#.to_string()),
            ("age_verification", "{ minimum_age = 21 }".to_string()),
            (
                "delivery_hours",
                r#"{ opens = "08:00", closes = "22:00", time_zone = "America/Los_Angeles" }"#
                    .to_string(),
            ),
        ];
        for (key, value) in overrides {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some(field) => field.1 = value.to_string(),
                None => fields.push((key, value.to_string())),
            }
        }
        let body: String = fields.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        regions_from_toml(&format!("[regions.XX-T]\n{body}"))
    }

    fn rejected(overrides: &[(&str, &str)]) -> String {
        match single_region(overrides) {
            Ok(_) => panic!("{overrides:?} was accepted"),
            Err(e) => {
                assert!(e.contains("XX-T"), "error does not name the region: {e}");
                e
            }
        }
    }

    fn schedule(code: &str, request: DeliveryRequest, now: &str) -> ScheduledDelivery {
        region(code).schedule_delivery(&request, utc(now)).unwrap()
    }

    fn window(start: &str) -> DeliveryRequest {
        DeliveryRequest::Window { start: utc(start) }
    }

    fn window_error(code: &str, start: &str, now: &str) -> &'static str {
        let e = region(code)
            .schedule_delivery(&window(start), utc(now))
            .unwrap_err();
        assert_eq!(e.status, 422, "{e}");
        e.code
    }

    // --- config -----------------------------------------------------------

    #[test]
    fn builtin_config_parses_and_has_the_reviewed_values() {
        let regions = Regions::builtin();
        assert_eq!(
            regions.codes().collect::<Vec<_>>(),
            ["US-CA", "US-CO", "US-NY", "US-OR"]
        );

        let ca = region("US-CA");
        assert_eq!(ca.code.as_str(), "US-CA");
        assert_eq!(ca.name, "California");
        assert_eq!(ca.currency.as_str(), "USD");
        assert_eq!(ca.sales_tax, dec("0.0725"));
        assert_eq!(ca.age_verification, AgeRule::Minimum(21));
        assert_eq!(
            ca.delivery_hours,
            DeliveryHours {
                opens: hm("08:00"),
                closes: hm("22:00"),
                time_zone: Tz::America__Los_Angeles
            }
        );

        let co = region("US-CO");
        assert_eq!(co.name, "Colorado");
        assert_eq!(co.currency.as_str(), "USD");
        assert_eq!(co.sales_tax, dec("0.029"));
        assert_eq!(co.age_verification, AgeRule::Minimum(21));
        assert_eq!(
            co.delivery_hours,
            DeliveryHours {
                opens: hm("08:00"),
                closes: hm("20:00"),
                time_zone: Tz::America__Denver
            }
        );

        let ny = region("US-NY");
        assert_eq!(ny.name, "New York");
        assert_eq!(ny.sales_tax, dec("0.04"));
        assert_eq!(ny.age_verification, AgeRule::Minimum(21));
        assert_eq!(
            ny.delivery_hours,
            DeliveryHours {
                opens: hm("09:00"),
                closes: hm("21:00"),
                time_zone: Tz::America__New_York
            }
        );

        let or = region("US-OR");
        assert_eq!(or.name, "Oregon");
        assert_eq!(or.currency.as_str(), "USD");
        assert_eq!(or.sales_tax, Decimal::ZERO);
        assert_eq!(or.age_verification, AgeRule::None);
        assert_eq!(
            or.delivery_hours,
            DeliveryHours {
                opens: hm("07:00"),
                closes: hm("23:00"),
                time_zone: Tz::America__Los_Angeles
            }
        );
    }

    #[test]
    fn build_script_output_matches_the_toml_file() {
        assert_eq!(
            &regions_from_toml(REGIONS_TOML).unwrap(),
            Regions::builtin()
        );
    }

    #[test]
    fn the_test_template_is_valid() {
        // Guards the rejection tests below: each fails for its override only.
        let regions = single_region(&[]).unwrap();
        assert_eq!(regions.codes().collect::<Vec<_>>(), ["XX-T"]);
    }

    #[test]
    fn rejects_bad_region_codes() {
        for code in ["us-ca", "USA-CA", "US-CALI", "US_CA", "U-CA", "US-"] {
            let toml = REGIONS_TOML.replace("[regions.US-NY]", &format!("[regions.\"{code}\"]"));
            let e = regions_from_toml(&toml).unwrap_err();
            assert!(e.contains(code) && e.contains("code"), "{code}: {e}");
        }
    }

    #[test]
    fn rejects_bad_tax_rates() {
        for (rate, why) in [
            (r#""1.5""#, "below 1"),
            (r#""1""#, "below 1"),
            (r#""-0.1""#, "negative"),
            (r#""-0""#, "negative"),
            (r#""0.0000001""#, "decimal places"),
            (r#""abc""#, "plain decimal"),
            (r#""1e-2""#, "plain decimal"),
            (r#""""#, "plain decimal"),
            ("0.0725", "quoted decimal string"),
            ("0", "quoted decimal string"),
        ] {
            let e = rejected(&[("sales_tax", rate)]);
            assert!(e.contains("sales_tax") && e.contains(why), "{rate}: {e}");
        }
        // Six places and trailing zeros are fine.
        let ok = single_region(&[("sales_tax", r#""0.1234560""#)]).unwrap();
        let r = ok.get(&RegionCode::parse("XX-T").unwrap()).unwrap();
        assert_eq!(r.sales_tax, dec("0.123456"));
    }

    #[test]
    fn rejects_bad_delivery_hours() {
        let hours = |opens: &str, closes: &str, tz: &str| {
            format!(r#"{{ opens = "{opens}", closes = "{closes}", time_zone = "{tz}" }}"#)
        };
        let la = "America/Los_Angeles";
        for (value, why) in [
            (hours("08:00", "22:00", "America/Springfield"), "time_zone"),
            (hours("08:00", "22:00", "america/los_angeles"), "time_zone"),
            (hours("08:00", "22:00", "UTC-8"), "time_zone"),
            (hours("22:00", "08:00", la), "must be before closes"),
            (hours("08:00", "08:00", la), "must be before closes"),
            (hours("8:00", "22:00", la), "opens"),
            (hours("08:00", "24:00", la), "closes"),
            (hours("08:00:00", "22:00", la), "opens"),
            (hours("08:60", "22:00", la), "opens"),
            // A bare TOML time is not a string; refuse rather than guess.
            (
                format!(r#"{{ opens = 08:00:00, closes = "22:00", time_zone = "{la}" }}"#),
                "opens",
            ),
            (
                format!(r#"{{ opens = "08:00", closes = "22:00", timezone = "{la}" }}"#),
                "unknown field `timezone`",
            ),
            (
                r#"{ opens = "08:00", closes = "22:00" }"#.to_string(),
                "missing field `time_zone`",
            ),
        ] {
            let e = rejected(&[("delivery_hours", &value)]);
            assert!(
                e.contains("delivery_hours") && e.contains(why),
                "{value}: {e}"
            );
        }
    }

    #[test]
    fn rejects_bad_age_rules() {
        for value in [
            "{ minimum_age = 0 }",
            "{ minimum_age = 121 }",
            "{ minimum_age = -1 }",
            r#"{ minimum_age = "21" }"#,
            "{ minimum_age = 21.0 }",
            "{ minimum = 21 }",
            "{ minimum_age = 21, country = \"US\" }",
            r#""None""#,
            "21",
        ] {
            let e = rejected(&[("age_verification", value)]);
            assert!(e.contains("age_verification"), "{value}: {e}");
        }
    }

    #[test]
    fn rejects_unknown_missing_and_malformed_fields() {
        let e = rejected(&[("tax", r#""0.05""#)]);
        assert!(e.contains("unknown field `tax`"), "{e}");
        let e = rejected(&[("name", r#""  ""#)]);
        assert!(e.contains("name"), "{e}");
        let e = rejected(&[("currency", r#""usd""#)]);
        assert!(e.contains("currency"), "{e}");
        let e = rejected(&[("currency", "840")]);
        assert!(e.contains("currency"), "{e}");

        let missing = REGIONS_TOML.replacen("name = \"Colorado\"\n", "", 1);
        let e = regions_from_toml(&missing).unwrap_err();
        assert!(
            e.contains("US-CO") && e.contains("missing field `name`"),
            "{e}"
        );

        let e = Regions::from_json(r#"{"regions":{}}"#).unwrap_err();
        assert!(e.contains("no regions"), "{e}");
        let e = Regions::from_json(r#"{"regions":{},"extra":1}"#).unwrap_err();
        assert!(e.contains("unknown field `extra`"), "{e}");
        assert!(Regions::from_json("not json").is_err());
    }

    #[test]
    fn a_new_region_is_configuration_only() {
        let with_washington = format!(
            "{REGIONS_TOML}
[regions.US-WA]
name = \"Washington\"
currency = \"USD\"
sales_tax = \"0.065\"
age_verification = {{ minimum_age = 18 }}
delivery_hours = {{ opens = \"09:00\", closes = \"18:00\", time_zone = \"America/Los_Angeles\" }}
"
        );
        let regions = regions_from_toml(&with_washington).unwrap();
        assert_eq!(
            regions.codes().collect::<Vec<_>>(),
            ["US-CA", "US-CO", "US-NY", "US-OR", "US-WA"]
        );
        let wa = regions.get(&RegionCode::parse("US-WA").unwrap()).unwrap();

        // Tax: 10.10 × 0.065 = 0.6565 → 0.66.
        assert_eq!(wa.tax_on(dec("10.10")).to_string(), "0.66");
        assert_eq!(wa.tax_on(dec("100.00")).to_string(), "6.50");

        // Age 18, on the Los Angeles calendar (2026-06-01 13:00 PDT).
        let now = utc("2026-06-01T20:00:00Z");
        let attestation = wa.verify_age(Some(date("2008-06-01")), now).unwrap();
        assert_eq!(
            attestation,
            Some(AgeAttestation {
                minimum_age: 18,
                verified_at: now
            })
        );
        let e = wa.verify_age(Some(date("2008-06-02")), now).unwrap_err();
        assert_eq!(e.code, "age_verification_failed");

        // Delivery 09:00-18:00 PDT (UTC-7).
        let asap = wa
            .schedule_delivery(&DeliveryRequest::Asap, utc("2026-06-02T01:00:00Z"))
            .unwrap(); // 18:00 PDT: closed
        assert_eq!(asap.window_start, utc("2026-06-02T16:00:00Z")); // 09:00 PDT
        assert!(asap.rescheduled);
        let now = utc("2026-06-01T17:00:00Z");
        assert!(wa
            .schedule_delivery(&window("2026-06-02T00:00:00Z"), now) // 17:00 PDT
            .is_ok());
        let e = wa
            .schedule_delivery(&window("2026-06-02T00:01:00Z"), now) // 17:01 PDT
            .unwrap_err();
        assert_eq!(e.code, "delivery_window_outside_hours");

        // And nothing changed for the existing regions.
        assert_eq!(
            regions.get(&RegionCode::parse("US-CA").unwrap()).unwrap(),
            region("US-CA")
        );
    }

    #[test]
    fn zero_decimal_currencies_round_to_whole_units() {
        let regions = regions_from_toml(
            r#"
[regions.JP-13]
name = "Tokyo"
currency = "JPY"
sales_tax = "0.1"
age_verification = { minimum_age = 20 }
delivery_hours = { opens = "09:00", closes = "21:00", time_zone = "Asia/Tokyo" }
"#,
        )
        .unwrap();
        let tokyo = regions.get(&RegionCode::parse("JP-13").unwrap()).unwrap();
        assert_eq!(tokyo.tax_on(dec("1995")).to_string(), "200"); // 199.5 → 200
        assert_eq!(tokyo.tax_on(dec("1994")).to_string(), "199"); // 199.4 → 199
    }

    // --- region codes -----------------------------------------------------

    #[test]
    fn region_codes_are_parsed_not_validated() {
        let code = RegionCode::parse("US-CA").unwrap();
        assert_eq!(code.as_str(), "US-CA");
        assert_eq!(code.country(), "US");
        assert_eq!(code.subdivision(), "CA");
        assert_eq!(code.to_string(), "US-CA");
        for ok in ["DE-BE", "FR-75", "GB-ENG", "JP-1"] {
            assert!(RegionCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "US", "US-", "us-ca", "US-ca", "USA-CA", "US-CALI", "US CA", "US-CA ", "U1-CA",
            "ÜS-CA", "US--A",
        ] {
            let e = RegionCode::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_region"), "{bad:?}");
        }
    }

    #[test]
    fn unknown_regions_are_unprocessable() {
        let e = Regions::builtin()
            .get(&RegionCode::parse("US-TX").unwrap())
            .unwrap_err();
        assert_eq!((e.status, e.code), (422, "unknown_region"));
        assert_eq!(e.details.unwrap()["region"], "US-TX");
    }

    // --- tax --------------------------------------------------------------

    #[test]
    fn tax_is_rounded_half_up_on_the_subtotal() {
        let ca = region("US-CA");
        // 2.00 × 0.0725 = 0.145: half-up gives 0.15 (banker's would give 0.14).
        assert_eq!(ca.tax_on(dec("2.00")).to_string(), "0.15");
        // 10.10 × 0.0725 = 0.73225 → 0.73.
        assert_eq!(ca.tax_on(dec("10.10")).to_string(), "0.73");
        // On the subtotal, not per line: 3 lines of 2.00 taxed separately
        // would be 3 × 0.15 = 0.45; the subtotal 6.00 gives 0.435 → 0.44.
        assert_eq!(ca.tax_on(dec("6.00")).to_string(), "0.44");
        // Largest numeric(12,2): 724999999.99927500 → 725000000.00.
        assert_eq!(
            ca.tax_on(dec(crate::money::MAX_AMOUNT)).to_string(),
            "725000000.00"
        );
        assert_eq!(region("US-CO").tax_on(dec("19.99")).to_string(), "0.58"); // 0.57971
        assert_eq!(ca.tax_on(dec("0")).to_string(), "0.00");
    }

    #[test]
    fn zero_rate_gives_zero_with_the_currency_scale() {
        let or = region("US-OR");
        let tax = or.tax_on(dec("123.45"));
        assert_eq!(tax, Decimal::ZERO);
        assert_eq!(tax.to_string(), "0.00");
        assert_eq!(serde_json::to_string(&tax).unwrap(), "\"0.00\"");
        assert_eq!(or.tax_on(dec("7")).to_string(), "0.00");
    }

    // --- age --------------------------------------------------------------

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
            assert_eq!((e.status, e.code), (400, "invalid_date_of_birth"), "{dob}");
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

    // --- delivery ---------------------------------------------------------
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

    #[test]
    fn delivery_requests_from_json() {
        use serde_json::json;
        assert_eq!(
            DeliveryRequest::from_json(&json!("asap")).unwrap(),
            DeliveryRequest::Asap
        );
        assert_eq!(
            DeliveryRequest::from_json(&json!({"window_start": "2026-06-11T08:00:00-07:00"}))
                .unwrap(),
            window("2026-06-11T15:00:00Z")
        );
        for bad in [
            json!("ASAP"),
            json!("now"),
            json!(null),
            json!(5),
            json!({}),
            json!({"window_start": "tomorrow"}),
            json!({"window_start": "2026-06-11T08:00:00"}),
            json!({"window_start": 1781190000}),
            json!({"window_start": "2026-06-11T15:00:00Z", "window_end": "2026-06-11T16:00:00Z"}),
        ] {
            let e = DeliveryRequest::from_json(&bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_delivery"), "{bad}");
        }
    }
}

//! Region rules: sales tax, delivery hours, age verification and currency per
//! region, read from configuration instead of being written as code.
//!
//! The reviewed source is `shared/regions/regions.toml`, the one source of
//! regions: `build.rs` turns it into JSON at compile time (the wasm carries
//! serde_json anyway, but no TOML parser), [`Regions::builtin`] parses that
//! JSON once, and `scripts/db migrate` loads the same file into the
//! database's `regions` table. [`Regions::from_json`] validates every field,
//! and a unit test runs it on the compiled-in file, so a bad value fails
//! `cargo test` rather than a request. Adding a region means adding a block to
//! the TOML file and nothing else: the rules are generic.
//!
//! Every rule that depends on the time takes `now` as a parameter. Nothing here
//! reads the clock, so tests can stand anywhere in time (and on wasm32 chrono's
//! `Utc::now()` is not available anyway: Workers get the time from
//! `worker::Date::now()`).
//!
//! Modules: `code` (region codes), `config` (validating the file), `tax`,
//! `age`, `delivery` (the rules, each an `impl Region` block), `loyalty`
//! (the points rates).

// `platform::ApiError` is the one error type, returned by value everywhere
// (every crate trips this lint on it); boxing it is a platform-wide change.
#![allow(clippy::result_large_err)]

mod age;
mod code;
mod config;
mod delivery;
mod loyalty;
#[cfg(test)]
mod proptests;
mod tax;
#[cfg(test)]
mod test_support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use platform::money::Currency;
use platform::ApiError;
use rust_decimal::Decimal;

pub use code::RegionCode;
pub use loyalty::{LoyaltyRates, MAX_LOYALTY_RATE};

/// Length of every delivery window.
pub const DELIVERY_WINDOW_MINUTES: i64 = 60;

/// How far ahead a shopper may book a delivery window: further out, stock and
/// driver rosters are guesses.
pub const DELIVERY_MAX_DAYS_AHEAD: i64 = 14;

/// `regions.toml`, converted to JSON by build.rs.
const BUILTIN_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/regions.json"));

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
    /// The payment gateways offered here (`"stripe"`, `"paypal"`), in the
    /// order a client should show them.
    pub payment_providers: Vec<String>,
    /// Points earned and redeemed here (`loyalty` in regions.toml; the
    /// shop's default when the block does not say).
    pub loyalty: LoyaltyRates,
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

/// All regions we serve, keyed by code.
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    regions: BTreeMap<String, Region>,
}

impl Regions {
    /// The regions compiled in from `shared/regions/regions.toml`, parsed on first use.
    ///
    /// Panics if that file is invalid, which the unit test
    /// `builtin_config_parses_and_has_the_reviewed_values` rules out before
    /// anything ships.
    pub fn builtin() -> &'static Regions {
        static BUILTIN: OnceLock<Regions> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Regions::from_json(BUILTIN_JSON)
                .unwrap_or_else(|e| panic!("shared/regions/regions.toml is invalid: {e}"))
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
    /// - a `loyalty` other than `{ earn_per_unit = N, points_per_unit = M }`
    ///   with whole N, M in 1..=1_000_000 (absent: 1 and 100);
    /// - any missing or unknown field (a typo must not silently drop a rule);
    /// - a config without any region.
    pub fn from_json(json: &str) -> Result<Regions, String> {
        let raw: config::RawConfig =
            serde_json::from_str(json).map_err(|e| format!("regions config: {e}"))?;
        if raw.regions.is_empty() {
            return Err("regions config: no regions defined".to_string());
        }
        let mut regions = BTreeMap::new();
        for (key, value) in raw.regions {
            let region =
                config::parse_region(&key, value).map_err(|e| format!("region {key:?}: {e}"))?;
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

/// `HH:MM` of a time of day, as the config writes delivery hours. Written
/// out rather than with chrono's `format("%H:%M")`: the strftime machinery
/// costs the workers that link this about 5 KB of gzipped wasm.
pub fn hh_mm(t: chrono::NaiveTime) -> String {
    use chrono::Timelike;
    format!("{:02}:{:02}", t.hour(), t.minute())
}

//! Validating `regions.toml`: every field is checked with a message naming
//! the region and the field, so a typo fails `cargo test`, not a request.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveTime;
use chrono_tz::Tz;
use platform::money::Currency;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::loyalty::parse_loyalty;
use crate::{AgeRule, DeliveryHours, Region, RegionCode};

/// Highest `minimum_age` the config may ask for; anything above is a typo.
const MAX_MINIMUM_AGE: u64 = 120;

/// At most this many decimal places in a tax rate (0.000001 = 0.0001 %).
const MAX_RATE_DECIMALS: u32 = 6;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub(crate) regions: BTreeMap<String, Value>,
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
    payment_providers: Value,
    /// Optional: the shop's default rates when absent.
    #[serde(default)]
    loyalty: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeliveryHours {
    opens: Value,
    closes: Value,
    time_zone: Value,
}

pub(crate) fn parse_region(key: &str, value: Value) -> Result<Region, String> {
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
    let payment_providers = parse_payment_providers(&raw.payment_providers)
        .map_err(|e| format!("payment_providers: {e}"))?;
    let loyalty = parse_loyalty(raw.loyalty).map_err(|e| format!("loyalty: {e}"))?;

    Ok(Region {
        code,
        name: name.to_string(),
        currency,
        sales_tax,
        age_verification,
        delivery_hours,
        payment_providers,
        loyalty,
    })
}

/// The payment gateways shoppers of the region may pay with: a non-empty
/// list of distinct names. Each name must be a gateway the payments crate
/// has (checked by checkout's tests, which see both crates).
fn parse_payment_providers(value: &Value) -> Result<Vec<String>, String> {
    const EXPECTED: &str = "must be a non-empty list of gateway names such as [\"stripe\", \"paypal\"]";
    let list = value.as_array().filter(|l| !l.is_empty()).ok_or_else(|| format!("{EXPECTED}, got {value}"))?;
    let mut names: Vec<String> = Vec::new();
    for item in list {
        let name = item
            .as_str()
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase()))
            .ok_or_else(|| format!("{EXPECTED}; {item} is not a lower-case name"))?;
        if names.iter().any(|n| n == name) {
            return Err(format!("{name:?} is listed twice"));
        }
        names.push(name.to_string());
    }
    Ok(names)
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
    // Trailing zeros add no precision, so "0.0725000" is fine. The places are
    // counted in the text too: rust_decimal keeps 28 and rounds the rest
    // away, so "0.<29 zeros>1" would otherwise be read as a rate of 0.
    let places = s
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.trim_end_matches('0').len());
    if places > MAX_RATE_DECIMALS as usize || rate.normalize().scale() > MAX_RATE_DECIMALS {
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
            crate::hh_mm(opens),
            crate::hh_mm(closes)
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
pub(crate) fn parse_hhmm(s: &str) -> Result<NaiveTime, String> {
    let b = s.as_bytes();
    let digit = |i: usize| u32::from(b[i] - b'0');
    let shaped =
        b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
    shaped
        .then(|| NaiveTime::from_hms_opt(digit(0) * 10 + digit(1), digit(3) * 10 + digit(4), 0))
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a 24-hour \"HH:MM\" time (00:00 to 23:59)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::AgeAttestation;
    use crate::Regions;

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
            // More places than rust_decimal keeps: not rounded to a rate of 0.
            (r#""0.000000000000000000000000000001""#, "decimal places"),
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
payment_providers = [\"stripe\"]
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
payment_providers = ["stripe"]
"#,
        )
        .unwrap();
        let tokyo = regions.get(&RegionCode::parse("JP-13").unwrap()).unwrap();
        assert_eq!(tokyo.tax_on(dec("1995")).to_string(), "200"); // 199.5 → 200
        assert_eq!(tokyo.tax_on(dec("1994")).to_string(), "199"); // 199.4 → 199
    }
}

//! Loyalty rates per region: how many points an order earns per unit of
//! currency, and how many points are worth one unit when a shopper redeems
//! them. Optional in `regions.toml` (`loyalty = { earn_per_unit = 1,
//! points_per_unit = 100 }` when absent), so a region without a programme of
//! its own has the shop's default.
//!
//! The rules that use the rates live with their callers (checkout's
//! `points` module, the customers crate): this crate only says what the
//! reviewed config holds.

use serde::Deserialize;
use serde_json::Value;

/// The highest rate the config may set; anything above is a typo (and would
/// overflow the ledger's `int` columns on an ordinary order).
pub const MAX_LOYALTY_RATE: u64 = 1_000_000;

/// A region's loyalty rates. Both at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoyaltyRates {
    /// Points earned per whole unit of currency paid in goods
    /// (floor(subtotal − points discount) × this).
    pub earn_per_unit: u32,
    /// Points that pay one unit of currency (100: 1 point = 0.01).
    pub points_per_unit: u32,
}

impl Default for LoyaltyRates {
    /// The shop's rates: 1 point per unit spent, 100 points per unit paid.
    fn default() -> Self {
        LoyaltyRates {
            earn_per_unit: 1,
            points_per_unit: 100,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoyalty {
    earn_per_unit: Value,
    points_per_unit: Value,
}

/// `loyalty`: absent (or null) is the default; otherwise exactly
/// `{ earn_per_unit = N, points_per_unit = M }` with whole numbers in
/// 1..=MAX_LOYALTY_RATE. Errors name the field inside `loyalty`; the caller
/// prefixes `loyalty: `.
pub(crate) fn parse_loyalty(value: Option<Value>) -> Result<LoyaltyRates, String> {
    let value = match value {
        None | Some(Value::Null) => return Ok(LoyaltyRates::default()),
        Some(v) => v,
    };
    if !value.is_object() {
        return Err(format!(
            "must be {{ earn_per_unit = N, points_per_unit = M }}, got {value}"
        ));
    }
    let raw: RawLoyalty = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Ok(LoyaltyRates {
        earn_per_unit: rate(&raw.earn_per_unit, "earn_per_unit")?,
        points_per_unit: rate(&raw.points_per_unit, "points_per_unit")?,
    })
}

fn rate(value: &Value, field: &str) -> Result<u32, String> {
    value
        .as_u64()
        .filter(|n| (1..=MAX_LOYALTY_RATE).contains(n))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            format!("{field}: must be a whole number from 1 to {MAX_LOYALTY_RATE}, got {value}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn rates_of(overrides: &[(&str, &str)]) -> LoyaltyRates {
        let regions = single_region(overrides).unwrap();
        regions
            .get(&RegionCode::parse("XX-T").unwrap())
            .unwrap()
            .loyalty
    }

    #[test]
    fn absent_is_the_shops_default() {
        assert_eq!(
            rates_of(&[]),
            LoyaltyRates {
                earn_per_unit: 1,
                points_per_unit: 100
            }
        );
        assert_eq!(rates_of(&[]), LoyaltyRates::default());
    }

    #[test]
    fn every_builtin_region_states_its_rates() {
        // regions.toml writes them out for every region (no silent default).
        let lines_starting = |prefix: &str| {
            REGIONS_TOML
                .lines()
                .filter(|l| l.starts_with(prefix))
                .count()
        };
        let blocks = lines_starting("[regions.");
        assert_eq!(blocks, Regions::builtin().codes().count());
        assert_eq!(lines_starting("loyalty = {"), blocks);
        for code in Regions::builtin().codes() {
            assert_eq!(region(code).loyalty, LoyaltyRates::default(), "{code}");
        }
    }

    #[test]
    fn given_rates_are_kept() {
        let r = rates_of(&[("loyalty", "{ earn_per_unit = 2, points_per_unit = 1000 }")]);
        assert_eq!((r.earn_per_unit, r.points_per_unit), (2, 1000));
        let r = rates_of(&[("loyalty", "{ earn_per_unit = 1, points_per_unit = 1 }")]);
        assert_eq!((r.earn_per_unit, r.points_per_unit), (1, 1));
    }

    #[test]
    fn bad_rates_are_refused_naming_the_field() {
        for (value, why) in [
            (
                "{ earn_per_unit = 0, points_per_unit = 100 }",
                "earn_per_unit",
            ),
            (
                "{ earn_per_unit = -1, points_per_unit = 100 }",
                "earn_per_unit",
            ),
            (
                "{ earn_per_unit = 1.5, points_per_unit = 100 }",
                "earn_per_unit",
            ),
            (
                r#"{ earn_per_unit = "1", points_per_unit = 100 }"#,
                "earn_per_unit",
            ),
            (
                "{ earn_per_unit = 1, points_per_unit = 0 }",
                "points_per_unit",
            ),
            (
                "{ earn_per_unit = 1, points_per_unit = 1000001 }",
                "points_per_unit",
            ),
            ("{ earn_per_unit = 1 }", "missing field `points_per_unit`"),
            ("{ points_per_unit = 100 }", "missing field `earn_per_unit`"),
            (
                "{ earn_per_unit = 1, points_per_unit = 100, cap = 5 }",
                "unknown field `cap`",
            ),
            ("100", "earn_per_unit = N"),
            (r#""default""#, "earn_per_unit = N"),
        ] {
            let e = rejected(&[("loyalty", value)]);
            assert!(e.contains("loyalty") && e.contains(why), "{value}: {e}");
        }
    }
}

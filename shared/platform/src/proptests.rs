//! Properties of the platform's parsers: WAL positions, amounts and
//! currencies, request bodies.

use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::body::{json_object, parse_json, Field};
use crate::lsn::{InvalidLsn, Lsn};
use crate::money::{Amount, Currency, Money, MAX_AMOUNT};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Text an LSN parser may meet: printed positions, their variants, noise.
fn lsn_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| Lsn(n).to_string()),
        any::<u64>().prop_map(|n| format!("{:08x}/{:08x}", n >> 32, n & 0xFFFF_FFFF)),
        "[0-9A-Fa-f]{0,10}/[0-9A-Fa-f]{0,10}",
        "[0-9A-Fa-fg+ /-]{0,20}",
        ".{0,24}",
    ]
}

/// Text an amount parser may meet: amounts in range, near misses, noise.
fn amount_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,10}(\\.[0-9]{1,2})?",
        "[0-9]{0,12}\\.?[0-9]{0,4}",
        "[-+]?[0-9.eE_ ]{0,17}",
        prop::sample::select(vec![
            ".",
            "0.",
            ".5",
            "00",
            "0.00",
            "9999999999.99",
            "10000000000",
            "9999999999.999",
            "0000000000000001",
            "00000000000000001",
            "1e3",
            "NaN",
            "inf",
        ])
        .prop_map(str::to_string),
        ".{0,20}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_lsn_prints_and_parses_back(n in any::<u64>()) {
        let lsn = Lsn(n);
        let text = lsn.to_string();
        prop_assert_eq!(text.parse::<Lsn>(), Ok(lsn));
        // As PostgreSQL prints it: upper-case hex, no leading zeros.
        let (hi, lo) = text.split_once('/').unwrap();
        for part in [hi, lo] {
            prop_assert!(part == "0" || !part.starts_with('0'), "{}", text);
            prop_assert!(part.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn lsn_order_is_the_wal_order(a in any::<u64>(), b in any::<u64>()) {
        let (pa, pb) = (Lsn(a).to_string().parse::<Lsn>().unwrap(), Lsn(b).to_string().parse::<Lsn>().unwrap());
        prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
    }

    #[test]
    fn lsn_parsing_never_panics_and_what_it_accepts_is_canonical(s in lsn_like()) {
        match s.parse::<Lsn>() {
            Ok(lsn) => {
                // Accepted: two 1-8 digit hex words; printing is the canonical form.
                let (hi, lo) = s.split_once('/').unwrap();
                prop_assert!((1..=8).contains(&hi.len()) && (1..=8).contains(&lo.len()), "{}", s);
                prop_assert_eq!(lsn.to_string().parse::<Lsn>(), Ok(lsn));
                let value = (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap();
                prop_assert_eq!(lsn, Lsn(value));
            }
            Err(e) => prop_assert_eq!(e, InvalidLsn),
        }
    }

    #[test]
    fn amounts_in_range_are_accepted_and_print_back(
        whole in prop_oneof![0u64..1000, 0u64..=9_999_999_999],
        fraction in "|\\.[0-9]|\\.[0-9]{2}",
    ) {
        let text = format!("{whole}{fraction}");
        let amount = Amount::parse(&text).unwrap();
        prop_assert_eq!(amount.decimal(), Decimal::from_str(&text).unwrap());
        prop_assert_eq!(amount.to_string(), text.clone());
        prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
    }

    #[test]
    fn amount_parsing_never_panics_and_keeps_to_its_rule(s in amount_like()) {
        match Amount::parse(&s) {
            Ok(amount) => {
                let d = amount.decimal();
                prop_assert!(d >= Decimal::ZERO && d <= Decimal::from_str(MAX_AMOUNT).unwrap(), "{}", s);
                prop_assert!(d.scale() <= 2, "{}", s);
                prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{}", s);
                prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
            }
            Err(e) => prop_assert_eq!((e.status, e.code), (400, "invalid_amount")),
        }
    }

    #[test]
    fn currencies_are_three_capitals(s in "[A-Za-z0-9]{0,4}|.{0,4}") {
        match Currency::parse(&s) {
            Ok(c) => {
                prop_assert!(s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()));
                prop_assert_eq!(c.as_str(), s.as_str());
                let json = serde_json::to_string(&c).unwrap();
                prop_assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), c);
            }
            Err(e) => prop_assert_eq!((e.status, e.code), (400, "invalid_currency")),
        }
    }

    #[test]
    fn formatted_amounts_have_the_currencys_minor_digits(
        units in 0i64..1_000_000_000_000, scale in 0u32..=4, code in "USD|EUR|JPY|KRW|GBP",
    ) {
        let currency = Currency::parse(&code).unwrap();
        let amount = Decimal::new(units, scale);
        let text = currency.format(amount);
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len() as u32);
        prop_assert_eq!(decimals, currency.minor_digits(), "{}", text);
        // Minor units are exact when the amount has no more precision than the currency.
        let money = Money { amount, currency };
        match money.to_minor_units() {
            Ok(minor) => {
                let back = Decimal::new(minor, currency.minor_digits());
                prop_assert_eq!(back, amount);
                prop_assert_eq!(currency.format(back), text);
            }
            Err(_) => prop_assert!(amount.normalize().scale() > currency.minor_digits()),
        }
    }

    #[test]
    fn bodies_never_panic_and_fail_as_invalid_json(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Err(e) = json_object(&bytes) {
            prop_assert_eq!((e.status, e.code), (400, "invalid_json"));
        }
    }

    #[test]
    fn fields_are_missing_valid_or_invalid_never_an_error(value in json_value()) {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            #[serde(default)]
            n: Field<u32>,
            #[serde(default)]
            s: Field<String>,
        }
        let body = serde_json::json!({ "n": value.clone(), "s": value.clone() }).to_string();
        let parsed: Body = parse_json(body.as_bytes()).unwrap();
        // A whole number is an integer however it is written (42 or 42.0).
        let whole = |v: &serde_json::Value| {
            v.as_u64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
                    .map(|f| f as u64)
            })
        };
        match (&value, &parsed.n) {
            (serde_json::Value::Null, Field::Missing) => {}
            (v, Field::Valid(n)) => prop_assert_eq!(whole(v), Some(u64::from(*n))),
            (v, Field::Invalid(_)) => prop_assert!(!v.is_null() && whole(v).is_none_or(|n| n > u64::from(u32::MAX))),
            (v, other) => prop_assert!(false, "{} gave {:?}", v, other),
        }
        match (&value, &parsed.s) {
            (serde_json::Value::Null, Field::Missing) => {}
            (serde_json::Value::String(a), Field::Valid(b)) => prop_assert_eq!(a, b),
            (v, Field::Invalid(_)) => prop_assert!(!v.is_null() && !v.is_string()),
            (v, other) => prop_assert!(false, "{} gave {:?}", v, other),
        }
    }
}

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

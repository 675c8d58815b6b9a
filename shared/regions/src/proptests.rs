//! Properties of the region config parser on generated configs: valid blocks
//! parse and keep their rules (tax a decimal in [0, 1), opens < closes, a
//! known time zone, loyalty rates or their default), the TOML file and its JSON agree, and a block with one
//! malformed value is refused with an error naming the region, never a panic.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::Timelike;
use chrono_tz::{Tz, TZ_VARIANTS};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::config::parse_hhmm;
use crate::test_support::regions_from_toml;
use crate::{AgeRule, RegionCode, Regions};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// One `[regions.<code>]` block, field by field, as JSON values.
#[derive(Debug, Clone)]
struct Block {
    code: String,
    fields: Map<String, Value>,
}

impl Block {
    fn hours(&self) -> &Map<String, Value> {
        self.fields["delivery_hours"].as_object().unwrap()
    }
}

fn config_json(blocks: &[Block]) -> String {
    let regions: Map<String, Value> = blocks
        .iter()
        .map(|b| (b.code.clone(), Value::Object(b.fields.clone())))
        .collect();
    json!({ "regions": regions }).to_string()
}

/// The block as TOML, the way regions.toml is written (strings quoted,
/// `minimum_age` an integer), for the values that TOML can express.
fn toml_text(blocks: &[Block]) -> String {
    let mut text = String::new();
    for b in blocks {
        text.push_str(&format!("[regions.{}]\n", b.code));
        for (k, v) in &b.fields {
            let value = match v {
                Value::Object(m) => {
                    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!("{{ {} }}", inner.join(", "))
                }
                other => other.to_string(),
            };
            text.push_str(&format!("{k} = {value}\n"));
        }
    }
    text
}

fn time_zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(TZ_VARIANTS.iter().map(|z| z.name()).collect::<Vec<_>>())
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A tax rate as regions.toml writes it: "0", or "0." and 1-6 digits, with
/// trailing zeros sometimes.
fn tax_rate() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        ("[0-9]{1,6}", 0usize..3).prop_map(|(d, zeros)| format!("0.{d}{}", "0".repeat(zeros))),
    ]
}

fn valid_block() -> impl Strategy<Value = Block> {
    (
        "[A-Z]{2}-[A-Z0-9]{1,3}",
        "[A-Za-z][A-Za-z .'-]{0,20}",
        "[A-Z]{3}",
        tax_rate(),
        prop_oneof![
            Just(json!("none")),
            (1u32..=120).prop_map(|n| json!({ "minimum_age": n }))
        ],
        (0u32..1440, 0u32..1440).prop_filter("two times", |(a, b)| a != b),
        time_zone(),
        prop::option::of((1u32..=1_000_000, 1u32..=1_000_000)),
    )
        .prop_map(|(code, name, currency, tax, age, (a, b), tz, loyalty)| {
            let (opens, closes) = (a.min(b), a.max(b));
            let mut fields = json!({
                "name": name,
                "currency": currency,
                "sales_tax": tax,
                "age_verification": age,
                "delivery_hours": { "opens": hhmm(opens), "closes": hhmm(closes), "time_zone": tz },
                "payment_providers": ["stripe", "paypal"],
            });
            // Optional: absent is the default rates.
            if let Some((earn, points)) = loyalty {
                fields["loyalty"] = json!({ "earn_per_unit": earn, "points_per_unit": points });
            }
            Block {
                code,
                fields: fields.as_object().unwrap().clone(),
            }
        })
}

/// Valid blocks with distinct codes.
fn valid_config() -> impl Strategy<Value = Vec<Block>> {
    prop::collection::vec(valid_block(), 1..5).prop_map(|blocks| {
        let by_code: BTreeMap<String, Block> =
            blocks.into_iter().map(|b| (b.code.clone(), b)).collect();
        by_code.into_values().collect()
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value that is wrong for `field`, with the reason the parser must see.
#[derive(Debug, Clone)]
enum Fault {
    Field(&'static str, Value),
    Hours(&'static str, Value),
    Missing(&'static str),
    Unknown(String, Value),
}

fn s(re: &'static str) -> BoxedStrategy<Value> {
    re.prop_map(Value::String).boxed()
}

fn fault() -> impl Strategy<Value = Fault> {
    let bad_tax = prop_oneof![
        s("-0\\.[0-9]{1,6}"),
        s("[1-9][0-9]{0,3}(\\.[0-9]{1,6})?"),
        s("1(\\.0{1,4})?"),
        s("0\\.[0-9]{6}[1-9]"),
        // More decimals than rust_decimal keeps (28): must not round to a valid rate.
        s("0\\.0{20,40}[1-9]"),
        s("[0-9]{1,3}[eE][+-]?[0-9]"),
        s("0\\.[0-9]{1,3}[ _,%][0-9]{0,2}"),
        s(" 0\\.05|0\\.05 |\\+0\\.05|\\.|-|0\\.\\.1|"),
        (0.0f64..1.0).prop_map(Value::from).boxed(),
        Just(json!(0)).boxed(),
    ];
    let bad_age = prop_oneof![
        Just(json!({ "minimum_age": 0 })),
        (121i64..100_000).prop_map(|n| json!({ "minimum_age": n })),
        (i64::MIN..0).prop_map(|n| json!({ "minimum_age": n })),
        (1.5f64..100.0).prop_map(|n| json!({ "minimum_age": n })),
        "[0-9]{1,3}".prop_map(|n| json!({ "minimum_age": n })),
        (1u32..=120).prop_map(|n| json!({ "minimum_age": n, "country": "US" })),
        (1u32..=120).prop_map(|n| json!({ "minimum": n })),
        s("None|NONE|none |no|"),
        (1u32..=120).prop_map(Value::from),
    ];
    let bad_time = prop_oneof![
        s("[0-9]:[0-5][0-9]"),
        s("2[4-9]:[0-5][0-9]|[3-9][0-9]:[0-5][0-9]"),
        s("[01][0-9]:[6-9][0-9]"),
        s("[01][0-9]:[0-5][0-9]:[0-5][0-9]"),
        s("[01][0-9][0-5][0-9]|[01][0-9]\\.[0-5][0-9]|[01][0-9]:[0-5][0-9] "),
        ".{0,6}"
            .prop_filter("not HH:MM", |t| !looks_like_hhmm(t))
            .prop_map(Value::String)
            .boxed(),
        (0u32..2400).prop_map(Value::from).boxed(),
    ];
    let bad_zone = prop_oneof![
        "[A-Za-z/_+-]{1,24}",
        time_zone().prop_map(str::to_lowercase),
        time_zone().prop_map(str::to_uppercase),
        time_zone().prop_map(|z| format!(" {z}")),
        Just("UTC+1".to_string()),
    ]
    .prop_filter("not a time zone", |z| Tz::from_str(z).is_err())
    .prop_map(Value::String);
    let bad_rate = prop_oneof![
        Just(json!(0)),
        (1_000_001u64..u64::MAX).prop_map(Value::from),
        (i64::MIN..0).prop_map(Value::from),
        (0.5f64..100.0)
            .prop_filter("not whole", |f| f.fract() != 0.0)
            .prop_map(Value::from),
        "[0-9]{1,3}".prop_map(Value::from),
    ];
    let bad_loyalty = prop_oneof![
        bad_rate
            .clone()
            .prop_map(|v| json!({ "earn_per_unit": v, "points_per_unit": 100 })),
        bad_rate.prop_map(|v| json!({ "earn_per_unit": 1, "points_per_unit": v })),
        (1u32..100).prop_map(|n| json!({ "earn_per_unit": n })),
        (1u32..100).prop_map(|n| json!({ "points_per_unit": n })),
        (1u32..100).prop_map(|n| json!({ "earn_per_unit": n, "points_per_unit": n, "cap": n })),
        json_value().prop_filter("not an object or null", |v| !v.is_object() && !v.is_null()),
    ];
    prop_oneof![
        bad_loyalty.prop_map(|v| Fault::Field("loyalty", v)),
        (prop_oneof![
            s("\\s{0,3}"),
            json_value()
                .prop_filter("not a string", |v| !v.is_string())
                .boxed()
        ])
        .prop_map(|v| Fault::Field("name", v)),
        (prop_oneof![
            s("[a-z]{3}|[A-Z]{0,2}|[A-Z]{4,5}|[A-Z0-9]{2}[0-9]"),
            (0u32..1000).prop_map(Value::from).boxed()
        ])
        .prop_map(|v| Fault::Field("currency", v)),
        bad_tax.prop_map(|v| Fault::Field("sales_tax", v)),
        bad_age.prop_map(|v| Fault::Field("age_verification", v)),
        (prop::sample::select(vec!["opens", "closes"]), bad_time)
            .prop_map(|(which, v)| Fault::Hours(which, v)),
        bad_zone.prop_map(|v| Fault::Hours("time_zone", v)),
        prop::sample::select(FIELDS.to_vec()).prop_map(Fault::Missing),
        ("[a-z_]{1,12}", json_value())
            .prop_filter("not a field of a block", |(k, _)| !FIELDS
                .contains(&k.as_str())
                && k != "loyalty")
            .prop_map(|(k, v)| Fault::Unknown(k, v)),
    ]
}

const FIELDS: [&str; 6] = [
    "name",
    "currency",
    "sales_tax",
    "age_verification",
    "delivery_hours",
    "payment_providers",
];

/// `HH:MM` from 00:00 to 23:59, checked without the parser under test.
fn looks_like_hhmm(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
        && (b[0] - b'0') * 10 + (b[1] - b'0') < 24
        && b[3] < b'6'
}

fn apply(block: &mut Block, fault: &Fault) {
    match fault.clone() {
        Fault::Field(name, v) => {
            block.fields.insert(name.into(), v);
        }
        Fault::Hours(name, v) => {
            block.fields["delivery_hours"]
                .as_object_mut()
                .unwrap()
                .insert(name.into(), v);
        }
        Fault::Missing(name) => {
            block.fields.remove(name);
        }
        Fault::Unknown(name, v) => {
            block.fields.insert(name, v);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_blocks_parse_and_keep_their_rules(blocks in valid_config()) {
        let regions = Regions::from_json(&config_json(&blocks)).unwrap();
        prop_assert_eq!(
            regions.codes().collect::<Vec<_>>(),
            blocks.iter().map(|b| b.code.as_str()).collect::<Vec<_>>()
        );
        for b in &blocks {
            let r = regions.get(&RegionCode::parse(&b.code).unwrap()).unwrap();
            prop_assert_eq!(Some(r.name.as_str()), b.fields["name"].as_str());
            prop_assert_eq!(Some(r.currency.as_str()), b.fields["currency"].as_str());
            let tax = b.fields["sales_tax"].as_str().unwrap();
            prop_assert_eq!(r.sales_tax, Decimal::from_str(tax).unwrap());
            prop_assert!(r.sales_tax >= Decimal::ZERO && r.sales_tax < Decimal::ONE);
            prop_assert!(r.sales_tax.normalize().scale() <= 6);
            let hours = b.hours();
            prop_assert!(r.delivery_hours.opens < r.delivery_hours.closes);
            prop_assert_eq!(r.delivery_hours.opens.format("%H:%M").to_string(), hours["opens"].as_str().unwrap());
            prop_assert_eq!(r.delivery_hours.closes.format("%H:%M").to_string(), hours["closes"].as_str().unwrap());
            prop_assert_eq!(Some(r.delivery_hours.time_zone.name()), hours["time_zone"].as_str());
            let age = match r.age_verification {
                AgeRule::None => json!("none"),
                AgeRule::Minimum(n) => json!({ "minimum_age": n }),
            };
            prop_assert_eq!(&age, &b.fields["age_verification"]);
            let rates = b.fields.get("loyalty").map_or((1, 100), |l| {
                (l["earn_per_unit"].as_u64().unwrap(), l["points_per_unit"].as_u64().unwrap())
            });
            prop_assert_eq!(
                (u64::from(r.loyalty.earn_per_unit), u64::from(r.loyalty.points_per_unit)),
                rates
            );
        }
    }

    #[test]
    fn the_toml_file_and_its_json_give_the_same_regions(blocks in valid_config()) {
        let from_toml = regions_from_toml(&toml_text(&blocks)).unwrap();
        prop_assert_eq!(from_toml, Regions::from_json(&config_json(&blocks)).unwrap());
    }

    #[test]
    fn one_malformed_value_is_refused_naming_the_region(
        mut blocks in valid_config(), which in any::<prop::sample::Index>(), fault in fault(),
    ) {
        let i = which.index(blocks.len());
        apply(&mut blocks[i], &fault);
        let code = blocks[i].code.clone();
        match Regions::from_json(&config_json(&blocks)) {
            Ok(regions) => prop_assert!(false, "{:?} was accepted: {:?}", fault, regions),
            Err(e) => prop_assert!(e.contains(&format!("{code:?}")), "{:?}: {}", fault, e),
        }
    }

    #[test]
    fn a_malformed_region_code_is_refused(
        block in valid_block(),
        code in "[a-z]{2}-[A-Z]{1,3}|[A-Z]{2}-[A-Z0-9]{4,6}|[A-Z]{1,3}[_ -]?[A-Z]{0,3}|.{0,6}",
    ) {
        let well_formed = code.len() >= 4 && code.len() <= 6
            && code.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
            && code.as_bytes()[2] == b'-'
            && code.as_bytes()[3..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        prop_assume!(!well_formed);
        let json = config_json(&[Block { code: code.clone(), ..block }]);
        let e = Regions::from_json(&json).unwrap_err();
        prop_assert!(e.contains("code"), "{}", e);
    }

    #[test]
    fn arbitrary_configs_never_panic(
        value in json_value(),
        code in "[A-Z]{2}-[A-Z]{1,3}|.{0,6}",
        text in ".{0,40}",
    ) {
        let _ = Regions::from_json(&json!({ "regions": { code.clone(): value.clone() } }).to_string());
        let _ = Regions::from_json(&json!({ "regions": value }).to_string());
        let _ = Regions::from_json(&text);
    }

    #[test]
    fn times_are_exactly_hh_mm(s in "[0-9]{2}:[0-9]{2}|[0-9:]{0,6}|.{0,6}") {
        if let Ok(t) = parse_hhmm(&s) {
            prop_assert_eq!(t.format("%H:%M").to_string(), s);
            prop_assert_eq!(t.second(), 0);
        }
    }
}

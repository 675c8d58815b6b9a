//! Properties of the checkout request parser, through its public API only
//! (`CheckoutRequest::parse` and the fields it fills): whatever arrives, it
//! never panics and refuses with a 4xx, and what it accepts holds valid
//! fields. And the totals rule of `prepare` with loyalty points: total =
//! subtotal + tax − points_discount, points never leave less than 0.50 to
//! pay, and the order earns on what money paid for. Few and robust on
//! purpose: the rules of each field are tested next to them.

use proptest::prelude::*;
use regions::{DeliveryRequest, RegionCode};
use serde_json::{json, Map, Value};

use cart::{Cart, CartCommand, CartId, PricedSku, Sku};
use chrono::{TimeZone, Utc};
use platform::money::Currency;
use regions::Regions;
use rust_decimal::Decimal;

use crate::{prepare, CheckoutRequest, IdempotencyKey, Requester, Settings};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Any JSON value, a few levels deep.
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
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn template() -> Value {
    json!({
        "cart_id": "0123456789abcdef0123456789abcdef",
        "email": "ada@example.com",
        "shipping_address": {"name": "Ada", "line1": "1 Main St", "line2": "Apt 2",
                             "city": "San Francisco", "state": "CA",
                             "postal_code": "94110", "country": "US"},
        "region": "US-CA",
        "date_of_birth": "1990-05-01",
        "delivery": "asap",
    })
}

/// Plausible values and near misses for a field of the body or the address.
fn value_for(field: &'static str) -> BoxedStrategy<Value> {
    let s = |re: &'static str| re.prop_map(Value::String).boxed();
    match field {
        "cart_id" => prop_oneof![s("[0-9a-f]{32}"), s("[0-9a-fA-F]{30,33}")].boxed(),
        "email" => prop_oneof![
            s("[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}"),
            s(" ?[a-z@. ]{0,12} ?"),
            s("[a-z]{1,4}@[a-z.@]{0,6}"),
        ]
        .boxed(),
        "region" => prop_oneof![s("[A-Z]{2}-[A-Z0-9]{1,3}"), s("[A-Za-z-]{0,7}")].boxed(),
        "date_of_birth" => prop_oneof![
            (1900i32..2030, 0u32..14, 0u32..33)
                .prop_map(|(y, m, d)| Value::from(format!("{y:04}-{m:02}-{d:02}"))),
            s("[0-9+-]{0,12}"),
        ]
        .boxed(),
        "delivery" => prop_oneof![
            Just(json!("asap")),
            s("asap|ASAP|now| asap"),
            (0i64..4_000_000_000, -14i32..15).prop_map(|(t, h)| {
                let time = chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc();
                json!({ "window_start": format!("{}{:+03}:00", time.format("%Y-%m-%dT%H:%M:%S"), h) })
            }),
            s("[0-9T:Z+-]{0,25}").prop_map(|v| json!({ "window_start": v })),
            Just(json!({ "window_start": "2026-06-01T10:00:00Z", "window_end": "x" })),
        ]
        .boxed(),
        "country" => prop_oneof![s("[A-Z]{2}"), s("[A-Za-z]{0,3}")].boxed(),
        "redeem_points" => prop_oneof![
            (1u32..=10_000_000).prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
            (9_999_990u64..10_000_010).prop_map(Value::from),
            s("[0-9]{1,4}"),
        ]
        .boxed(),
        "state" => prop_oneof![s("[A-Z0-9]{1,3}"), s("[A-Za-z0-9]{0,4}")].boxed(),
        "postal_code" => prop_oneof![s("[0-9]{5}(-[0-9]{4})?"), s("[0-9 -]{0,11}")].boxed(),
        _ => prop_oneof![
            s("[A-Za-z0-9 .]{1,20}"),
            s(" {0,2}.{0,8} {0,2}"),
            s("[a-z\t\n\u{7f}]{1,4}"),
            "a{195,205}".prop_map(Value::String),
        ]
        .boxed(),
    }
}

/// What happens to one field of the template.
#[derive(Debug, Clone)]
enum Change {
    Keep,
    Drop,
    Set(Value),
}

/// One change to a field: dropped, null, a plausible or near-miss value, or anything.
fn change(field: &'static str) -> impl Strategy<Value = Change> {
    prop_oneof![
        1 => Just(Change::Keep),
        1 => Just(Change::Drop),
        1 => Just(Change::Set(Value::Null)),
        6 => value_for(field).prop_map(Change::Set),
        1 => json_value().prop_map(Change::Set),
    ]
}

const FIELDS: [&str; 7] = [
    "cart_id",
    "email",
    "region",
    "date_of_birth",
    "delivery",
    "shipping_address",
    "redeem_points",
];
const ADDRESS_FIELDS: [&str; 7] = [
    "name",
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
];

fn apply(object: &mut Map<String, Value>, field: &str, change: Change) {
    match change {
        Change::Keep => {}
        Change::Drop => {
            object.remove(field);
        }
        Change::Set(v) => {
            object.insert(field.to_string(), v);
        }
    }
}

/// The template with up to three fields of the body or the address
/// changed, sometimes with a field no one asked for.
fn near_valid() -> impl Strategy<Value = Value> {
    let targets: Vec<(bool, &'static str)> = FIELDS
        .iter()
        .map(|f| (false, *f))
        .chain(ADDRESS_FIELDS.iter().map(|f| (true, *f)))
        .collect();
    let one_change = prop::sample::select(targets).prop_flat_map(|(in_address, field)| {
        change(field).prop_map(move |c| (in_address, field, c))
    });
    (
        prop::collection::vec(one_change, 0..=3),
        prop::option::weighted(0.05, ("[a-z_]{1,10}", json_value())),
    )
        .prop_map(|(changes, extra)| {
            let mut body = template();
            let object = body.as_object_mut().unwrap();
            for (in_address, field, c) in changes {
                if !in_address {
                    apply(object, field, c);
                } else if let Some(Value::Object(address)) = object.get_mut("shipping_address") {
                    apply(address, field, c);
                }
            }
            if let Some((name, v)) = extra {
                object.insert(name, v);
            }
            body
        })
}

/// The same JSON with its keys in reverse order and spaces around everything.
fn reformatted(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .rev()
                .map(|(k, v)| format!(" {} :\n {} ", Value::from(k.as_str()), reformatted(v)))
                .collect();
            format!("{{ {} }}", entries.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(reformatted).collect();
            format!("[ {} ]", items.join(" , "))
        }
        other => other.to_string(),
    }
}

fn is_clean_text(s: &str) -> bool {
    !s.is_empty() && s.trim() == s && !s.chars().any(char::is_control)
}

fn check_accepted(body: &Value, r: &CheckoutRequest) -> Result<(), TestCaseError> {
    prop_assert_eq!(body["cart_id"].as_str(), Some(r.cart_id.as_str()));
    prop_assert_eq!(RegionCode::parse(r.region.as_str()), Ok(r.region.clone()));
    let (local, domain) = r.email.split_once('@').expect("an email has an @");
    prop_assert!(!local.is_empty() && domain.contains('.'), "{}", r.email);
    prop_assert!(r.email.chars().all(|c| c.is_ascii_graphic()), "{}", r.email);
    let a = &r.shipping_address;
    for text in [
        &a.name,
        &a.line1,
        &a.city,
        &a.state,
        &a.postal_code,
        &a.country,
    ] {
        prop_assert!(is_clean_text(text), "{:?}", a);
    }
    if let Some(line2) = &a.line2 {
        prop_assert!(is_clean_text(line2), "{:?}", a);
    }
    prop_assert!(a.country.len() == 2 && a.country.bytes().all(|b| b.is_ascii_uppercase()));
    prop_assert_eq!(r.date_of_birth.is_some(), body["date_of_birth"].is_string());
    match r.delivery {
        DeliveryRequest::Asap => prop_assert_eq!(&body["delivery"], &json!("asap")),
        DeliveryRequest::Window { .. } => {
            prop_assert!(body["delivery"]["window_start"].is_string())
        }
    }
    match r.redeem_points {
        Some(n) => {
            prop_assert!((1..=10_000_000).contains(&n));
            prop_assert_eq!(body["redeem_points"].as_u64(), Some(u64::from(n)));
        }
        None => prop_assert!(body["redeem_points"].is_null()),
    }
    prop_assert!(
        r.legacy_fingerprint.len() == 64
            && r.legacy_fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_refused_with_a_4xx_never_a_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        if let Err(e) = CheckoutRequest::parse(&bytes) {
            prop_assert!((400..500).contains(&e.status), "{}", e);
        }
    }

    #[test]
    fn near_valid_bodies_are_refused_with_a_4xx_or_hold_valid_fields(body in near_valid()) {
        match CheckoutRequest::parse(body.to_string().as_bytes()) {
            Ok(r) => check_accepted(&body, &r)?,
            Err(e) => prop_assert!((400..500).contains(&e.status), "{}", e),
        }
    }

    #[test]
    fn formatting_changes_neither_the_answer_nor_the_fingerprint(body in near_valid()) {
        let compact = CheckoutRequest::parse(body.to_string().as_bytes());
        let spaced = CheckoutRequest::parse(reformatted(&body).as_bytes());
        match (compact, spaced) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!((a.status, a.code), (b.status, b.code)),
            (a, b) => prop_assert!(false, "{:?} but reformatted {:?}", a, b),
        }
    }
}

/// A California cart of these lines (price in cents, quantity).
fn cart_of(lines: &[(u32, u32)]) -> Cart {
    let usd = Currency::parse("USD").unwrap();
    let mut c = Cart::new(
        CartId::parse("0123456789abcdef0123456789abcdef").unwrap(),
        1,
        regions::RegionCode::parse("US-CA").unwrap(),
        usd,
    );
    for (i, (cents, quantity)) in lines.iter().enumerate() {
        let p = PricedSku {
            sku: Sku::parse(&format!("SKU-{i}")).unwrap(),
            name: format!("item {i}"),
            unit_price: Decimal::new(i64::from(*cents), 2),
            currency: usd,
            available: 99,
        };
        c.apply(
            &CartCommand::Add {
                sku: p.sku.clone(),
                quantity: *quantity,
            },
            &[p],
        )
        .unwrap();
    }
    c
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn points_pay_part_of_the_total_never_below_fifty_cents(
        lines in prop::collection::vec((0u32..20_000, 1u32..=10), 1..4),
        redeem in prop::option::of(1u32..=10_000_000),
        small in any::<bool>(),
    ) {
        // Half the redemptions near the order's size, where the limit is.
        let redeem = redeem.map(|n| if small { n % 5_000 + 1 } else { n });
        let mut body = template();
        if let Some(n) = redeem {
            body["redeem_points"] = json!(n);
        }
        let req = CheckoutRequest::parse(body.to_string().as_bytes()).unwrap();
        let ca = Regions::builtin().get(&req.region).unwrap();
        let cart = cart_of(&lines);
        let requester = Requester {
            idempotency_secret: b"0123456789abcdef0123456789abcdef",
            client_ip_hash: None,
            customer: Some("cus_0123456789abcdefghjkmnpqrs"),
        };
        let now = Utc.with_ymd_and_hms(2026, 6, 10, 19, 0, 0).unwrap();
        let key = IdempotencyKey::from_header(Some("k")).unwrap();
        let totals = cart.totals(ca);
        let discount = Decimal::new(i64::from(redeem.unwrap_or(0)), 2);
        match prepare(&req, &key, &cart, ca, now, &Settings::default(), requester) {
            Ok(input) => {
                let t = &input.order.totals;
                prop_assert_eq!(t.subtotal, totals.subtotal);
                prop_assert_eq!(t.tax, totals.tax);
                prop_assert_eq!(t.points_discount, discount);
                prop_assert_eq!(t.total, t.subtotal + t.tax - t.points_discount);
                prop_assert_eq!(t.total.scale(), 2);
                prop_assert_eq!(t.points_discount.scale(), 2);
                if redeem.is_some() {
                    prop_assert!(t.total >= Decimal::new(50, 2), "{:?}", t);
                }
                let customer = input.customer.unwrap();
                prop_assert_eq!(customer.points_discount, t.points_discount);
                prop_assert_eq!(customer.redeem_points, redeem.unwrap_or(0));
                prop_assert_eq!(input.order.points_redeemed, redeem.unwrap_or(0));
                let paid = (t.subtotal - t.points_discount).floor().max(Decimal::ZERO);
                prop_assert_eq!(Decimal::from(customer.points_to_earn), paid);
            }
            Err(e) => {
                prop_assert_eq!((e.status, e.code), (422, "redeem_exceeds_total"));
                prop_assert!(discount > totals.subtotal + totals.tax - Decimal::new(50, 2));
            }
        }
    }
}

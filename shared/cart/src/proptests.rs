//! Properties of the cart's parsers: the request bodies (create a cart, add
//! an item, set a quantity), the ids, and the commands sent to the cart's
//! Durable Object; and of the merge of a guest cart into a saved one.

use platform::body::parse_json;
use platform::money::Currency;
use platform::ApiError;
use proptest::prelude::*;
use regions::RegionCode;
use serde_json::{json, Map, Value};

use crate::request::{AddItem, AddItemBody, CreateCartBody, NewCart, SetQuantityBody};
use crate::{CartCommand, CartId, CartRequest, Email, MergeLine, OrderRef, Sku, MAX_QUANTITY};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

fn create(body: &[u8]) -> Result<NewCart, ApiError> {
    parse_json::<CreateCartBody>(body).and_then(NewCart::try_from)
}

fn add(body: &[u8]) -> Result<AddItem, ApiError> {
    parse_json::<AddItemBody>(body).and_then(AddItem::try_from)
}

fn set(body: &[u8]) -> Result<u32, ApiError> {
    parse_json::<SetQuantityBody>(body).and_then(u32::try_from)
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
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

fn valid_sku() -> impl Strategy<Value = String> {
    "[A-Z0-9][A-Z0-9-]{2,63}"
}

fn sku_like() -> impl Strategy<Value = String> {
    prop_oneof![valid_sku(), "[A-Za-z0-9 _-]{0,66}", ".{0,8}"]
}

fn region_like() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Z]{2}-[A-Z0-9]{1,3}", "[A-Za-z0-9-]{0,7}", ".{0,6}"]
}

/// A number or something else where a quantity or an id belongs.
fn number_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (-5i64..120).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => (-5.0f64..120.0).prop_map(Value::from),
        1 => (0u32..120).prop_map(|n| Value::from(n.to_string())),
        1 => json_value(),
    ]
}

/// A body object: each field present or absent, plausible or anything,
/// sometimes with a field the route does not name.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> impl Strategy<Value = Vec<u8>> {
    let present: Vec<_> = fields
        .into_iter()
        .map(|(name, value)| prop::option::weighted(0.85, value).prop_map(move |v| (name, v)))
        .collect();
    (
        present,
        prop::option::weighted(0.1, ("[a-z_]{1,8}", json_value())),
    )
        .prop_map(|(fields, extra)| {
            let mut map = Map::new();
            for (name, value) in fields {
                if let Some(v) = value {
                    map.insert(name.to_string(), v);
                }
            }
            if let Some((name, v)) = extra {
                map.insert(name, v);
            }
            Value::Object(map).to_string().into_bytes()
        })
}

fn bytes_or_json() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..48),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

fn assert_code(e: &ApiError, codes: &[&str]) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.status, 400, "{}", e);
    prop_assert!(codes.contains(&e.code), "{}", e);
    Ok(())
}

fn command() -> impl Strategy<Value = CartCommand> {
    let sku = valid_sku().prop_map(|s| Sku::parse(&s).unwrap()).boxed();
    prop_oneof![
        (1i64..=i64::MAX, "[A-Z]{2}-[A-Z0-9]{1,3}", "[A-Z]{3}").prop_map(
            |(store_id, region, currency)| CartCommand::Create {
                store_id,
                region: RegionCode::parse(&region).unwrap(),
                currency: Currency::parse(&currency).unwrap(),
            }
        ),
        Just(CartCommand::Get),
        "[ -~]{1,40}".prop_map(|key| CartCommand::BeginCheckout { key }),
        "[ -~]{1,40}".prop_map(|key| CartCommand::AbortCheckout { key }),
        (sku.clone(), 1..=MAX_QUANTITY)
            .prop_map(|(sku, quantity)| CartCommand::Add { sku, quantity }),
        (sku.clone(), 0..=MAX_QUANTITY)
            .prop_map(|(sku, quantity)| CartCommand::Set { sku, quantity }),
        sku.clone().prop_map(|sku| CartCommand::Remove { sku }),
        any::<i64>().prop_map(|id| CartCommand::MarkCheckedOut {
            order_id: id.into()
        }),
        "ord_[a-z2-7]{26}".prop_map(|id| CartCommand::MarkCheckedOut {
            order_id: OrderRef::Text(id)
        }),
        "[a-z0-9.+_-]{1,20}@[a-z0-9]{1,10}\\.[a-z]{2,6}".prop_map(|e| CartCommand::AttachEmail {
            email: Email::parse(&e).unwrap()
        }),
        "cus_[0-9a-z]{26}".prop_map(|customer| CartCommand::Adopt { customer }),
        (
            prop::collection::vec((sku, 1..=MAX_QUANTITY), 0..5),
            "[A-Z]{2}-[A-Z0-9]{1,3}",
            1i64..=i64::MAX
        )
            .prop_map(|(lines, region, store_id)| CartCommand::Merge {
                lines: lines
                    .into_iter()
                    .map(|(sku, quantity)| MergeLine { sku, quantity })
                    .collect(),
                region: RegionCode::parse(&region).unwrap(),
                store_id,
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn create_cart_bodies_never_panic(body in bytes_or_json()) {
        if let Err(e) = create(&body) {
            assert_code(&e, &["invalid_json", "unknown_field", "invalid_store_id", "invalid_region"])?;
        }
    }

    #[test]
    fn accepted_new_carts_have_a_store_and_a_region(body in object(vec![
        ("store_id", number_like().boxed()),
        ("region", prop_oneof![region_like().prop_map(Value::from), json_value()].boxed()),
    ])) {
        let v: Value = serde_json::from_slice(&body).unwrap();
        match create(&body) {
            Ok(cart) => {
                prop_assert!(cart.store_id > 0);
                prop_assert_eq!(v["store_id"].as_i64(), Some(cart.store_id));
                prop_assert_eq!(v["region"].as_str(), Some(cart.region.as_str()));
                prop_assert_eq!(RegionCode::parse(cart.region.as_str()), Ok(cart.region.clone()));
            }
            Err(e) => assert_code(&e, &["unknown_field", "invalid_store_id", "invalid_region"])?,
        }
    }

    #[test]
    fn add_item_bodies_never_panic(body in bytes_or_json()) {
        if let Err(e) = add(&body) {
            assert_code(&e, &["invalid_json", "unknown_field", "invalid_sku", "invalid_quantity"])?;
        }
    }

    #[test]
    fn accepted_items_have_a_sku_and_1_to_99(body in object(vec![
        ("sku", prop_oneof![sku_like().prop_map(Value::from), json_value()].boxed()),
        ("quantity", number_like().boxed()),
    ])) {
        let v: Value = serde_json::from_slice(&body).unwrap();
        match add(&body) {
            Ok(item) => {
                prop_assert!((1..=MAX_QUANTITY).contains(&item.quantity));
                prop_assert_eq!(v["quantity"].as_u64(), Some(u64::from(item.quantity)));
                prop_assert_eq!(v["sku"].as_str(), Some(item.sku.as_str()));
            }
            Err(e) => assert_code(&e, &["unknown_field", "invalid_sku", "invalid_quantity"])?,
        }
    }

    #[test]
    fn a_quantity_is_accepted_exactly_when_it_is_a_whole_number_in_range(
        sku in valid_sku(), q in prop_oneof![-5i64..120, any::<i64>()],
    ) {
        let body = json!({ "sku": sku, "quantity": q }).to_string();
        let added = add(body.as_bytes());
        prop_assert_eq!(added.is_ok(), (1..=99).contains(&q), "{:?}", added);
        if let Err(e) = added {
            prop_assert_eq!(e.code, "invalid_quantity");
        }
        let body = json!({ "quantity": q }).to_string();
        let changed = set(body.as_bytes());
        prop_assert_eq!(changed.clone().ok(), u32::try_from(q).ok().filter(|n| *n <= MAX_QUANTITY));
        if let Err(e) = changed {
            prop_assert_eq!(e.code, "invalid_quantity");
        }
    }

    #[test]
    fn set_quantity_bodies_never_panic_and_stay_in_range(body in prop_oneof![
        bytes_or_json(),
        object(vec![("quantity", number_like().boxed())]),
    ]) {
        match set(&body) {
            Ok(q) => prop_assert!(q <= MAX_QUANTITY),
            Err(e) => assert_code(&e, &["invalid_json", "unknown_field", "invalid_quantity"])?,
        }
    }

    #[test]
    fn cart_ids_round_trip(bytes in any::<[u8; 16]>()) {
        let id = CartId::from_random(bytes);
        prop_assert_eq!(CartId::parse(id.as_str()), Ok(id.clone()));
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<CartId>(&json).unwrap(), id);
    }

    #[test]
    fn only_32_lowercase_hex_digits_name_a_cart(s in "[0-9a-f]{32}|[0-9a-fA-F]{30,34}|.{0,40}") {
        let well_formed = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        match CartId::parse(&s) {
            Ok(id) => {
                prop_assert!(well_formed);
                prop_assert_eq!(id.as_str(), s.as_str());
            }
            Err(e) => {
                prop_assert!(!well_formed);
                prop_assert_eq!((e.status, e.code), (404, "cart_not_found"));
            }
        }
    }

    #[test]
    fn skus_round_trip_and_follow_the_catalog_rule(s in sku_like()) {
        match Sku::parse(&s) {
            Ok(sku) => {
                prop_assert!((3..=64).contains(&s.len()) && !s.starts_with('-'));
                prop_assert!(s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'));
                let json = serde_json::to_string(&sku).unwrap();
                prop_assert_eq!(serde_json::from_str::<Sku>(&json).unwrap(), sku.clone());
                prop_assert_eq!(sku.to_string(), s);
            }
            Err(e) => prop_assert_eq!((e.status, e.code), (400, "invalid_sku")),
        }
    }

    #[test]
    fn commands_survive_the_trip_to_the_cart_object(
        command in command(), id in any::<[u8; 16]>(), if_match in prop::option::of("\"[0-9]{1,4}\""),
        caller in prop::option::of("cus_[0-9a-z]{26}"),
    ) {
        let request = CartRequest { cart_id: CartId::from_random(id), command, if_match, caller };
        let json = serde_json::to_string(&request).unwrap();
        prop_assert_eq!(serde_json::from_str::<CartRequest>(&json).unwrap(), request);
    }

    #[test]
    fn arbitrary_json_never_panics_as_a_command(v in json_value(), op in "create|get|snapshot|add|set|remove|mark_checked_out|attach_email|adopt|merge|x") {
        let _ = serde_json::from_value::<CartRequest>(v.clone());
        let mut tagged = v.as_object().cloned().unwrap_or_default();
        tagged.insert("op".into(), op.into());
        if let Ok(CartCommand::Add { sku, quantity } | CartCommand::Set { sku, quantity }) =
            serde_json::from_value::<CartCommand>(Value::Object(tagged))
        {
            // Serde goes through the id's own parser.
            prop_assert_eq!(Sku::parse(sku.as_str()), Ok(sku.clone()));
            let _ = quantity;
        }
    }
}

/// Lines as (index of a SKU in the pool, quantity).
type PoolLines = Vec<(usize, u32)>;

/// A saved cart's lines and a guest cart's (SKUs from a small pool, so the
/// two meet), and the stock of every SKU in the pool (`None`: gone from the
/// catalog).
fn merge_case() -> impl Strategy<Value = (PoolLines, PoolLines, Vec<Option<u32>>)> {
    let pool = 8usize;
    (
        prop::collection::vec((0..pool, 1..=MAX_QUANTITY), 0..6),
        prop::collection::vec((0..pool, 0..=MAX_QUANTITY), 0..8),
        prop::collection::vec(prop::option::weighted(0.85, 0u32..150), pool),
    )
}

proptest! {
    #![proptest_config(config())]

    /// Whatever the carts and the stock: nothing is taken away, a SKU not
    /// named in `capped` went in whole, no line passes the line limit or
    /// (unless it already did) the stock, the cart never passes MAX_LINES,
    /// and the version moves once exactly when a line changed.
    #[test]
    fn a_merge_only_adds_within_the_limits_and_names_what_it_capped(
        (saved, guest, stock) in merge_case(),
        filler in prop_oneof![Just(0usize), (crate::MAX_LINES - 4)..=crate::MAX_LINES],
    ) {
        use crate::test_support::{cart, priced};
        use crate::{MergeOutcome, MERGED};
        let name = |i: usize| format!("P-{i}");
        let priced: Vec<_> = stock
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|n| priced(&name(i), "1.00", n)))
            .collect();
        let line = |sku: String, quantity: u32| crate::CartLine {
            sku: Sku::parse(&sku).unwrap(),
            name: sku,
            quantity,
            unit_price: "1.00".parse().unwrap(),
        };
        // Filler lines bring the cart near (or to) MAX_LINES.
        let mut c = cart();
        c.lines = (0..filler).map(|j| line(format!("F-{j}"), 1)).collect();
        for (i, q) in saved {
            if c.lines.len() < crate::MAX_LINES && !c.lines.iter().any(|l| l.sku.as_str() == name(i)) {
                c.lines.push(line(name(i), q));
            }
        }
        let lines: Vec<MergeLine> = guest
            .iter()
            .map(|(i, q)| MergeLine { sku: Sku::parse(&name(*i)).unwrap(), quantity: *q })
            .collect();
        let before = c.clone();
        let out: MergeOutcome = c.merge(&lines, &before.region, before.store_id, &priced);
        prop_assert_eq!(out.status, MERGED);
        prop_assert!(c.lines.len() <= crate::MAX_LINES);
        prop_assert_eq!(&c.lines[..before.lines.len()].iter().map(|l| &l.sku).collect::<Vec<_>>(),
            &before.lines.iter().map(|l| &l.sku).collect::<Vec<_>>());
        let changed = c.lines != before.lines;
        prop_assert_eq!(c.version, before.version + u64::from(changed));
        let mut seen = Vec::new();
        for sku in &out.capped {
            prop_assert!(!seen.contains(&sku), "capped twice: {}", sku);
            seen.push(sku);
            prop_assert!(lines.iter().any(|l| &l.sku == sku));
        }
        for line in &c.lines {
            let had = before.lines.iter().find(|l| l.sku == line.sku).map_or(0, |l| l.quantity);
            let added: u32 = lines.iter().filter(|l| l.sku == line.sku).map(|l| l.quantity).sum();
            if line.sku.as_str().starts_with("F-") {
                prop_assert_eq!(line.quantity, 1);
                continue;
            }
            let available = priced.iter().find(|p| p.sku == line.sku).map_or(0, |p| p.available);
            prop_assert!(line.quantity >= had, "took away from {}", line.sku);
            prop_assert!(line.quantity > 0);
            prop_assert!(line.quantity == had || line.quantity <= MAX_QUANTITY.min(available));
            if !out.capped.contains(&line.sku) {
                prop_assert_eq!(line.quantity, had + added, "{} not capped", &line.sku);
            }
        }
        for line in &lines {
            let in_cart = c.lines.iter().any(|l| l.sku == line.sku);
            prop_assert!(in_cart || line.quantity == 0 || out.capped.contains(&line.sku),
                "{} neither merged nor capped", &line.sku);
        }
    }

    /// Another region or store refuses, and changes nothing.
    #[test]
    fn a_merge_across_stores_changes_nothing((saved, guest, _stock) in merge_case(), store in 2i64..5) {
        use crate::test_support::{cart, priced};
        let mut c = cart();
        for (i, q) in saved {
            let p = priced(&format!("P-{i}"), "1.00", 1000);
            let _ = c.apply(&CartCommand::Add { sku: p.sku.clone(), quantity: q }, &[p]);
        }
        let lines: Vec<MergeLine> = guest
            .iter()
            .map(|(i, q)| MergeLine { sku: Sku::parse(&format!("P-{i}")).unwrap(), quantity: *q })
            .collect();
        let before = c.clone();
        let out = c.merge(&lines, &before.region, store, &[]);
        prop_assert_eq!((out.status, out.reason), (crate::REFUSED, Some(crate::STORE_MISMATCH)));
        prop_assert!(out.capped.is_empty());
        prop_assert_eq!(c, before);
    }
}

//! Property tests of the body parser: whatever arrives, it answers a value
//! or a 400/422 (never panics), and what it accepts reaches the SQL intact.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::adjustment::{AdjustmentBatch, MAX_ABS_DELTA, MAX_SET_ON_HAND};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,80}".prop_map(Value::from),
    ]
}

fn item() -> impl Strategy<Value = Value> {
    (
        prop_oneof![scalar(), "[A-Z0-9][A-Z0-9-]{2,10}".prop_map(Value::from)],
        prop_oneof![scalar(), "[a-z][a-z0-9-]{0,10}".prop_map(Value::from)],
        prop_oneof![scalar(), (-2_000_000i64..2_000_000).prop_map(Value::from)],
        prop_oneof![Just(Value::Null), (-5i64..20_000_000).prop_map(Value::from)],
        prop_oneof![scalar(), "[a-z ]{1,30}".prop_map(Value::from)],
        prop_oneof![scalar(), "[!-~]{1,20}".prop_map(Value::from)],
    )
        .prop_map(
            |(sku, warehouse, delta, set_on_hand, reason, external_ref)| {
                json!({"sku": sku, "warehouse": warehouse, "delta": delta,
                   "set_on_hand": set_on_hand, "reason": reason, "external_ref": external_ref})
            },
        )
}

proptest! {
    #[test]
    fn any_body_is_a_batch_or_a_client_error(items in prop::collection::vec(item(), 0..6)) {
        let body = json!({ "adjustments": items }).to_string();
        match AdjustmentBatch::parse(body.as_bytes()) {
            Ok(batch) => {
                let sent = batch.to_sql_input();
                let sent = sent["adjustments"].as_array().unwrap();
                prop_assert_eq!(sent.len(), batch.items().len());
                for (s, a) in sent.iter().zip(batch.items()) {
                    prop_assert_eq!(s["external_ref"].as_str(), Some(a.external_ref.as_str()));
                    let delta = s.get("delta").and_then(Value::as_i64);
                    let set = s.get("set_on_hand").and_then(Value::as_i64);
                    prop_assert!(delta.is_some() != set.is_some());
                    if let Some(d) = delta {
                        prop_assert!(d != 0 && d.abs() <= i64::from(MAX_ABS_DELTA));
                    }
                    if let Some(n) = set {
                        prop_assert!((0..=i64::from(MAX_SET_ON_HAND)).contains(&n));
                    }
                }
            }
            Err(e) => prop_assert!(e.status == 400 || e.status == 422, "{e}"),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Err(e) = AdjustmentBatch::parse(&bytes) {
            prop_assert!(e.status == 400 || e.status == 422);
        }
    }
}

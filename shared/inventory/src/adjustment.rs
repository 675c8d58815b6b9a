//! The body of `POST /admin/inventory/adjustments`, parsed into an
//! `AdjustmentBatch` that the SQL can trust:
//!
//! ```json
//! {"adjustments": [{"sku": "P000123-2", "warehouse": "sf-mission",
//!                   "delta": -3, "reason": "damaged", "external_ref": "pos-17/881"},
//!                  {"sku": "P000123-2", "warehouse": "den-central",
//!                   "set_on_hand": 40, "reason": "cycle count", "external_ref": "wms-5521"}]}
//! ```
//!
//! Malformed JSON is 400 (`invalid_json`), a field no adjustment has is 400
//! (`unknown_field`), as for every body (`platform::body`). Anything else the
//! rules refuse is 422 with the field's own code and its path in the
//! message (`adjustments[2].delta: ...`). The first problem in input order
//! is the one answered; nothing is written.

use platform::body::{from_object, json_object, Field};
use platform::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{ExternalRef, Reason, Sku, WarehouseCode};
use crate::unprocessable;

/// Adjustments per request.
pub const MAX_BATCH: usize = 100;
/// A delta moves on hand by at most this much either way (and never by 0).
pub const MAX_ABS_DELTA: i32 = 1_000_000;
/// The largest count `set_on_hand` may state.
pub const MAX_SET_ON_HAND: i32 = 10_000_000;

/// A change of on hand by a non-zero amount within ±`MAX_ABS_DELTA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delta(i32);

impl Delta {
    pub fn new(n: i64) -> Option<Self> {
        (n != 0 && n.abs() <= i64::from(MAX_ABS_DELTA)).then_some(Delta(n as i32))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// A counted on-hand quantity, `0..=MAX_SET_ON_HAND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnHand(i32);

impl OnHand {
    pub fn new(n: i64) -> Option<Self> {
        (0..=i64::from(MAX_SET_ON_HAND))
            .contains(&n)
            .then_some(OnHand(n as i32))
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// What an adjustment does to on hand: exactly one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `delta`: on hand moves by this much (a receipt, a loss, a return).
    Delta(Delta),
    /// `set_on_hand`: on hand becomes this (a count).
    SetOnHand(OnHand),
}

/// One adjustment of one SKU's stock in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub sku: Sku,
    pub warehouse: WarehouseCode,
    pub change: Change,
    pub reason: Reason,
    pub external_ref: ExternalRef,
}

/// 1 to `MAX_BATCH` adjustments with distinct `external_ref`s, in the order
/// they came (the order they are applied in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentBatch {
    items: Vec<Adjustment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    #[serde(default)]
    adjustments: Field<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    #[serde(default)]
    sku: Field<String>,
    #[serde(default)]
    warehouse: Field<String>,
    #[serde(default)]
    delta: Field<i64>,
    #[serde(default)]
    set_on_hand: Field<i64>,
    #[serde(default)]
    reason: Field<String>,
    #[serde(default)]
    external_ref: Field<String>,
}

fn invalid_batch() -> ApiError {
    unprocessable(
        "invalid_adjustments",
        format!("adjustments must be an array of 1-{MAX_BATCH} adjustments"),
    )
}

/// `e` with the field's path in front of its message.
fn at(path: &str, mut e: ApiError) -> ApiError {
    e.message = format!("{path}: {}", e.message);
    e
}

/// A text field through its newtype's `parse`, the path in any error. A
/// field that is missing or not a string gets the rule's own error (every
/// text rule refuses the empty string), so it says what the field must be.
fn text<T>(
    path: String,
    field: Field<String>,
    parse: impl Fn(&str) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let rule = || {
        parse("")
            .err()
            .unwrap_or_else(|| ApiError::internal("a text rule accepted the empty string"))
    };
    match field {
        Field::Valid(s) => parse(&s).map_err(|e| at(&path, e)),
        Field::Missing => Err(at(&format!("{path} is required"), rule())),
        Field::Invalid(_) => Err(at(&format!("{path} is not a string"), rule())),
    }
}

fn change(i: usize, delta: Field<i64>, set_on_hand: Field<i64>) -> Result<Change, ApiError> {
    let bad_delta = || {
        unprocessable(
            "invalid_delta",
            format!(
                "adjustments[{i}].delta: must be a non-zero integer from -{MAX_ABS_DELTA} to {MAX_ABS_DELTA}"
            ),
        )
    };
    let bad_set = || {
        unprocessable(
            "invalid_set_on_hand",
            format!("adjustments[{i}].set_on_hand: must be an integer from 0 to {MAX_SET_ON_HAND}"),
        )
    };
    match (delta, set_on_hand) {
        (Field::Missing, Field::Missing) => Err(unprocessable(
            "invalid_adjustment",
            format!("adjustments[{i}]: give one of delta or set_on_hand"),
        )),
        (d, Field::Missing) => Delta::new(d.required(bad_delta)?)
            .map(Change::Delta)
            .ok_or_else(bad_delta),
        (Field::Missing, s) => OnHand::new(s.required(bad_set)?)
            .map(Change::SetOnHand)
            .ok_or_else(bad_set),
        (_, _) => Err(unprocessable(
            "invalid_adjustment",
            format!("adjustments[{i}]: give exactly one of delta or set_on_hand, not both"),
        )),
    }
}

fn item(i: usize, value: Value) -> Result<Adjustment, ApiError> {
    let Value::Object(object) = value else {
        return Err(unprocessable(
            "invalid_adjustments",
            format!("adjustments[{i}]: each adjustment must be a JSON object"),
        ));
    };
    let body: ItemBody = from_object(object).map_err(|e| at(&format!("adjustments[{i}]"), e))?;
    let path = |field: &str| format!("adjustments[{i}].{field}");
    Ok(Adjustment {
        external_ref: text(path("external_ref"), body.external_ref, ExternalRef::parse)?,
        sku: text(path("sku"), body.sku, Sku::parse)?,
        warehouse: text(path("warehouse"), body.warehouse, WarehouseCode::parse)?,
        change: change(i, body.delta, body.set_on_hand)?,
        reason: text(path("reason"), body.reason, Reason::parse)?,
    })
}

impl AdjustmentBatch {
    /// The request body (see the module's documentation).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        Self::from_object(json_object(body)?)
    }

    pub fn from_object(object: Map<String, Value>) -> Result<Self, ApiError> {
        let body: BatchBody = from_object(object)?;
        let values = body.adjustments.required(invalid_batch)?;
        if values.is_empty() || values.len() > MAX_BATCH {
            return Err(invalid_batch());
        }
        let mut items: Vec<Adjustment> = Vec::with_capacity(values.len());
        for (i, v) in values.into_iter().enumerate() {
            let a = item(i, v)?;
            if let Some(first) = items.iter().position(|b| b.external_ref == a.external_ref) {
                return Err(unprocessable(
                    "duplicate_external_ref",
                    format!(
                        "adjustments[{i}].external_ref: adjustments[{first}] has the same one; each adjustment needs its own"
                    ),
                ));
            }
            items.push(a);
        }
        Ok(AdjustmentBatch { items })
    }

    /// The adjustments, in the order they are applied.
    pub fn items(&self) -> &[Adjustment] {
        &self.items
    }

    /// The input of `apply_inventory_adjustments(p jsonb)`:
    /// `{"adjustments": [{"external_ref", "sku", "warehouse", "delta" | "set_on_hand", "reason"}]}`.
    pub fn to_sql_input(&self) -> Value {
        let items: Vec<SqlItem<'_>> = self
            .items
            .iter()
            .map(|a| SqlItem {
                external_ref: a.external_ref.as_str(),
                sku: a.sku.as_str(),
                warehouse: a.warehouse.as_str(),
                delta: match a.change {
                    Change::Delta(d) => Some(d.get()),
                    Change::SetOnHand(_) => None,
                },
                set_on_hand: match a.change {
                    Change::SetOnHand(n) => Some(n.get()),
                    Change::Delta(_) => None,
                },
                reason: a.reason.as_str(),
            })
            .collect();
        serde_json::json!({ "adjustments": items })
    }
}

#[derive(Serialize)]
struct SqlItem<'a> {
    external_ref: &'a str,
    sku: &'a str,
    warehouse: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delta: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_on_hand: Option<i32>,
    reason: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(item: Value) -> Result<AdjustmentBatch, ApiError> {
        AdjustmentBatch::parse(json!({ "adjustments": [item] }).to_string().as_bytes())
    }

    fn good() -> Value {
        json!({"sku": "P000123-2", "warehouse": "sf-mission", "delta": -3,
               "reason": "damaged", "external_ref": "pos-17/881"})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut v = good();
        v[key] = value;
        v
    }

    fn without(key: &str) -> Value {
        let mut v = good();
        v.as_object_mut().unwrap().remove(key);
        v
    }

    fn refused(r: Result<AdjustmentBatch, ApiError>) -> (u16, &'static str, String) {
        let e = r.unwrap_err();
        (e.status, e.code, e.message)
    }

    #[test]
    fn a_good_batch_parses_into_its_types_in_order() {
        let body = json!({"adjustments": [
            good(),
            {"sku": "P000123-2", "warehouse": "den-central", "set_on_hand": 40,
             "reason": " cycle count ", "external_ref": "wms-5521"},
        ]});
        let b = AdjustmentBatch::parse(body.to_string().as_bytes()).unwrap();
        let [first, second] = b.items() else {
            panic!("two items")
        };
        assert_eq!(first.sku.as_str(), "P000123-2");
        assert_eq!(first.warehouse.as_str(), "sf-mission");
        assert_eq!(first.change, Change::Delta(Delta::new(-3).unwrap()));
        assert_eq!(first.external_ref.as_str(), "pos-17/881");
        assert_eq!(second.change, Change::SetOnHand(OnHand::new(40).unwrap()));
        assert_eq!(second.reason.as_str(), "cycle count");
    }

    #[test]
    fn the_sql_input_names_exactly_one_change_per_item() {
        let mut counted = without("delta");
        counted["set_on_hand"] = json!(0);
        counted["external_ref"] = json!("x2");
        let body = json!({ "adjustments": [good(), counted] });
        let b = AdjustmentBatch::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            b.to_sql_input(),
            json!({"adjustments": [
                {"external_ref": "pos-17/881", "sku": "P000123-2", "warehouse": "sf-mission",
                 "delta": -3, "reason": "damaged"},
                {"external_ref": "x2", "sku": "P000123-2", "warehouse": "sf-mission",
                 "set_on_hand": 0, "reason": "damaged"},
            ]})
        );
    }

    #[test]
    fn malformed_json_and_unknown_fields_are_400s() {
        for bad in [&b"{"[..], b"[]", b"\"x\"", b""] {
            let e = AdjustmentBatch::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_json"), "{bad:?}");
        }
        let e = AdjustmentBatch::parse(br#"{"adjustments": [], "dry_run": true}"#).unwrap_err();
        assert_eq!((e.status, e.code), (400, "unknown_field"));
        let (status, code, message) = refused(one(with("quantity", json!(2))));
        assert_eq!((status, code), (400, "unknown_field"));
        assert!(
            message.starts_with("adjustments[0]: unknown field `quantity`"),
            "{message}"
        );
    }

    #[test]
    fn the_batch_holds_1_to_100_adjustments() {
        for body in [
            json!({}),
            json!({"adjustments": null}),
            json!({"adjustments": []}),
            json!({"adjustments": {}}),
            json!({"adjustments": "x"}),
        ] {
            let (status, code, _) = refused(AdjustmentBatch::parse(body.to_string().as_bytes()));
            assert_eq!((status, code), (422, "invalid_adjustments"), "{body}");
        }
        let items = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| with("external_ref", json!(format!("r{i}"))))
                .collect()
        };
        let ok = json!({ "adjustments": items(MAX_BATCH) });
        assert_eq!(
            AdjustmentBatch::parse(ok.to_string().as_bytes())
                .unwrap()
                .items()
                .len(),
            100
        );
        let over = json!({ "adjustments": items(MAX_BATCH + 1) });
        let (status, code, _) = refused(AdjustmentBatch::parse(over.to_string().as_bytes()));
        assert_eq!((status, code), (422, "invalid_adjustments"));
        let (status, code, message) = refused(AdjustmentBatch::parse(br#"{"adjustments": [3]}"#));
        assert_eq!((status, code), (422, "invalid_adjustments"));
        assert!(message.starts_with("adjustments[0]:"), "{message}");
    }

    #[test]
    fn each_field_is_refused_with_its_own_code_and_path() {
        for (item, code, path) in [
            (
                with("sku", json!("p-lower")),
                "invalid_sku",
                "adjustments[0].sku",
            ),
            (
                without("sku"),
                "invalid_sku",
                "adjustments[0].sku is required",
            ),
            (
                with("sku", json!(12345)),
                "invalid_sku",
                "adjustments[0].sku is not a string",
            ),
            (
                with("warehouse", json!("sf mission")),
                "invalid_warehouse",
                "adjustments[0].warehouse",
            ),
            (
                without("warehouse"),
                "invalid_warehouse",
                "adjustments[0].warehouse is required",
            ),
            (
                with("reason", json!("   ")),
                "invalid_reason",
                "adjustments[0].reason",
            ),
            (
                with("reason", json!("a\u{0}b")),
                "invalid_reason",
                "adjustments[0].reason",
            ),
            (
                without("reason"),
                "invalid_reason",
                "adjustments[0].reason is required",
            ),
            (
                with("external_ref", json!("")),
                "invalid_external_ref",
                "adjustments[0].external_ref",
            ),
            (
                with("external_ref", json!("x".repeat(201))),
                "invalid_external_ref",
                "adjustments[0].external_ref",
            ),
            (
                without("external_ref"),
                "invalid_external_ref",
                "adjustments[0].external_ref is required",
            ),
            (
                with("delta", json!(0)),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("delta", json!(1_000_001)),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("delta", json!(-1_000_001)),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("delta", json!(1.5)),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("delta", json!("3")),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("delta", json!(1e300)),
                "invalid_delta",
                "adjustments[0].delta",
            ),
            (
                with("set_on_hand", json!(5)),
                "invalid_adjustment",
                "adjustments[0]",
            ),
            (without("delta"), "invalid_adjustment", "adjustments[0]"),
        ] {
            let (status, c, message) = refused(one(item.clone()));
            assert_eq!((status, c), (422, code), "{item}");
            assert!(
                message.starts_with(path),
                "{message} should start with {path}"
            );
        }
        let set = |n: Value| {
            let mut v = without("delta");
            v["set_on_hand"] = n;
            one(v)
        };
        for bad in [json!(-1), json!(10_000_001), json!(2.5), json!(true)] {
            let (status, code, message) = refused(set(bad.clone()));
            assert_eq!((status, code), (422, "invalid_set_on_hand"), "{bad}");
            assert!(
                message.starts_with("adjustments[0].set_on_hand"),
                "{message}"
            );
        }
        for ok in [json!(0), json!(10_000_000), json!(7.0)] {
            assert!(set(ok.clone()).is_ok(), "{ok}");
        }
        for ok in [json!(1), json!(-1), json!(1_000_000), json!(-1_000_000)] {
            assert!(one(with("delta", ok.clone())).is_ok(), "{ok}");
        }
        // null is absent: `"set_on_hand": null` beside a delta is fine.
        assert!(one(with("set_on_hand", Value::Null)).is_ok());
    }

    #[test]
    fn the_first_problem_in_input_order_is_answered() {
        let mut zero = with("delta", json!(0));
        zero["external_ref"] = json!("b");
        let body = json!({ "adjustments": [with("external_ref", json!("a")), zero, with("sku", json!("bad"))] });
        let (status, code, message) = refused(AdjustmentBatch::parse(body.to_string().as_bytes()));
        assert_eq!((status, code), (422, "invalid_delta"));
        assert!(message.starts_with("adjustments[1].delta"), "{message}");
    }

    #[test]
    fn a_reference_used_twice_in_one_batch_is_refused() {
        let body = json!({"adjustments": [
            with("external_ref", json!("same")),
            with("external_ref", json!("other")),
            with("external_ref", json!("same")),
        ]});
        let (status, code, message) = refused(AdjustmentBatch::parse(body.to_string().as_bytes()));
        assert_eq!((status, code), (422, "duplicate_external_ref"));
        assert!(
            message.starts_with("adjustments[2].external_ref"),
            "{message}"
        );
        assert!(message.contains("adjustments[0]"), "{message}");
        // Found where it occurs: before a later item's own problem.
        let body = json!({"adjustments": [good(), good(), with("delta", json!(0))]});
        let (_, code, _) = refused(AdjustmentBatch::parse(body.to_string().as_bytes()));
        assert_eq!(code, "duplicate_external_ref");
    }
}

//! What `apply_inventory_adjustments` answers, typed: one result per
//! adjustment, in input order. Rust reads it, checks it belongs to the batch
//! it sent, and answers it as it is (200).

use platform::{ApiError, FromRow, Row};
use serde::{Deserialize, Serialize};

use crate::adjustment::AdjustmentBatch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Refused,
}

/// Why an adjustment changed nothing. Each is about that adjustment alone:
/// the rest of its batch applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No variant has this SKU.
    UnknownSku,
    /// No warehouse has this code.
    UnknownWarehouse,
    /// On hand would go below what is reserved (or below 0).
    BelowReserved,
    /// On hand would go over 2147483647 (the column's int).
    OnHandOutOfRange,
}

/// One adjustment's result. `replayed`: its `external_ref` was stored by an
/// earlier request, and this is that request's result, unchanged (nothing
/// was applied now); `replayed_with_different_content` (replays only) says
/// whether this request's sku, warehouse, change or reason differ from the
/// stored ones, which the result shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentResult {
    pub external_ref: String,
    pub sku: String,
    pub warehouse: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_on_hand: Option<i64>,
    pub outcome: Outcome,
    pub replayed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_with_different_content: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// On hand before (applied, and refusals `below_reserved` /
    /// `on_hand_out_of_range`: on hand as it stayed). 0 for a warehouse that
    /// had no stock row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hand_before: Option<i64>,
    /// On hand after (applied only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_hand_after: Option<i64>,
    /// What on hand would have become (refusals `below_reserved` and
    /// `on_hand_out_of_range`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_on_hand: Option<i64>,
    /// Reserved at the moment it was decided on the stock (applied,
    /// `below_reserved`, `on_hand_out_of_range`), not on a replay: a replay
    /// answers what was stored, and reserved is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
}

/// The function's answer: `{"results": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentOutcome {
    pub results: Vec<AdjustmentResult>,
}

/// The one row of `queries::apply_adjustments` (column `outcome`).
impl FromRow for AdjustmentOutcome {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("outcome")?)
            .map_err(|e| ApiError::internal(format!("apply_inventory_adjustments answered: {e}")))
    }
}

impl AdjustmentOutcome {
    /// The results must be the batch's, one each, in its order; anything
    /// else is our bug (500).
    pub fn check(&self, batch: &AdjustmentBatch) -> Result<(), ApiError> {
        let sent = batch.items().iter().map(|a| a.external_ref.as_str());
        let got = self.results.iter().map(|r| r.external_ref.as_str());
        if sent.eq(got) {
            Ok(())
        } else {
            Err(ApiError::internal(
                "apply_inventory_adjustments answered other references than it was sent",
            ))
        }
    }

    /// The answer's body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch(refs: &[&str]) -> AdjustmentBatch {
        let items: Vec<_> = refs
            .iter()
            .map(|r| json!({"sku": "ABC-1", "warehouse": "w1", "delta": 1, "reason": "r", "external_ref": r}))
            .collect();
        AdjustmentBatch::parse(json!({ "adjustments": items }).to_string().as_bytes()).unwrap()
    }

    const ANSWER: &str = r#"{"results": [
        {"external_ref": "a", "sku": "ABC-1", "warehouse": "w1", "delta": 1, "outcome": "applied",
         "replayed": false, "on_hand_before": 4, "on_hand_after": 5, "reserved": 1},
        {"external_ref": "b", "sku": "ABC-1", "warehouse": "w1", "set_on_hand": 0, "outcome": "refused",
         "replayed": false, "refusal": "below_reserved", "on_hand_before": 5, "requested_on_hand": 0, "reserved": 1},
        {"external_ref": "c", "sku": "NOPE-1", "warehouse": "w1", "delta": -2, "outcome": "refused",
         "replayed": true, "replayed_with_different_content": true, "refusal": "unknown_sku"}
    ]}"#;

    #[test]
    fn the_functions_answer_reads_and_is_answered_as_it_came() {
        let row = Row::from_pairs(&[("outcome", Some(ANSWER))]);
        let o = AdjustmentOutcome::from_row(&row).unwrap();
        assert_eq!(o.results[1].refusal, Some(Refusal::BelowReserved));
        assert_eq!(o.results[2].replayed_with_different_content, Some(true));
        o.check(&batch(&["a", "b", "c"])).unwrap();
        let back: serde_json::Value = serde_json::from_str(&o.to_json()).unwrap();
        let came: serde_json::Value = serde_json::from_str(ANSWER).unwrap();
        assert_eq!(back, came, "no field added, lost or renamed");
    }

    #[test]
    fn an_answer_for_another_batch_is_our_bug() {
        let row = Row::from_pairs(&[("outcome", Some(ANSWER))]);
        let o = AdjustmentOutcome::from_row(&row).unwrap();
        for refs in [&["a", "c", "b"][..], &["a", "b"], &["a", "b", "c", "d"]] {
            assert_eq!(o.check(&batch(refs)).unwrap_err().status, 500, "{refs:?}");
        }
    }

    #[test]
    fn an_unknown_refusal_or_field_is_our_bug() {
        for bad in [
            ANSWER.replace("unknown_sku", "unknown_store"),
            ANSWER.replace("\"reserved\": 1}", "\"reserved\": 1, \"x\": 1}"),
            "{}".to_string(),
        ] {
            let row = Row::from_pairs(&[("outcome", Some(&bad))]);
            assert_eq!(AdjustmentOutcome::from_row(&row).unwrap_err().status, 500);
        }
    }
}

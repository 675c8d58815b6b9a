//! The cart object's answers, written by the object and read by the workers
//! that send it commands (`object_client`). Pure, so both sides are tested
//! natively.
//!
//! * Every command but `Merge`: the cart's API view (`Cart::to_json`), 200
//!   (201 for `Create`), with its version as the `ETag`.
//! * `Merge`: 200 `{"cart": <the view>, "merge": <MergeOutcome>}`, refused
//!   merges included (the cart as it is, `merge.status` "refused"). Never
//!   sent to a client as it is: the sender (login) reads both parts.
//! * A refusal: `ApiError`'s body `{"error":{"code","message",...}}` with
//!   its status; read back by `refusal` as the same error for the codes a
//!   cart answers.

use platform::ApiError;
use serde::Deserialize;
use serde_json::Value;

use crate::object_rules::{cart_unavailable, checkout_in_progress};
use crate::{cart_not_found, Cart, MergeOutcome};

/// The object's body for a `Merge`: the cart's view and what the merge did.
/// Written around the view's text rather than through a `json!` value.
pub fn merge_body(cart_view: &Value, outcome: &MergeOutcome) -> Result<String, ApiError> {
    let merge = serde_json::to_string(outcome).map_err(ApiError::internal)?;
    Ok(format!(r#"{{"cart":{cart_view},"merge":{merge}}}"#))
}

/// The cart an answer holds (200 or 201), else the refusal it says.
pub fn read_cart(status: u16, body: &str) -> Result<Cart, ApiError> {
    match status {
        200 | 201 => Cart::from_view(body),
        _ => Err(refusal(status, body)),
    }
}

/// A `Merge`'s answer: the merged (or unchanged) cart and the outcome.
pub fn read_merge(status: u16, body: &str) -> Result<(Cart, MergeOutcome), ApiError> {
    #[derive(Deserialize)]
    struct Answer {
        cart: Cart,
        merge: MergeOutcome,
    }
    if status != 200 {
        return Err(refusal(status, body));
    }
    let a: Answer = serde_json::from_str(body)
        .map_err(|e| ApiError::internal(format!("unreadable merge answer: {e}")))?;
    Ok((a.cart, a.merge))
}

/// The object's error answer as the `ApiError` it was, for the codes a cart
/// answers to these commands: `cart_not_found`, `cart_checked_out`,
/// `checkout_in_progress`, `precondition_failed`, `cart_unavailable`.
/// Anything else is ours: 500 (its status and code in the logs).
pub fn refusal(status: u16, body: &str) -> ApiError {
    let error: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = error["error"]["code"].as_str().unwrap_or("");
    let message = error["error"]["message"].as_str().unwrap_or("").to_string();
    match (status, code) {
        (404, "cart_not_found") => cart_not_found(),
        (409, "cart_checked_out") => ApiError::conflict("cart_checked_out", message),
        (409, "checkout_in_progress") => checkout_in_progress(),
        (412, _) => ApiError::precondition_failed(message),
        (503, _) => cart_unavailable(format!("cart object: {code}")),
        _ => ApiError::internal(format!("cart object answered {status} {code}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::{MergeLine, MERGED};
    use serde_json::json;

    #[test]
    fn a_merge_answer_reads_back_as_the_cart_and_its_outcome() {
        let mut c = cart();
        c.customer_id = Some("cus_a".into());
        let out = c.merge(
            &[MergeLine {
                sku: sku("A-1"),
                quantity: 2,
            }],
            &c.region.clone(),
            1,
            &[priced("A-1", "1.50", 1)],
        );
        let body = merge_body(&c.to_json(ca()), &out).unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["merge"], json!({"status": "merged", "capped": ["A-1"]}));
        assert_eq!(v["cart"]["customer_id"], "cus_a");
        let (back, outcome) = read_merge(200, &body).unwrap();
        assert_eq!((back, outcome.status), (c, MERGED));
        assert_eq!(read_merge(200, "{}").unwrap_err().status, 500);
    }

    #[test]
    fn the_merge_body_holds_the_view_and_the_outcome() {
        let view = cart().to_json(ca());
        for outcome in [
            MergeOutcome::refused(crate::REGION_MISMATCH),
            MergeOutcome {
                status: MERGED,
                reason: None,
                capped: vec![],
            },
            MergeOutcome {
                status: MERGED,
                reason: None,
                capped: vec![sku("A-1"), sku("P000123-2")],
            },
        ] {
            let ours: Value = serde_json::from_str(&merge_body(&view, &outcome).unwrap()).unwrap();
            assert_eq!(ours, json!({"cart": view, "merge": outcome}));
        }
    }

    #[test]
    fn refusals_read_back_as_the_errors_they_were() {
        for e in [
            cart_not_found(),
            ApiError::conflict("cart_checked_out", "checked out"),
            checkout_in_progress(),
            ApiError::precondition_failed("stale"),
        ] {
            let back = refusal(e.status, &e.body(Some("req")));
            assert_eq!((back.status, back.code), (e.status, e.code));
            assert_eq!(read_cart(e.status, &e.body(None)).unwrap_err().code, e.code);
            assert_eq!(
                read_merge(e.status, &e.body(None)).unwrap_err().code,
                e.code
            );
        }
        let e = refusal(503, &cart_unavailable("kv").body(None));
        assert_eq!(
            (e.status, e.code, e.retry_after_secs.is_some()),
            (503, "cart_unavailable", true)
        );
        for (status, body) in [
            (500, "{}"),
            (404, "not json"),
            (400, r#"{"error":{"code":"x"}}"#),
        ] {
            assert_eq!(refusal(status, body).status, 500, "{status} {body}");
        }
        let c = cart();
        assert_eq!(read_cart(201, &c.to_json(ca()).to_string()), Ok(c));
    }
}

//! Cancelling an order: which statuses allow it comes from the order
//! machine; `sql/cancel_order.sql` releases or restocks the stock and asks
//! for the refund, in one transaction.

use platform::Statement;
use serde::Deserialize;

use crate::machine::{sources, OrderEvent};

pub fn cancel(public_id: &str, reason: &str) -> Statement {
    let cancellable: Vec<&str> = sources(OrderEvent::Cancel)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let input = serde_json::json!({
        "order_id": public_id,
        "cancellable": cancellable,
        "reason": reason,
    });
    let mut s = Statement::new();
    let p = s.bind(input.to_string());
    s.push_sql(&format!("SELECT cancel_order({p}::jsonb)::text AS outcome"));
    s
}

/// `cancel_order`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cancelled {
    Cancelled { from: String, refunds_due: Vec<i64> },
    Already(bool),
    Refused { status: u16, code: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_machines_cancellable_statuses() {
        let s = cancel("ord_x", "customer asked");
        let p: serde_json::Value = serde_json::from_str(s.params[0].as_deref().unwrap()).unwrap();
        assert_eq!(
            p["cancellable"],
            serde_json::json!(["pending_payment", "paid", "partially_refunded", "fulfilling"])
        );
    }

    #[test]
    fn reads_each_answer() {
        let c: Cancelled =
            serde_json::from_str(r#"{"cancelled": {"from": "paid", "refunds_due": [3]}}"#).unwrap();
        assert_eq!(
            c,
            Cancelled::Cancelled {
                from: "paid".into(),
                refunds_due: vec![3]
            }
        );
        let a: Cancelled = serde_json::from_str(r#"{"already": true}"#).unwrap();
        assert_eq!(a, Cancelled::Already(true));
        let r: Cancelled = serde_json::from_str(
            r#"{"refused": {"status": 409, "code": "not_cancellable", "message": "m"}}"#,
        )
        .unwrap();
        assert!(matches!(r, Cancelled::Refused { status: 409, .. }));
    }
}

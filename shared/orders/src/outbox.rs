//! The transactional outbox: how a change in PostgreSQL reaches a queue.
//!
//! A message is a row written in the same transaction as the change it
//! announces (`outbox_enqueue` in `sql/outbox.sql`). The statement that made
//! the change answers the rows it wrote; the worker sends them after the
//! commit and marks them sent. A cron (`relay`) sends whatever is left: the
//! worker died between the commit and the send, or the queue refused it.
//! So nothing is lost, and something may be sent twice: every consumer is
//! idempotent.

use platform::{ApiError, FromRow, Row, Statement};
use serde::{Deserialize, Serialize};

/// A queue the outbox feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Fulfillment,
    Alerts,
}

impl Topic {
    /// The producer binding in each sender's wrangler.toml.
    pub fn binding(&self) -> &'static str {
        match self {
            Topic::Fulfillment => "FULFILLMENT_QUEUE",
            Topic::Alerts => "ALERTS_QUEUE",
        }
    }
}

/// One outbox row, as the statements answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: Topic,
    /// What the consumer receives (as JSON text): the payload and `outbox_id`.
    pub body: serde_json::Value,
}

/// A row of `outbox_claim` (one jsonb column).
impl FromRow for OutboxMessage {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("message")?)
            .map_err(|e| ApiError::internal(format!("outbox row: {e}")))
    }
}

/// The fulfillment queue's message: book this order's shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentMessage {
    pub outbox_id: i64,
    /// `orders.id`.
    pub order_id: i64,
}

/// The alerts queue's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertMessage {
    /// Available stock of a variant in a warehouse went below its threshold.
    LowStock {
        outbox_id: i64,
        sku: String,
        warehouse: String,
        available: i64,
        threshold: i64,
    },
    /// An order's shipment could not be booked (the fulfillment DLQ).
    FulfillmentFailed {
        order_id: i64,
        public_id: String,
        error: String,
    },
    /// A cart with an email has been idle: send the recovery email.
    AbandonedCart { cart_id: String },
    /// A SKU on `customer_id`'s wishlist is available again: email them
    /// (shared/customers/sql/back_in_stock.sql queues it, once per restock).
    BackInStock {
        outbox_id: i64,
        /// `customers.id`, never shown to anyone.
        customer_id: i64,
        sku: String,
    },
}

/// Sends outbox messages after their transaction committed, answering the
/// ids the queue took (in a Worker, `queue::QueueSender`). The caller marks
/// those sent with `mark_sent`, on whatever connection it holds.
#[async_trait::async_trait(?Send)]
pub trait OutboxSender {
    async fn send(&self, messages: &[OutboxMessage]) -> Vec<i64>;
}

/// How long the writer has to send its own rows before the relay does.
pub const RELAY_MIN_AGE_SECS: u32 = 30;
/// Rows per relay run; the queue takes at most 100 per batch send.
pub const RELAY_BATCH: u32 = 100;
/// How long a run holds the rows it is sending.
pub const RELAY_HOLD_SECS: u32 = 60;

/// The relay's batch: unsent rows older than `min_age_secs`, held for this run.
pub fn claim(min_age_secs: u32) -> Statement {
    let mut s = Statement::new();
    let age = s.bind(min_age_secs.to_string());
    let max = s.bind(RELAY_BATCH.to_string());
    let hold = s.bind(RELAY_HOLD_SECS.to_string());
    s.push_sql(&format!(
        "SELECT m::text AS message FROM outbox_claim({age}::int, {max}::int, {hold}::int) AS m"
    ));
    s
}

/// These rows reached their queue.
pub fn mark_sent(ids: &[i64]) -> Statement {
    let mut s = Statement::new();
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let p = s.bind(format!("{{{list}}}"));
    s.push_sql(&format!(
        "SELECT outbox_sent({p}::bigint[])::text AS marked"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_the_sql_writes_them() {
        let m: OutboxMessage = serde_json::from_str(
            r#"{"id": 7, "topic": "fulfillment", "body": {"order_id": 42, "outbox_id": 7}}"#,
        )
        .unwrap();
        assert_eq!(m.topic.binding(), "FULFILLMENT_QUEUE");
        let f: FulfillmentMessage = serde_json::from_value(m.body).unwrap();
        assert_eq!(
            f,
            FulfillmentMessage {
                outbox_id: 7,
                order_id: 42
            }
        );
        let a: AlertMessage = serde_json::from_str(
            r#"{"kind": "low_stock", "outbox_id": 3, "sku": "A-1", "warehouse": "sf-1",
                "available": 4, "threshold": 5}"#,
        )
        .unwrap();
        assert!(matches!(a, AlertMessage::LowStock { available: 4, .. }));
        // As shared/customers/sql/back_in_stock.sql writes it, plus outbox_id.
        let b: AlertMessage = serde_json::from_str(
            r#"{"kind": "back_in_stock", "customer_id": 12, "sku": "TEE-S", "outbox_id": 40}"#,
        )
        .unwrap();
        assert_eq!(
            b,
            AlertMessage::BackInStock {
                outbox_id: 40,
                customer_id: 12,
                sku: "TEE-S".into()
            }
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"kind": "back_in_stock", "outbox_id": 40, "customer_id": 12, "sku": "TEE-S"})
        );
        assert!(serde_json::from_str::<OutboxMessage>(r#"{"id":1,"topic":"email","body":{}}"#).is_err());
    }

    #[test]
    fn mark_sent_binds_an_array_literal() {
        let s = mark_sent(&[1, 22, 333]);
        assert_eq!(s.params, vec![Some("{1,22,333}".to_string())]);
    }
}

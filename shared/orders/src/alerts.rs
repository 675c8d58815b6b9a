//! Staff alerts: what an alert message says, the one row it leaves in the
//! `alerts` table (whatever the number of deliveries), and the post to the
//! staff's Slack-compatible webhook (`{"text": ...}`; Slack answers 200 `ok`).

use platform::outbound::{HttpCall, HttpMethod, HttpReply, TransportError};
use platform::send_claim::LEASE_SECS;
use platform::Statement;
use serde::Deserialize;

use crate::outbox::AlertMessage;

/// An alert for staff, ready to record and post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAlert {
    /// One alert per key, however often its message is delivered.
    pub dedupe_key: String,
    pub kind: &'static str,
    pub order_id: Option<i64>,
    pub text: String,
}

/// The staff alert a message carries (`None`: it is not one, e.g. a cart
/// recovery email).
pub fn staff_alert(message: &AlertMessage) -> Option<StaffAlert> {
    match message {
        AlertMessage::LowStock {
            outbox_id,
            sku,
            warehouse,
            available,
            threshold,
        } => Some(StaffAlert {
            dedupe_key: format!("low_stock:{outbox_id}"),
            kind: "low_stock",
            order_id: None,
            text: format!(
                "Low stock: {sku} in warehouse {warehouse} is down to {available} available (threshold {threshold})."
            ),
        }),
        AlertMessage::FulfillmentFailed {
            order_id,
            public_id,
            error,
        } => Some(StaffAlert {
            dedupe_key: format!("fulfillment_failed:{order_id}"),
            kind: "fulfillment_failed",
            order_id: Some(*order_id),
            text: format!("Fulfillment failed for order {public_id}: {error}"),
        }),
        // Shopper emails, not staff alerts.
        AlertMessage::AbandonedCart { .. } | AlertMessage::BackInStock { .. } => None,
    }
}

/// Stores the alert once and claims the right to post it
/// (`sql/alerts.sql`, `alert_claim`). One row: a `platform::send_claim::SendClaim`.
pub fn claim(alert: &StaffAlert) -> Statement {
    let mut s = Statement::new();
    let key = s.bind(alert.dedupe_key.as_str());
    let kind = s.bind(alert.kind);
    let order = match alert.order_id {
        Some(id) => s.bind(id.to_string()),
        None => s.bind_null(),
    };
    let text = s.bind(alert.text.as_str());
    let lease = s.bind(LEASE_SECS.to_string());
    s.push_sql(&format!(
        "SELECT alert_claim({key}, {kind}, {order}::bigint, {text}, {lease}::int) AS claim"
    ));
    s
}

/// The webhook (or the email provider) took it; the claim ends.
pub fn mark_posted(dedupe_key: &str) -> Statement {
    let mut s = Statement::new();
    let key = s.bind(dedupe_key);
    s.push_sql(&format!(
        "UPDATE alerts SET posted_at = now(), sending_until = NULL \
          WHERE dedupe_key = {key} AND posted_at IS NULL \
         RETURNING 'true' AS posted"
    ));
    s
}

/// The post failed: the next delivery may claim it at once. One row:
/// `platform::send_claim::Released`.
pub fn release(dedupe_key: &str) -> Statement {
    let mut s = Statement::new();
    let key = s.bind(dedupe_key);
    s.push_sql(&format!(
        "WITH released AS (UPDATE alerts SET sending_until = NULL \
                            WHERE dedupe_key = {key} AND posted_at IS NULL RETURNING 1) \
         SELECT (count(*) > 0)::text AS released FROM released"
    ));
    s
}

/// A row of `mark_posted`.
#[derive(Debug, Deserialize)]
pub struct Posted(pub bool);

impl platform::FromRow for Posted {
    fn from_row(row: &platform::Row) -> Result<Self, platform::ApiError> {
        Ok(Posted(row.text("posted")? == Some("true")))
    }
}

pub fn slack_call(webhook_url: &str, alert: &StaffAlert) -> HttpCall {
    HttpCall {
        method: HttpMethod::Post,
        url: webhook_url.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(serde_json::json!({"text": alert.text}).to_string()),
    }
}

/// `Ok` when the webhook took it; `Err` with why (worth retrying or not,
/// the queue's retries and dead-letter queue decide).
pub fn read_slack_reply(reply: Result<HttpReply, TransportError>) -> Result<(), String> {
    match reply {
        Ok(r) if (200..300).contains(&r.status) => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status)),
        Err(TransportError::Timeout) => Err("timed out".into()),
        Err(TransportError::Network(d)) => Err(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_crossing_and_per_failed_order() {
        let low = staff_alert(&AlertMessage::LowStock {
            outbox_id: 9,
            sku: "TEE-S".into(),
            warehouse: "sf-1".into(),
            available: 4,
            threshold: 5,
        })
        .unwrap();
        assert_eq!(low.dedupe_key, "low_stock:9");
        assert!(low.text.contains("TEE-S") && low.text.contains("4 available"));
        let failed = staff_alert(&AlertMessage::FulfillmentFailed {
            order_id: 3,
            public_id: "ord_x".into(),
            error: "carrier down".into(),
        })
        .unwrap();
        assert_eq!(failed.dedupe_key, "fulfillment_failed:3");
        assert_eq!(failed.order_id, Some(3));
        assert!(staff_alert(&AlertMessage::AbandonedCart { cart_id: "c".into() }).is_none());
    }

    #[test]
    fn posts_slack_json() {
        let a = StaffAlert {
            dedupe_key: "k".into(),
            kind: "low_stock",
            order_id: None,
            text: "hello".into(),
        };
        let call = slack_call("http://hooks.test/slack/x", &a);
        assert_eq!(call.body.as_deref(), Some(r#"{"text":"hello"}"#));
        let ok = HttpReply {
            status: 200,
            retry_after_secs: None,
            body: "ok".into(),
        };
        assert_eq!(read_slack_reply(Ok(ok)), Ok(()));
        assert!(read_slack_reply(Err(TransportError::Timeout)).is_err());
    }
}

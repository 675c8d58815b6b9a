//! From a provider's event to the one statement that applies it: what the
//! database knows about the order (`EventContext`, one read), the
//! lifecycle's decision, and the input of `apply_payment_event`
//! (`EventApplication`), whose answer is an `Applied`.

use platform::money::{Currency, Money};
use platform::{ApiError, FromRow, Row};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::events::ProviderEvent;
use crate::lifecycle::{decide, Decision, EventKind, Facts, OrderStatus};

/// The order an event is about, as the primary has it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventContext {
    pub order_id: i64,
    pub public_id: String,
    /// The order's status as stored (`expected_status` of the application).
    pub status_text: String,
    /// `None` for a status the payment lifecycle does not know (the seed's
    /// legacy `pending`): no event changes such an order; it is recorded only.
    pub status: Option<OrderStatus>,
    pub total: Money,
    /// The provider payment id of the payment that paid the order.
    pub paid_by_ref: Option<String>,
}

impl FromRow for EventContext {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        let status: String = row.get("status")?;
        let currency = Currency::parse(row.required("currency")?.trim())?;
        let amount = Decimal::from_str(row.required("total")?)
            .map_err(|e| ApiError::internal(format!("orders.total: {e}")))?;
        Ok(EventContext {
            order_id: row.get("order_id")?,
            public_id: row.get("public_id")?,
            status: OrderStatus::parse(&status),
            status_text: status,
            total: Money { amount, currency },
            paid_by_ref: row.text("paid_by_ref")?.map(str::to_string),
        })
    }
}

/// The lifecycle's facts about this event and this order (whose status it knows).
pub fn facts(event: &ProviderEvent, ctx: &EventContext, status: OrderStatus) -> Facts {
    let same_payment = match (&ctx.paid_by_ref, &event.payment_ref) {
        (Some(paid), Some(this)) => paid == this,
        _ => false,
    };
    let amount_matches = match &event.amount {
        Some(m) => m.currency == ctx.total.currency && m.amount == ctx.total.amount,
        None => false,
    };
    Facts {
        status,
        same_payment,
        amount_matches,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentFacts {
    #[serde(rename = "ref")]
    pub payment_ref: Option<String>,
    pub capture_ref: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// For `record_attempt`: `failed` or `canceled`.
    pub status: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundInput {
    pub provider_refund_id: Option<String>,
    pub our_refund_id: Option<String>,
    pub amount: String,
    pub cumulative: bool,
}

/// `apply_payment_event`'s input (sql/apply_payment_event.sql).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventApplication {
    pub provider: &'static str,
    pub event_id: String,
    pub event_type: String,
    /// `None`: no order of ours; the event is recorded as unmatched.
    pub order_id: Option<i64>,
    pub expected_status: Option<String>,
    pub decision: Decision,
    pub payment: Option<PaymentFacts>,
    pub refund: Option<RefundInput>,
    pub flag: Option<&'static str>,
}

impl EventApplication {
    /// The event applied to this order with this decision.
    pub fn new(event: &ProviderEvent, ctx: Option<&EventContext>, decision: Decision) -> Self {
        let payment = Some(PaymentFacts {
            payment_ref: event.payment_ref.clone(),
            capture_ref: event.capture_ref.clone(),
            amount: event.amount.map(|m| m.amount.to_string()),
            currency: event.amount.map(|m| m.currency.as_str().to_string()),
            status: match event.kind {
                Some(EventKind::PaymentFailed) => Some("failed"),
                Some(EventKind::PaymentCanceled) => Some("canceled"),
                _ => None,
            },
        });
        let refund = event.refund.as_ref().map(|r| RefundInput {
            provider_refund_id: r.provider_refund_id.clone(),
            our_refund_id: r.our_refund_id.clone(),
            amount: r.amount.amount.to_string(),
            cumulative: r.cumulative,
        });
        let flag = match event.kind {
            Some(EventKind::Disputed) => Some("dispute"),
            Some(EventKind::Reversed) => Some("payment_reversed"),
            _ => None,
        };
        EventApplication {
            provider: event.provider.as_str(),
            event_id: event.event_id.clone(),
            event_type: event.event_type.clone(),
            order_id: ctx.map(|c| c.order_id),
            expected_status: ctx.map(|c| c.status_text.clone()),
            decision,
            payment,
            refund,
            flag,
        }
    }
}

/// The lifecycle's decision for a handled event about a known order
/// (`Nothing` for an order in a status the lifecycle does not know).
pub fn decision_for(event: &ProviderEvent, ctx: &EventContext) -> Option<Decision> {
    let kind = event.kind?;
    Some(match ctx.status {
        Some(status) => decide(kind, &facts(event, ctx, status)),
        None => Decision::Nothing,
    })
}

/// What `apply_payment_event` answered.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// Applied before: nothing changed.
    Duplicate(bool),
    /// The order changed since it was read; here is how it is now.
    Stale {
        status: String,
        paid_by_ref: Option<String>,
    },
    /// Done. `refunds_due`: refunds it asked for, to send to the provider.
    #[serde(untagged)]
    Done {
        applied: String,
        order_status: Option<String>,
        refunds_due: Vec<i64>,
        /// Outbox rows the transaction wrote (a paid order's fulfillment):
        /// the worker sends them after the commit.
        #[serde(default)]
        outbox: Vec<orders::outbox::OutboxMessage>,
    },
}

impl FromRow for Applied {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("outcome")?)
            .map_err(|e| ApiError::internal(format!("apply_payment_event answered: {e}")))
    }
}

/// A refund as `refund_json` returns it: for the API and the gateway call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundRecord {
    pub refund_id: i64,
    pub status: String,
    pub amount: String,
    pub currency: String,
    pub reason: String,
    pub origin: String,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub provider_refund_id: Option<String>,
    pub order_id: String,
    pub order_status: String,
}

impl RefundRecord {
    pub fn money(&self) -> Result<Money, ApiError> {
        Ok(Money {
            amount: Decimal::from_str(&self.amount)
                .map_err(|e| ApiError::internal(format!("refund amount: {e}")))?,
            currency: Currency::parse(self.currency.trim())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_in_a_status_the_lifecycle_does_not_know_is_only_recorded() {
        let ctx = EventContext::from_row(&Row::from_pairs(&[
            ("order_id", Some("7")),
            ("public_id", Some("ord_0123456789abcdefghjkmnpqrs")),
            ("status", Some("pending")),
            ("total", Some("10.00")),
            ("currency", Some("USD")),
            ("paid_by_ref", None),
        ]))
        .unwrap();
        assert_eq!(ctx.status, None);
        let event = crate::events::parse_stripe(
            br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1,"data":{"object":
                {"id":"pi_1","object":"payment_intent","amount":1000,"amount_received":1000,
                 "currency":"usd","metadata":{}}}}"#,
        )
        .unwrap();
        assert_eq!(decision_for(&event, &ctx), Some(Decision::Nothing));
        let app = EventApplication::new(&event, Some(&ctx), Decision::Nothing);
        assert_eq!(app.expected_status.as_deref(), Some("pending"));
    }

    #[test]
    fn the_three_answers_of_apply_payment_event_parse() {
        let dup: Applied = serde_json::from_str(r#"{"duplicate": true}"#).unwrap();
        assert_eq!(dup, Applied::Duplicate(true));
        let stale: Applied =
            serde_json::from_str(r#"{"stale": {"status": "paid", "paid_by_ref": "pi_1"}}"#)
                .unwrap();
        assert_eq!(
            stale,
            Applied::Stale {
                status: "paid".into(),
                paid_by_ref: Some("pi_1".into())
            }
        );
        let done: Applied = serde_json::from_str(
            r#"{"applied": "late_payment_refunded", "order_status": "cancelled", "refunds_due": [7]}"#,
        )
        .unwrap();
        assert_eq!(
            done,
            Applied::Done {
                applied: "late_payment_refunded".into(),
                order_status: Some("cancelled".into()),
                refunds_due: vec![7],
                outbox: vec![],
            }
        );
    }
}

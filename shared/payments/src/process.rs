//! Applying a provider's event from a Worker: read the order, decide, maybe
//! capture, apply in one statement. What needs a gateway (PayPal's capture,
//! sending the refunds an event asked for) goes through [`PaymentActions`]:
//! the orders worker, which owns the gateways (`outbound`), does it directly,
//! and the webhooks worker asks the orders worker over its service binding,
//! which keeps the gateways out of the webhooks worker's wasm.

use orders::outbox::{self, OutboxMessage, OutboxSender};
use platform::db::{Db, PrimarySession};
use platform::{ApiError, Log};
use serde_json::json;

use crate::apply::{decision_for, Applied, EventApplication, EventContext};
use crate::events::ProviderEvent;
use crate::gateway::{Captured, GatewayError};
use crate::lifecycle::{Decision, EventKind};
use crate::queries;
use crate::Provider;

/// How an event ended, for the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventResult {
    /// A type we do not handle: 200, logged, nothing stored.
    Ignored,
    /// Seen before: 200, nothing changed.
    Duplicate,
    /// No order of ours: recorded as unmatched, logged as an error, 200.
    Unmatched,
    /// Applied: the lifecycle's outcome.
    Applied(String),
}

/// Tries of read-decide-apply when the order keeps changing underneath.
const STALE_RETRIES: usize = 3;

/// The KV namespace that caches provider tokens (PayPal's OAuth token).
pub const TOKEN_CACHE_BINDING: &str = "PAYMENT_TOKENS";

/// What applying an event may need from a gateway.
#[async_trait::async_trait(?Send)]
pub trait PaymentActions {
    /// Captures an approved payment, idempotently (`capture-<payment ref>`).
    async fn capture(
        &self,
        provider: Provider,
        payment_ref: &str,
    ) -> Result<Option<Captured>, GatewayError>;
    /// Sends these refunds to their providers, best effort: a refund left
    /// `requested` is sent again by the orders worker's cron.
    async fn send_refunds(&self, refund_ids: &[i64]);
}

pub struct EventWork<'a> {
    pub db: &'a Db,
    pub log: &'a Log,
    pub actions: &'a dyn PaymentActions,
    /// Sends what the event wrote to the outbox (a paid order's fulfillment
    /// message) once it committed.
    pub outbox: &'a dyn OutboxSender,
}

impl EventWork<'_> {
    /// Applies one verified event exactly once. An error means nothing was
    /// stored: the provider must deliver it again (503).
    pub async fn apply_event(&self, event: &ProviderEvent) -> Result<EventResult, ApiError> {
        let Some(_) = event.kind else {
            self.log.info(
                "payment_event_ignored",
                json!({"provider": event.provider.as_str(), "type": event.event_type, "event": event.event_id}),
            );
            return Ok(EventResult::Ignored);
        };
        // Both statements on one connection: the read, then the write that
        // depends on it (2 statements, 1 connection per event); when the
        // event wrote outbox messages, they are sent once it committed and
        // marked sent on the same connection (a third statement).
        let (result, refunds_due) = self
            .db
            .primary_session(async |db| {
                let (result, refunds_due, outbox) = self.apply_on(db, event).await?;
                let sent = self.outbox.send(&outbox).await;
                if !sent.is_empty() {
                    // Best effort: unmarked rows are sent again by the relay,
                    // and the consumers drop the duplicates.
                    if let Err(e) = db.run::<Marked>(&outbox::mark_sent(&sent)).await {
                        self.log.warn("outbox_mark_failed", json!({"detail": e.internal_detail}));
                    }
                }
                Ok((result, refunds_due))
            })
            .await?;
        if !refunds_due.is_empty() {
            self.actions.send_refunds(&refunds_due).await;
        }
        Ok(result)
    }

    /// Read, decide, apply; again while the order keeps changing underneath.
    async fn apply_on(
        &self,
        db: &PrimarySession<'_>,
        event: &ProviderEvent,
    ) -> Result<(EventResult, Vec<i64>, Vec<OutboxMessage>), ApiError> {
        for _ in 0..STALE_RETRIES {
            let ctx: Option<EventContext> = db
                .run(&queries::event_context(event))
                .await?
                .into_iter()
                .next();
            let application = match &ctx {
                None => EventApplication::new(event, None, Decision::Nothing),
                Some(ctx) => self.application(event, ctx).await?,
            };
            let applied: Option<Applied> = db
                .run(&queries::apply_payment_event(&application))
                .await?
                .into_iter()
                .next();
            match applied {
                Some(Applied::Duplicate(_)) => {
                    return Ok((EventResult::Duplicate, Vec::new(), Vec::new()))
                }
                Some(Applied::Stale { .. }) => continue,
                Some(Applied::Done {
                    applied,
                    refunds_due,
                    outbox,
                    ..
                }) => {
                    if ctx.is_none() {
                        // Never silently ignored: stored as unmatched and shouted about.
                        self.log.error(
                            "payment_event_unmatched",
                            json!({"provider": event.provider.as_str(), "type": event.event_type,
                                   "event": event.event_id, "payment": event.payment_ref}),
                        );
                        return Ok((EventResult::Unmatched, Vec::new(), Vec::new()));
                    }
                    return Ok((EventResult::Applied(applied), refunds_due, outbox));
                }
                None => return Err(ApiError::internal("apply_payment_event returned nothing")),
            }
        }
        Err(ApiError::unavailable(
            "order_busy",
            "the order changed while the event was applied; deliver it again",
        ))
    }

    /// The decision for a known order, with PayPal's capture done first: an
    /// approval is recorded only together with the capture's outcome, so a
    /// capture that fails leaves nothing stored and the redelivery tries again.
    async fn application(
        &self,
        event: &ProviderEvent,
        ctx: &EventContext,
    ) -> Result<EventApplication, ApiError> {
        let decision = decision_for(event, ctx).unwrap_or(Decision::Nothing);
        if decision != Decision::Capture {
            return Ok(EventApplication::new(event, Some(ctx), decision));
        }
        let payment_ref = event
            .payment_ref
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("invalid_event", "the approval names no order"))?;
        let captured = self.actions.capture(event.provider, payment_ref).await;
        let mut as_capture = event.clone();
        match captured {
            Ok(Some(c)) => {
                as_capture.capture_ref = Some(c.capture_id);
                as_capture.amount = Some(c.amount);
                as_capture.kind = Some(if c.completed {
                    EventKind::PaymentSucceeded
                } else {
                    EventKind::PaymentFailed
                });
                let decision = decision_for(&as_capture, ctx).unwrap_or(Decision::Nothing);
                Ok(EventApplication::new(&as_capture, Some(ctx), decision))
            }
            // Captured by an earlier delivery whose answer was lost: its
            // PAYMENT.CAPTURE.COMPLETED event pays the order.
            Err(GatewayError::Rejected { code, .. }) if code == "ORDER_ALREADY_CAPTURED" => {
                Ok(EventApplication::new(event, Some(ctx), Decision::Nothing))
            }
            // A provider that captures by itself: the approval changes nothing.
            Ok(None) => Ok(EventApplication::new(event, Some(ctx), Decision::Nothing)),
            Err(e) => Err(e.to_api_error(event.provider)),
        }
    }
}

/// A one-column `outcome` row holding JSON.
pub struct Outcome<T>(pub T);

impl<T: serde::de::DeserializeOwned> platform::FromRow for Outcome<T> {
    fn from_row(row: &platform::Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("outcome")?)
            .map(Outcome)
            .map_err(|e| ApiError::internal(format!("payments SQL answered: {e}")))
    }
}

/// A row of `outbox_sent` (its count is not needed).
struct Marked;

impl platform::FromRow for Marked {
    fn from_row(_: &platform::Row) -> Result<Self, ApiError> {
        Ok(Marked)
    }
}

//! What a provider gets back for an event we verified.

use orders::outbox::{OutboxMessage, OutboxSender};
use orders::queue::QueueSender;
use payments::events::ProviderEvent;
use payments::process::{EventResult, EventWork};
use platform::respond;
use platform::serve::Call;
use platform::Result;
use serde_json::json;
use worker::Response;

/// Applies the event and answers 200 with what it did. Errors (503 when the
/// database or a provider could not be reached) come back as they are: the
/// provider retries.
pub async fn apply(call: &Call, event: &ProviderEvent) -> Result<Response> {
    let actions = crate::actions::ViaOrdersWorker {
        env: &call.env,
        log: &call.log,
    };
    // A paid order's fulfillment message goes to its queue once the payment
    // committed; what does not go now, the orders worker's relay cron sends.
    let queues = QueueSender {
        env: &call.env,
        log: &call.log,
    };
    let dropped = DroppedSend;
    let outbox: &dyn OutboxSender = if drop_outbox_send(call) { &dropped } else { &queues };
    let work = EventWork {
        db: &call.db,
        log: &call.log,
        actions: &actions,
        outbox,
    };
    let result = work.apply_event(event).await?;
    let outcome = match &result {
        EventResult::Ignored => "ignored",
        EventResult::Duplicate => "duplicate",
        EventResult::Unmatched => "unmatched",
        EventResult::Applied(what) => what.as_str(),
    };
    call.log.info(
        "payment_event",
        json!({"provider": event.provider.as_str(), "type": event.event_type,
               "event": event.event_id, "outcome": outcome}),
    );
    Ok(respond::private_json(
        200,
        json!({"received": true, "event_id": event.event_id, "outcome": outcome}).to_string(),
    ))
}

/// A send that never happens: what a worker that died right after the
/// commit would have done.
struct DroppedSend;

#[async_trait::async_trait(?Send)]
impl OutboxSender for DroppedSend {
    async fn send(&self, _: &[OutboxMessage]) -> Vec<i64> {
        Vec::new()
    }
}

/// Dev builds: `x-test-fault: drop-outbox-send` skips the send after the
/// commit, as a worker that died there would (the relay must send it).
#[cfg(feature = "dev")]
fn drop_outbox_send(call: &Call) -> bool {
    call.req.headers().get("x-test-fault").ok().flatten().as_deref() == Some("drop-outbox-send")
}

#[cfg(not(feature = "dev"))]
fn drop_outbox_send(_call: &Call) -> bool {
    false
}

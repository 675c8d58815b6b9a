//! What a provider gets back for an event we verified.

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
    let work = EventWork {
        db: &call.db,
        log: &call.log,
        actions: &actions,
    };
    let (result, outbox) = work.apply_event(event).await?;
    // Committed: now the messages it wrote (a paid order's fulfillment).
    // What does not go now, the orders worker's relay cron sends.
    if !drop_outbox_send(call) {
        orders::queue::send_and_mark(&call.env, &call.db, &call.log, &outbox).await;
    }
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

//! The fulfillment worker: queue consumers only, no routes.
//!
//! Queue `edgeshop-fulfillment` (book.rs): a paid order's message books its
//! shipment with the carrier and ships the order. Carrier outages and
//! timeouts are retried with a growing delay; after `max_retries`
//! (wrangler.toml) the message moves to `edgeshop-fulfillment-dlq`.
//! Queue `edgeshop-fulfillment-dlq` (dead_letters.rs): records the failure
//! on the order and raises an alert (the alerts queue).
//!
//! Bindings: DB / DB_REPLICA, ALERTS_QUEUE; vars CARRIER_API_BASE,
//! CARRIER_SERVICE_CODE, FULFILLMENT_RETRY_BASE_SECS; secret CARRIER_API_KEY.

use orders::outbox::FulfillmentMessage;
use platform::Log;
use serde_json::json;
use worker::{event, Context, Env, MessageBatch, MessageExt, RawMessage};

mod book;
mod dead_letters;

pub const QUEUE: &str = "edgeshop-fulfillment";
pub const DEAD_LETTERS: &str = "edgeshop-fulfillment-dlq";

/// Every message is decided on its own and the handler always returns
/// `Ok(())`: an `Err` from a Rust queue handler aborts the module and
/// redelivers the whole batch, the messages already acked included.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    let queue = batch.queue();
    for message in batch.raw_iter() {
        if queue == DEAD_LETTERS {
            dead_letters::handle(&message, &env).await;
        } else {
            book::handle(&message, &env).await;
        }
    }
    Ok(())
}

/// The message's body, or `None` after acking it: a body we cannot read
/// never will be, and retrying it would only delay the DLQ.
fn read_message(message: &RawMessage, log: &Log) -> Option<FulfillmentMessage> {
    let body = message
        .body()
        .as_string()
        .and_then(|b| serde_json::from_str::<FulfillmentMessage>(&b).ok());
    if body.is_none() {
        log.error("fulfillment_message_unreadable", json!({"message": message.id()}));
        message.ack();
    }
    body
}

//! The alerts queue. Each message is decided on its own:
//!
//! * a staff alert (low stock, a failed fulfillment) is recorded once in
//!   `alerts`, posted to ALERT_WEBHOOK_URL, and marked posted; a message
//!   whose alert was posted already is acked without posting again;
//! * an abandoned cart becomes its recovery email (recovery.rs);
//! * a wishlisted SKU back in stock becomes an email to the shopper,
//!   recorded once in `alerts` like a staff alert (back_in_stock.rs).
//!
//! A failure worth retrying (the webhook, the email provider or the database
//! is down) retries the message with a delay; `max_retries` later it lands
//! in the dead-letter queue. Delivery is at least once: a crash between the
//! post and the mark posts twice (rare, and harmless for a notice).

use orders::alerts::{self, Posted, StaffAlert};
use orders::outbox::AlertMessage;
use platform::db::Db;
use platform::outbound::Transport;
use platform::outbound_fetch::FetchTransport;
use platform::{secrets, Log};
use serde_json::json;
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

/// Per outbound call (the webhook, the email provider).
pub const CALL_TIMEOUT_MS: u64 = 10_000;
/// Retries wait this long (the queue's own delay; the service is down).
const RETRY_DELAY_SECS: u32 = 5;

pub async fn batch(batch: MessageBatch<String>, env: &Env) {
    for message in batch.raw_iter() {
        let log = Log::new(&platform::request_id::new_id());
        match read(&message) {
            None => {
                log.error("alert_message_unreadable", json!({"message": message.id()}));
                message.ack();
            }
            Some(AlertMessage::AbandonedCart { cart_id }) => {
                settle(&message, crate::recovery::send_email(env, &log, &cart_id).await)
            }
            Some(AlertMessage::BackInStock {
                outbox_id,
                customer_id,
                sku,
            }) => settle(
                &message,
                crate::back_in_stock::send_email(env, &log, outbox_id, customer_id, &sku).await,
            ),
            Some(other) => match alerts::staff_alert(&other) {
                Some(alert) => settle(&message, post(env, &log, &alert).await),
                None => message.ack(),
            },
        }
    }
}

fn read(message: &RawMessage) -> Option<AlertMessage> {
    serde_json::from_str(&message.body().as_string()?).ok()
}

/// `Ok`: done (ack). `Err`: try again later.
fn settle(message: &RawMessage, outcome: Result<(), ()>) {
    match outcome {
        Ok(()) => message.ack(),
        Err(()) => message.retry_with_options(
            &QueueRetryOptionsBuilder::new()
                .with_delay_seconds(RETRY_DELAY_SECS)
                .build(),
        ),
    }
}

/// Records the alert (once), posts it unless it was posted, marks it.
async fn post(env: &Env, log: &Log, alert: &StaffAlert) -> Result<(), ()> {
    let db = Db::new(env, log.clone());
    let fields = json!({"alert": alert.dedupe_key, "kind": alert.kind});
    let posted = match db.write::<Posted>(&alerts::record(alert)).await {
        Ok(rows) => rows.first().is_some_and(|p| p.0),
        Err(e) => {
            log.warn("alert_not_recorded", json!({"alert": alert.dedupe_key, "detail": e.internal_detail}));
            return Err(());
        }
    };
    if posted {
        log.info("alert_already_posted", fields);
        return Ok(());
    }
    let Some(url) = secrets::get_credential(env, secrets::ALERT_WEBHOOK_URL) else {
        // Recorded (staff see it in the admin order view), not posted.
        log.error("alert_webhook_not_configured", fields);
        return Ok(());
    };
    let transport = FetchTransport {
        timeout_ms: CALL_TIMEOUT_MS,
    };
    if let Err(why) = alerts::read_slack_reply(transport.send(&alerts::slack_call(&url, alert)).await) {
        log.warn("alert_post_failed", json!({"alert": alert.dedupe_key, "detail": why}));
        return Err(());
    }
    if let Err(e) = db.write::<Posted>(&alerts::mark_posted(&alert.dedupe_key)).await {
        // Posted, not marked: a redelivery would post again. Acked anyway.
        log.warn("alert_mark_failed", json!({"alert": alert.dedupe_key, "detail": e.internal_detail}));
    }
    log.info("alert_posted", fields);
    Ok(())
}

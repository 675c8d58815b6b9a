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
//! in the dead-letter queue. Each notice is claimed before it is sent
//! (`platform::send_claim`): two deliveries of one message at the same time
//! send it once; the second waits out the claim's lease. A crash between
//! the send and the mark still sends twice (rare, and harmless for a notice).

use orders::alerts::{self, Posted, StaffAlert};
use orders::outbox::AlertMessage;
use platform::db::Db;
use platform::outbound::Transport;
use platform::outbound_fetch::FetchTransport;
use platform::send_claim::{Released, SendClaim, LEASE_SECS};
use platform::{secrets, Log};
use serde_json::json;
use worker::{Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, RawMessage};

/// Per outbound call (the webhook, the email provider).
pub const CALL_TIMEOUT_MS: u64 = 10_000;
/// Retries wait this long (the queue's own delay; the service is down).
const RETRY_DELAY_SECS: u32 = 5;

/// What becomes of one message.
pub enum Settle {
    /// Done (sent, sent before, or never sendable): ack.
    Ack,
    /// Something we depend on is down: deliver it again shortly.
    Retry,
    /// Another delivery is sending this notice: look again after its lease.
    Busy,
}

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

fn settle(message: &RawMessage, outcome: Settle) {
    let delay = match outcome {
        Settle::Ack => return message.ack(),
        Settle::Retry => RETRY_DELAY_SECS,
        Settle::Busy => LEASE_SECS,
    };
    message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build());
}

/// A claim's answer, for the sender: `None` = go ahead and send.
pub fn unless_claimed(claim: SendClaim, log: &Log, fields: &serde_json::Value) -> Option<Settle> {
    match claim {
        SendClaim::Claimed => None,
        SendClaim::Sent => {
            log.info("notice_already_sent", fields.clone());
            Some(Settle::Ack)
        }
        SendClaim::Busy => {
            log.info("notice_busy", fields.clone());
            Some(Settle::Busy)
        }
    }
}

/// The send failed: the claim is let go (so the retry need not wait out the
/// lease) and the message retried. `release` is the notice's release statement.
pub async fn failed_send(db: &Db, log: &Log, release: &platform::Statement) -> Settle {
    if let Err(e) = db.write::<Released>(release).await {
        // The retry waits for the lease instead.
        log.warn("notice_release_failed", json!({"detail": e.internal_detail}));
    }
    Settle::Retry
}

/// Records the alert (once), claims it, posts it, marks it.
async fn post(env: &Env, log: &Log, alert: &StaffAlert) -> Settle {
    let db = Db::new(env, log.clone());
    let fields = json!({"alert": alert.dedupe_key, "kind": alert.kind});
    let claim = match db.write::<SendClaim>(&alerts::claim(alert)).await {
        Ok(rows) if !rows.is_empty() => rows[0],
        outcome => {
            let detail = outcome.err().map(|e| e.internal_detail);
            log.warn("alert_not_recorded", json!({"alert": alert.dedupe_key, "detail": detail}));
            return Settle::Retry;
        }
    };
    if let Some(done) = unless_claimed(claim, log, &fields) {
        return done;
    }
    let Some(url) = secrets::get_credential(env, secrets::ALERT_WEBHOOK_URL) else {
        // Recorded (staff see it in the admin order view), not posted.
        log.error("alert_webhook_not_configured", fields);
        return Settle::Ack;
    };
    let transport = FetchTransport {
        timeout_ms: CALL_TIMEOUT_MS,
    };
    if let Err(why) = alerts::read_slack_reply(transport.send(&alerts::slack_call(&url, alert)).await) {
        log.warn("alert_post_failed", json!({"alert": alert.dedupe_key, "detail": why}));
        return failed_send(&db, log, &alerts::release(&alert.dedupe_key)).await;
    }
    if let Err(e) = db.write::<Posted>(&alerts::mark_posted(&alert.dedupe_key)).await {
        // Posted, not marked: a redelivery would post again. Acked anyway.
        log.warn("alert_mark_failed", json!({"alert": alert.dedupe_key, "detail": e.internal_detail}));
    }
    log.info("alert_posted", fields);
    Settle::Ack
}

//! Sending outbox messages to Cloudflare Queues (producer bindings named by
//! `Topic::binding`). Each message travels as JSON text.

use platform::db::Db;
use platform::Log;
use serde_json::json;
use worker::Env;

use crate::outbox::{self, OutboxMessage, OutboxSender};

/// Sends to the Worker's queue bindings (`Topic::binding`).
pub struct QueueSender<'a> {
    pub env: &'a Env,
    pub log: &'a Log,
}

#[async_trait::async_trait(?Send)]
impl OutboxSender for QueueSender<'_> {
    async fn send(&self, messages: &[OutboxMessage]) -> Vec<i64> {
        send(self.env, self.log, messages).await
    }
}

/// Sends these messages, then marks the ones the queue accepted as sent (one
/// statement). Best effort: what is not sent now, the relay sends later.
pub async fn send_and_mark(env: &Env, db: &Db, log: &Log, messages: &[OutboxMessage]) {
    if messages.is_empty() {
        return;
    }
    let sent = send(env, log, messages).await;
    if sent.is_empty() {
        return;
    }
    if let Err(e) = db.write::<Marked>(&outbox::mark_sent(&sent)).await {
        // Sent but not marked: the relay sends them again, and the consumers
        // drop the duplicates.
        log.warn(
            "outbox_mark_failed",
            json!({"messages": sent.len(), "detail": e.internal_detail}),
        );
    }
}

/// Sends each message to its topic's queue; answers the ids that went.
pub async fn send(env: &Env, log: &Log, messages: &[OutboxMessage]) -> Vec<i64> {
    let mut sent = Vec::with_capacity(messages.len());
    for m in messages {
        let result = match env.queue(m.topic.binding()) {
            Ok(q) => q.send(m.body.to_string()).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => sent.push(m.id),
            Err(e) => log.warn(
                "outbox_send_failed",
                json!({"outbox_id": m.id, "queue": m.topic.binding(), "detail": e.to_string()}),
            ),
        }
    }
    sent
}

/// The relay: sends unsent rows older than `min_age_secs`, one batch.
/// Answers how many were claimed and how many sent.
pub async fn relay(env: &Env, db: &Db, log: &Log, min_age_secs: u32) -> (usize, usize) {
    let claimed: Vec<OutboxMessage> = match db.write(&outbox::claim(min_age_secs)).await {
        Ok(rows) => rows,
        Err(e) => {
            log.error("outbox_relay_failed", json!({"detail": e.internal_detail}));
            return (0, 0);
        }
    };
    let sent = send(env, log, &claimed).await;
    if !sent.is_empty() {
        if let Err(e) = db.write::<Marked>(&outbox::mark_sent(&sent)).await {
            log.warn("outbox_mark_failed", json!({"messages": sent.len(), "detail": e.internal_detail}));
        }
    }
    if !claimed.is_empty() {
        log.info(
            "outbox_relayed",
            json!({"claimed": claimed.len(), "sent": sent.len()}),
        );
    }
    (claimed.len(), sent.len())
}

struct Marked;

impl platform::FromRow for Marked {
    fn from_row(_: &platform::Row) -> Result<Self, platform::ApiError> {
        Ok(Marked)
    }
}

//! The dead-letter queue: a fulfillment message the carrier kept failing
//! for `max_retries` deliveries. The failure is recorded on the order and an
//! alert raised, once (a redelivered dead letter finds it recorded).

use platform::db::Db;
use platform::Log;
use worker::{Env, MessageExt, RawMessage};

pub async fn handle(message: &RawMessage, env: &Env) {
    let log = Log::new(&platform::request_id::new_id());
    let Some(body) = crate::read_message(message, &log) else {
        return;
    };
    let db = Db::new(env, log.clone());
    let recorded = crate::book::record_failure(
        env,
        &db,
        &log,
        body.order_id,
        "the carrier did not answer after every retry",
    )
    .await;
    if recorded {
        message.ack();
    } else {
        // The database is down: this queue's own retries (then its logs).
        message.retry();
    }
}

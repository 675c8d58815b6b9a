//! The outbox relay: every minute, the messages whose writers committed but
//! did not send them (the worker died, the queue refused) go to their queue.
//! Rows younger than `RELAY_MIN_AGE_SECS` are left to their writer.

use orders::outbox::RELAY_MIN_AGE_SECS;
use platform::db::Db;
use platform::Log;
use worker::Env;

pub async fn run(env: &Env) {
    let log = Log::new(&platform::request_id::new_id());
    let db = Db::new(env, log.clone());
    orders::queue::relay(env, &db, &log, RELAY_MIN_AGE_SECS).await;
}

/// Dev builds: the relay on demand (`?min_age_secs=0`: every unsent row).
#[cfg(feature = "dev")]
pub async fn run_job(call: &mut platform::serve::Call) -> platform::Result<worker::Response> {
    let min_age_secs = call.dev_query_number("min_age_secs").unwrap_or(RELAY_MIN_AGE_SECS);
    let (claimed, sent) = orders::queue::relay(&call.env, &call.db, &call.log, min_age_secs).await;
    Ok(platform::respond::private_json(
        200,
        serde_json::json!({"claimed": claimed, "sent": sent}).to_string(),
    ))
}

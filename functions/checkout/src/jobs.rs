//! Checkout's scheduled jobs, run by its cron (and, in dev builds, by a route
//! the tests call): release expired reservations, then delete idempotency
//! keys older than a day.

use checkout::queries::{
    self, KEY_EXPIRY_BATCH, KEY_EXPIRY_MAX_BATCHES_PER_RUN, RELEASE_BATCH,
    RELEASE_MAX_BATCHES_PER_RUN,
};
use platform::db::Db;
use platform::{request_id, Log, Result};
use serde_json::json;
use worker::Env;

/// Releases expired reservations in batches until none is left, up to
/// `RELEASE_MAX_BATCHES_PER_RUN` batches: a backlog (the cron was down, a
/// burst of abandoned checkouts) is worked off within one run rather than one
/// batch a minute. Returns how many were released.
pub async fn release_expired(db: &Db) -> Result<u64> {
    let mut released = 0u64;
    for _ in 0..RELEASE_MAX_BATCHES_PER_RUN {
        let batch: u64 = db
            .write::<Released>(&queries::release_expired())
            .await?
            .first()
            .map_or(0, |r| r.0);
        released += batch;
        if batch < RELEASE_BATCH {
            break;
        }
    }
    Ok(released)
}

struct Released(u64);

impl platform::FromRow for Released {
    fn from_row(row: &platform::Row) -> Result<Self> {
        Ok(Released(row.get("released")?))
    }
}

/// Deletes checkout's idempotency keys older than `IDEMPOTENCY_KEY_TTL_HOURS`,
/// in batches of `KEY_EXPIRY_BATCH` (each its own short transaction) up to
/// `KEY_EXPIRY_MAX_BATCHES_PER_RUN` per run. Returns how many.
pub async fn expire_keys(db: &Db) -> Result<u64> {
    let mut deleted = 0u64;
    for _ in 0..KEY_EXPIRY_MAX_BATCHES_PER_RUN {
        let batch: u64 = db
            .write::<Deleted>(&queries::expire_idempotency_keys())
            .await?
            .first()
            .map_or(0, |r| r.0);
        deleted += batch;
        if batch < KEY_EXPIRY_BATCH {
            break;
        }
    }
    Ok(deleted)
}

struct Deleted(u64);

impl platform::FromRow for Deleted {
    fn from_row(row: &platform::Row) -> Result<Self> {
        Ok(Deleted(row.get("deleted")?))
    }
}

/// The cron's entry: a failure is logged, and the next tick runs it again.
/// The two jobs are independent: one failing does not stop the other.
pub async fn run_scheduled(env: &Env, cron: &str) {
    let log = Log::new(&request_id::new_id());
    let db = Db::new(env, log.clone());
    match release_expired(&db).await {
        Ok(n) => log.info(
            "reservations_released",
            json!({"cron": cron, "released": n}),
        ),
        Err(e) => log.error(
            "reservations_release_failed",
            json!({"cron": cron, "code": e.code, "detail": e.internal_detail.unwrap_or(e.message)}),
        ),
    }
    match expire_keys(&db).await {
        Ok(n) => log.info(
            "idempotency_keys_expired",
            json!({"cron": cron, "deleted": n}),
        ),
        Err(e) => log.error(
            "idempotency_keys_expiry_failed",
            json!({"cron": cron, "code": e.code, "detail": e.internal_detail.unwrap_or(e.message)}),
        ),
    }
}

/// The dev-only route's answer: `{"released": n, "idempotency_keys_expired": m}`.
#[cfg(feature = "dev")]
pub async fn answer(db: &Db) -> Result<worker::Response> {
    let released = release_expired(db).await?;
    let expired = expire_keys(db).await?;
    Ok(platform::respond::private_json(
        200,
        format!("{{\"released\":{released},\"idempotency_keys_expired\":{expired}}}"),
    ))
}

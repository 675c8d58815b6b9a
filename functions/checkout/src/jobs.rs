//! The reservation-expiry job, run by checkout's cron (and, in dev builds, by
//! a route the tests call).

use checkout::queries::{self, RELEASE_BATCH, RELEASE_MAX_BATCHES_PER_RUN};
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

/// The cron's entry: a failure is logged, and the next tick runs it again.
pub async fn run_scheduled(env: &Env, cron: &str) {
    let log = Log::new(&request_id::new_id());
    match release_expired(&Db::new(env, log.clone())).await {
        Ok(n) => log.info(
            "reservations_released",
            json!({"cron": cron, "released": n}),
        ),
        Err(e) => log.error(
            "reservations_release_failed",
            json!({"cron": cron, "code": e.code, "detail": e.internal_detail.unwrap_or(e.message)}),
        ),
    }
}

/// The dev-only route's answer: `{"released": n}`.
#[cfg(feature = "dev")]
pub async fn answer(db: &Db) -> Result<worker::Response> {
    let released = release_expired(db).await?;
    Ok(platform::respond::private_json(
        200,
        format!("{{\"released\":{released}}}"),
    ))
}

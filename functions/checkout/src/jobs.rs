//! Checkout's scheduled jobs, run by its cron (and, in dev builds, by a route
//! the tests call): release expired reservations, then delete idempotency
//! keys older than a day.

use checkout::queries::{
    self, KEY_EXPIRY_BATCH, KEY_EXPIRY_MAX_BATCHES_PER_RUN, RELEASE_BATCH,
    RELEASE_MAX_BATCHES_PER_RUN,
};
use platform::db::Db;
use platform::{request_id, Log, Result, Statement};
use serde_json::json;
use worker::Env;

/// One job: a statement (one row, `count`: what it did) run in batches until
/// a run does less than `batch`, at most `max_batches` times, so a backlog
/// (the cron was down, a burst of abandoned checkouts) is worked off within
/// one run rather than one batch a minute, while each batch stays a short
/// transaction.
pub struct Job {
    /// The answer's field and the logs' `job`.
    pub name: &'static str,
    statement: fn() -> Statement,
    batch: u64,
    max_batches: usize,
}

/// In this order: expired reservations give their stock back (batches of
/// 1,000, `release_expired_reservations`), then keys older than
/// `IDEMPOTENCY_KEY_TTL_HOURS` are deleted (batches of 1,000).
pub const JOBS: [Job; 2] = [
    Job {
        name: "released",
        statement: queries::release_expired,
        batch: RELEASE_BATCH,
        max_batches: RELEASE_MAX_BATCHES_PER_RUN,
    },
    Job {
        name: "idempotency_keys_expired",
        statement: queries::expire_idempotency_keys,
        batch: KEY_EXPIRY_BATCH,
        max_batches: KEY_EXPIRY_MAX_BATCHES_PER_RUN,
    },
];

/// Runs every job; one failing does not stop the next. How many rows each
/// handled, in `JOBS` order. (One loop, one awaited `Db::write`: each such
/// await is a copy of the driver's future in the wasm.)
pub async fn run_jobs(db: &Db) -> Vec<Result<u64>> {
    let mut results = Vec::with_capacity(JOBS.len());
    for job in &JOBS {
        let mut total = Ok(0u64);
        for _ in 0..job.max_batches {
            match db.write::<Count>(&(job.statement)()).await {
                Ok(rows) => {
                    let n = rows.first().map_or(0, |r| r.0);
                    total = total.map(|t| t + n);
                    if n < job.batch {
                        break;
                    }
                }
                Err(e) => {
                    total = Err(e);
                    break;
                }
            }
        }
        results.push(total);
    }
    results
}

struct Count(u64);

impl platform::FromRow for Count {
    fn from_row(row: &platform::Row) -> Result<Self> {
        Ok(Count(row.get("count")?))
    }
}

/// The cron's entry: a failure is logged, and the next tick runs it again.
pub async fn run_scheduled(env: &Env, cron: &str) {
    let log = Log::new(&request_id::new_id());
    let db = Db::new(env, log.clone());
    for (job, result) in JOBS.iter().zip(run_jobs(&db).await) {
        match result {
            Ok(n) => log.info(
                "scheduled_job_done",
                json!({"cron": cron, "job": job.name, "count": n}),
            ),
            Err(e) => log.error(
                "scheduled_job_failed",
                json!({"cron": cron, "job": job.name, "code": e.code,
                       "detail": e.internal_detail.unwrap_or(e.message)}),
            ),
        }
    }
}

/// The dev-only route's answer: `{"released": n, "idempotency_keys_expired": m}`,
/// or the first job's error.
#[cfg(feature = "dev")]
pub async fn answer(db: &Db) -> Result<worker::Response> {
    let mut fields = Vec::new();
    for (job, result) in JOBS.iter().zip(run_jobs(db).await) {
        fields.push(format!("\"{}\":{}", job.name, result?));
    }
    Ok(platform::respond::private_json(
        200,
        format!("{{{}}}", fields.join(",")),
    ))
}

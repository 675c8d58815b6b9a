//! Checkout's SQL. The stored functions themselves live in `../sql/` and are
//! replaced on every `scripts/db migrate`.

use platform::Statement;

use crate::place_order::PlaceOrderInput;
use crate::request::IdempotencyKey;

/// The checkout write: one statement, one transaction; read its row as a
/// `PlaceOrderOutcome`.
pub fn place_order(input: &PlaceOrderInput) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(serde_json::to_string(input).expect("plain data serializes"));
    s.push_sql(&format!("SELECT place_order({p}::jsonb)::text AS outcome"));
    s
}

/// Reservations released per statement: bounded, so one run never holds
/// many inventory rows locked at once.
pub const RELEASE_BATCH: u64 = 1000;
pub const RELEASE_MAX_BATCHES_PER_RUN: usize = 50;

/// The scheduled job's statement: gives back the stock of up to
/// `RELEASE_BATCH` expired reservations, oldest first. One row, `released`.
pub fn release_expired() -> Statement {
    let mut s = Statement::new();
    let batch = s.bind(RELEASE_BATCH.to_string());
    s.push_sql(&format!(
        "SELECT release_expired_reservations({batch}::int)::text AS released"
    ));
    s
}

/// A key's stored record (`StoredCheckout`), for a retry refused before the
/// database.
pub fn stored_checkout(key: &IdempotencyKey) -> Statement {
    let mut s = Statement::new();
    let k = s.bind(key.as_str());
    s.push_sql(&format!(
        "SELECT fingerprint, status::text AS status, response::text AS response \
           FROM idempotency_keys WHERE scope = 'checkout' AND key = {k}"
    ));
    s
}

//! Checkout's SQL. The stored functions themselves live in `../sql/` and are
//! replaced on every `scripts/db migrate`.

use platform::Statement;

use crate::place_order::PlaceOrderInput;
use crate::request::IdempotencyKey;
use crate::IDEMPOTENCY_KEY_TTL_HOURS;
use cart::CartId;

/// The checkout write: one statement, one transaction; read its row as a
/// `PlaceOrderOutcome`.
pub fn place_order(input: &PlaceOrderInput) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(serde_json::to_string(input).expect("plain data serializes"));
    s.push_sql(&format!("SELECT place_order({p}::jsonb)::text AS outcome"));
    s
}

/// Orders whose expired reservations are released per statement: bounded, so one run never holds
/// many inventory rows locked at once.
pub const RELEASE_BATCH: u64 = 1000;
pub const RELEASE_MAX_BATCHES_PER_RUN: usize = 50;

/// The scheduled job's statement: gives back the stock of up to
/// `RELEASE_BATCH` expired reservations, oldest first. One row, `count`.
pub fn release_expired() -> Statement {
    let mut s = Statement::new();
    let batch = s.bind(RELEASE_BATCH.to_string());
    s.push_sql(&format!(
        "SELECT release_expired_reservations({batch}::int)::text AS count"
    ));
    s
}

/// A key's stored record (`StoredCheckout`), for a retry refused before the
/// database. Keys are scoped to their cart. `checkout_record` adds the
/// order's public id to records stored before it existed.
pub fn stored_checkout(cart: &CartId, key: &IdempotencyKey) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(cart.as_str());
    let k = s.bind(key.as_str());
    s.push_sql(&format!(
        "SELECT fingerprint, status::text AS status, checkout_record(response)::text AS response \
           FROM idempotency_keys WHERE scope = 'checkout' AND cart_id = {c} AND key = {k}"
    ));
    s
}

/// Keys deleted per statement, and statements per run, by the expiry job.
pub const KEY_EXPIRY_BATCH: u64 = 1000;
pub const KEY_EXPIRY_MAX_BATCHES_PER_RUN: usize = 50;

/// Deletes up to `KEY_EXPIRY_BATCH` checkout keys older than
/// `IDEMPOTENCY_KEY_TTL_HOURS`, oldest first, skipping any a checkout holds
/// locked. One row, `count`.
pub fn expire_idempotency_keys() -> Statement {
    let mut s = Statement::new();
    let hours = s.bind(IDEMPOTENCY_KEY_TTL_HOURS.to_string());
    let batch = s.bind(KEY_EXPIRY_BATCH.to_string());
    s.push_sql(&format!(
        "WITH due AS (\
             SELECT scope, cart_id, key FROM idempotency_keys \
              WHERE scope = 'checkout' AND created_at < now() - make_interval(hours => {hours}::int) \
              ORDER BY created_at LIMIT {batch}::int FOR UPDATE SKIP LOCKED), \
         gone AS (\
             DELETE FROM idempotency_keys k USING due \
              WHERE k.scope = due.scope AND k.cart_id = due.cart_id AND k.key = due.key \
             RETURNING 1) \
         SELECT count(*)::text AS count FROM gone"
    ));
    s
}

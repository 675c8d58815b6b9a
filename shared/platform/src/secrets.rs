//! Worker secrets (`wrangler secret put NAME` in production; locally
//! `scripts/dev` writes random ones into each function's `.dev.vars`, which git
//! ignores). Each HMAC key has its own name, so rotating one touches nothing else:
//!
//! * `LSN_TOKEN_SECRET`: signs read-your-writes positions (every worker that
//!   reads or writes the database, and the edge);
//! * `IDEMPOTENCY_SECRET`: keys checkout's request fingerprints;
//! * `CLIENT_IP_SECRET`: keys the hashes of client addresses stored with orders.

use worker::Env;

use crate::ApiError;

pub const LSN_TOKEN: &str = "LSN_TOKEN_SECRET";
pub const IDEMPOTENCY: &str = "IDEMPOTENCY_SECRET";
pub const CLIENT_IP: &str = "CLIENT_IP_SECRET";

/// Shorter keys than this are a deployment mistake (HMAC keys should carry at
/// least as many bits as the hash).
pub const MIN_SECRET_BYTES: usize = 32;

/// The secret's bytes, or `None` when it is missing or too short.
pub fn get(env: &Env, name: &str) -> Option<Vec<u8>> {
    let value = env.secret(name).ok()?.to_string();
    (value.len() >= MIN_SECRET_BYTES).then(|| value.into_bytes())
}

/// The secret, or a 500 whose detail (logged, not sent) names what is missing.
pub fn required(env: &Env, name: &str) -> Result<Vec<u8>, ApiError> {
    get(env, name).ok_or_else(|| {
        ApiError::internal(format!(
            "secret {name} is missing or shorter than {MIN_SECRET_BYTES} bytes"
        ))
    })
}

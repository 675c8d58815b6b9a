//! Worker secrets (`wrangler secret put NAME` in production; locally
//! `scripts/dev` writes random ones into each function's `.dev.vars`, which git
//! ignores). Each HMAC key has its own name, so rotating one touches nothing else:
//!
//! * `LSN_TOKEN_SECRET`: signs read-your-writes positions (every worker that
//!   reads or writes the database, and the edge);
//! * `IDEMPOTENCY_SECRET`: keys checkout's request fingerprints;
//! * `CLIENT_IP_SECRET`: keys the hashes of client addresses stored with orders;
//! * `ORDER_TOKEN_SECRET`: keys the access tokens that let a guest pay for
//!   the order checkout gave them (`payments::order_token`);
//! * `CART_RESTORE_SECRET`: signs the restore links of abandoned-cart emails
//!   (`cart::recovery`; the sender signs, the cart worker checks).
//! * `SESSION_SECRET`: signs customers' sessions and account links
//!   (`customers::auth`; the customers worker signs, every worker that
//!   accepts a session checks). `SESSION_SECRET_PREVIOUS` is accepted for
//!   checking during a rotation, until the `SESSION_PREVIOUS_UNTIL` var.
//!
//! Credentials of other parties (not our HMAC keys, so any length they come
//! in) are read with [`get_credential`]: the payment providers' API keys and
//! webhook secrets, our PayPal webhook id, the admin bearer token.

use worker::Env;

use crate::ApiError;

pub const LSN_TOKEN: &str = "LSN_TOKEN_SECRET";
pub const IDEMPOTENCY: &str = "IDEMPOTENCY_SECRET";
pub const CLIENT_IP: &str = "CLIENT_IP_SECRET";
pub const ORDER_TOKEN: &str = "ORDER_TOKEN_SECRET";
pub const CART_RESTORE: &str = "CART_RESTORE_SECRET";
pub const SESSION: &str = "SESSION_SECRET";
pub const SESSION_PREVIOUS: &str = "SESSION_SECRET_PREVIOUS";

pub const STRIPE_SECRET_KEY: &str = "STRIPE_SECRET_KEY";
/// The webhook endpoint's signing secret, and during a rotation the one
/// before it (accepted until `STRIPE_WEBHOOK_PREVIOUS_UNTIL`, a var).
pub const STRIPE_WEBHOOK: &str = "STRIPE_WEBHOOK_SECRET";
pub const STRIPE_WEBHOOK_PREVIOUS: &str = "STRIPE_WEBHOOK_SECRET_PREVIOUS";
pub const PAYPAL_CLIENT_ID: &str = "PAYPAL_CLIENT_ID";
pub const PAYPAL_CLIENT: &str = "PAYPAL_CLIENT_SECRET";
pub const PAYPAL_WEBHOOK_ID: &str = "PAYPAL_WEBHOOK_ID";
/// Bearer token of the admin routes, until staff accounts exist.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// The carrier signs its delivery webhooks with this shared key (HMAC-SHA256).
pub const CARRIER_WEBHOOK: &str = "CARRIER_WEBHOOK_SECRET";
/// The carrier's API key (ShipStation API v2 style `API-Key` header).
pub const CARRIER_API_KEY: &str = "CARRIER_API_KEY";
/// The email provider's API key (SendGrid v3 style bearer token).
pub const EMAIL_API_KEY: &str = "EMAIL_API_KEY";
/// Where staff alerts go: a Slack-compatible incoming webhook URL. Such a
/// URL is itself the credential, so it is a secret, not a var.
pub const ALERT_WEBHOOK_URL: &str = "ALERT_WEBHOOK_URL";
/// Admin tokens shorter than this are refused (the route answers 503).
pub const MIN_ADMIN_TOKEN_BYTES: usize = 32;

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

/// A credential someone else issued (any non-empty length), or `None`.
pub fn get_credential(env: &Env, name: &str) -> Option<String> {
    let value = env.secret(name).ok()?.to_string();
    (!value.is_empty()).then_some(value)
}

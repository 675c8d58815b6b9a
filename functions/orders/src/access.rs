//! Who may touch an order: the guest holding its token, or staff holding
//! the admin token. Both are bearer tokens compared in constant time.

use payments::events::is_public_order_id;
use payments::order_token;
use platform::crypto::constant_time_eq;
use platform::ids::IdempotencyKey;
use platform::secrets;
use platform::serve::Call;
use platform::{ApiError, Result};

/// A public order id (`ord_` + 26 lower-case base32 characters), else 404.
pub fn order_id(id: &str) -> Result<String> {
    if is_public_order_id(id) {
        Ok(id.to_string())
    } else {
        Err(not_found())
    }
}

pub fn not_found() -> ApiError {
    ApiError::not_found(
        "order_not_found",
        "no order has this id, or the token does not open it",
    )
}

fn bearer(call: &Call) -> Option<String> {
    let value = call.header("authorization")?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// The guest's token opens this order; anything else is 404 (another
/// customer's order id looks exactly like one that does not exist).
pub fn require_order_token(call: &Call, public_id: &str) -> Result<()> {
    let secret = secrets::required(&call.env, secrets::ORDER_TOKEN)?;
    match bearer(call) {
        Some(token) if order_token::verify(&secret, public_id, &token) => Ok(()),
        _ => Err(not_found()),
    }
}

/// Staff only: `Authorization: Bearer <ADMIN_TOKEN>`.
pub fn require_admin(call: &Call) -> Result<()> {
    let expected = secrets::get_credential(&call.env, secrets::ADMIN_TOKEN)
        .filter(|t| t.len() >= secrets::MIN_ADMIN_TOKEN_BYTES)
        .ok_or_else(|| {
            ApiError::unavailable("admin_not_configured", "admin access is not configured")
        })?;
    match bearer(call) {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::forbidden(
            "forbidden",
            "this token does not open the admin routes",
        )),
        None => Err(ApiError::unauthorized(
            "send Authorization: Bearer <admin token>",
        )),
    }
}

/// `Idempotency-Key`: required (`platform::ids::IdempotencyKey`).
pub fn idempotency_key(call: &Call) -> Result<IdempotencyKey> {
    IdempotencyKey::from_header(call.header("idempotency-key").as_deref())
}

//! Who may touch an order: the guest holding its token, or staff holding
//! the admin token (`platform::admin`). Both are bearer tokens compared in
//! constant time.

use payments::events::is_public_order_id;
use payments::order_token;
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

/// The guest's token opens this order; anything else is 404 (another
/// customer's order id looks exactly like one that does not exist).
pub fn require_order_token(call: &Call, public_id: &str) -> Result<()> {
    let secret = secrets::required(&call.env, secrets::ORDER_TOKEN)?;
    match bearer(call) {
        Some(token) if order_token::verify(&secret, public_id, &token) => Ok(()),
        _ => Err(not_found()),
    }
}

pub use platform::admin::require_admin;
use platform::admin::bearer;

/// `Idempotency-Key`: required (`platform::ids::IdempotencyKey`).
pub fn idempotency_key(call: &Call) -> Result<IdempotencyKey> {
    IdempotencyKey::from_header(call.header("idempotency-key").as_deref())
}

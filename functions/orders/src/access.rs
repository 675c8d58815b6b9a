//! Who may touch an order: the guest holding its token, the customer whose
//! order it is (their session), or staff holding the admin token
//! (`platform::admin`). Tokens are compared in constant time.
//!
//! A shopper's answer never tells an order that exists from one that does
//! not: a malformed id, an unknown one, another order's token, another
//! customer's session and no credential at all are the same 404.

use customers::auth::{self, Caller};
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

/// What a shopper's request opens an order with.
#[derive(Debug)]
pub enum Access {
    /// The order's own token, verified: it opens this order.
    OrderToken,
    /// A signed-in customer: it opens the order only if it is theirs, which
    /// the caller checks against the order's owner (`opens`).
    Session(Caller),
}

impl Access {
    /// Whether this access opens an order owned by `owner` (the order's
    /// `customers.public_id`, `None` for a guest's order).
    pub fn opens(&self, owner: Option<&str>) -> bool {
        match self {
            Access::OrderToken => true,
            Access::Session(caller) => owner == Some(caller.customer.as_str()),
        }
    }

    /// `Ok` when it opens the order of `owner`; else the same 404 as a wrong token.
    pub fn require(&self, owner: Option<&str>) -> Result<()> {
        if self.opens(owner) {
            Ok(())
        } else {
            Err(not_found())
        }
    }
}

/// The shopper's credential for `public_id`:
/// * `Authorization: Bearer <token>` not starting with `s1.` is an order
///   token, checked here: it opens this order, or the answer is 404 (a
///   session cookie sent along is not looked at);
/// * otherwise a session (the `session` cookie or `Bearer s1.…`): a
///   signed-in caller, whom the route must still match with the order's
///   owner (`Access::require`). A session that is sent but expired,
///   revoked or forged is 401 `unauthenticated`;
/// * neither: 404.
pub async fn shopper(call: &Call, public_id: &str) -> Result<Access> {
    if let Some(token) = bearer(call).filter(|t| !t.starts_with("s1.")) {
        let secret = secrets::required(&call.env, secrets::ORDER_TOKEN)?;
        return if order_token::verify(&secret, public_id, &token) {
            Ok(Access::OrderToken)
        } else {
            Err(not_found())
        };
    }
    match auth::caller(call).await? {
        Some(caller) => Ok(Access::Session(caller)),
        None => Err(not_found()),
    }
}

pub use platform::admin::require_admin;
use platform::admin::bearer;

/// `Idempotency-Key`: required (`platform::ids::IdempotencyKey`).
pub fn idempotency_key(call: &Call) -> Result<IdempotencyKey> {
    IdempotencyKey::from_header(call.header("idempotency-key").as_deref())
}

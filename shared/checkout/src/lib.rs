//! Checkout, the pure part: parsing the request, applying the region's rules
//! (tax, age, delivery hours, loyalty points) to a cart, and the typed input and outcome of
//! the one SQL statement that writes the order (`sql/place_order.sql`).
//!
//! The order of the checks is the order in `prepare`: everything that can be
//! refused without the database is refused there, so a bad request never
//! reaches the primary and never writes anything.

// `platform::ApiError` is the one error type, returned by value everywhere
// (every crate trips this lint on it); boxing it is a platform-wide change.
#![allow(clippy::result_large_err)]

mod address;
mod fingerprint;
mod place_order;
pub mod points;
mod prepare;
#[cfg(test)]
mod proptests;
pub mod queries;
mod request;
mod settings;
#[cfg(test)]
mod tests;

pub use address::ShippingAddress;
pub use fingerprint::{client_ip_hash, fingerprint, retry_fingerprint, AgeResult};
pub use place_order::{
    key_reused, CheckoutReply, CustomerCheckout, OrderSummary, OrderTotals, PlaceOrderInput,
    PlaceOrderOutcome, PlacedOrder, StoredCheckout,
};
pub use prepare::{prepare, Requester};
pub use request::{CheckoutRequest, IdempotencyKey};
pub use settings::{
    reservation_minutes, Settings, DEFAULT_MAX_PENDING_ORDERS_PER_CLIENT,
    DEFAULT_MAX_PENDING_ORDERS_PER_EMAIL, DEFAULT_MAX_UNITS_PER_SKU, DEFAULT_RESERVATION_MINUTES,
};

/// How long an idempotency key is kept: after this a retry with the same key
/// is a new request (and, its cart being checked out, gets `409
/// cart_already_checked_out`). Checkout's cron deletes older keys.
pub const IDEMPOTENCY_KEY_TTL_HOURS: u32 = 24;

//! Checkout, the pure part: parsing the request, applying the region's rules
//! (tax, age, delivery hours) to a cart, and the typed input and outcome of
//! the one SQL statement that writes the order (`sql/place_order.sql`).
//!
//! The order of the checks is the order in `prepare`: everything that can be
//! refused without the database is refused there, so a bad request never
//! reaches the primary and never writes anything.

mod address;
mod place_order;
mod prepare;
#[cfg(test)]
mod proptests;
pub mod queries;
mod request;
#[cfg(test)]
mod tests;

pub use address::ShippingAddress;
pub use place_order::{
    key_reused, CheckoutReply, OrderSummary, PlaceOrderInput, PlaceOrderOutcome, PlacedOrder,
    StoredCheckout,
};
pub use prepare::prepare;
pub use request::{CheckoutRequest, IdempotencyKey};

/// How long reserved stock waits for payment before the scheduled job gives
/// it back, unless the checkout worker's `RESERVATION_MINUTES` says otherwise.
pub const DEFAULT_RESERVATION_MINUTES: u32 = 15;

/// The `RESERVATION_MINUTES` setting: 1 minute to 1 day; anything else is a
/// deployment mistake, reported, and the default is used.
pub fn reservation_minutes(setting: Option<&str>) -> Result<u32, String> {
    match setting {
        None => Ok(DEFAULT_RESERVATION_MINUTES),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|m| (1..=1440).contains(m))
            .ok_or_else(|| format!("RESERVATION_MINUTES={v:?} is not 1-1440")),
    }
}

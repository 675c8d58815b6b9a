//! Stock as staff and other systems see it: the batch of adjustments a POS or
//! a warehouse system sends (`POST /admin/inventory/adjustments`), the stock
//! levels of one SKU per warehouse (`GET /admin/inventory?sku=`), and the
//! low-stock latch.
//!
//! Pure and natively tested (`cargo test -p inventory`). The database side
//! is SQL in `sql/`, applied on every `scripts/db migrate`:
//! `apply_inventory_adjustments` (one statement, one transaction per batch)
//! and the `stock_levels_low_stock` trigger on `inventory_levels`.
//! The semantics, idempotency and the latch: docs/inventory.md.

// `platform::ApiError` is the one error type, returned by value everywhere
// (every crate trips this lint on it); boxing it is a platform-wide change.
#![allow(clippy::result_large_err)]

mod adjustment;
mod ids;
mod outcome;
mod params;
#[cfg(test)]
mod proptests;
pub mod queries;

pub use adjustment::{
    Adjustment, AdjustmentBatch, Change, Delta, OnHand, MAX_ABS_DELTA, MAX_BATCH, MAX_SET_ON_HAND,
};
pub use ids::{ExternalRef, Reason, Sku, WarehouseCode};
pub use outcome::{AdjustmentOutcome, AdjustmentResult, Outcome, Refusal};
pub use params::parse_levels_query;

/// Every refusal of a request to this crate's routes that the rules make
/// (well-formed JSON, wrong content): 422 with the field's own code and its
/// path (`adjustments[2].delta: ...`) in the message.
pub(crate) fn unprocessable(code: &'static str, message: impl Into<String>) -> platform::ApiError {
    platform::ApiError::unprocessable(code, message)
}

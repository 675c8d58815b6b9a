//! The cart: its ids, its lines and limits, the commands that change it, its
//! prices, and the totals a shopper sees; the shopper's email and the
//! abandoned-cart recovery (its signed restore links, its message, its index
//! in PostgreSQL: `recovery`, `queries`); saved carts (who may use a cart:
//! `owner`; a guest cart merged into a saved one at login: `merge`). Pure,
//! but for `object_client` (the `worker` feature), which the cart, checkout
//! and customers workers use to talk to a cart's Durable Object.
//!
//! Prices are never taken from the client. Every cart answer re-prices its
//! lines from the database (`queries::pricing`), and checkout checks those
//! prices again on the primary inside its transaction.

// `platform::ApiError` is the one error type, returned by value everywhere
// (every crate trips this lint on it); boxing it is a platform-wide change.
#![allow(clippy::result_large_err)]

mod cart;
mod command;
mod email;
mod ids;
mod merge;
pub mod object_answer;
pub mod object_rules;
pub mod owner;
mod pricing;
#[cfg(test)]
mod proptests;
pub mod queries;
pub mod recovery;
pub mod request;
#[cfg(test)]
mod test_support;
mod view;

#[cfg(feature = "worker")]
pub mod object_client;

pub use cart::{Cart, CartLine, CartStatus, Totals};
pub use command::{CartCommand, CartRequest};
pub use email::{check_address, Email, EMAIL_MAX_LEN};
pub use ids::{cart_not_found, CartId, OrderRef, Sku};
pub use merge::{
    MergeLine, MergeOutcome, CHECKED_OUT, MERGED, REFUSED, REGION_MISMATCH, STORE_MISMATCH,
};
pub use pricing::{PriceCache, PricedSku, PRICE_CACHE_TTL_MS};

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: u32 = 99;
/// Carts idle this long disappear from KV (`expiration_ttl`).
pub const CART_TTL_SECS: u64 = 30 * 24 * 60 * 60;

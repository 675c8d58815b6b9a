//! Everything the Workers share: domain types, the one error type, money,
//! the catalog query language and the database routing rules.
//!
//! Pure modules are tested natively with `cargo test -p shared`. The glue to the
//! Workers runtime (Hyperdrive connections, `worker::Response`) sits behind the
//! `worker` feature so that it never slows those tests down.

pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod db_route;
pub mod edge;
pub mod error;
pub mod http;
pub mod lsn;
pub mod money;
pub mod regions;
pub mod sql;

#[cfg(feature = "worker")]
pub mod cart_object;
#[cfg(feature = "worker")]
pub mod db;
#[cfg(feature = "worker")]
pub mod respond;

pub use error::ApiError;

//! What every worker and every domain crate shares, and nothing about any one
//! domain: the one error type and its HTTP mapping, request bodies, ids,
//! money, SQL statements and rows, and the database routing rules. Behind the
//! `worker` feature: the worker skeleton (`serve`), responses, and the one
//! module that talks to PostgreSQL (`db`).
//!
//! Pure modules are tested natively with `cargo test -p platform`.

#[cfg(feature = "worker")]
pub mod admin;
pub mod body;
pub mod crypto;
pub mod email;
pub mod error;
pub mod http;
pub mod ids;
pub mod keyset;
pub mod log;
pub mod lsn;
pub mod money;
pub mod outbound;
#[cfg(feature = "worker")]
pub mod outbound_fetch;
#[cfg(test)]
mod proptests;
pub mod request_id;
pub mod row;
pub mod send_claim;
pub mod sql;

pub mod db;
#[cfg(feature = "worker")]
pub mod respond;
#[cfg(feature = "worker")]
pub mod secrets;
#[cfg(feature = "worker")]
pub mod serve;

pub use error::{ApiError, Result};
pub use log::Log;
pub use row::{FromRow, Row};
pub use sql::Statement;

//! The database: reads go to the replica, writes to the primary, and a client
//! always reads its own writes. `route` holds the rules (pure, tested
//! natively); `client` applies them over Hyperdrive (the `worker` feature).

pub mod route;

#[cfg(feature = "worker")]
mod client;
#[cfg(feature = "worker")]
pub use client::{min_lsn_of, Db, PrimarySession, PRIMARY_BINDING, REPLICA_BINDING};

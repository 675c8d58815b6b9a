//! Helpers and fixtures shared by the integration tests. Each test file is its
//! own crate and includes this module with `mod support;`. The tests run
//! against the real local stack (`scripts/dev`), whose addresses
//! `scripts/test` passes in: EDGESHOP_BASE_URL, EDGESHOP_PRIMARY_URL,
//! EDGESHOP_REPLICA_URL.
//!
//! Tests create the stores, warehouses, products and stock they use
//! (`fixtures`) rather than relying on the seed's ids, so they can run again
//! and again on the same database, and alongside each other.

// Every test crate compiles its own copy of this module and uses only part of it.
#![allow(dead_code, unused_imports)]

pub mod customers;
pub mod db;
pub mod fixtures;
pub mod fulfillment;
pub mod http;
pub mod listing;
pub mod local;
pub mod payments;

pub use customers::*;
pub use db::*;
pub use fixtures::*;
pub use fulfillment::*;
pub use http::*;
pub use listing::*;
pub use local::*;
pub use payments::*;

/// A name no earlier run used: tests create their own data, so they can run
/// again and again on the same database.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:X}{n:X}{:X}",
        nanos % 0xFFFF_FFFF_FFFF,
        std::process::id() % 0xFFFF
    )
}

/// Runs `f` on `n` threads that start together; results in thread order.
pub fn concurrently<T: Send + 'static>(
    n: usize,
    f: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let f = std::sync::Arc::new(f);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (f, barrier) = (f.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

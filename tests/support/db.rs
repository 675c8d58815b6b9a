//! Direct access to the local PostgreSQL primary and replica, for what the
//! HTTP API does not show (stock, reservations, orders) and for fixtures.

use std::time::{Duration, Instant};

fn env_url(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name}: run the integration tests with scripts/test"))
}

pub fn primary_url() -> String {
    env_url("EDGESHOP_PRIMARY_URL")
}

pub fn replica_url() -> String {
    env_url("EDGESHOP_REPLICA_URL")
}

/// The same server as a superuser (for ALTER SYSTEM on the replica).
pub fn superuser(url: &str) -> String {
    let rest = url.split_once('@').expect("url with credentials").1;
    let host_port = rest.split('/').next().unwrap();
    format!("postgres://postgres@{host_port}/postgres")
}

pub fn db(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL")
}

pub fn primary() -> postgres::Client {
    db(&primary_url())
}

/// Waits until the replica has replayed everything the primary has written,
/// so what a test just inserted is visible to reads served by the replica.
pub fn wait_replica_caught_up() {
    let target: String = primary()
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .unwrap()
        .get(0);
    let mut replica = db(&replica_url());
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let done: bool = replica
            .query_one(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                &[&target],
            )
            .unwrap()
            .get(0);
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("replica did not catch up");
}

/// (warehouse id, on_hand, reserved) of a SKU in each warehouse, by warehouse id.
pub fn stock_of(sku: &str) -> Vec<(i64, i32, i32)> {
    primary()
        .query(
            "SELECT il.warehouse_id, il.on_hand, il.reserved FROM inventory_levels il
               JOIN variants v ON v.id = il.variant_id WHERE v.sku = $1 ORDER BY 1",
            &[&sku],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

//! The hardening rules that belong to no one route: JSON-only bodies, rate
//! limits, request ids in every error, timeouts answering 503 with
//! Retry-After, and the database roles' least privilege. (The fault drills,
//! which stop databases, are in faults.rs and run alone.)

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

#[test]
fn bodies_must_be_declared_json() {
    let store = Store::create("US-CA", 1);
    let body = json!({"store_id": store.id, "region": "US-CA"}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| ("content-type", c))
            .into_iter()
            .collect();
        let r = request("POST", "/cart", &headers, Some(body.as_bytes()));
        assert_eq!(r.status, 415, "{content_type:?}: {}", r.body);
        assert_eq!(r.error_code(), "unsupported_media_type");
    }
    let r = request(
        "POST",
        "/cart",
        &[("content-type", "application/json; charset=utf-8")],
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A wrong method is still 405, whatever the body says it is.
    let r = request(
        "PUT",
        "/cart",
        &[("content-type", "text/plain")],
        Some(b"x"),
    );
    assert_eq!(r.status, 405);
}

#[test]
fn errors_name_the_request_and_hide_internals() {
    let r = get("/cart/not-a-cart");
    assert_eq!(r.status, 404);
    let id = r.header("x-request-id").expect("x-request-id").to_string();
    assert_eq!(r.json()["error"]["request_id"], id.as_str());
    // A client's own plain id is kept, so its logs join ours.
    let r = get_with("/cart/not-a-cart", &[("x-request-id", "client-trace-42")]);
    assert_eq!(r.header("x-request-id"), Some("client-trace-42"));
    assert_eq!(r.json()["error"]["request_id"], "client-trace-42");
}

#[test]
fn cart_creation_is_rate_limited_per_client() {
    let ip = fresh_client_ip();
    let create = |ip: &str| {
        request(
            "POST",
            "/cart",
            &[
                ("cf-connecting-ip", ip),
                ("content-type", "application/json"),
            ],
            Some(b"{}"),
        )
    };
    // The limit is 20 a minute (top-level wrangler.toml); an invalid body
    // counts too: the edge decides before any function runs.
    let answers: Vec<u16> = (0..25).map(|_| create(&ip).status).collect();
    assert!(answers[..20].iter().all(|s| *s == 400), "{answers:?}");
    let limited = create(&ip);
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.error_code(), "rate_limited");
    assert_eq!(limited.header("retry-after"), Some("60"));
    // Another client is not affected.
    assert_eq!(create(&fresh_client_ip()).status, 400);
}

#[test]
fn checkout_is_rate_limited_per_client() {
    let ip = fresh_client_ip();
    let checkout = || {
        request(
            "POST",
            "/checkout",
            &[
                ("cf-connecting-ip", ip.as_str()),
                ("content-type", "application/json"),
                ("idempotency-key", "k"),
            ],
            Some(b"{}"),
        )
    };
    let answers: Vec<u16> = (0..10).map(|_| checkout().status).collect();
    assert!(answers.iter().all(|s| *s == 400), "{answers:?}");
    let limited = checkout();
    assert_eq!(
        (limited.status, limited.error_code().as_str()),
        (429, "rate_limited")
    );
    assert!(limited.header("retry-after").is_some());
}

/// A checkout that waits on a row lock longer than the writer's lock_timeout
/// (2 s) answers 503 with Retry-After and writes nothing; the same request
/// succeeds once the lock is gone.
#[test]
fn a_lock_timeout_is_a_503_with_retry_after_and_nothing_written() {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("4.00", &[(store.warehouses[0], 10)]);
    let cart = cart_with(store.id, "US-CA", &sku, 1);
    let body = checkout_body(&cart);
    let key = unique("k");

    let mut holder = primary();
    let mut tx = holder.transaction().unwrap();
    tx.execute(
        "SELECT 1 FROM inventory_levels il JOIN variants v ON v.id = il.variant_id
          WHERE v.sku = $1 FOR UPDATE OF il",
        &[&sku],
    )
    .unwrap();
    let started = Instant::now();
    let blocked = post_json("/checkout", &body, &[("idempotency-key", &key)]);
    let waited = started.elapsed();
    tx.rollback().unwrap();

    assert_eq!(blocked.status, 503, "{}", blocked.body);
    assert_eq!(blocked.error_code(), "database_unavailable");
    assert!(blocked.header("retry-after").is_some());
    assert!(
        waited >= Duration::from_millis(1900),
        "gave up after {waited:?}, before the lock timeout"
    );
    let orders: i64 = primary()
        .query_one("SELECT count(*) FROM orders WHERE cart_id = $1", &[&cart])
        .unwrap()
        .get(0);
    assert_eq!(orders, 0, "a timed-out checkout wrote an order");

    let retried = post_json("/checkout", &body, &[("idempotency-key", &key)]);
    assert_eq!(retried.status, 201, "{}", retried.body);
}

fn as_role(url: &str, role: &str) -> postgres::Client {
    let rest = url.split_once('@').unwrap().1;
    db(&format!("postgres://{role}:shop@{rest}"))
}

#[test]
fn the_replicas_role_reads_no_personal_data() {
    let mut reader = as_role(&replica_url(), "shop_reader");
    let settings: (String, String) = {
        let row = reader
            .query_one(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!(settings, ("2s".to_string(), "1s".to_string()));
    reader
        .query("SELECT id, slug FROM stores LIMIT 1", &[])
        .expect("catalog tables are readable");
    reader
        .query("SELECT id, status, total FROM orders LIMIT 1", &[])
        .expect("order facts are readable");
    for denied in [
        "SELECT email FROM orders LIMIT 1",
        "SELECT shipping_address FROM orders LIMIT 1",
        "SELECT * FROM orders LIMIT 1",
        "SELECT * FROM idempotency_keys LIMIT 1",
    ] {
        let e = reader.query(denied, &[]).expect_err(denied);
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{denied}: {e}");
    }
    let e = reader
        .query("SELECT pg_sleep(3)", &[])
        .expect_err("a read over 2 s is cancelled");
    assert_eq!(e.code().map(|c| c.code()), Some("57014"));
}

#[test]
fn the_primarys_role_writes_rows_but_not_the_schema() {
    let mut writer = as_role(&primary_url(), "shop_writer");
    let row = writer
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
            &[],
        )
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("5s".into(), "2s".into())
    );
    let mut tx = writer.transaction().unwrap();
    tx.execute("UPDATE stores SET name = name WHERE false", &[])
        .expect("DML is allowed");
    tx.rollback().unwrap();
    for denied in [
        "CREATE TABLE nope (id int)",
        "DROP TABLE orders",
        "ALTER TABLE orders ADD COLUMN x int",
    ] {
        let e = writer.batch_execute(denied).expect_err(denied);
        assert_eq!(e.code().map(|c| c.code()), Some("42501"), "{denied}: {e}");
    }
}

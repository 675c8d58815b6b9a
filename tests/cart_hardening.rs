//! The cart's hardening, through the edge of a dev build: KV and storage
//! failures answer `503 cart_unavailable`, the alarm is idempotent, and a
//! checkout freezes the cart so that no add is silently left out of the
//! order. The dev build's hooks (functions/cart/src/dev.rs): `x-test-fault`,
//! `POST /cart/__dev/{id}/alarm | evict | command`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

fn checkout(cart: &str, key: &str) -> Reply {
    post_json(
        "/checkout",
        &checkout_body(cart),
        &[("idempotency-key", key)],
    )
}

fn get_cart(cart: &str, headers: &[(&str, &str)]) -> Reply {
    get_with(&format!("/cart/{cart}"), headers)
}

/// Runs the cart object's alarm now (dev route); its report.
fn alarm(cart: &str, headers: &[(&str, &str)]) -> Reply {
    post_json(&format!("/cart/__dev/{cart}/alarm"), &json!({}), headers)
}

fn alarm_ok(cart: &str) -> Value {
    let r = alarm(cart, &[]);
    assert_eq!(r.status, 200, "alarm: {}", r.body);
    r.json()
}

/// The object forgets what it holds in memory, as a restarted one would.
fn evict(cart: &str) {
    let r = post_json(&format!("/cart/__dev/{cart}/evict"), &json!({}), &[]);
    assert_eq!(r.status, 200, "evict: {}", r.body);
}

/// A raw command to the cart's object, as checkout sends them.
fn command(cart: &str, command: Value, if_match: Option<&str>) -> Reply {
    let mut headers = Vec::new();
    if let Some(v) = if_match {
        headers.push(("if-match", v));
    }
    post_json(&format!("/cart/__dev/{cart}/command"), &command, &headers)
}

fn begin(cart: &str, key: &str) -> Reply {
    command(cart, json!({"op": "begin_checkout", "key": key}), None)
}

fn abort(cart: &str, key: &str) -> Reply {
    command(cart, json!({"op": "abort_checkout", "key": key}), None)
}

fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (status, code),
        "{}",
        r.body
    );
}

fn assert_unavailable(r: &Reply) {
    assert_error(r, 503, "cart_unavailable");
    assert!(r.header("retry-after").is_some(), "503 without Retry-After");
}

#[test]
fn kv_and_storage_failures_answer_503_cart_unavailable() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "1.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&skus[0], 1);

    // The alarm cannot write KV: 503, and the change stays unflushed.
    assert_unavailable(&alarm(&cart, &[("x-test-fault", "kv")]));
    let flushed = alarm_ok(&cart);
    assert_eq!(flushed["outcome"], "flushed", "{flushed}");
    assert_eq!(flushed["flushed_version"], 2);

    // A restarted object reads the cart from KV: KV fails, 503.
    evict(&cart);
    assert_unavailable(&get_cart(&cart, &[("x-test-fault", "kv")]));
    assert_unavailable(&add_with(&cart, &skus[1], &[("x-test-fault", "kv")]));
    // The object's own storage fails: 503 too, and nothing changed.
    evict(&cart);
    assert_unavailable(&get_cart(&cart, &[("x-test-fault", "storage")]));
    let loaded = get_cart(&cart, &[]);
    assert_eq!(loaded.status, 200, "{}", loaded.body);
    assert_unavailable(&add_with(&cart, &skus[1], &[("x-test-fault", "storage")]));

    let c = get_cart(&cart, &[]);
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.json()["version"], 2, "no failed request changed the cart");
    assert_eq!(
        add_item(&cart, &skus[1], 1).status,
        200,
        "and it works again"
    );
}

fn add_with(cart: &str, sku: &str, headers: &[(&str, &str)]) -> Reply {
    post_json(
        &format!("/cart/{cart}/items"),
        &json!({"sku": sku, "quantity": 1}),
        headers,
    )
}

#[test]
fn a_repeated_alarm_keeps_the_flushed_marker_and_a_checked_out_cart_stays_closed() {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("2.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&sku, 1);
    let r = checkout(&cart, &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    let order_id = r.json()["order_id"].clone();

    let first = alarm_ok(&cart);
    assert_eq!(first["outcome"], "flushed", "{first}");
    let version = first["flushed_version"].as_u64().unwrap();
    let forget_at = first["forget_at"].as_i64().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let thirty_days = 30 * 24 * 3600 * 1000;
    assert!(
        (forget_at - now_ms - thirty_days).abs() < 120_000,
        "forget_at {forget_at} is not 30 days away"
    );
    // Duplicated, retried alarms: nothing is forgotten before forget_at.
    for _ in 0..3 {
        let again = alarm_ok(&cart);
        assert_eq!(again["outcome"], "rearmed", "{again}");
        assert_eq!(again["flushed_version"], version, "the marker is kept");
        assert_eq!(again["forget_at"], forget_at);
        assert_eq!(again["alarm_at"], forget_at, "armed for forget_at");
    }

    // A restarted object where KV has not caught up yet: "retry", never an
    // old (open) cart and never "not found".
    evict(&cart);
    assert_unavailable(&get_cart(&cart, &[("x-test-fault", "kv-stale")]));
    let c = get_cart(&cart, &[]);
    assert_eq!(c.status, 200, "{}", c.body);
    let c = c.json();
    assert_eq!(c["status"], "checked_out");
    assert_eq!(c["order_id"], order_id);
    assert_error(&add_item(&cart, &sku, 1), 409, "cart_checked_out");
}

#[test]
fn a_checkout_freezes_the_cart_until_it_ends() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "1.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&skus[0], 1);

    let b = begin(&cart, "k1");
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(b.header("etag"), Some("\"2\""));
    // Frozen: changes and other checkouts wait, reads do not.
    assert_error(&add_item(&cart, &skus[1], 1), 409, "checkout_in_progress");
    let patch = request(
        "PATCH",
        &format!("/cart/{cart}/items/{}", skus[0]),
        &[("content-type", "application/json")],
        Some(br#"{"quantity": 3}"#),
    );
    assert_error(&patch, 409, "checkout_in_progress");
    assert_error(&begin(&cart, "k2"), 409, "checkout_in_progress");
    assert_error(&checkout(&cart, &unique("k")), 409, "checkout_in_progress");
    assert_eq!(get_cart(&cart, &[]).status, 200);
    // The same key again (a retried checkout) is let in.
    assert_eq!(begin(&cart, "k1").status, 200);
    // Only the key holding it can end it.
    assert_eq!(abort(&cart, "k2").status, 200);
    assert_error(&add_item(&cart, &skus[1], 1), 409, "checkout_in_progress");
    assert_eq!(abort(&cart, "k1").status, 200);
    let r = add_item(&cart, &skus[1], 1);
    assert_eq!(r.status, 200, "thawed: {}", r.body);
    assert_eq!(r.header("etag"), Some("\"3\""));

    // Closing names the version the order was made from: a cart that
    // changed since is not closed as if the order held it.
    let close = json!({"op": "mark_checked_out", "order_id": "ord_test"});
    assert_error(
        &command(&cart, close.clone(), Some("\"2\"")),
        412,
        "precondition_failed",
    );
    assert_eq!(get_cart(&cart, &[]).json()["status"], "open");
    let r = command(&cart, close.clone(), Some("\"3\""));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["order_id"], "ord_test");
    // Told again (a retried checkout): the same order is no change.
    assert_eq!(command(&cart, close, Some("\"3\"")).status, 200);
}

#[test]
fn a_refused_checkout_thaws_the_cart_at_once() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "1.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&skus[0], 2);
    // The rules refuse it (an address outside the region).
    let mut body = checkout_body(&cart);
    body["shipping_address"]["state"] = json!("NV");
    body["shipping_address"]["postal_code"] = json!("89501");
    let r = post_json("/checkout", &body, &[("idempotency-key", &unique("k"))]);
    assert_error(&r, 422, "address_outside_region");
    assert_eq!(add_item(&cart, &skus[1], 1).status, 200);
    // The database refuses it (the stock went meanwhile).
    primary()
        .execute(
            "UPDATE inventory_levels SET on_hand = 1
              WHERE variant_id = (SELECT id FROM variants WHERE sku = $1)",
            &[&skus[0]],
        )
        .unwrap();
    assert_error(&checkout(&cart, &unique("k")), 409, "out_of_stock");
    let r = add_item(&cart, &skus[1], 1);
    assert_eq!(r.status, 200, "thawed after the refusal: {}", r.body);
}

#[test]
fn every_add_racing_a_checkout_is_in_the_order_or_refused() {
    const ADDERS: usize = 8;
    const EACH: usize = 3;
    let mut refused_in_flight = 0;
    for round in 0..4 {
        let store = Store::create("US-CA", 1);
        let first = fresh_sku("1.00", &[(store.warehouses[0], 50)]);
        let skus = fresh_skus(ADDERS * EACH, "1.00", &[(store.warehouses[0], 50)]);
        let cart = store.cart_with(&first, 1);
        let results = {
            let (cart, skus) = (cart.clone(), skus.clone());
            concurrently(ADDERS + 1, move |i| {
                if i == ADDERS {
                    // Let a few adds land first, then check out among the rest.
                    std::thread::sleep(Duration::from_millis(15 + 10 * round));
                    return vec![(String::new(), checkout(&cart, &unique("k")))];
                }
                (0..EACH)
                    .map(|n| {
                        let sku = skus[i * EACH + n].clone();
                        let r = add_item(&cart, &sku, 1);
                        (sku, r)
                    })
                    .collect()
            })
        };
        let mut results: Vec<(String, Reply)> = results.into_iter().flatten().collect();
        let (_, placed) = results.pop().unwrap();
        assert_eq!(placed.status, 201, "round {round}: {}", placed.body);
        let ordered: BTreeSet<String> = placed.json()["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["sku"].as_str().unwrap().to_string())
            .collect();
        let mut acknowledged = BTreeSet::from([first.clone()]);
        for (sku, r) in &results {
            match r.status {
                200 => {
                    acknowledged.insert(sku.clone());
                }
                409 => match r.error_code().as_str() {
                    "checkout_in_progress" => refused_in_flight += 1,
                    "cart_checked_out" => {}
                    other => panic!("round {round}: add {sku}: 409 {other}"),
                },
                other => panic!("round {round}: add {sku}: {other} {}", r.body),
            }
        }
        assert_eq!(
            ordered, acknowledged,
            "round {round}: the order holds exactly the adds that were acknowledged"
        );
        let c = get_cart(&cart, &[]).json();
        assert_eq!(c["status"], "checked_out", "round {round}");
        let in_cart: BTreeSet<String> = c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["sku"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            in_cart, ordered,
            "round {round}: the closed cart is the order"
        );
    }
    eprintln!("adds refused while a checkout held the cart: {refused_in_flight}");
    assert!(
        refused_in_flight > 0,
        "no add ever met a checkout in flight: the race was not exercised"
    );
}

#[test]
fn a_same_key_retry_returns_the_order_and_the_cart_ends_checked_out() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "3.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&skus[0], 1);
    let key = unique("k");
    // An earlier attempt with this key froze the cart and died.
    assert_eq!(begin(&cart, &key).status, 200);
    let first = checkout(&cart, &key);
    assert_eq!(first.status, 201, "the same key is let in: {}", first.body);
    let retry = checkout(&cart, &key);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json(), first.json());
    let c = get_cart(&cart, &[]).json();
    assert_eq!(
        (c["status"].clone(), c["order_id"].clone()),
        (json!("checked_out"), first.json()["order_id"].clone())
    );
    assert_error(&add_item(&cart, &skus[1], 1), 409, "cart_checked_out");
    // And still after the alarm has run, twice.
    alarm_ok(&cart);
    alarm_ok(&cart);
    assert_eq!(checkout(&cart, &key).json(), first.json());
    assert_eq!(get_cart(&cart, &[]).json()["status"], "checked_out");
}

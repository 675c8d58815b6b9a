//! Checkout through the edge: one order per cart and key, stock reserved
//! atomically across warehouses, region rules applied, expiry by cron.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

/// The expiry test releases every expired reservation in the database; the
/// tests that look at reservations hold this while they do.
static RESERVATIONS: Mutex<()> = Mutex::new(());

fn address(state: &str, zip: &str) -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
           "state": state, "postal_code": zip, "country": "US"})
}

/// A California checkout body for `cart`, old enough, delivery asap. The
/// email is the cart's own (checkout caps unpaid orders per email), the
/// same every time for one cart, so a retry sends the same body.
fn body(cart: &str) -> Value {
    json!({
        "cart_id": cart,
        "email": format!("ada-{}@example.com", &cart[..cart.len().min(12)]),
        "shipping_address": address("CA", "94110"),
        "region": "US-CA",
        "date_of_birth": "1990-05-01",
        "delivery": "asap",
    })
}

fn checkout(body: &Value, key: &str) -> Reply {
    post_json("/checkout", body, &[("idempotency-key", key)])
}

fn checkout_at(body: &Value, now: &str) -> Reply {
    post_json(
        "/checkout",
        body,
        &[("idempotency-key", &unique("k")), ("x-test-now", now)],
    )
}

/// The row id of the order an answer names by its public id.
fn row_id(order: &Value) -> i64 {
    let public = order["order_id"]
        .as_str()
        .unwrap_or_else(|| panic!("order_id is a string: {order}"));
    primary()
        .query_one("SELECT id FROM orders WHERE public_id = $1", &[&public])
        .unwrap()
        .get(0)
}

fn orders_for_cart(cart: &str) -> i64 {
    primary()
        .query_one("SELECT count(*) FROM orders WHERE cart_id = $1", &[&cart])
        .unwrap()
        .get(0)
}

/// (warehouse, quantity) of the held reservations of an order.
fn reservations_of(order_id: i64) -> Vec<(i64, i32)> {
    primary()
        .query(
            "SELECT warehouse_id, quantity FROM reservations
              WHERE order_id = $1 AND status = 'held' ORDER BY warehouse_id",
            &[&order_id],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn a_checkout_creates_a_pending_order_reserves_stock_and_closes_the_cart() {
    let _lock = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let store = Store::create("US-CA", 1);
    let warehouse = store.warehouses[0];
    let sku = fresh_sku("12.50", &[(warehouse, 5)]);
    let cart = store.cart_with(&sku, 2);
    let started = std::time::SystemTime::now();
    let r = checkout(&body(&cart), &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    let o = r.json();
    assert_eq!(o["status"], "pending_payment");
    // 25.00 * 0.0725 = 1.8125 -> 1.81
    assert_eq!(
        o["totals"],
        json!({"subtotal": "25.00", "tax": "1.81", "total": "26.81"})
    );
    assert_eq!(o["lines"][0]["sku"], sku.as_str());
    assert_eq!(o["age_verification"], json!({"minimum_age": 21}));
    let statements: u32 = r.header("x-db-statements").unwrap().parse().unwrap();
    assert!(
        statements <= 3,
        "{statements} SQL statements for one checkout"
    );
    assert!(
        r.header("x-db-lsn").is_some(),
        "a write tells the client its LSN"
    );

    // Reserved for about 15 minutes.
    let expires = o["reservation_expires_at"].as_str().unwrap();
    let mut primary = primary();
    let minutes: f64 = primary
        .query_one(
            "SELECT extract(epoch FROM $1::text::timestamptz - to_timestamp($2::float8))::float8 / 60",
            &[&expires, &started.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()],
        )
        .unwrap()
        .get(0);
    assert!(
        (14.0..=15.5).contains(&minutes),
        "expires after {minutes} min"
    );

    let order_id = row_id(&o);
    assert_eq!(reservations_of(order_id), vec![(warehouse, 2)]);
    assert_eq!(stock_of(&sku), vec![(warehouse, 5, 2)]);
    let row = primary
        .query_one(
            "SELECT status, total::text, age_minimum, age_verified_at IS NOT NULL,
                    shipping_address->>'postal_code', (SELECT count(*) FROM order_lines WHERE order_id = o.id)
               FROM orders o WHERE id = $1",
            &[&order_id],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "pending_payment");
    assert_eq!(row.get::<_, String>(1), "26.81");
    assert_eq!(row.get::<_, Option<i16>>(2), Some(21));
    assert!(row.get::<_, bool>(3), "the age attestation is stored");
    assert_eq!(row.get::<_, String>(4), "94110");
    assert_eq!(row.get::<_, i64>(5), 1);
    let dob_stored: bool = primary
        .query_one(
            "SELECT row_to_json(o)::text LIKE '%1990-05-01%' FROM orders o WHERE id = $1",
            &[&order_id],
        )
        .unwrap()
        .get(0);
    assert!(!dob_stored, "the birth date is not stored");

    // The cart is now closed.
    let c = get(&format!("/cart/{cart}")).json();
    // It names the order by its public id, as the checkout answered.
    assert_eq!(
        (c["status"].as_str(), c["order_id"].as_str()),
        (Some("checked_out"), o["order_id"].as_str())
    );
    let r = add_item(&cart, &sku, 1);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "cart_checked_out")
    );
    let again = checkout(&body(&cart), &unique("k"));
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (409, "cart_already_checked_out")
    );
}

#[test]
fn ten_concurrent_retries_with_one_key_make_one_order() {
    let store = Store::create("US-CA", 1);
    let warehouse = store.warehouses[0];
    let sku = fresh_sku("5.00", &[(warehouse, 50)]);
    let cart = store.cart_with(&sku, 1);
    let key = unique("same-key-");
    let replies = {
        let (cart, key) = (cart.clone(), key.clone());
        concurrently(10, move |_| checkout(&body(&cart), &key))
    };
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let first = replies[0].json();
    assert!(
        replies.iter().all(|r| r.json() == first),
        "every retry gets the same answer"
    );
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.header("idempotent-replayed").is_none())
            .count(),
        1,
        "one request did the work"
    );
    assert_eq!(orders_for_cart(&cart), 1);
    assert_eq!(stock_of(&sku), vec![(warehouse, 50, 1)]);

    // A later retry still gets it, even though the cart is now closed.
    let late = checkout(&body(&cart), &key);
    assert_eq!(late.status, 201);
    assert_eq!(late.json(), first);
    // The same key with another body is refused.
    let mut other = body(&cart);
    other["email"] = json!("eve@example.com");
    let r = checkout(&other, &key);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "idempotency_key_reused")
    );
    assert_eq!(orders_for_cart(&cart), 1);
}

#[test]
fn two_hundred_checkouts_for_ten_units_sell_exactly_ten() {
    let _lock = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let store = Store::create("US-CA", 2);
    let (w0, w1) = (store.warehouses[0], store.warehouses[1]);
    let sku = fresh_sku("3.00", &[(w0, 6), (w1, 4)]);
    let carts: Vec<String> = {
        let (store, sku) = (store.clone(), sku.clone());
        concurrently(16, move |i| {
            (0..200)
                .filter(|n| n % 16 == i)
                .map(|_| store.cart_with(&sku, 1))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    };
    assert_eq!(carts.len(), 200);
    let replies = {
        let carts = carts.clone();
        concurrently(200, move |i| checkout(&body(&carts[i]), &unique("k")))
    };
    let ok = replies.iter().filter(|r| r.status == 201).count();
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (409, "out_of_stock"),
            "{}",
            r.body
        );
    }
    assert_eq!(ok, 10, "exactly the stock is sold");

    let stock = stock_of(&sku);
    assert_eq!(
        stock,
        vec![(w0, 6, 6), (w1, 4, 4)],
        "on_hand and reserved agree"
    );
    let held: i64 = primary()
        .query_one(
            "SELECT coalesce(sum(r.quantity), 0) FROM reservations r JOIN variants v ON v.id = r.variant_id
              WHERE v.sku = $1 AND r.status = 'held'",
            &[&sku],
        )
        .unwrap()
        .get(0);
    assert_eq!(held, 10, "the reservations add up to what is reserved");
    let orders: i64 = primary()
        .query_one(
            "SELECT count(*) FROM orders WHERE cart_id = ANY($1)",
            &[&carts],
        )
        .unwrap()
        .get(0);
    assert_eq!(orders, 10, "failed checkouts left no order behind");
}

#[test]
fn stock_comes_from_as_few_warehouses_as_possible() {
    let _lock = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let store = Store::create("US-CA", 2);
    let (w1, w2) = (store.warehouses[0], store.warehouses[1]);
    // Both lines fit in w2 alone; only `a` fits in w1.
    let a = fresh_sku("1.00", &[(w1, 9), (w2, 5)]);
    let b = fresh_sku("1.00", &[(w1, 0), (w2, 5)]);
    let cart = store.cart_with(&a, 2);
    add_item(&cart, &b, 2);
    let r = checkout(&body(&cart), &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(reservations_of(row_id(&r.json())), vec![(w2, 2), (w2, 2)]);

    // No single warehouse holds 5: the line is split, largest stock first.
    let c = fresh_sku("1.00", &[(w1, 3), (w2, 4)]);
    let cart = store.cart_with(&c, 5);
    let r = checkout(&body(&cart), &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(reservations_of(row_id(&r.json())), vec![(w1, 1), (w2, 4)]);
}

#[test]
fn bad_checkouts_get_4xx_and_write_nothing() {
    let store = Store::create("US-CA", 1);
    let warehouse = store.warehouses[0];
    let sku = fresh_sku("1.00", &[(warehouse, 20)]);
    let cart = store.cart_with(&sku, 1);
    let empty = store.new_cart();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = body(&cart);
        f(&mut b);
        b
    };
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            post_json("/checkout", &body(&cart), &[]),
            400,
            "idempotency_key_required",
        ),
        (
            request(
                "POST",
                "/checkout",
                &[
                    ("idempotency-key", "k1"),
                    ("content-type", "application/json"),
                ],
                Some(b"{\"cart_id\""),
            ),
            400,
            "invalid_json",
        ),
        (checkout(&body(&empty), &unique("k")), 422, "empty_cart"),
        (
            checkout(&body(&"f".repeat(32)), &unique("k")),
            404,
            "cart_not_found",
        ),
        (
            checkout(
                &with(&|b| b["shipping_address"] = json!({"line1": "x"})),
                &unique("k"),
            ),
            400,
            "invalid_address",
        ),
        (
            checkout(
                &with(&|b| b["shipping_address"]["postal_code"] = json!("ABCDE")),
                &unique("k"),
            ),
            400,
            "invalid_address",
        ),
        (
            checkout(&with(&|b| b["region"] = json!("US-ZZ")), &unique("k")),
            422,
            "unknown_region",
        ),
        (
            checkout(
                &with(&|b| {
                    b["region"] = json!("US-CO");
                    b["shipping_address"] = address("CO", "80202");
                }),
                &unique("k"),
            ),
            422,
            "region_mismatch",
        ),
        (
            checkout(
                &with(&|b| b["shipping_address"] = address("NV", "89501")),
                &unique("k"),
            ),
            422,
            "address_outside_region",
        ),
        (
            checkout(&with(&|b| b["email"] = json!("not-an-email")), &unique("k")),
            400,
            "invalid_email",
        ),
        (
            checkout(
                &with(&|b| b["delivery"] = json!({"window_start": "soon"})),
                &unique("k"),
            ),
            400,
            "invalid_delivery",
        ),
    ];
    for (r, status, code) in &cases {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (*status, *code),
            "{}",
            r.body
        );
    }
    assert_eq!(orders_for_cart(&cart), 0);
    assert_eq!(orders_for_cart(&empty), 0);
    assert_eq!(stock_of(&sku), vec![(warehouse, 20, 0)]);
    assert_eq!(get(&format!("/cart/{cart}")).json()["status"], "open");
}

#[test]
fn tax_and_age_rules_follow_the_region() {
    // Colorado: 2.9 %, 21+.
    let colorado = Store::create("US-CO", 1);
    let sku = fresh_sku("10.00", &[(colorado.warehouses[0], 50)]);
    let cart = colorado.cart_with(&sku, 1);
    let mut co = body(&cart);
    co["region"] = json!("US-CO");
    co["shipping_address"] = address("CO", "80202");
    let r = checkout(&co, &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["totals"],
        json!({"subtotal": "10.00", "tax": "0.29", "total": "10.29"})
    );

    // California, 21+: missing, under-age, and exactly-21-today birth dates.
    let california = Store::create("US-CA", 1);
    let sku = fresh_sku("2.00", &[(california.warehouses[0], 50)]);
    let noon_la = "2026-06-10T19:00:00Z";
    for (dob, status) in [
        (None, 422),
        (Some("2005-06-11"), 422),
        (Some("2005-06-10"), 201),
    ] {
        let cart = california.cart_with(&sku, 1);
        let mut b = body(&cart);
        match dob {
            Some(d) => b["date_of_birth"] = json!(d),
            None => {
                b.as_object_mut().unwrap().remove("date_of_birth");
            }
        }
        let r = checkout_at(&b, noon_la);
        assert_eq!(r.status, status, "dob {dob:?}: {}", r.body);
        if status == 422 {
            assert_eq!(r.error_code(), "age_verification_failed");
            assert_eq!(orders_for_cart(&cart), 0);
        } else {
            // 2.00 * 0.0725 = 0.145 -> 0.15
            assert_eq!(r.json()["totals"]["tax"], "0.15");
        }
    }
}

/// Oregon needs no age check. A store there is data (the seed has none),
/// and the region's rules are already configuration.
#[test]
fn a_region_without_age_verification_needs_no_birth_date() {
    let portland = Store::create("US-OR", 1);
    let sku = fresh_sku("4.00", &[(portland.warehouses[0], 10)]);
    let cart = portland.cart_with(&sku, 1);
    let r = checkout(
        &json!({"cart_id": cart, "email": format!("ada-{}@example.com", &cart[..12]), "shipping_address": address("OR", "97201"),
                "region": "US-OR", "delivery": "asap"}),
        &unique("k"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let o = r.json();
    assert_eq!(
        o["totals"],
        json!({"subtotal": "4.00", "tax": "0.00", "total": "4.00"})
    );
    assert_eq!(o["age_verification"], Value::Null);
}

#[test]
fn delivery_hours_at_the_edges_of_the_window() {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("1.00", &[(store.warehouses[0], 500)]);
    let go = |now: &str, delivery: Value| {
        let mut b = body(&store.cart_with(&sku, 1));
        b["delivery"] = delivery;
        checkout_at(&b, now)
    };
    let window = |r: &Reply| {
        assert_eq!(r.status, 201, "{}", r.body);
        let d = &r.json()["delivery"];
        (
            d["window_start"].as_str().unwrap().to_string(),
            d["rescheduled"].as_bool().unwrap(),
        )
    };
    // 2026-06-10 is PDT (UTC-7): 08:00 local = 15:00Z, 22:00 local = 05:00Z next day.
    assert_eq!(
        window(&go("2026-06-10T14:59:00Z", json!("asap"))),
        ("2026-06-10T15:00:00Z".into(), true),
        "07:59"
    );
    assert_eq!(
        window(&go("2026-06-10T15:00:00Z", json!("asap"))),
        ("2026-06-10T15:00:00Z".into(), false),
        "08:00"
    );
    assert_eq!(
        window(&go("2026-06-11T04:59:00Z", json!("asap"))),
        ("2026-06-11T04:59:00Z".into(), false),
        "21:59"
    );
    assert_eq!(
        window(&go("2026-06-11T05:01:00Z", json!("asap"))),
        ("2026-06-11T15:00:00Z".into(), true),
        "22:01"
    );
    // DST: at 22:01 PST on 7 March the next opening is 08:00 PDT on the 8th (15:00Z, not 16:00Z).
    assert_eq!(
        window(&go("2026-03-08T06:01:00Z", json!("asap"))),
        ("2026-03-08T15:00:00Z".into(), true),
        "spring forward"
    );
    // At 22:01 PDT on 31 October the next opening is 08:00 PST on 1 November (16:00Z).
    assert_eq!(
        window(&go("2026-11-01T05:01:00Z", json!("asap"))),
        ("2026-11-01T16:00:00Z".into(), true),
        "fall back"
    );

    // Requested windows: the whole hour must fit in 08:00-22:00 local.
    let now = "2026-06-10T12:00:00Z";
    assert_eq!(
        window(&go(now, json!({"window_start": "2026-06-10T15:00:00Z"}))).0,
        "2026-06-10T15:00:00Z"
    );
    assert_eq!(
        window(&go(now, json!({"window_start": "2026-06-11T04:00:00Z"}))).0,
        "2026-06-11T04:00:00Z"
    );
    for start in ["2026-06-10T14:59:00Z", "2026-06-11T04:01:00Z"] {
        let r = go(now, json!({"window_start": start}));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "delivery_window_outside_hours"),
            "{start}"
        );
    }
}

#[test]
fn the_cron_releases_expired_reservations_and_the_stock_sells_again() {
    let _lock = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    let store = Store::create("US-CA", 1);
    let warehouse = store.warehouses[0];
    let sku = fresh_sku("7.00", &[(warehouse, 2)]);
    let cart = store.cart_with(&sku, 2);
    let r = checkout(&body(&cart), &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    let order_id = row_id(&r.json());
    assert_eq!(
        stock_of(&sku),
        vec![(warehouse, 2, 2)],
        "nothing left while reserved"
    );

    // Time passes: the reservation's 15 minutes are up.
    primary()
        .execute(
            "UPDATE reservations SET expires_at = now() - interval '1 second' WHERE order_id = $1",
            &[&order_id],
        )
        .unwrap();
    // Checkout's own cron job, run on demand through the route that only
    // dev builds have (the local stack cannot fire a cron of a worker that is
    // not the first one wrangler serves).
    let tick = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
    assert_eq!(tick.status, 200, "scheduled job: {}", tick.body);
    assert!(
        tick.json()["released"].as_u64().unwrap() >= 1,
        "the job released this order's reservation: {}",
        tick.body
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while stock_of(&sku) != vec![(warehouse, 2, 0)] {
        assert!(
            Instant::now() < deadline,
            "the cron did not release the stock: {:?}",
            stock_of(&sku)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status: String = primary()
        .query_one("SELECT status FROM orders WHERE id = $1", &[&order_id])
        .unwrap()
        .get(0);
    assert_eq!(status, "cancelled");
    wait_replica_caught_up();
    let again = store.cart_with(&sku, 2);
    let r = checkout(&body(&again), &unique("k"));
    assert_eq!(r.status, 201, "the released stock sells again: {}", r.body);
}

/// The reservation job has no public route: in a deployment only checkout's
/// cron runs it. Locally the dev build's route runs it, and its answers say
/// they come from a dev build (the marker scripts/deploy refuses to ship).
#[test]
fn the_job_runs_from_the_cron_or_a_dev_builds_route_only() {
    // It runs the job: not while another test counts what the job released.
    let _lock = RESERVATIONS.lock().unwrap_or_else(|e| e.into_inner());
    // The edge's old internal route is gone, with or without its header.
    let r = request(
        "POST",
        "/checkout/jobs/release-expired-reservations",
        &[("x-edgeshop-internal", "1")],
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let tick = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
    assert_eq!(tick.status, 200, "{}", tick.body);
    assert_eq!(tick.header("x-edgeshop-dev-build"), Some("true"));
}

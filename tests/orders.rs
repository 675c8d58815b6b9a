//! Orders after checkout, through the edge: the shopper's view of an order
//! (read on the replica, read-your-writes through checkout's LSN token, 404
//! for anyone without the order's token), staff's view with its staff
//! fields, and a store's orders for staff, a keyset page at a time.
//!
//! One test here makes the replica lag on purpose, which would turn the
//! replica-served reads of the others into misses: they take turns (SERIAL).

mod support;

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{json, Value};
use support::*;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The replica applies commits this late until the value is dropped.
struct ReplicaLag;

impl ReplicaLag {
    fn set(delay: &str) -> ReplicaLag {
        set_apply_delay(delay);
        ReplicaLag
    }
}

impl Drop for ReplicaLag {
    fn drop(&mut self) {
        set_apply_delay("0");
        wait_replica_caught_up();
    }
}

fn set_apply_delay(delay: &str) {
    let mut replica = db(&superuser(&replica_url()));
    replica
        .batch_execute(&format!(
            "ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'"
        ))
        .unwrap();
    replica.batch_execute("SELECT pg_reload_conf()").unwrap();
}

/// An order checkout just placed (no payment asked for), with what its
/// answer handed the shopper.
struct Placed {
    order_id: String,
    token: String,
    /// The answer's `x-db-lsn`: the read-your-writes token.
    lsn: String,
    sku: String,
    email: String,
}

/// A cart in a new store of its own holding 2 × a 12.50 SKU.
fn ready_cart() -> (String, String) {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("12.50", &[(store.warehouses[0], 5)]);
    let cart = store.cart_with(&sku, 2);
    (cart, sku)
}

fn check_out(cart: &str, sku: &str) -> Placed {
    let body = checkout_body(cart);
    let r = post_json("/checkout", &body, &[("idempotency-key", &unique("k"))]);
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    let answer = r.json();
    Placed {
        order_id: answer["order_id"].as_str().unwrap().to_string(),
        token: answer["order_token"].as_str().unwrap().to_string(),
        lsn: r
            .header("x-db-lsn")
            .expect("checkout answers x-db-lsn")
            .to_string(),
        sku: sku.to_string(),
        email: body["email"].as_str().unwrap().to_string(),
    }
}

fn place_order() -> Placed {
    let (cart, sku) = ready_cart();
    check_out(&cart, &sku)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn admin() -> String {
    bearer(&local_secret("ADMIN_TOKEN"))
}

/// `GET /orders/{id}` as the shopper, with the order's token and, when
/// given, a read-your-writes token.
fn shopper_view(order_id: &str, token: &str, lsn: Option<&str>) -> Reply {
    let auth = bearer(token);
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(lsn) = lsn {
        headers.push(("x-db-lsn", lsn));
    }
    get_with(&format!("/orders/{order_id}"), &headers)
}

/// The error object without its request id, which differs per request.
fn error_without_request_id(r: &Reply) -> Value {
    r.error_code();
    let mut e = r.json()["error"].clone();
    e.as_object_mut().unwrap().remove("request_id");
    e
}

/// A public order id of the right shape that no order has.
fn unknown_order_id() -> String {
    let tag = unique("").to_ascii_lowercase();
    let alphabet: Vec<char> = "0123456789abcdefghjkmnpqrstvwxyz".chars().collect();
    let mut id = String::from("ord_");
    for (i, c) in tag.chars().cycle().take(26).enumerate() {
        id.push(alphabet[(c as usize + i * 7) % 32]);
    }
    id
}

#[test]
fn right_after_checkout_the_lsn_token_shows_the_order_with_lines_totals_and_history() {
    let _serial = serial();
    let placed = place_order();
    let r = shopper_view(&placed.order_id, &placed.token, Some(&placed.lsn));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        r.header("x-db-statements"),
        Some("2"),
        "the replica's freshness check and the one view statement"
    );
    let v = r.json();
    assert_eq!(v["order_id"], placed.order_id.as_str());
    assert_eq!(v["status"], "pending_payment");
    assert_eq!(v["needs_review"], false);
    // 25.00 * 0.0725 = 1.8125 -> 1.81
    assert_eq!(
        v["totals"],
        json!({"subtotal": "25.00", "tax": "1.81", "total": "26.81", "currency": "USD"})
    );
    assert_eq!(
        (&v["total"], &v["currency"]),
        (&json!("26.81"), &json!("USD"))
    );
    assert_eq!(v["lines"].as_array().unwrap().len(), 1);
    let line = &v["lines"][0];
    assert_eq!(line["sku"], placed.sku.as_str());
    assert_eq!(line["quantity"], 2);
    assert_eq!(line["unit_price"], "12.50");
    assert_eq!(line["line_total"], "25.00");
    assert!(line["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(v["payments"], json!([]));
    assert_eq!(v["shipments"], json!([]));
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    let event = &history[0];
    assert_eq!(
        (
            &event["from"],
            &event["to"],
            &event["cause"],
            &event["actor"]
        ),
        (
            &Value::Null,
            &json!("pending_payment"),
            &json!("checkout"),
            &json!("shopper")
        )
    );
    let at = event["at"].as_str().unwrap();
    assert!(
        at.ends_with('Z') && at.len() == 27,
        "RFC 3339 UTC with microseconds: {at}"
    );
    assert_eq!(v["created_at"].as_str().unwrap().len(), 27);
    // No personal data in the shopper's view (it is read on the replica).
    assert!(!r.body.contains(&placed.email), "{}", r.body);
    assert!(!r.body.contains("Main St"), "{}", r.body);
}

#[test]
fn a_lagging_replica_does_not_hide_the_order_from_its_lsn_token() {
    let _serial = serial();
    let (cart, sku) = ready_cart();
    let lag = ReplicaLag::set("5s");
    let placed = check_out(&cart, &sku);
    let with_lsn = shopper_view(&placed.order_id, &placed.token, Some(&placed.lsn));
    let without_lsn = shopper_view(&placed.order_id, &placed.token, None);
    drop(lag);
    let caught_up = shopper_view(&placed.order_id, &placed.token, None);

    assert_eq!(with_lsn.status, 200, "{}", with_lsn.body);
    assert_eq!(
        with_lsn.header("x-db"),
        Some("primary"),
        "the replica had not replayed the checkout: the primary answers"
    );
    assert_eq!(with_lsn.json()["history"][0]["cause"], "checkout");
    assert_eq!(without_lsn.status, 404, "the replica really was behind");
    assert_eq!(without_lsn.header("x-db"), Some("replica"));
    assert_eq!(caught_up.status, 200, "{}", caught_up.body);
    assert_eq!(caught_up.header("x-db"), Some("replica"));
    assert_eq!(caught_up.json(), with_lsn.json());
}

#[test]
fn without_its_own_token_an_order_is_a_404_like_one_that_does_not_exist() {
    let _serial = serial();
    let mine = place_order();
    let other = place_order();
    wait_replica_caught_up();
    let path = format!("/orders/{}", mine.order_id);
    let other_token = bearer(&other.token);
    let my_token = bearer(&mine.token);
    let refusals = [
        ("no token", get(&path)),
        (
            "another order's token",
            get_with(&path, &[("authorization", &other_token)]),
        ),
        (
            "a garbage token",
            get_with(&path, &[("authorization", "Bearer not-a-token")]),
        ),
        (
            "an empty bearer",
            get_with(&path, &[("authorization", "Bearer ")]),
        ),
        (
            "not a bearer",
            get_with(&path, &[("authorization", &mine.token)]),
        ),
        (
            "my token on an unknown id",
            get_with(
                &format!("/orders/{}", unknown_order_id()),
                &[("authorization", &my_token)],
            ),
        ),
        (
            "a malformed id",
            get_with("/orders/ord_NOT-AN-ID", &[("authorization", &my_token)]),
        ),
    ];
    let first = error_without_request_id(&refusals[0].1);
    assert_eq!(first["code"], "order_not_found");
    for (case, r) in &refusals {
        assert_eq!(r.status, 404, "{case}: {}", r.body);
        assert_eq!(
            error_without_request_id(r),
            first,
            "{case}: the same answer"
        );
        assert!(!r.body.contains("pending_payment"), "{case}: {}", r.body);
    }
    // The order is there, for its own token.
    let ok = shopper_view(&mine.order_id, &mine.token, Some(&mine.lsn));
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn staff_see_the_order_with_its_staff_fields_with_the_admin_token_only() {
    let _serial = serial();
    let order = order_with_payment("stripe", "20.00", 4, 1);
    let path = format!("/admin/orders/{}", order.order_id);
    let mut db = primary();
    let internal_id: i64 = db
        .query_one(
            "SELECT id FROM orders WHERE public_id = $1",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    db.execute(
        "INSERT INTO alerts (dedupe_key, kind, order_id, message)
         VALUES ($1, 'fulfillment_failed', $2, 'the carrier refused the address')",
        &[
            &format!("fulfillment_failed:{internal_id}:{}", unique("t")),
            &internal_id,
        ],
    )
    .unwrap();

    let none = get(&path);
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.error_code(), "unauthorized");
    let wrong = get_with(&path, &[("authorization", "Bearer not-the-admin-token")]);
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    assert_eq!(wrong.error_code(), "forbidden");
    // The order's own token opens the shopper's route, not staff's.
    let shoppers = get_with(&path, &[("authorization", &bearer(&order.token))]);
    assert_eq!(shoppers.status, 403, "{}", shoppers.body);

    let r = get_with(&path, &[("authorization", &admin())]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("x-db"),
        Some("primary"),
        "personal data: the primary only"
    );
    assert_eq!(r.header("x-db-statements"), Some("1"));
    let v = r.json();
    assert_eq!(v["order_id"], order.order_id.as_str());
    assert_eq!(v["status"], "pending_payment");
    assert_eq!(v["totals"]["total"], order.total.as_str());
    assert_eq!(v["history"][0]["cause"], "checkout");
    let staff = &v["staff"];
    assert_eq!(staff["id"], internal_id);
    assert_eq!(staff["store_id"], order.store.id);
    assert_eq!(staff["region"], "US-CA");
    assert!(staff["email"].as_str().unwrap().ends_with("@example.com"));
    assert_eq!(staff["shipping_address"]["postal_code"], "94110");
    assert_eq!(staff["review_reason"], Value::Null);
    assert_eq!(staff["fulfillment_attempts"], 0);
    assert_eq!(staff["fulfillment_error"], Value::Null);
    assert_eq!(staff["fulfillment_failed_at"], Value::Null);
    let alerts = staff["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["kind"], "fulfillment_failed");
    assert_eq!(alerts[0]["message"], "the carrier refused the address");
    assert_eq!(alerts[0]["posted_at"], Value::Null);

    // The payment shows what it did, never the provider's ids or secrets,
    // to staff or to the shopper.
    let payment = &v["payments"][0];
    assert_eq!(
        (
            &payment["provider"],
            &payment["status"],
            &payment["amount"],
            &payment["captured"]
        ),
        (
            &json!("stripe"),
            &json!("created"),
            &json!(order.total),
            &json!("0.00")
        )
    );
    let pi = order.payment["payment_id"].as_str().unwrap();
    wait_replica_caught_up();
    let shopper = shopper_view(&order.order_id, &order.token, None);
    assert_eq!(shopper.status, 200, "{}", shopper.body);
    assert!(shopper.json().get("staff").is_none());
    for body in [&r.body, &shopper.body] {
        assert!(!body.contains(pi), "{body}");
        assert!(!body.contains("_secret_"), "{body}");
    }

    for id in [unknown_order_id(), "ord_NOT-AN-ID".to_string()] {
        let r = get_with(
            &format!("/admin/orders/{id}"),
            &[("authorization", &admin())],
        );
        assert_eq!(r.status, 404, "{id}: {}", r.body);
        assert_eq!(r.error_code(), "order_not_found");
    }
}

/// A new store with orders written straight to the primary, one per
/// (status, minutes ago); equal minutes are the same instant, so the ids
/// break the tie. On the replica when it returns.
fn store_with_orders(orders: &[(&str, i32)]) -> Store {
    let store = Store::create("US-CA", 1);
    let mut db = primary();
    let mut tx = db.transaction().unwrap();
    // One instant for the whole batch: equal minutes are equal times.
    let now: String = tx.query_one("SELECT now()::text", &[]).unwrap().get(0);
    for (status, minutes) in orders {
        tx.execute(
            "INSERT INTO orders (store_id, status, currency, total, created_at, updated_at)
             VALUES ($1, $2, 'USD', 10.00, $3::text::timestamptz - make_interval(mins => $4),
                     $3::text::timestamptz)",
            &[&store.id, status, &now, minutes],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    wait_replica_caught_up();
    store
}

fn expected_listing(store: &Store, status: &str) -> Vec<String> {
    primary()
        .query(
            "SELECT public_id FROM orders WHERE store_id = $1 AND status = $2
              ORDER BY created_at DESC, id DESC",
            &[&store.id, &status],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn dashboard(path_and_query: &str) -> Reply {
    get_with(path_and_query, &[("authorization", &admin())])
}

#[test]
fn the_dashboard_pages_through_a_stores_orders_exactly_once_newest_first() {
    let _serial = serial();
    // Five awaiting payment (two placed at the same instant, whose ids break
    // the tie), two paid, one cancelled.
    let store = store_with_orders(&[
        ("pending_payment", 30),
        ("paid", 25),
        ("pending_payment", 20),
        ("pending_payment", 10),
        ("pending_payment", 10),
        ("cancelled", 5),
        ("pending_payment", 1),
        ("paid", 0),
    ]);
    let want = expected_listing(&store, "pending_payment");
    assert_eq!(want.len(), 5);

    let mut seen: Vec<String> = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/admin/stores/{}/orders?status=pending&limit=2", store.id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = dashboard(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert_eq!(r.header("x-db"), Some("replica"), "{path}");
        assert_eq!(r.header("x-db-statements"), Some("1"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let v = r.json();
        let orders = v["orders"].as_array().unwrap();
        pages.push(orders.len());
        for o in orders {
            let mut keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "created_at",
                    "currency",
                    "order_id",
                    "status",
                    "total",
                    "updated_at"
                ]
            );
            assert_eq!(o["status"], "pending_payment");
            assert_eq!(
                (&o["total"], &o["currency"]),
                (&json!("10.00"), &json!("USD"))
            );
            assert!(o["order_id"].as_str().unwrap().starts_with("ord_"));
            seen.push(o["order_id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => {
                assert!(v["next_cursor"].is_null());
                break;
            }
        }
        assert!(pages.len() <= 5, "the pages never end: {pages:?}");
    }
    assert_eq!(pages, vec![2, 2, 1]);
    assert_eq!(seen, want, "every order once, newest first");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    // `pending` is `pending_payment`; other statuses list their own orders.
    let r = dashboard(&format!(
        "/admin/stores/{}/orders?status=pending_payment",
        store.id
    ));
    assert_eq!(r.status, 200, "{}", r.body);
    let all: Vec<String> = r.json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all, want);
    assert!(
        r.json()["next_cursor"].is_null(),
        "5 orders fit the default 50"
    );
    let r = dashboard(&format!("/admin/stores/{}/orders?status=paid", store.id));
    let paid: Vec<String> = r.json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paid, expected_listing(&store, "paid"));
    assert_eq!(paid.len(), 2);
    // Exactly `limit` orders: no next page.
    let r = dashboard(&format!(
        "/admin/stores/{}/orders?status=paid&limit=2",
        store.id
    ));
    assert!(r.json()["next_cursor"].is_null(), "{}", r.body);
    let r = dashboard(&format!("/admin/stores/{}/orders?status=shipped", store.id));
    assert_eq!(r.json(), json!({"orders": [], "next_cursor": null}));
}

#[test]
fn the_dashboard_refuses_bad_parameters_and_tokens_with_the_error_shape() {
    let _serial = serial();
    let store = store_with_orders(&[("paid", 1)]);
    let base = format!("/admin/stores/{}/orders", store.id);

    let none = get(&format!("{base}?status=paid"));
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (401, "unauthorized")
    );
    let wrong = get_with(
        &format!("{base}?status=paid"),
        &[("authorization", "Bearer not-the-admin-token")],
    );
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (403, "forbidden")
    );

    for query in [
        "",
        "?limit=5",
        "?status=",
        "?status=PAID",
        "?status=awaiting",
    ] {
        let r = dashboard(&format!("{base}{query}"));
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        assert_eq!(r.error_code(), "invalid_status", "{query}");
        let allowed = r.json()["error"]["allowed"].clone();
        assert!(
            allowed.as_array().unwrap().contains(&json!("pending")),
            "{allowed}"
        );
        assert!(
            allowed.as_array().unwrap().contains(&json!("delivered")),
            "{allowed}"
        );
    }
    // The catalog's cursor is not ours; a cursor with one byte changed is not one we issued.
    let foreign = "status=paid&cursor=djF8bmV3ZXN0fDIwMjUtMTItMzFUMjM6NTk6MDAuMDAwMDAwWnwx";
    for (query, code) in [
        ("status=paid&limit=0", "invalid_parameter"),
        ("status=paid&limit=101", "invalid_parameter"),
        ("status=paid&limit=ten", "invalid_parameter"),
        ("status=paid&limit=5&limit=5", "invalid_parameter"),
        ("status=paid&store=1", "invalid_parameter"),
        ("status=paid&cursor=garbage!", "invalid_cursor"),
        ("status=paid&cursor=bzF8bm90LWEtdGltZXwx", "invalid_cursor"),
        (foreign, "invalid_cursor"),
    ] {
        let r = dashboard(&format!("{base}?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert_eq!(r.error_code(), code, "{query}");
    }
    for id in ["0", "-1", "abc", "01", "9223372036854775808"] {
        let r = dashboard(&format!("/admin/stores/{id}/orders?status=paid"));
        assert_eq!(r.status, 404, "{id}: {}", r.body);
        assert_eq!(r.error_code(), "store_not_found", "{id}");
    }
    // A well-formed id of no store: nothing to list.
    let r = dashboard("/admin/stores/9223372036854775807/orders?status=paid");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"orders": [], "next_cursor": null}));
    // Only GET and HEAD.
    let r = request(
        "POST",
        &format!("{base}?status=paid"),
        &[
            ("authorization", &admin()),
            ("content-type", "application/json"),
        ],
        Some(b"{}"),
    );
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(r.error_code(), "method_not_allowed");
}

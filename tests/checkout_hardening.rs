//! Checkout hardening, on the real stack: idempotency fingerprints that hide
//! the birth date, keys scoped to the cart and expiring after a day, opaque
//! order ids, caps against stock hoarding, totals checked by the database,
//! stricter input, and the races that must neither double-sell nor deadlock.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

fn address(state: &str, zip: &str) -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Main St", "city": "Somewhere",
           "state": state, "postal_code": zip, "country": "US"})
}

/// A fresh email for this run: the pending-order cap counts per email.
fn fresh_email() -> String {
    format!("t-{}@example.com", unique("").to_ascii_lowercase())
}

/// A California checkout body for `cart` with its own email, old enough,
/// delivery asap.
fn body(cart: &str) -> Value {
    json!({
        "cart_id": cart,
        "email": fresh_email(),
        "shipping_address": address("CA", "94110"),
        "region": "US-CA",
        "date_of_birth": "1990-05-01",
        "delivery": "asap",
    })
}

fn checkout(body: &Value, key: &str) -> Reply {
    post_json("/checkout", body, &[("idempotency-key", key)])
}

fn checkout_raw(text: &str, key: &str) -> Reply {
    request(
        "POST",
        "/checkout",
        &[
            ("idempotency-key", key),
            ("content-type", "application/json"),
        ],
        Some(text.as_bytes()),
    )
}

fn checkout_from(body: &Value, key: &str, ip: &str) -> Reply {
    post_json(
        "/checkout",
        body,
        &[("idempotency-key", key), ("cf-connecting-ip", ip)],
    )
}

fn dev_tick() -> Value {
    let tick = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
    assert_eq!(tick.status, 200, "scheduled job: {}", tick.body);
    tick.json()
}

fn orders_for_cart(cart: &str) -> i64 {
    primary()
        .query_one("SELECT count(*) FROM orders WHERE cart_id = $1", &[&cart])
        .unwrap()
        .get(0)
}

fn keys_for_cart(cart: &str) -> i64 {
    primary()
        .query_one(
            "SELECT count(*) FROM idempotency_keys WHERE scope = 'checkout' AND cart_id = $1",
            &[&cart],
        )
        .unwrap()
        .get(0)
}

fn stored_fingerprint(cart: &str, key: &str) -> String {
    primary()
        .query_one(
            "SELECT fingerprint FROM idempotency_keys
              WHERE scope = 'checkout' AND cart_id = $1 AND key = $2",
            &[&cart, &key],
        )
        .unwrap()
        .get(0)
}

fn sha256_hex(text: &str) -> String {
    primary()
        .query_one(
            "SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')",
            &[&text],
        )
        .unwrap()
        .get(0)
}

fn store_and_sku(price: &str, units: i32) -> (Store, String) {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku(price, &[(store.warehouses[0], units)]);
    (store, sku)
}

fn is_public_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 30
            && s.starts_with("ord_")
            && s[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

// --- 1. the fingerprint -------------------------------------------------------

#[test]
fn a_retry_differing_only_in_formatting_replays() {
    let (store, sku) = store_and_sku("3.00", 20);
    let cart = store.cart_with(&sku, 1);
    let key = unique("k");
    let email = fresh_email();
    let compact = json!({
        "cart_id": cart, "email": email, "shipping_address": address("CA", "94110"),
        "region": "US-CA", "date_of_birth": "1990-05-01", "delivery": "asap",
    })
    .to_string();
    let first = checkout_raw(&compact, &key);
    assert_eq!(first.status, 201, "{}", first.body);

    // Other whitespace, other key order, padded values, the domain in capitals.
    let (local, domain) = email.split_once('@').unwrap();
    let reformatted = format!(
        "{{\n  \"delivery\" : \"asap\",\n  \"region\":\"US-CA\",\n  \"email\": \"  {local}@{} \",\n  \
         \"shipping_address\": {{\"country\":\"US\", \"postal_code\":\"94110\", \"state\":\"CA\",\n    \
         \"city\":\" Somewhere\", \"line1\":\"1 Main St  \", \"name\":\"Ada Lovelace\"}},\n  \
         \"date_of_birth\": \"1990-05-01\",\n  \"cart_id\": \"{cart}\"\n}}\n",
        domain.to_ascii_uppercase()
    );
    let again = checkout_raw(&reformatted, &key);
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json());

    // Another body with the same key on the same cart is still refused.
    let other = compact.replace("Ada Lovelace", "Eve");
    let r = checkout_raw(&other, &key);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "idempotency_key_reused")
    );
    assert_eq!(orders_for_cart(&cart), 1);
}

#[test]
fn the_stored_fingerprint_does_not_reveal_the_birth_date() {
    let (store, sku) = store_and_sku("3.00", 20);
    let cart = store.cart_with(&sku, 1);
    let key = unique("k");
    let b = body(&cart);
    let first = checkout(&b, &key);
    assert_eq!(first.status, 201, "{}", first.body);

    let stored = stored_fingerprint(&cart, &key);
    assert_eq!(stored.len(), 64);
    // Not the SHA-256 of the body, sent or canonical: one could try every
    // birth date against that.
    assert_ne!(stored, sha256_hex(&b.to_string()));
    assert_ne!(
        stored,
        sha256_hex(&serde_json::to_string_pretty(&b).unwrap())
    );
    let row: String = primary()
        .query_one(
            "SELECT row_to_json(k)::text FROM idempotency_keys k
              WHERE scope = 'checkout' AND cart_id = $1 AND key = $2",
            &[&cart, &key],
        )
        .unwrap()
        .get(0);
    assert!(!row.contains("1990"), "no birth date stored: {row}");

    // Another birth date with the same outcome (21 or over) is the same
    // request: it replays, and the stored fingerprint cannot tell them apart.
    let mut older = b.clone();
    older["date_of_birth"] = json!("1951-11-30");
    let again = checkout(&older, &key);
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json()["order_id"], first.json()["order_id"]);
    assert_eq!(stored_fingerprint(&cart, &key), stored);

    // An under-age birth date is not a retry of that checkout (it cannot
    // be fingerprinted without passing the age check): it gets the refusal
    // of the closed cart, and no stored answer.
    let mut young = b.clone();
    young["date_of_birth"] = json!("2015-01-01");
    let r = checkout(&young, &key);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "cart_already_checked_out")
    );
    // On an open cart it is the age check's refusal.
    let open = store.cart_with(&sku, 1);
    let mut young = body(&open);
    young["date_of_birth"] = json!("2015-01-01");
    let r = checkout(&young, &key);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "age_verification_failed")
    );
    assert_eq!(orders_for_cart(&cart), 1);
}

// --- 2. keys scoped to the cart, expiring after 24 h ------------------------------

#[test]
fn the_same_key_on_two_carts_makes_two_orders() {
    let (store, sku) = store_and_sku("3.00", 20);
    let (a, b) = (store.cart_with(&sku, 1), store.cart_with(&sku, 1));
    let key = unique("shared-key-");
    let ra = checkout(&body(&a), &key);
    let rb = checkout(&body(&b), &key);
    assert_eq!(ra.status, 201, "{}", ra.body);
    assert_eq!(rb.status, 201, "{}", rb.body);
    assert!(rb.header("idempotent-replayed").is_none());
    assert_ne!(ra.json()["order_id"], rb.json()["order_id"]);
    assert_eq!((orders_for_cart(&a), orders_for_cart(&b)), (1, 1));
    assert_eq!((keys_for_cart(&a), keys_for_cart(&b)), (1, 1));
    assert_eq!(stock_of(&sku), vec![(store.warehouses[0], 20, 2)]);
}

#[test]
fn keys_expire_after_a_day_and_a_late_retry_is_told_the_cart_is_checked_out() {
    let (store, sku) = store_and_sku("3.00", 20);
    let (old, recent) = (store.cart_with(&sku, 1), store.cart_with(&sku, 1));
    let (key_old, key_recent) = (unique("k"), unique("k"));
    let (b_old, b_recent) = (body(&old), body(&recent));
    assert_eq!(checkout(&b_old, &key_old).status, 201);
    assert_eq!(checkout(&b_recent, &key_recent).status, 201);
    let age = |cart: &str, key: &str, hours: i32| {
        primary()
            .execute(
                "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $3)
                  WHERE scope = 'checkout' AND cart_id = $1 AND key = $2",
                &[&cart, &key, &hours],
            )
            .unwrap()
    };
    assert_eq!(age(&old, &key_old, 25), 1);
    assert_eq!(age(&recent, &key_recent, 23), 1);

    let tick = dev_tick();
    assert!(
        tick["idempotency_keys_expired"].as_u64().unwrap() >= 1,
        "{tick}"
    );
    assert_eq!(keys_for_cart(&old), 0, "the day-old key is gone");
    assert_eq!(keys_for_cart(&recent), 1, "a younger key stays");

    let late = checkout(&b_old, &key_old);
    assert_eq!(
        (late.status, late.error_code().as_str()),
        (409, "cart_already_checked_out")
    );
    let r = checkout(&b_recent, &key_recent);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(orders_for_cart(&old), 1);
}

// --- 3. opaque public order ids ---------------------------------------------

#[test]
fn order_ids_are_opaque_strings_and_old_records_still_replay() {
    let (store, sku) = store_and_sku("3.00", 20);
    let cart = store.cart_with(&sku, 1);
    let key = unique("k");
    let b = body(&cart);
    let r = checkout(&b, &key);
    assert_eq!(r.status, 201, "{}", r.body);
    let order = r.json();
    assert!(is_public_id(&order["order_id"]), "{}", order["order_id"]);
    let public = order["order_id"].as_str().unwrap().to_string();
    let mut db = primary();
    let (id, stored_public): (i64, String) = db
        .query_one(
            "SELECT id, public_id FROM orders WHERE cart_id = $1",
            &[&cart],
        )
        .map(|row| (row.get(0), row.get(1)))
        .unwrap();
    assert_eq!(stored_public, public);
    assert!(
        !r.body.contains(&format!(":{id},")) && !r.body.contains(&format!(":{id}}}")),
        "the row id is not in the answer: {}",
        r.body
    );
    // Two orders' ids share nothing that counts up.
    let other = checkout(&body(&store.cart_with(&sku, 1)), &unique("k"));
    assert!(is_public_id(&other.json()["order_id"]));
    assert_ne!(other.json()["order_id"], order["order_id"]);

    // A record stored before public ids ({order_id: bigint, ...} without
    // public_id) replays with the public id.
    db.execute(
        "UPDATE idempotency_keys SET response = response - 'public_id'
          WHERE scope = 'checkout' AND cart_id = $1 AND key = $2",
        &[&cart, &key],
    )
    .unwrap();
    let again = checkout(&b, &key);
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.json(), order);

    // The oldest records held the whole answer, bigint id included, and a
    // fingerprint that was the SHA-256 of the canonical body: still replayed,
    // with the public id.
    let legacy_answer = json!({"order_id": id, "status": "pending_payment", "cart_id": cart,
                               "totals": order["totals"]});
    db.execute(
        "UPDATE idempotency_keys SET response = $3::text::jsonb, fingerprint = $4
          WHERE scope = 'checkout' AND cart_id = $1 AND key = $2",
        &[
            &cart,
            &key,
            &legacy_answer.to_string(),
            &sha256_hex(&b.to_string()),
        ],
    )
    .unwrap();
    let again = checkout(&b, &key);
    assert_eq!(again.status, 201, "{}", again.body);
    let v = again.json();
    assert_eq!(v["order_id"], public.as_str());
    assert_eq!(v["totals"], order["totals"]);
    assert!(v.get("public_id").is_none());
    let mut other_body = b.clone();
    other_body["shipping_address"]["name"] = json!("Eve");
    let r = checkout(&other_body, &key);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "idempotency_key_reused")
    );
}

// --- 4. caps against stock hoarding --------------------------------------------

#[test]
fn a_line_over_the_units_cap_is_422_and_writes_nothing() {
    let (store, sku) = store_and_sku("1.00", 50);
    let cart = store.cart_with(&sku, 11);
    let r = checkout(&body(&cart), &unique("k"));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "quantity_limit_exceeded"),
        "{}",
        r.body
    );
    let e = &r.json()["error"];
    assert_eq!(
        (e["sku"].as_str(), e["max_quantity"].as_u64()),
        (Some(sku.as_str()), Some(10))
    );
    assert_eq!((orders_for_cart(&cart), keys_for_cart(&cart)), (0, 0));
    assert_eq!(stock_of(&sku), vec![(store.warehouses[0], 50, 0)]);
    // Ten is fine.
    let ok = checkout(&body(&store.cart_with(&sku, 10)), &unique("k"));
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[test]
fn an_email_holds_at_most_three_pending_orders() {
    let (store, sku) = store_and_sku("1.00", 50);
    let email = fresh_email();
    let go = || {
        let cart = store.cart_with(&sku, 1);
        let mut b = body(&cart);
        b["email"] = json!(email);
        (cart, checkout(&b, &unique("k")))
    };
    let mut carts = Vec::new();
    for _ in 0..3 {
        let (cart, r) = go();
        assert_eq!(r.status, 201, "{}", r.body);
        carts.push(cart);
    }
    let (refused, r) = go();
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "too_many_pending_orders"),
        "{}",
        r.body
    );
    let e = &r.json()["error"];
    assert_eq!(
        (e["limit"].as_str(), e["max_pending_orders"].as_u64()),
        (Some("email"), Some(3))
    );
    assert_eq!((orders_for_cart(&refused), keys_for_cart(&refused)), (0, 0));
    // The same address in other capitals is the same email.
    let cart = store.cart_with(&sku, 1);
    let mut b = body(&cart);
    b["email"] = json!(email.to_ascii_uppercase());
    let r = checkout(&b, &unique("k"));
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "too_many_pending_orders")
    );

    // An order whose reservation ran out no longer counts.
    primary()
        .execute(
            "UPDATE orders SET reservation_expires_at = now() - interval '1 second' WHERE cart_id = $1",
            &[&carts[0]],
        )
        .unwrap();
    let (_, r) = go();
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_client_holds_at_most_five_pending_orders_and_its_address_is_not_stored() {
    let (store, sku) = store_and_sku("1.00", 50);
    let ip = fresh_client_ip();
    let go = || {
        let cart = store.cart_with(&sku, 1);
        (cart.clone(), checkout_from(&body(&cart), &unique("k"), &ip))
    };
    let mut carts = Vec::new();
    for _ in 0..5 {
        let (cart, r) = go();
        assert_eq!(r.status, 201, "{}", r.body);
        carts.push(cart);
    }
    let (refused, r) = go();
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "too_many_pending_orders"),
        "{}",
        r.body
    );
    let e = &r.json()["error"];
    assert_eq!(
        (e["limit"].as_str(), e["max_pending_orders"].as_u64()),
        (Some("client"), Some(5))
    );
    assert_eq!(orders_for_cart(&refused), 0);
    // Another client is not affected.
    let other = store.cart_with(&sku, 1);
    assert_eq!(checkout(&body(&other), &unique("k")).status, 201);

    let rows = primary()
        .query(
            "SELECT client_ip_hash, row_to_json(o)::text FROM orders o WHERE cart_id = ANY($1)",
            &[&carts],
        )
        .unwrap();
    assert_eq!(rows.len(), 5);
    let hash: String = rows[0].get(0);
    assert_eq!(hash.len(), 32);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    for row in &rows {
        assert_eq!(row.get::<_, String>(0), hash, "one client, one hash");
        assert!(
            !row.get::<_, String>(1).contains(&ip),
            "the raw address is not stored"
        );
    }
}

// --- 5. place_order checks the totals -----------------------------------------------

/// A `place_order` input as checkout would send it for one line.
fn direct_input(store: &Store, sku: &str, cart: &str, key: &str) -> Value {
    json!({
        "idempotency_key": key,
        "fingerprint": "f".repeat(64),
        "legacy_fingerprint": "",
        "client_ip_hash": null,
        "max_pending_orders_per_email": 3,
        "max_pending_orders_per_client": 5,
        "tax_rate": "0.0725",
        "minor_digits": 2,
        "store_id": store.id,
        "email": fresh_email(),
        "shipping_address": address("CA", "94110"),
        "age": null,
        "reservation_minutes": 15,
        "order": {
            "cart_id": cart, "region": "US-CA", "currency": "USD",
            "lines": [{"line_no": 1, "sku": sku, "name": "x", "quantity": 2,
                       "unit_price": "2.00", "line_total": "4.00"}],
            // 4.00 * 0.0725 = 0.29
            "totals": {"subtotal": "4.00", "tax": "0.29", "total": "4.29"},
            "delivery": {"window_start": "2026-06-10T19:00:00Z",
                         "window_end": "2026-06-10T20:00:00Z", "rescheduled": false},
            "age_verification": null
        }
    })
}

fn place_order_directly(input: &Value) -> Value {
    let text: String = primary()
        .query_one(
            "SELECT place_order($1::text::jsonb)::text",
            &[&input.to_string()],
        )
        .unwrap()
        .get(0);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn place_order_refuses_totals_that_do_not_add_up_and_writes_nothing() {
    let (store, sku) = store_and_sku("2.00", 20);
    let breakages: Vec<(&str, Box<dyn Fn(&mut Value)>)> = vec![
        (
            "line total",
            Box::new(|v| v["order"]["lines"][0]["line_total"] = json!("3.00")),
        ),
        (
            "subtotal",
            Box::new(|v| v["order"]["totals"]["subtotal"] = json!("3.99")),
        ),
        (
            "tax",
            Box::new(|v| v["order"]["totals"]["tax"] = json!("0.28")),
        ),
        (
            "total",
            Box::new(|v| v["order"]["totals"]["total"] = json!("4.30")),
        ),
        // 0.29 is right at 7.25 %, not at 7 % (0.28).
        ("rate", Box::new(|v| v["tax_rate"] = json!("0.07"))),
        ("no rate", Box::new(|v| v["tax_rate"] = Value::Null)),
    ];
    for (what, breaks) in &breakages {
        let cart = format!("{:0>32}", unique("").to_ascii_lowercase());
        let key = unique("k");
        let mut input = direct_input(&store, &sku, &cart, &key);
        breaks(&mut input);
        let out = place_order_directly(&input);
        assert_eq!(out["refused"]["code"], "totals_mismatch", "{what}: {out}");
        assert_eq!(
            (orders_for_cart(&cart), keys_for_cart(&cart)),
            (0, 0),
            "{what}: nothing written"
        );
    }
    assert_eq!(stock_of(&sku), vec![(store.warehouses[0], 20, 0)]);

    // Half up to the cent: 2 x 1.00 at 7.25 % is 0.145 -> 0.15.
    let cart = format!("{:0>32}", unique("").to_ascii_lowercase());
    let mut input = direct_input(&store, &sku, &cart, &unique("k"));
    input["order"]["lines"][0]["unit_price"] = json!("1.00");
    input["order"]["lines"][0]["line_total"] = json!("2.00");
    input["order"]["totals"] = json!({"subtotal": "2.00", "tax": "0.14", "total": "2.14"});
    assert_eq!(
        place_order_directly(&input)["refused"]["code"],
        "totals_mismatch"
    );
    // (The variant costs 2.00, so the right totals for 1.00 are refused for the price.)
    input["order"]["totals"] = json!({"subtotal": "2.00", "tax": "0.15", "total": "2.15"});
    assert_eq!(
        place_order_directly(&input)["refused"]["code"],
        "price_changed"
    );

    // The same input with the right totals goes through and keeps the rate.
    let cart = format!("{:0>32}", unique("").to_ascii_lowercase());
    let out = place_order_directly(&direct_input(&store, &sku, &cart, &unique("k")));
    assert!(is_public_id(&out["placed"]["public_id"]), "{out}");
    let rate: String = primary()
        .query_one(
            "SELECT tax_rate::text FROM orders WHERE cart_id = $1",
            &[&cart],
        )
        .unwrap()
        .get(0);
    assert_eq!(rate, "0.072500");
}

#[test]
fn a_price_change_in_flight_holds_the_checkout_until_it_commits() {
    let (store, sku) = store_and_sku("5.00", 20);
    let cart = store.cart_with(&sku, 1);
    let mut db = primary();
    let mut tx = db.transaction().unwrap();
    tx.execute("UPDATE variants SET price = 6.00 WHERE sku = $1", &[&sku])
        .unwrap();
    let b = body(&cart);
    let pending = std::thread::spawn(move || checkout(&b, &unique("k")));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !pending.is_finished(),
        "the checkout waits for the price change (FOR SHARE)"
    );
    tx.commit().unwrap();
    let r = pending.join().unwrap();
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "price_changed"),
        "{}",
        r.body
    );
    assert_eq!(orders_for_cart(&cart), 0);
}

// --- 6. input rules ----------------------------------------------------------------

#[test]
fn bad_emails_and_hidden_characters_are_400_and_write_nothing() {
    let (store, sku) = store_and_sku("1.00", 20);
    let cart = store.cart_with(&sku, 1);
    for email in [
        "\"><img@x.io",
        "x@y.com;bcc",
        "x@y.com;bcc=eve@example.com",
        "ada lovelace@example.com",
        "\"ada\"@example.com",
        "ada@example.com\r\nBcc: eve@example.com",
        &format!("{}@example.com", "a".repeat(243)),
    ] {
        let mut b = body(&cart);
        b["email"] = json!(email);
        let r = checkout(&b, &unique("k"));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_email"),
            "{email:?}: {}",
            r.body
        );
    }
    for (field, value) in [
        ("name", "Ada \u{202E}ecalevoL"),
        ("name", "Ada\u{200B}Lovelace"),
        ("line1", "1 Main\u{2066} St"),
        ("line2", "\u{FEFF}Apt 4"),
        ("city", "Some\u{0000}where"),
        ("city", "Some\u{2060}where"),
        ("name", &"A".repeat(101)),
    ] {
        let mut b = body(&cart);
        b["shipping_address"][field] = json!(value);
        let r = checkout(&b, &unique("k"));
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invalid_address"),
            "{field} {value:?}: {}",
            r.body
        );
        assert!(r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(field));
    }
    assert_eq!((orders_for_cart(&cart), keys_for_cart(&cart)), (0, 0));

    // The domain is stored in lower case, the address trimmed.
    let local = format!("Ada.{}", unique(""));
    let mut b = body(&cart);
    b["email"] = json!(format!("  {local}@Example.COM "));
    let r = checkout(&b, &unique("k"));
    assert_eq!(r.status, 201, "{}", r.body);
    let email: String = primary()
        .query_one("SELECT email FROM orders WHERE cart_id = $1", &[&cart])
        .unwrap()
        .get(0);
    assert_eq!(email, format!("{local}@example.com"));
}

// --- 7. races on the real stack --------------------------------------------------

#[test]
fn one_key_with_different_bodies_in_parallel_makes_exactly_one_order() {
    let (store, sku) = store_and_sku("2.00", 50);
    let cart = store.cart_with(&sku, 1);
    let key = unique("race-");
    let replies = {
        let (cart, key) = (cart.clone(), key.clone());
        concurrently(10, move |_| checkout(&body(&cart), &key))
    };
    let placed = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        placed,
        1,
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (422, "idempotency_key_reused"),
            "{}",
            r.body
        );
    }
    assert_eq!(orders_for_cart(&cart), 1);
    assert_eq!(stock_of(&sku), vec![(store.warehouses[0], 50, 1)]);
}

#[test]
fn the_expiry_job_racing_checkouts_neither_deadlocks_nor_loses_stock() {
    let store = Store::create("US-CA", 2);
    let (w0, w1) = (store.warehouses[0], store.warehouses[1]);
    let sku = fresh_sku("1.00", &[(w0, 12), (w1, 12)]);
    let expire_held = |carts: Option<&Vec<String>>| {
        primary()
            .execute(
                "UPDATE reservations r SET expires_at = now() - interval '1 second'
                   FROM orders o, variants v
                  WHERE o.id = r.order_id AND v.id = r.variant_id AND v.sku = $1
                    AND r.status = 'held' AND ($2::text[] IS NULL OR o.cart_id = ANY($2))",
                &[&sku, &carts],
            )
            .unwrap()
    };
    for round in 0..3 {
        // The stock is free again (the carts are filled against it), ...
        expire_held(None);
        dev_tick();
        wait_replica_caught_up();
        let old: Vec<String> = (0..4).map(|_| store.cart_with(&sku, 2)).collect();
        let carts: Vec<String> = (0..12).map(|_| store.cart_with(&sku, 2)).collect();
        // ... then orders whose reservations have just run out, for the job to
        // release while new checkouts lock the same inventory rows.
        for cart in &old {
            let r = checkout(&body(cart), &unique("k"));
            assert!(
                r.status == 201 || (r.status == 409 && r.error_code() == "out_of_stock"),
                "round {round}: {}",
                r.body
            );
        }
        expire_held(Some(&old));
        let replies = concurrently(16, move |i| {
            if i % 4 == 3 {
                let tick = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
                (tick.status, tick.body)
            } else {
                let cart = &carts[i - i / 4];
                let r = checkout(&body(cart), &unique("k"));
                (r.status, r.body)
            }
        });
        for (i, (status, text)) in replies.iter().enumerate() {
            let ok = match i % 4 {
                3 => *status == 200,
                _ => *status == 201 || (*status == 409 && text.contains("\"out_of_stock\"")),
            };
            assert!(ok, "round {round}, request {i}: {status} {text}");
        }
    }
    // The stock agrees with the reservations that still hold it.
    let rows = primary()
        .query(
            "SELECT il.warehouse_id, il.reserved::bigint,
                    (SELECT coalesce(sum(r.quantity), 0) FROM reservations r
                      WHERE r.variant_id = il.variant_id AND r.warehouse_id = il.warehouse_id
                        AND r.status = 'held')::bigint
               FROM inventory_levels il JOIN variants v ON v.id = il.variant_id
              WHERE v.sku = $1 ORDER BY 1",
            &[&sku],
        )
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let (w, reserved, held): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            reserved, held,
            "warehouse {w}: reserved = held reservations"
        );
    }
}

//! The cart, through the edge: carts in KV behind one Durable Object each,
//! prices from the database, totals on the server.

mod support;

use std::collections::BTreeSet;

use serde_json::json;
use support::*;

#[test]
fn a_new_cart_is_empty_has_an_unguessable_id_and_version_one() {
    let store = Store::create("US-CA", 1);
    let r = post_json(
        "/cart",
        &json!({"store_id": store.id, "region": "US-CA"}),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let cart = r.json();
    let id = cart["id"].as_str().unwrap();
    assert_eq!(id.len(), 32, "128 bits as hex");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r.header("location"), Some(format!("/cart/{id}").as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    assert_eq!(cart["currency"], "USD");
    assert_eq!(cart["lines"], json!([]));
    assert_eq!(
        (
            cart["subtotal"].as_str(),
            cart["tax"].as_str(),
            cart["total"].as_str()
        ),
        (Some("0.00"), Some("0.00"), Some("0.00"))
    );
    let again = store.new_cart();
    assert_ne!(again, id);

    let fetched = get(&format!("/cart/{id}"));
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), cart);
}

#[test]
fn prices_come_from_the_database_and_totals_from_the_server() {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("2.00", &[(store.warehouses[0], 50)]);
    let cart = store.new_cart();
    // A client cannot send a price: the body names only sku and quantity, and
    // anything else is refused before the cart changes.
    let r = post_json(
        &format!("/cart/{cart}/items"),
        &json!({"sku": sku, "quantity": 1, "unit_price": "0.01", "total": "0.00"}),
        &[],
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "unknown_field"),
        "{}",
        r.body
    );
    assert_eq!(
        get(&format!("/cart/{cart}")).json()["version"],
        1,
        "unchanged"
    );
    let r = post_json(
        &format!("/cart/{cart}/items"),
        &json!({"sku": sku, "quantity": 1}),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let c = r.json();
    assert_eq!(c["lines"][0]["unit_price"], "2.00");
    assert_eq!(c["lines"][0]["line_total"], "2.00");
    // 2.00 * 0.0725 = 0.145: half-up to 0.15 (banker's rounding would give 0.14).
    assert_eq!(
        (
            c["subtotal"].as_str(),
            c["tax"].as_str(),
            c["total"].as_str()
        ),
        (Some("2.00"), Some("0.15"), Some("2.15"))
    );
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(
        r.header("x-db-statements"),
        Some("1"),
        "one pricing statement per change"
    );

    // A price change in the database shows on the next read.
    primary()
        .execute("UPDATE variants SET price = 3.00 WHERE sku = $1", &[&sku])
        .unwrap();
    wait_replica_caught_up();
    let c = get(&format!("/cart/{cart}")).json();
    assert_eq!(c["lines"][0]["unit_price"], "3.00");
    assert_eq!(c["total"], "3.22"); // 3.00 + 0.2175 -> 0.22
}

#[test]
fn colorado_carts_are_taxed_at_colorados_rate() {
    let store = Store::create("US-CO", 1);
    let sku = fresh_sku("10.00", &[(store.warehouses[0], 50)]);
    let cart = store.cart_with(&sku, 3);
    let c = get(&format!("/cart/{cart}")).json();
    // 30.00 * 0.029 = 0.87
    assert_eq!(
        (
            c["subtotal"].as_str(),
            c["tax"].as_str(),
            c["total"].as_str()
        ),
        (Some("30.00"), Some("0.87"), Some("30.87"))
    );
}

#[test]
fn lines_are_added_to_changed_and_removed() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "1.50", &[(store.warehouses[0], 40)]);
    let cart = store.new_cart();
    add_item(&cart, &skus[0], 2);
    let r = add_item(&cart, &skus[0], 3);
    assert_eq!(
        r.json()["lines"][0]["quantity"],
        5,
        "adding again sums the line"
    );
    add_item(&cart, &skus[1], 1);

    let patch = |sku: &str, q: serde_json::Value| {
        request(
            "PATCH",
            &format!("/cart/{cart}/items/{sku}"),
            &[("content-type", "application/json")],
            Some(json!({"quantity": q}).to_string().as_bytes()),
        )
    };
    let r = patch(&skus[0], json!(7));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["lines"][0]["quantity"], 7);
    let r = patch(&skus[0], json!(0));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["lines"].as_array().unwrap().len(),
        1,
        "0 removes the line"
    );

    let r = request(
        "DELETE",
        &format!("/cart/{cart}/items/{}", skus[1]),
        &[],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["lines"], json!([]));
    let r = request(
        "DELETE",
        &format!("/cart/{cart}/items/{}", skus[1]),
        &[],
        None,
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "line_not_found"));
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let store = Store::create("US-CA", 2);
    let (w0, w1) = (store.warehouses[0], store.warehouses[1]);
    let sku = fresh_sku("1.00", &[(w0, 5), (w1, 2)]);
    let cart = store.cart_with(&sku, 1);
    let before = get(&format!("/cart/{cart}")).json();
    let items = format!("/cart/{cart}/items");
    let raw = |body: &str| {
        request(
            "POST",
            &items,
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    };

    for (reply, status, code) in [
        (raw("{\"sku\":"), 400, "invalid_json"),
        (raw("[1,2]"), 400, "invalid_json"),
        (
            post_json(&items, &json!({"sku": sku}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": 0}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": -3}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": 100}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": 1e12}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": "2"}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": sku, "quantity": 1.5}), &[]),
            400,
            "invalid_quantity",
        ),
        (
            post_json(&items, &json!({"sku": "lower-case", "quantity": 1}), &[]),
            400,
            "invalid_sku",
        ),
        (
            post_json(&items, &json!({"sku": "NO-SUCH-SKU-1", "quantity": 1}), &[]),
            404,
            "sku_not_found",
        ),
        // 7 in the store (5 + 2), 1 already in the cart.
        (add_item(&cart, &sku, 7), 409, "insufficient_stock"),
        (add_item(&"0".repeat(32), &sku, 1), 404, "cart_not_found"),
        (add_item("not-a-cart", &sku, 1), 404, "cart_not_found"),
        (
            request("PUT", &items, &[], Some(b"{}")),
            405,
            "method_not_allowed",
        ),
    ] {
        assert_eq!(reply.status, status, "{code}: {}", reply.body);
        assert_eq!(reply.error_code(), code);
    }
    let r = add_item(&cart, &sku, 7);
    assert_eq!(
        r.json()["error"]["available"],
        7,
        "409 carries the available count"
    );
    assert_eq!(
        get(&format!("/cart/{cart}")).json(),
        before,
        "nothing changed"
    );
}

#[test]
fn carts_are_opened_only_for_a_real_store_in_its_region() {
    let california = Store::create("US-CA", 0).id;
    for (body, status, code) in [
        (
            json!({"store_id": california, "region": "US-CO"}),
            422,
            "region_mismatch",
        ),
        (
            json!({"store_id": california, "region": "US-ZZ"}),
            422,
            "unknown_region",
        ),
        (
            json!({"store_id": california, "region": "California"}),
            400,
            "invalid_region",
        ),
        (
            json!({"store_id": 999999, "region": "US-CA"}),
            422,
            "unknown_store",
        ),
        (
            json!({"store_id": -1, "region": "US-CA"}),
            400,
            "invalid_store_id",
        ),
        (json!({"region": "US-CA"}), 400, "invalid_store_id"),
    ] {
        let r = post_json("/cart", &body, &[]);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (status, code),
            "{body}"
        );
    }
}

#[test]
fn a_stale_if_match_is_refused_with_412() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(2, "1.00", &[(store.warehouses[0], 10)]);
    let cart = store.new_cart();
    let r = add_item(&cart, &skus[0], 1);
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(etag, "\"2\"");
    add_item(&cart, &skus[0], 1); // someone else's change: version 3

    let body = json!({"sku": skus[1], "quantity": 1});
    let stale = post_json(
        &format!("/cart/{cart}/items"),
        &body,
        &[("if-match", &etag)],
    );
    assert_eq!(
        (stale.status, stale.error_code().as_str()),
        (412, "precondition_failed")
    );
    let current = post_json(
        &format!("/cart/{cart}/items"),
        &body,
        &[("if-match", "\"3\"")],
    );
    assert_eq!(current.status, 200, "{}", current.body);
    assert_eq!(current.header("etag"), Some("\"4\""));
}

#[test]
fn twenty_concurrent_adds_all_land_or_fail_loudly() {
    let store = Store::create("US-CA", 1);
    let skus = fresh_skus(20, "1.00", &[(store.warehouses[0], 10)]);
    let cart = store.new_cart();
    let results = {
        let (cart, skus) = (cart.clone(), skus.clone());
        concurrently(20, move |i| add_item(&cart, &skus[i], 1))
    };
    let mut expected = BTreeSet::new();
    for (i, r) in results.iter().enumerate() {
        // Either it landed, or its client was told to retry. Never a silent 200 that is lost.
        match r.status {
            200 => {
                expected.insert(skus[i].clone());
            }
            409 | 412 | 429 | 503 => {
                r.error_code();
            }
            other => panic!("add {i}: {other} {}", r.body),
        }
    }
    let cart = get(&format!("/cart/{cart}")).json();
    let present: BTreeSet<String> = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["sku"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(present, expected, "every acknowledged add is in the cart");
    assert_eq!(
        expected.len(),
        20,
        "the single writer serialises them: none had to fail"
    );
    assert_eq!(cart["version"], 21);
}

#[test]
fn carts_rest_in_kv_with_a_thirty_day_expiry() {
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("1.00", &[(store.warehouses[0], 10)]);
    let cart = store.cart_with(&sku, 2);
    // The object copies the cart to KV about ten seconds after a change.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let mut last_error = String::new();
    loop {
        let listed = match kv_list("CARTS", &format!("cart:{cart}")) {
            Ok(listed) => listed,
            Err(e) => {
                last_error = e;
                serde_json::Value::Null
            }
        };
        if let Some(entry) = listed.as_array().and_then(|a| a.first()) {
            let expiration = entry["expiration"].as_i64().expect("an expiration");
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let thirty_days = 30 * 24 * 3600;
            assert!(
                (expiration - now - thirty_days).abs() < 120,
                "expires in {} s, not 30 days",
                expiration - now
            );
            let c = get(&format!("/cart/{cart}")).json();
            assert_eq!(c["lines"][0]["quantity"], 2, "still served after the move");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "cart never reached KV (last wrangler error: {last_error})"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

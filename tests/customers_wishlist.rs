//! The customer's wishlist (spec: .local/spec11.md): one row per SKU, known
//! SKUs only, at most 500, and a back-in-stock email when a wishlisted SKU
//! that had none available is restocked: once per sell-out, through the
//! alerts pipeline (outbox, relay, alerts queue, email provider).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

const WISHLIST: &str = "/customers/me/wishlist";

fn wishlist(c: &Customer) -> Value {
    let r = get_authed(WISHLIST, &c.token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn skus(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {list}"))
        .iter()
        .map(|i| i["sku"].as_str().unwrap().to_string())
        .collect()
}

fn wish(c: &Customer, sku: &str) -> Reply {
    post_authed(WISHLIST, &json!({ "sku": sku }), &c.token)
}

#[test]
fn adding_a_sku_twice_keeps_one_and_unknown_skus_are_404() {
    let c = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("7.00", &[(store.warehouses[0], 5)]);

    let first = wish(&c, &sku);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        skus(&first.json()),
        vec![sku.clone()],
        "the answer is the list"
    );
    assert_eq!(first.json()["count"], 1);
    let again = wish(&c, &sku);
    assert_eq!(again.status, 200, "already there: {}", again.body);
    let list = wishlist(&c);
    assert_eq!(
        (skus(&list), &list["count"]),
        (vec![sku.clone()], &json!(1))
    );
    assert!(list["items"][0]["added_at"].is_string(), "{list}");

    let unknown = format!("{}-0", unique("NOSUCH"));
    let r = wish(&c, &unknown);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "sku_not_found"),
        "{}",
        r.body
    );

    let r = delete_authed(&format!("{WISHLIST}/{sku}"), &c.token);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(wishlist(&c)["count"], 0);
    let r = delete_authed(&format!("{WISHLIST}/{sku}"), &c.token);
    assert_eq!(r.status, 204, "deleting what is not there: {}", r.body);
    assert_unauthenticated(&get(WISHLIST), "no session");
}

#[test]
fn the_five_hundred_and_first_sku_is_409_wishlist_full() {
    let c = signup_verified(None);
    // 500 real SKUs (no stock needed), written straight into the wishlist.
    let many = fresh_skus(500, "1.00", &[]);
    let n = primary()
        .execute(
            "INSERT INTO wishlist_items (customer_id, sku)
             SELECT c.id, s FROM customers c, unnest($2::text[]) s WHERE c.public_id = $1",
            &[&c.public_id, &many],
        )
        .unwrap();
    assert_eq!(n, 500);
    wait_replica_caught_up();
    assert_eq!(wishlist(&c)["count"], 500);

    let store = Store::create("US-CA", 1);
    let one_more = fresh_sku("1.00", &[(store.warehouses[0], 5)]);
    let r = wish(&c, &one_more);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "wishlist_full"),
        "{}",
        r.body
    );
    let list = wishlist(&c);
    assert_eq!(list["count"], 500);
    assert!(!skus(&list).contains(&one_more));
}

fn admin() -> String {
    admin_bearer()
}

fn warehouse_code(id: i64) -> String {
    primary()
        .query_one("SELECT code FROM warehouses WHERE id = $1", &[&id])
        .unwrap()
        .get(0)
}

/// `delta` units of `sku` into the warehouse, as staff (must apply).
fn restock(sku: &str, warehouse: &str, delta: i64) {
    let r = post_json(
        "/admin/inventory/adjustments",
        &json!({"adjustments": [{"external_ref": unique("restock-"), "sku": sku, "warehouse": warehouse,
                                 "delta": delta, "reason": "integration test"}]}),
        &[("authorization", &admin())],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["results"][0]["outcome"], "applied", "{}", r.body);
}

/// The mails `email` got that name `sku`.
fn stock_mails(email: &str, sku: &str) -> Vec<Value> {
    mail_to(email)
        .into_iter()
        .filter(|m| mail_text(m).contains(sku))
        .collect()
}

/// Waits (up to 30 s, nudging the alerts pipeline) for the `n`th mail
/// naming `sku`; all of them.
fn wait_for_stock_mails(email: &str, sku: &str, n: usize) -> Vec<Value> {
    let mut tries = 0;
    eventually(30, || {
        tries += 1;
        if tries % 20 == 1 {
            nudge_alerts();
        }
        let m = stock_mails(email, sku);
        (m.len() >= n).then_some(m)
    })
    .unwrap_or_else(|| {
        panic!(
            "{email} got no back-in-stock mail #{n} for {sku}: {:?}",
            mail_to(email)
        )
    })
}

/// The pipeline run and a wait, then the mails naming `sku`.
fn settled_stock_mails(email: &str, sku: &str) -> Vec<Value> {
    nudge_alerts();
    std::thread::sleep(Duration::from_secs(3));
    nudge_alerts();
    std::thread::sleep(Duration::from_secs(2));
    stock_mails(email, sku)
}

#[test]
fn a_restock_of_a_wishlisted_sku_mails_the_shopper_once_per_sell_out() {
    let shopper = signup_verified(None);
    let bystander = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let w = store.warehouses[0];
    let code = warehouse_code(w);
    let sku = fresh_sku("6.00", &[(w, 0)]);
    assert_eq!(wish(&shopper, &sku).status, 201);

    // None available -> 10: one mail to the shopper, naming the SKU.
    restock(&sku, &code, 10);
    let mails = wait_for_stock_mails(&shopper.email, &sku, 1);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["to"], json!([shopper.email]));

    // More stock while some is available: nothing new.
    restock(&sku, &code, 5);
    assert_eq!(
        settled_stock_mails(&shopper.email, &sku).len(),
        1,
        "no mail for a restock in stock"
    );

    // Sold out (15 reserved by checkouts), then restocked: one more mail.
    for quantity in [10, 5] {
        let cart = store.cart_with(&sku, quantity);
        let r = post_json(
            "/checkout",
            &checkout_body(&cart),
            &[("idempotency-key", &unique("k"))],
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    assert_eq!(stock_of(&sku), vec![(w, 15, 15)], "none available");
    restock(&sku, &code, 2);
    let mails = wait_for_stock_mails(&shopper.email, &sku, 2);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(
        settled_stock_mails(&shopper.email, &sku).len(),
        2,
        "still two"
    );
    assert!(
        stock_mails(&bystander.email, &sku).is_empty(),
        "only who wishlisted it"
    );
}

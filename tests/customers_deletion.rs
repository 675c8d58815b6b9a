//! Deleting an account (spec: .local/spec11.md, `DELETE /customers/me`):
//! refused while an order is in progress; afterwards the email is in no
//! table of the database, the orders stay with their totals (the books need
//! them), and the account's sessions and password are dead. The export
//! before it shows what is kept about the customer.

mod support;

use serde_json::json;
use support::*;

/// Tables of schema public whose rows, as text, contain `needle`
/// (case-insensitive), with how many.
fn tables_holding(needle: &str) -> Vec<(String, i64)> {
    let mut db = primary();
    let tables: Vec<String> = db
        .query(
            "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.iter().any(|t| t == "customers"), "{tables:?}");
    tables
        .into_iter()
        .filter_map(|t| {
            let sql = format!(
                "SELECT count(*) FROM public.\"{t}\" AS x WHERE x::text ILIKE '%' || $1 || '%'"
            );
            let n: i64 = db.query_one(&sql, &[&needle]).unwrap().get(0);
            (n > 0).then_some((t, n))
        })
        .collect()
}

/// (count, sum of totals as text) of these orders.
fn order_totals(ids: &[String]) -> (i64, String) {
    let row = primary()
        .query_one(
            "SELECT count(*), coalesce(sum(total), 0)::text FROM orders WHERE public_id = ANY($1)",
            &[&ids],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn deleting_an_account_erases_its_email_everywhere_and_keeps_the_orders() {
    let c = signup_verified(None);
    let store = Store::create("US-CA", 1);
    let sku = fresh_sku("9.00", &[(store.warehouses[0], 10)]);
    // An order placed with the account's own email, and a wishlist.
    let cart = store.cart_with(&sku, 2);
    let r = checkout_as(&c.token, &checkout_body_for(&cart, &c.email));
    assert_eq!(r.status, 201, "{}", r.body);
    let order = r.json()["order_id"].as_str().unwrap().to_string();
    let wished = fresh_sku("3.00", &[(store.warehouses[0], 10)]);
    assert_eq!(
        post_authed("/customers/me/wishlist", &json!({"sku": wished}), &c.token).status,
        201
    );
    assert!(
        !tables_holding(&c.email).is_empty(),
        "the email is stored before"
    );

    // An order awaiting payment is in progress: not yet.
    let r = delete_authed("/customers/me", &c.token);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "orders_in_progress"),
        "{}",
        r.body
    );
    assert_eq!(me(&c.token).status, 200, "still there");
    let r = post_json(
        &format!("/admin/orders/{order}/cancel"),
        &json!({"reason": "the shopper asked"}),
        &[("authorization", &admin_bearer())],
    );
    assert_eq!(r.status, 200, "cancel: {}", r.body);

    // What the export says before: the profile, the order with its lines, the wishlist.
    wait_replica_caught_up();
    let export = get_authed("/customers/me/export", &c.token);
    assert_eq!(export.status, 200, "{}", export.body);
    let e = export.json();
    assert_eq!(e["customer"]["email"], c.email.as_str());
    let orders = e["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("orders: {e}"));
    let exported = orders
        .iter()
        .find(|o| o["id"] == order.as_str())
        .unwrap_or_else(|| panic!("{order} in the export: {e}"));
    assert_eq!(exported["status"], "cancelled");
    assert_eq!(exported["lines"][0]["sku"], sku.as_str(), "{exported}");
    assert!(
        e["wishlist"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["sku"] == wished.as_str()),
        "{e}"
    );
    assert!(e.get("loyalty").is_some_and(|l| l.is_array()), "{e}");
    assert!(e.get("saved_cart_id").is_some(), "{e}");

    let ids = vec![order.clone()];
    let before = order_totals(&ids);
    assert_eq!(before.0, 1);

    let r = delete_authed("/customers/me", &c.token);
    assert_eq!(r.status, 204, "{}", r.body);

    let left = tables_holding(&c.email);
    assert!(left.is_empty(), "tables still holding the email: {left:?}");
    assert_eq!(
        order_totals(&ids),
        before,
        "the orders stay, totals and all"
    );
    assert_unauthenticated(&me(&c.token), "the deleted account's session");
    let r = login(&c.email, &c.password);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "invalid_credentials"),
        "{}",
        r.body
    );

    // The address is free again: a signup with it is a new account's.
    let seen = link_tokens(&c.email, "verify");
    assert_eq!(signup(&c.email, &fresh_password(), "Ada").status, 202);
    let token = wait_for_link(&c.email, "verify", &seen);
    assert_ne!(
        link_payload(&token).unwrap()["c"],
        c.public_id.as_str(),
        "a new account"
    );
}

//! Loyalty points (spec: .local/spec11.md; regions.toml: 1 point per unit of
//! subtotal earned, 100 points to the unit redeemed): earned when an order
//! is paid, held by a checkout that redeems them, released when its
//! reservation expires unpaid, taken back in proportion to a refund, and
//! never spent twice however many checkouts race for them. The balance is
//! always the sum of the ledger.

mod support;

use serde_json::{json, Value};
use support::*;

/// A US-CA store whose paid orders stay `paid` (manual fulfillment), and a
/// 250.00 SKU with plenty of stock.
fn shop() -> (Store, String) {
    let store = Store::create("US-CA", 1);
    store.set_fulfillment("manual");
    let sku = fresh_sku("250.00", &[(store.warehouses[0], 200)]);
    (store, sku)
}

/// A logged-in checkout of 2 × 250.00 with a Stripe payment, not paid yet:
/// subtotal 500.00, tax 36.25, total 536.25; 500 points once paid.
fn order_to_earn(c: &Customer, store: &Store, sku: &str) -> PaidOrder {
    let mut body = checkout_body(&store.cart_with(sku, 2));
    body["payment_provider"] = json!("stripe");
    let r = checkout_as(&c.token, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    let order = placed_order(&r.json(), sku, store);
    assert_eq!(order.total, "536.25");
    order
}

fn points(c: &Customer) -> Value {
    wait_replica_caught_up();
    let r = get_authed("/customers/me/points", &c.token);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Waits (up to 20 s) until the balance is `n`; the last answer.
fn wait_for_balance(c: &Customer, n: i64) -> Value {
    let mut last = Value::Null;
    let got = eventually(20, || {
        last = points(c);
        (last["balance"] == n).then(|| last.clone())
    });
    got.unwrap_or_else(|| panic!("balance never became {n}: {last}"))
}

/// The ledger rows of `kind` for `order`: their points.
fn ledger(p: &Value, kind: &str, order: &str) -> Vec<i64> {
    p["ledger"]
        .as_array()
        .unwrap_or_else(|| panic!("ledger: {p}"))
        .iter()
        .filter(|r| r["kind"] == kind && r["order_id"] == order)
        .map(|r| r["points"].as_i64().unwrap())
        .collect()
}

fn assert_balance_is_the_ledger(c: &Customer) {
    let (balance, sum) = points_in_sql(&c.public_id);
    assert!(balance >= 0, "balance {balance}");
    assert_eq!(balance, sum, "the balance is the sum of the ledger");
}

fn redeem(c: &Customer, cart: &str, n: i64) -> Reply {
    let mut body = checkout_body(cart);
    body["redeem_points"] = json!(n);
    checkout_as(&c.token, &body)
}

/// (points_redeemed, points_discount, total) of an order, in SQL.
fn order_points(order: &str) -> (i64, String, String) {
    let row = primary()
        .query_one(
            "SELECT points_redeemed::bigint, points_discount::text, total::text FROM orders WHERE public_id = $1",
            &[&order],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[test]
fn points_earned_on_payment_pay_for_a_checkout_and_return_when_it_expires_unpaid() {
    let c = signup_verified(None);
    let (store, sku) = shop();
    let earning = order_to_earn(&c, &store, &sku);
    assert_eq!(points(&c)["balance"], 0, "nothing before payment");
    pay_by_webhook(&earning, &[]);
    let p = wait_for_balance(&c, 500);
    assert_eq!(
        ledger(&p, "earn", &earning.order_id),
        vec![500],
        "floor(500.00) points: {p}"
    );
    assert_balance_is_the_ledger(&c);

    // What may not be redeemed: more than the balance, more than the total
    // less 0.50, or without a session.
    let cheap = fresh_sku("1.00", &[(store.warehouses[0], 10)]);
    // 1.00 + 0.07 tax = 1.07: at most 57 points.
    let r = redeem(&c, &store.cart_with(&cheap, 1), 58);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (422, "redeem_exceeds_total"),
        "{}",
        r.body
    );
    let r = redeem(&c, &store.cart_with(&sku, 1), 501);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (409, "insufficient_points"),
        "{}",
        r.body
    );
    let mut anonymous = checkout_body(&store.cart_with(&sku, 1));
    anonymous["redeem_points"] = json!(100);
    let r = post_json(
        "/checkout",
        &anonymous,
        &[("idempotency-key", &unique("k"))],
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (401, "unauthenticated"),
        "{}",
        r.body
    );
    assert_eq!(points(&c)["balance"], 500, "the refusals held nothing");

    // The whole balance: 5.00 off. 250.00 + 18.13 tax (18.125 half-up) - 5.00.
    let r = redeem(&c, &store.cart_with(&sku, 1), 500);
    assert_eq!(r.status, 201, "{}", r.body);
    let spending = r.json()["order_id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["totals"]["total"], "263.13", "{}", r.body);
    assert_eq!(
        order_points(&spending),
        (500, "5.00".into(), "263.13".into())
    );
    let p = wait_for_balance(&c, 0);
    assert_eq!(ledger(&p, "redeem", &spending), vec![-500], "{p}");
    let lsn = r.header("x-db-lsn").unwrap().to_string();
    let history = authed_with(
        "GET",
        "/customers/me/orders",
        &c.token,
        None,
        &[("x-db-lsn", &lsn)],
    );
    let summary = history.json()["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == spending.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{spending} in {}", history.body));
    assert_eq!(
        (
            &summary["points_redeemed"],
            &summary["points_discount"],
            &summary["total"]
        ),
        (&json!(500), &json!("5.00"), &json!("263.13"))
    );
    assert_balance_is_the_ledger(&c);

    // Its reservation runs out unpaid: the order is cancelled, the points come back.
    primary()
        .execute(
            "UPDATE reservations SET expires_at = now() - interval '1 second'
              WHERE order_id = (SELECT id FROM orders WHERE public_id = $1)",
            &[&spending],
        )
        .unwrap();
    let tick = post_json("/checkout/__dev/scheduled", &json!({}), &[]);
    assert_eq!(tick.status, 200, "{}", tick.body);
    assert_eq!(wait_for_db_status(&spending, "cancelled", 10), "cancelled");
    let p = wait_for_balance(&c, 500);
    assert_eq!(ledger(&p, "release", &spending), vec![500], "{p}");
    assert_balance_is_the_ledger(&c);
}

/// Refunds `amount` of the order as staff; must be accepted.
fn refund(order: &PaidOrder, amount: &str) {
    let r = post_json(
        &format!("/admin/orders/{}/refunds", order.order_id),
        &json!({"amount": amount, "reason": "one item came back"}),
        &[
            ("authorization", &admin_bearer()),
            ("idempotency-key", &unique("r")),
        ],
    );
    assert!(
        [201, 202].contains(&r.status),
        "refund {amount}: {}",
        r.body
    );
}

fn reversed(c: &Customer, order: &str) -> i64 {
    ledger(&points(c), "reverse", order).iter().sum()
}

#[test]
fn a_partial_refund_takes_back_points_in_proportion_to_what_was_refunded() {
    let c = signup_verified(None);
    let (store, sku) = shop();
    let order = order_to_earn(&c, &store, &sku);
    // Paid for real at localstripe, which the refunds go back to.
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    wait_for_balance(&c, 500);

    // 150.00 of 536.25: floor(500 * 150 / 536.25) = floor(139.86) = 139.
    refund(&order, "150.00");
    let got = eventually(20, || {
        Some(reversed(&c, &order.order_id)).filter(|r| *r == -139)
    });
    assert_eq!(got, Some(-139), "after 150.00: {}", points(&c));
    // 300.00 in all: floor(279.72) = 279 in all, so 140 more (each refund
    // floored on its own would make 278).
    refund(&order, "150.00");
    let got = eventually(20, || {
        Some(reversed(&c, &order.order_id)).filter(|r| *r == -279)
    });
    assert_eq!(got, Some(-279), "after 300.00: {}", points(&c));
    assert_eq!(points(&c)["balance"], 500 - 279);
    assert_balance_is_the_ledger(&c);
}

#[test]
fn twenty_checkouts_redeeming_the_whole_balance_at_once_spend_it_once() {
    let c = signup_verified(None);
    let (store, sku) = shop();
    let earning = order_to_earn(&c, &store, &sku);
    pay_by_webhook(&earning, &[]);
    wait_for_balance(&c, 500);

    // Each cart holds its own SKU: the checkouts contend for the points
    // (the customer row), not for one SKU's stock rows.
    let carts: Vec<String> = {
        let store = store.clone();
        concurrently(10, move |i| {
            (0..20)
                .filter(|k| k % 10 == i)
                .map(|_| {
                    let own = fresh_sku("250.00", &[(store.warehouses[0], 5)]);
                    store.cart_with(&own, 1)
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect()
    };
    // One that waits past the lock timeout (20 at once on 2 cores) is a 503
    // with Retry-After, which a client retries with the same
    // Idempotency-Key, as here. Any other answer is final.
    let replies = {
        let (c, carts) = (c.clone(), carts.clone());
        concurrently(20, move |i| {
            let mut body = checkout_body(&carts[i]);
            body["redeem_points"] = json!(500);
            let key = unique("k");
            let mut reply = checkout_with_key(&c.token, &body, &key);
            for _ in 0..5 {
                if reply.status != 503 || reply.header("retry-after").is_none() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
                reply = checkout_with_key(&c.token, &body, &key);
            }
            reply
        })
    };
    let ok: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        ok.len(),
        1,
        "exactly one spends the points: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (409, "insufficient_points"),
            "{}",
            r.body
        );
    }
    let redeemed: i64 = primary()
        .query_one(
            "SELECT count(*) FROM orders WHERE cart_id = ANY($1) AND points_redeemed > 0",
            &[&carts],
        )
        .unwrap()
        .get(0);
    assert_eq!(redeemed, 1, "one order holds the points");
    assert_eq!(points(&c)["balance"], 0);
    assert_balance_is_the_ledger(&c);
}

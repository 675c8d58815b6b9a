//! Paying for orders in tests: checkout with a provider, the local provider
//! fakes (localstripe behind our wrapper, the PayPal fake), Stripe events
//! signed with Stripe's official library (stripe-node), order state.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use platform::http::percent_encode;
use serde_json::{json, Value};

use super::{checkout_body, local_secret, post_json, primary, request, unique, Reply, Store};

fn root() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/..")
}

pub fn port(name: &str, default: u16) -> u16 {
    let file = format!("{}/.local/ports.env", root());
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix(&format!("{name}="))
                    .map(|v| v.trim().to_string())
            })
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn stripe_url() -> String {
    format!("http://127.0.0.1:{}", port("STRIPE_FAKE_PORT", 25340))
}

pub fn paypal_url() -> String {
    format!("http://127.0.0.1:{}", port("PAYPAL_FAKE_PORT", 25341))
}

/// `Stripe-Signature` for `payload`, made by stripe-node's
/// `webhooks.generateTestHeaderString` (tests/support/stripe-sign.cjs).
pub fn stripe_signature(payload: &str, secret: &str, timestamp: Option<i64>) -> String {
    let ts = timestamp.map_or("now".to_string(), |t| t.to_string());
    let mut child = Command::new("node")
        .arg(format!("{}/tests/support/stripe-sign.cjs", root()))
        .args([secret, &ts])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node tests/support/stripe-sign.cjs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "stripe-sign.cjs failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

pub fn webhook_secret() -> String {
    local_secret("STRIPE_WEBHOOK_SECRET")
}

/// Posts raw bytes to /webhooks/stripe with this signature header.
pub fn post_stripe_event(payload: &str, signature: Option<&str>) -> Reply {
    let mut headers = vec![("content-type", "application/json; charset=utf-8")];
    if let Some(s) = signature {
        headers.push(("stripe-signature", s));
    }
    request(
        "POST",
        "/webhooks/stripe",
        &headers,
        Some(payload.as_bytes()),
    )
}

/// Signs `event` with the endpoint's secret (stripe-node) and delivers it.
pub fn deliver_stripe(event: &Value) -> Reply {
    let payload = event.to_string();
    let sig = stripe_signature(&payload, &webhook_secret(), None);
    post_stripe_event(&payload, Some(&sig))
}

/// A Stripe event as Stripe sends it.
pub fn stripe_event(kind: &str, object: Value) -> Value {
    json!({
        "id": format!("evt_{}", unique("")),
        "object": "event",
        "api_version": "2024-06-20",
        "created": chrono_now(),
        "type": kind,
        "livemode": false,
        "data": {"object": object},
    })
}

pub fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A placed order with its payment created.
#[derive(Debug, Clone)]
pub struct PaidOrder {
    pub order_id: String,
    pub token: String,
    pub payment: Value,
    pub sku: String,
    pub store: Store,
    pub total: String,
}

/// A new store (US-CA) with manual fulfillment (its paid orders stay
/// `paid`), a SKU with `stock` units in one warehouse, a cart with
/// `quantity` of it, checked out with `provider`.
pub fn order_with_payment(provider: &str, price: &str, stock: i32, quantity: u32) -> PaidOrder {
    order_in_store("manual", provider, price, stock, quantity)
}

/// As `order_with_payment`, in a store whose paid orders go to the carrier
/// at once (automatic fulfillment, the default for stores).
pub fn order_for_fulfillment(provider: &str, price: &str, stock: i32, quantity: u32) -> PaidOrder {
    order_in_store("automatic", provider, price, stock, quantity)
}

fn order_in_store(fulfillment: &str, provider: &str, price: &str, stock: i32, quantity: u32) -> PaidOrder {
    let store = Store::create("US-CA", 1);
    store.set_fulfillment(fulfillment);
    let sku = super::fresh_sku(price, &[(store.warehouses[0], stock)]);
    let cart = super::cart_with(store.id, "US-CA", &sku, quantity);
    let mut body = checkout_body(&cart);
    // "none": the order only; its payment is asked for later.
    if provider != "none" {
        body["payment_provider"] = json!(provider);
    }
    let r = post_json("/checkout", &body, &[("idempotency-key", &unique("k"))]);
    assert_eq!(r.status, 201, "checkout: {}", r.body);
    let answer = r.json();
    PaidOrder {
        order_id: answer["order_id"].as_str().unwrap().to_string(),
        token: answer["order_token"].as_str().unwrap().to_string(),
        payment: answer["payment"].clone(),
        sku,
        store,
        total: answer["totals"]["total"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_default(),
    }
}

/// The order as its guest sees it. The view reads from the replica; a test
/// holds no read-your-writes token for what a webhook changed, so it waits
/// for the replica to catch up first.
pub fn order_state(order: &PaidOrder) -> Value {
    super::wait_replica_caught_up();
    let r = request(
        "GET",
        &format!("/orders/{}", order.order_id),
        &[("authorization", &format!("Bearer {}", order.token))],
        None,
    );
    assert_eq!(r.status, 200, "order: {}", r.body);
    r.json()
}

/// Waits (up to 15 s) until the order has `status`; the last status seen.
pub fn wait_for_status(order: &PaidOrder, status: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = order_state(order)["status"].as_str().unwrap().to_string();
        if now == status || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// (status, on_hand, reserved) of the order's SKU in its one warehouse.
pub fn stock(order: &PaidOrder) -> (i32, i32) {
    let row = primary()
        .query_one(
            "SELECT il.on_hand, il.reserved FROM inventory_levels il JOIN variants v ON v.id = il.variant_id \
              WHERE v.sku = $1 AND il.warehouse_id = $2",
            &[&order.sku, &order.store.warehouses[0]],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// Count of payment rows of the order (by status when given).
pub fn payment_rows(order: &PaidOrder) -> Vec<(String, String)> {
    primary()
        .query(
            "SELECT p.provider_payment_id, p.status FROM payments p JOIN orders o ON o.id = p.order_id \
              WHERE o.public_id = $1 ORDER BY p.id",
            &[&order.order_id],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A form POST to the Stripe fake, as the Stripe API key.
pub fn stripe_api(path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = ureq::post(&format!("{}{path}", stripe_url()))
        .set(
            "authorization",
            &format!("Bearer {}", local_secret("STRIPE_SECRET_KEY")),
        )
        .set("content-type", "application/x-www-form-urlencoded")
        .send_string(&body);
    read(resp)
}

pub fn stripe_get(path: &str) -> (u16, Value) {
    read(
        ureq::get(&format!("{}{path}", stripe_url()))
            .set(
                "authorization",
                &format!("Bearer {}", local_secret("STRIPE_SECRET_KEY")),
            )
            .call(),
    )
}

/// JSON to a fake's control routes (`/_fake/...`).
pub fn fake_post(base: &str, path: &str, body: &Value) -> (u16, Value) {
    read(ureq::post(&format!("{base}{path}")).send_json(body.clone()))
}

pub fn fake_get(base: &str, path: &str) -> (u16, Value) {
    read(ureq::get(&format!("{base}{path}")).call())
}

fn read(resp: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match resp {
        Ok(r) => {
            let status = r.status();
            (status, r.into_json().unwrap_or(Value::Null))
        }
        Err(ureq::Error::Status(status, r)) => (status, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("fake unreachable: {e}"),
    }
}

/// Confirms a PaymentIntent on localstripe with a test card, as Stripe.js
/// would: a card PaymentMethod, set on the intent, then confirm. The status
/// of the confirm call.
pub fn confirm_with_card(payment_intent: &str, card: &str) -> u16 {
    let (s, pm) = stripe_api(
        "/v1/payment_methods",
        &[
            ("type", "card"),
            ("card[number]", card),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ],
    );
    assert_eq!(s, 200, "payment method: {pm}");
    let pm_id = pm["id"].as_str().unwrap();
    let (s, pi) = stripe_api(
        &format!("/v1/payment_intents/{payment_intent}"),
        &[("payment_method", pm_id)],
    );
    assert_eq!(s, 200, "set payment method: {pi}");
    stripe_api(
        &format!("/v1/payment_intents/{payment_intent}/confirm"),
        &[],
    )
    .0
}

/// The order's total in minor units ("12.34" -> 1234).
pub fn minor_units(total: &str) -> i64 {
    let (units, cents) = total.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

/// `payment_intent.succeeded` for the whole of the order's PaymentIntent.
pub fn payment_succeeded_event(order: &PaidOrder) -> Value {
    let pi = order.payment["payment_id"].as_str().unwrap();
    let amount = minor_units(&order.total);
    stripe_event(
        "payment_intent.succeeded",
        json!({"id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount,
               "currency": "usd", "status": "succeeded", "latest_charge": format!("ch_{}", &pi[3..]),
               "metadata": {"order_id": order.order_id}}),
    )
}

/// Pays the order through the Stripe webhook path (signed by stripe-node),
/// with extra request headers (e.g. a dev build's `x-test-fault`).
pub fn pay_by_webhook(order: &PaidOrder, headers: &[(&str, &str)]) {
    let payload = payment_succeeded_event(order).to_string();
    let sig = stripe_signature(&payload, &webhook_secret(), None);
    let mut all = vec![
        ("content-type", "application/json"),
        ("stripe-signature", sig.as_str()),
    ];
    all.extend_from_slice(headers);
    let r = request("POST", "/webhooks/stripe", &all, Some(payload.as_bytes()));
    assert_eq!(r.status, 200, "webhook: {}", r.body);
    assert_eq!(r.json()["outcome"], "mark_paid", "{}", r.body);
}

//! Fulfillment in tests: the carrier and notification fakes
//! (tests/fakes/carrier_fake.py, notify_fake.py), the outbox relay on
//! demand, signed carrier webhooks, and the order's fulfillment rows.

use std::time::{Duration, Instant};

use platform::http::percent_encode;
use serde_json::{json, Value};

use super::{fake_get, fake_post, local_secret, port, primary, request, PaidOrder, Reply};

pub fn carrier_url() -> String {
    format!("http://127.0.0.1:{}", port("CARRIER_FAKE_PORT", 25342))
}

pub fn notify_url() -> String {
    format!("http://127.0.0.1:{}", port("NOTIFY_FAKE_PORT", 25343))
}

/// Labels the carrier created for this order (replays not counted).
pub fn labels_for(order_id: &str) -> Vec<Value> {
    let (s, v) = fake_get(
        &carrier_url(),
        &format!("/_fake/labels?external_shipment_id={order_id}"),
    );
    assert_eq!(s, 200, "carrier fake: {v}");
    v["labels"].as_array().cloned().unwrap_or_default()
}

/// The carrier answers `status` to the next `count` bookings of this order
/// (`count` 0: every one, until the test clears it).
pub fn carrier_fails(order_id: &str, status: u16, count: u32) {
    let (s, v) = fake_post(
        &carrier_url(),
        "/_fake/faults",
        &json!({"path_prefix": "/v2/labels", "method": "POST", "status": status,
                "count": count.max(1), "always": count == 0, "contains": order_id}),
    );
    assert!(s < 300, "carrier fault: {v}");
}

/// The carrier books this order's next label, but answers only after
/// `delay_ms` (the consumer gives up at CARRIER_TIMEOUT_MS, 3 s locally).
pub fn carrier_answers_late(order_id: &str, delay_ms: u32) {
    let (s, v) = fake_post(
        &carrier_url(),
        "/_fake/faults",
        &json!({"path_prefix": "/v2/labels", "method": "POST", "delay_ms": delay_ms,
                "count": 1, "contains": order_id}),
    );
    assert!(s < 300, "carrier fault: {v}");
}

/// Slack messages the alerts webhook received that mention `text`.
pub fn slack_messages_with(text: &str) -> Vec<Value> {
    let (s, v) = fake_get(&notify_url(), "/_fake/slack");
    assert_eq!(s, 200, "notify fake: {v}");
    v["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["body"].to_string().contains(text))
        .collect()
}

/// Emails the provider accepted for `to`.
pub fn mail_to(to: &str) -> Vec<Value> {
    // Percent-encoded: a `+` in the address would read back as a space.
    let to = percent_encode(to);
    let (s, v) = fake_get(&notify_url(), &format!("/_fake/mail?to={to}"));
    assert_eq!(s, 200, "notify fake: {v}");
    v["messages"].as_array().cloned().unwrap_or_default()
}

/// The orders worker's outbox relay, now, for every unsent row.
pub fn relay_outbox() -> Value {
    let r = request("POST", "/orders/__dev/relay?min_age_secs=0", &[], None);
    assert_eq!(r.status, 200, "relay: {}", r.body);
    r.json()
}

/// The order's fulfillment columns: (status, attempts, error, shipments).
pub fn fulfillment_row(order_id: &str) -> (String, i32, Option<String>, i64) {
    let row = primary()
        .query_one(
            "SELECT o.status, o.fulfillment_attempts, o.fulfillment_error, \
                    (SELECT count(*) FROM shipments s WHERE s.order_id = o.id) \
               FROM orders o WHERE o.public_id = $1",
            &[&order_id],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

/// Polls `check` every 100 ms for up to `secs`; its last answer.
pub fn eventually<T>(secs: u64, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the order's status (in the database) is `status`.
pub fn wait_for_db_status(order_id: &str, status: &str, secs: u64) -> String {
    eventually(secs, || {
        let now = fulfillment_row(order_id).0;
        (now == status).then_some(now)
    })
    .unwrap_or_else(|| fulfillment_row(order_id).0)
}

/// `X-Carrier-Signature` as the carrier makes it.
pub fn carrier_signature(body: &str, timestamp: i64) -> String {
    let key = local_secret("CARRIER_WEBHOOK_SECRET");
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body.as_bytes());
    platform::crypto::hex(&platform::crypto::hmac_sha256(key.as_bytes(), &[&message]))
}

pub fn post_carrier_event(body: &str, timestamp: i64, signature: &str) -> Reply {
    request(
        "POST",
        "/webhooks/carrier",
        &[
            ("content-type", "application/json"),
            ("x-carrier-timestamp", &timestamp.to_string()),
            ("x-carrier-signature", signature),
        ],
        Some(body.as_bytes()),
    )
}

/// The order's tracking number (its one shipment).
pub fn tracking_number(order: &PaidOrder) -> String {
    primary()
        .query_one(
            "SELECT s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id \
              WHERE o.public_id = $1",
            &[&order.order_id],
        )
        .unwrap()
        .get(0)
}

//! PayPal through the edge against the local PayPal fake: an approval is
//! captured once and pays the order; forged transmissions change nothing.

mod support;

use serde_json::json;
use support::*;

#[test]
fn paypal_approval_is_captured_and_pays_the_order_and_a_forged_signature_is_rejected() {
    let order = order_with_payment("paypal", "18.00", 3, 1);
    assert_eq!(order.payment["provider"], "paypal");
    let paypal_order = order.payment["payment_id"].as_str().unwrap().to_string();
    let approval = order.payment["approval_url"].as_str().unwrap();
    assert!(approval.contains(&paypal_order), "{approval}");

    // A forged CHECKOUT.ORDER.APPROVED (signed with a key the certificate
    // does not hold): 400, nothing captured, nothing recorded.
    let (s, sent) = fake_post(&paypal_url(), "/_fake/webhooks/send", &json!({
        "event_type": "CHECKOUT.ORDER.APPROVED", "resource_type": "checkout-order", "forge": true,
        "resource": {"id": paypal_order, "status": "APPROVED", "intent": "CAPTURE",
                     "purchase_units": [{"reference_id": order.order_id, "custom_id": order.order_id,
                                         "amount": {"currency_code": "USD", "value": order.total}}]}}));
    assert_eq!(s, 200, "{sent}");
    assert_eq!(sent["target_status"], 400, "{sent}");
    assert_eq!(order_state(&order)["status"], "pending_payment");
    // A stale transmission time: 400 too.
    let (_, stale) = fake_post(&paypal_url(), "/_fake/webhooks/send", &json!({
        "event_type": "CHECKOUT.ORDER.APPROVED", "resource_type": "checkout-order",
        "transmission_time": "2020-01-01T00:00:00Z",
        "resource": {"id": paypal_order, "status": "APPROVED", "intent": "CAPTURE",
                     "purchase_units": [{"reference_id": order.order_id, "custom_id": order.order_id,
                                         "amount": {"currency_code": "USD", "value": order.total}}]}}));
    assert_eq!(stale["target_status"], 400, "{stale}");
    assert_eq!(order_state(&order)["status"], "pending_payment");

    // The shopper approves: the fake sends the signed approval, we capture
    // (idempotently) and the capture pays the order.
    let (s, approved) = fake_post(&paypal_url(), &format!("/_fake/orders/{paypal_order}/approve"), &json!({}));
    assert_eq!(s, 200, "{approved}");
    assert_eq!(wait_for_status(&order, "paid"), "paid");
    assert_eq!(stock(&order), (2, 0));
    // PAYMENT.CAPTURE.COMPLETED follows; it changes nothing. One capture was made.
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert_eq!(order_state(&order)["status"], "paid");
    let (_, log) = fake_get(&paypal_url(), "/_fake/requests");
    let captures: Vec<_> = log.as_array().unwrap().iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(&format!("{paypal_order}/capture"))))
        .filter(|r| r["status"].as_u64().is_some_and(|s| s < 300))
        .map(|r| r["request_id"].clone())
        .collect();
    assert!(!captures.is_empty());
    assert!(captures.iter().all(|id| *id == captures[0]), "one PayPal-Request-Id for every capture: {captures:?}");
    let rows = payment_rows(&order);
    assert_eq!(rows, vec![(paypal_order, "succeeded".to_string())]);

    // A full refund through PayPal: the provider confirms, the order is refunded.
    let r = post_json(
        &format!("/admin/orders/{}/refunds", order.order_id),
        &json!({"reason": "changed their mind"}),
        &[("authorization", &format!("Bearer {}", local_secret("ADMIN_TOKEN"))),
          ("idempotency-key", &unique("r"))],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["status"], "succeeded");
    assert_eq!(order_state(&order)["status"], "refunded");
    // PayPal's PAYMENT.CAPTURE.REFUNDED follows: accepted, and it names our
    // refund (custom_id), so the refund is counted once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let refunded_events = || -> Vec<serde_json::Value> {
        let (_, deliveries) = fake_get(&paypal_url(), "/_fake/deliveries");
        deliveries.as_array().unwrap().iter()
            .filter(|d| d["event_type"] == "PAYMENT.CAPTURE.REFUNDED").cloned().collect()
    };
    while refunded_events().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let events = refunded_events();
    assert!(!events.is_empty());
    assert!(events.iter().all(|d| d["status"] == 200), "{events:?}");
    let refunds: i64 = primary()
        .query_one(
            "SELECT count(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.public_id = $1",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(refunds, 1);
    assert_eq!(order_state(&order)["status"], "refunded");
}

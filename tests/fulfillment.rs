//! Fulfillment end to end on the local stack: a paid order's outbox message
//! reaches the fulfillment queue (real Queues under wrangler), the consumer
//! books one shipment with the carrier fake, and the order ships; duplicates,
//! a lost send, carrier faults and the dead-letter queue; the carrier's
//! signed delivery webhook; staff cancelling orders.

mod support;

use serde_json::json;
use support::*;

fn admin() -> String {
    format!("Bearer {}", local_secret("ADMIN_TOKEN"))
}

#[test]
fn a_paid_order_ships_with_one_booked_shipment_and_its_tracking_number() {
    let order = order_for_fulfillment("stripe", "14.00", 5, 1);
    pay_by_webhook(&order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    let labels = labels_for(&order.order_id);
    assert_eq!(labels.len(), 1, "{labels:?}");
    let view = order_state(&order);
    assert_eq!(view["status"], "shipped");
    let shipments = view["shipments"].as_array().expect("shipments in the order view");
    assert_eq!(shipments.len(), 1);
    assert_eq!(shipments[0]["tracking_number"], labels[0]["tracking_number"]);
    assert!(shipments[0]["carrier"].is_string());
    // The history says how it got there.
    let to: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(to, ["pending_payment", "paid", "fulfilling", "shipped"]);
}

#[test]
fn the_same_fulfillment_message_delivered_twice_books_one_shipment() {
    let order = order_for_fulfillment("stripe", "15.00", 5, 1);
    // Paid, but its message is not sent: the test sends it twice instead.
    pay_by_webhook(&order, &[("x-test-fault", "drop-outbox-send")]);
    let mut db = primary();
    db.execute(
        "INSERT INTO outbox (topic, payload) \
         SELECT topic, payload FROM outbox WHERE topic = 'fulfillment' \
            AND payload->>'order_id' = (SELECT id::text FROM orders WHERE public_id = $1)",
        &[&order.order_id],
    )
    .unwrap();
    relay_outbox();
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    // Both deliveries were consumed (each counts), and one label exists.
    let attempts = eventually(20, || {
        let (_, attempts, _, _) = fulfillment_row(&order.order_id);
        (attempts >= 2).then_some(attempts)
    });
    assert_eq!(attempts, Some(2), "both messages consumed");
    assert_eq!(labels_for(&order.order_id).len(), 1);
    assert_eq!(fulfillment_row(&order.order_id).3, 1, "one shipment row");
}

#[test]
fn a_send_lost_after_the_commit_is_sent_by_the_relay() {
    let order = order_for_fulfillment("stripe", "16.00", 5, 1);
    pay_by_webhook(&order, &[("x-test-fault", "drop-outbox-send")]);
    // Nothing reaches the queue: the order stays paid.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(fulfillment_row(&order.order_id).0, "paid");
    let unsent: i64 = primary()
        .query_one(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND topic = 'fulfillment' \
               AND payload->>'order_id' = (SELECT id::text FROM orders WHERE public_id = $1)",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(unsent, 1);
    relay_outbox();
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    assert_eq!(labels_for(&order.order_id).len(), 1);
}

#[test]
fn a_booking_whose_answer_was_lost_is_found_by_the_retry_and_not_booked_twice() {
    let order = order_for_fulfillment("stripe", "20.50", 5, 1);
    // The carrier books the label, but answers after 5 s: the consumer gave
    // up at 3 s (CARRIER_TIMEOUT_MS) and retries. The carrier has no
    // idempotency key and refuses a second label for the order's id.
    carrier_answers_late(&order.order_id, 5000);
    pay_by_webhook(&order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 30), "shipped");
    let labels = labels_for(&order.order_id);
    assert_eq!(labels.len(), 1, "{labels:?}");
    let (_, attempts, error, shipments) = fulfillment_row(&order.order_id);
    assert!(attempts >= 2, "the first try timed out: {attempts}");
    assert_eq!((error, shipments), (None, 1));
    assert_eq!(tracking_number(&order), labels[0]["tracking_number"].as_str().unwrap());
}

#[test]
fn a_carrier_failing_three_times_then_answering_books_one_shipment() {
    let order = order_for_fulfillment("stripe", "17.00", 5, 1);
    carrier_fails(&order.order_id, 503, 3);
    pay_by_webhook(&order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 40), "shipped");
    let (_, attempts, error, shipments) = fulfillment_row(&order.order_id);
    assert_eq!(attempts, 4, "three failures, then the booking");
    assert_eq!((error, shipments), (None, 1));
    assert_eq!(labels_for(&order.order_id).len(), 1);
}

#[test]
fn a_carrier_that_keeps_failing_sends_the_message_to_the_dlq_and_alerts_staff_who_can_retry() {
    let order = order_for_fulfillment("stripe", "18.00", 5, 1);
    // Every one of the five deliveries fails (and only those: staff retry below).
    carrier_fails(&order.order_id, 500, 5);
    pay_by_webhook(&order, &[]);
    // max_retries = 4 locally: five tries (1 + 2 + 4 + 8 s apart), then the DLQ.
    let failed = eventually(60, || {
        let (status, attempts, error, _) = fulfillment_row(&order.order_id);
        error.map(|e| (status, attempts, e))
    });
    let (status, attempts, error) = failed.expect("the failure is recorded on the order");
    assert_eq!(status, "fulfilling");
    assert_eq!(attempts, 5);
    assert!(error.contains("carrier"), "{error}");
    assert!(labels_for(&order.order_id).is_empty());
    // The alert: recorded once, posted to the staff webhook.
    let posted = eventually(20, || {
        let m = slack_messages_with(&order.order_id);
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(posted.map(|m| m.len()), Some(1), "one Slack message");
    let alerts: i64 = primary()
        .query_one(
            "SELECT count(*) FROM alerts a JOIN orders o ON o.id = a.order_id \
              WHERE o.public_id = $1 AND a.kind = 'fulfillment_failed' AND a.posted_at IS NOT NULL",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(alerts, 1);
    let staff = request(
        "GET",
        &format!("/admin/orders/{}", order.order_id),
        &[("authorization", &admin())],
        None,
    );
    assert_eq!(staff.status, 200, "{}", staff.body);
    assert!(staff.body.contains("fulfillment_failed"), "{}", staff.body);

    // The carrier is back: staff send the order again, and it ships.
    let retry = post_json(&format!("/admin/orders/{}/fulfill", order.order_id), &json!({}), &[("authorization", &admin())]);
    assert_eq!(retry.status, 202, "{}", retry.body);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    assert_eq!(labels_for(&order.order_id).len(), 1);
    assert_eq!(fulfillment_row(&order.order_id).2, None, "the failure is cleared");
}

#[test]
fn a_store_with_manual_fulfillment_ships_an_order_only_when_staff_release_it() {
    let order = order_with_payment("stripe", "23.00", 5, 1); // a manual store
    pay_by_webhook(&order, &[]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(fulfillment_row(&order.order_id).0, "paid");
    let queued: i64 = primary()
        .query_one(
            "SELECT count(*) FROM outbox WHERE topic = 'fulfillment' \
               AND payload->>'order_id' = (SELECT id::text FROM orders WHERE public_id = $1)",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(queued, 0, "no message until staff release it");
    let path = format!("/admin/orders/{}/fulfill", order.order_id);
    assert_eq!(post_json(&path, &json!({}), &[]).status, 401);
    let r = post_json(&path, &json!({}), &[("authorization", &admin())]);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    assert_eq!(labels_for(&order.order_id).len(), 1);
    // Shipped: nothing more to send.
    let again = post_json(&path, &json!({}), &[("authorization", &admin())]);
    assert_eq!((again.status, again.error_code()), (409, "not_fulfillable".to_string()));
}

#[test]
fn the_carriers_signed_delivery_marks_the_order_delivered_once() {
    let order = order_for_fulfillment("stripe", "19.00", 5, 1);
    pay_by_webhook(&order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    let body = json!({"event_id": unique("ev_"), "type": "shipment.delivered",
                      "tracking_number": tracking_number(&order),
                      "occurred_at": "2026-11-26T10:00:00Z"})
    .to_string();
    let now = chrono_now();
    // Forged, tampered and stale requests change nothing.
    let forged = post_carrier_event(&body, now, &"0".repeat(64));
    assert_eq!((forged.status, forged.error_code()), (400, "signature_mismatch".to_string()));
    let tampered = body.replace("10:00:00", "11:00:00");
    let r = post_carrier_event(&tampered, now, &carrier_signature(&body, now));
    assert_eq!(r.status, 400);
    let stale = post_carrier_event(&body, now - 3600, &carrier_signature(&body, now - 3600));
    assert_eq!((stale.status, stale.error_code()), (400, "signature_stale".to_string()));
    let missing = request("POST", "/webhooks/carrier", &[("content-type", "application/json")], Some(body.as_bytes()));
    assert_eq!(missing.status, 400);
    assert_eq!(fulfillment_row(&order.order_id).0, "shipped");

    let first = post_carrier_event(&body, now, &carrier_signature(&body, now));
    assert_eq!((first.status, first.json()["outcome"].clone()), (200, json!("delivered")));
    let again = post_carrier_event(&body, now, &carrier_signature(&body, now));
    assert_eq!(again.json()["outcome"], "duplicate");
    assert_eq!(order_state(&order)["status"], "delivered");
    let delivered_events: i64 = primary()
        .query_one(
            "SELECT count(*) FROM order_events e JOIN orders o ON o.id = e.order_id \
              WHERE o.public_id = $1 AND e.to_status = 'delivered'",
            &[&order.order_id],
        )
        .unwrap()
        .get(0);
    assert_eq!(delivered_events, 1);
}

fn cancel(order: &PaidOrder) -> Reply {
    post_json(
        &format!("/admin/orders/{}/cancel", order.order_id),
        &json!({"reason": "the shopper asked"}),
        &[("authorization", &admin())],
    )
}

#[test]
fn cancelling_an_unpaid_order_releases_its_reservation() {
    let order = order_with_payment("none", "9.00", 4, 2);
    assert_eq!(stock(&order), (4, 2));
    let r = cancel(&order);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["from"], "pending_payment");
    assert_eq!(stock(&order), (4, 0));
    assert_eq!(order_state(&order)["status"], "cancelled");
    // Again: nothing changes.
    let again = cancel(&order);
    assert_eq!((again.status, again.json()["already_cancelled"].clone()), (200, json!(true)));
    assert_eq!(stock(&order), (4, 0));
}

#[test]
fn cancelling_a_paid_order_restocks_it_and_refunds_the_payment() {
    let order = order_for_fulfillment("stripe", "21.00", 4, 1);
    // Fulfillment is held back (the carrier refuses it for now) so the
    // order can be cancelled before it ships.
    carrier_fails(&order.order_id, 503, 0);
    let pi = order.payment["payment_id"].as_str().unwrap().to_string();
    assert_eq!(confirm_with_card(&pi, "4242424242424242"), 200);
    let status = eventually(20, || {
        let s = fulfillment_row(&order.order_id).0;
        (s == "fulfilling" || s == "paid").then_some(s)
    });
    assert!(status.is_some(), "paid");
    assert_eq!(stock(&order), (3, 0));
    let r = cancel(&order);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(stock(&order), (4, 0), "restocked");
    assert_eq!(r.json()["refunds_requested"], 1);
    // The refund went to Stripe (localstripe) for the whole amount.
    let refunded = eventually(20, || {
        let row = primary()
            .query_one(
                "SELECT p.refunded::text FROM payments p JOIN orders o ON o.id = p.order_id \
                  WHERE o.public_id = $1",
                &[&order.order_id],
            )
            .unwrap();
        let r: String = row.get(0);
        (r == order.total).then_some(r)
    });
    assert_eq!(refunded.as_deref(), Some(order.total.as_str()));
    assert_eq!(order_state(&order)["status"], "cancelled");
    // A second cancel asks for no second refund.
    assert_eq!(cancel(&order).json()["already_cancelled"], true);
}

#[test]
fn a_shipped_order_cannot_be_cancelled_and_unknown_ones_are_404() {
    let order = order_for_fulfillment("stripe", "22.00", 4, 1);
    pay_by_webhook(&order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "shipped", 20), "shipped");
    let r = cancel(&order);
    assert_eq!((r.status, r.error_code()), (409, "not_cancellable".to_string()));
    let unknown = post_json(
        "/admin/orders/ord_00000000000000000000000000/cancel",
        &json!({"reason": "x"}),
        &[("authorization", &admin())],
    );
    assert_eq!(unknown.status, 404);
    let no_token = post_json(&format!("/admin/orders/{}/cancel", order.order_id), &json!({"reason": "x"}), &[]);
    assert_eq!(no_token.status, 401);
    let no_reason = post_json(&format!("/admin/orders/{}/cancel", order.order_id), &json!({}), &[("authorization", &admin())]);
    assert_eq!(no_reason.status, 400);
}

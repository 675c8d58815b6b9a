//! A label booked for an order that staff cancelled while the carrier was
//! booking it is voided at the carrier (the carrier refunds a voided label),
//! whether the booking's answer arrived or was lost; a void the carrier
//! refuses is left to a person, with the failure on the order and an alert.

mod support;

use serde_json::json;
use support::*;

fn admin() -> String {
    format!("Bearer {}", local_secret("ADMIN_TOKEN"))
}

/// Pays the order, waits until the consumer asked the carrier for its label
/// (the order is `fulfilling`), and cancels it.
fn pay_then_cancel_while_booking(order: &PaidOrder) {
    pay_by_webhook(order, &[]);
    assert_eq!(wait_for_db_status(&order.order_id, "fulfilling", 20), "fulfilling");
    let r = post_json(
        &format!("/admin/orders/{}/cancel", order.order_id),
        &json!({"reason": "the shopper changed their mind"}),
        &[("authorization", &admin())],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["from"], "fulfilling");
}

/// The order's label at the carrier, once it is voided there.
fn voided_label(order: &PaidOrder) -> serde_json::Value {
    let labels = eventually(30, || {
        let labels = labels_for(&order.order_id);
        labels.iter().any(|l| l["voided"] == true).then_some(labels)
    });
    let labels = labels.unwrap_or_else(|| panic!("voided at the carrier: {:?}", labels_for(&order.order_id)));
    assert_eq!(labels.len(), 1, "one label booked: {labels:?}");
    assert_eq!(labels[0]["status"], "voided");
    labels[0].clone()
}

/// `(label_id, voided_at is set)` of the order's shipment row, once it is voided.
fn shipment_voided(order: &PaidOrder) -> (String, bool) {
    let row = eventually(20, || {
        let row = primary()
            .query_one(
                "SELECT s.label_id, s.voided_at IS NOT NULL FROM shipments s \
                   JOIN orders o ON o.id = s.order_id WHERE o.public_id = $1",
                &[&order.order_id],
            )
            .ok()?;
        row.get::<_, bool>(1).then(|| (row.get(0), true))
    });
    row.unwrap_or_else(|| panic!("the shipment is recorded as voided: {:?}", fulfillment_row(&order.order_id)))
}

#[test]
fn an_order_cancelled_while_its_label_is_booked_has_the_label_voided() {
    let order = order_for_fulfillment("stripe", "31.00", 4, 1);
    // The label takes 2.5 s; the consumer waits up to 3 s for it.
    carrier_answers_late(&order.order_id, 2500);
    pay_then_cancel_while_booking(&order);
    let label = voided_label(&order);
    assert_eq!(shipment_voided(&order), (label["label_id"].as_str().unwrap().to_string(), true));
    // The order stays cancelled; nothing failed; shoppers see the void.
    let (status, _, error, shipments) = fulfillment_row(&order.order_id);
    assert_eq!((status.as_str(), error, shipments), ("cancelled", None, 1));
    let view = order_state(&order);
    assert_eq!(view["status"], "cancelled");
    assert!(view["shipments"][0]["voided_at"].is_string(), "{view}");
}

#[test]
fn a_label_whose_answer_was_lost_is_found_and_voided_after_the_order_was_cancelled() {
    let order = order_for_fulfillment("stripe", "32.00", 4, 1);
    // Booked at 3.5 s, after the consumer gave up at 3 s: the answer is
    // lost, and the order is cancelled before the retry.
    carrier_answers_late(&order.order_id, 3500);
    pay_then_cancel_while_booking(&order);
    let label = voided_label(&order);
    assert_eq!(shipment_voided(&order).0, label["label_id"].as_str().unwrap());
    let (status, attempts, error, _) = fulfillment_row(&order.order_id);
    assert_eq!((status.as_str(), error), ("cancelled", None));
    assert!(attempts >= 2, "the retry found the label: {attempts}");
}

#[test]
fn a_void_the_carrier_refuses_is_recorded_on_the_order_with_one_alert() {
    let order = order_for_fulfillment("stripe", "33.00", 4, 1);
    carrier_answers_late(&order.order_id, 2500);
    // The void (PUT /v2/labels/{id}/void, keyed by the order) is refused once.
    let (s, v) = fake_post(
        &carrier_url(),
        "/_fake/faults",
        &json!({"path_prefix": "/v2/labels/", "method": "PUT", "status": 400, "count": 1,
                "contains": order.order_id}),
    );
    assert!(s < 300, "{v}");
    pay_then_cancel_while_booking(&order);
    let error = eventually(30, || fulfillment_row(&order.order_id).2)
        .unwrap_or_else(|| panic!("the failure is recorded: {:?}", fulfillment_row(&order.order_id)));
    assert!(error.contains("refused to void") && error.contains("by hand"), "{error}");
    // The label is not voided, and staff were told once.
    let labels = labels_for(&order.order_id);
    assert_eq!((labels.len(), labels[0]["voided"].clone()), (1, json!(false)));
    let posted = eventually(20, || {
        let m = slack_messages_with(&order.order_id);
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(posted.map(|m| m.len()), Some(1), "one Slack message");
    assert_eq!(fulfillment_row(&order.order_id).0, "cancelled");
}

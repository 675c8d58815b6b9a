use super::*;
use serde_json::json;

fn facts(v: serde_json::Value) -> Facts {
    serde_json::from_value(v).unwrap()
}

fn address() -> serde_json::Value {
    json!({"name": "Ada", "line1": "1 Main St", "line2": null, "city": "SF",
           "state": "CA", "postal_code": "94105", "country": "US"})
}

#[test]
fn a_fulfilling_order_without_a_shipment_is_booked() {
    let f = facts(json!({"found": true, "status": "fulfilling", "public_id": "ord_x",
                         "attempts": 1, "ship_to": address(), "items": 2, "shipment": null}));
    match plan(&f) {
        Step::Carrier(CarrierWork::Book(r)) => {
            assert_eq!(r.public_id, "ord_x");
            assert_eq!(r.items, 2);
            assert_eq!(r.ship_to.postal_code, "94105");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_redelivered_message_for_a_shipped_order_books_nothing() {
    let f = facts(json!({"found": true, "status": "shipped", "public_id": "ord_x",
                         "attempts": 2, "ship_to": address(), "items": 1,
                         "shipment": {"label_id": "se-1", "void_pending": false}}));
    assert_eq!(plan(&f), Step::Done("already_shipped"));
}

#[test]
fn a_label_booked_for_an_order_cancelled_meanwhile_is_voided_until_it_is() {
    let pending = facts(json!({"found": true, "status": "cancelled", "public_id": "ord_x",
                               "attempts": 2, "ship_to": address(), "items": 1,
                               "shipment": {"label_id": "se-7", "void_pending": true}}));
    assert_eq!(
        plan(&pending),
        Step::Carrier(CarrierWork::Void {
            public_id: "ord_x".into(),
            label_id: "se-7".into()
        })
    );
    // Voided already: a redelivery does nothing.
    let voided = facts(json!({"found": true, "status": "cancelled", "public_id": "ord_x",
                              "attempts": 3, "ship_to": address(), "items": 1,
                              "shipment": {"label_id": "se-7", "void_pending": false}}));
    assert_eq!(plan(&voided), Step::Done("already_shipped"));
}

#[test]
fn a_cancelled_order_an_earlier_delivery_tried_to_book_is_looked_up_to_void() {
    let retried = facts(json!({"found": true, "status": "cancelled", "public_id": "ord_x",
                               "attempts": 2, "ship_to": address(), "items": 1, "shipment": null}));
    assert_eq!(plan(&retried), Step::Carrier(CarrierWork::VoidIfBooked { public_id: "ord_x".into() }));
    // The first delivery: no try can have booked a label.
    let first = facts(json!({"found": true, "status": "cancelled", "public_id": "ord_x",
                             "attempts": 1, "ship_to": address(), "items": 1, "shipment": null}));
    assert_eq!(plan(&first), Step::Done("not_fulfillable"));
}

#[test]
fn orders_that_are_not_to_be_shipped_are_acknowledged() {
    for status in ["cancelled", "refunded", "pending_payment", "delivered", "paid"] {
        let f = facts(json!({"found": true, "status": status, "public_id": "ord_x",
                             "attempts": 1, "ship_to": address(), "items": 1, "shipment": null}));
        assert_eq!(plan(&f), Step::Done("not_fulfillable"), "{status}");
    }
    assert_eq!(plan(&facts(json!({"found": false}))), Step::Done("unknown_order"));
}

#[test]
fn an_order_without_an_address_fails_at_once() {
    let f = facts(json!({"found": true, "status": "fulfilling", "public_id": "ord_x",
                         "attempts": 1, "ship_to": null, "items": 1, "shipment": null}));
    assert!(matches!(plan(&f), Step::Fail(_)));
}

#[test]
fn retry_delays_double_and_are_capped() {
    assert_eq!(retry_delay_secs(1, 1), 1);
    assert_eq!(retry_delay_secs(2, 1), 2);
    assert_eq!(retry_delay_secs(5, 1), 16);
    assert_eq!(retry_delay_secs(1, 30), 30);
    assert_eq!(retry_delay_secs(4, 30), 240);
    assert_eq!(retry_delay_secs(10, 30), 900);
    assert_eq!(retry_delay_secs(u32::MAX, 30), 900);
    assert_eq!(retry_delay_secs(0, 0), 1);
}

#[test]
fn start_passes_the_machines_startable_statuses() {
    let s = start(42);
    assert_eq!(
        s.params,
        vec![Some("42".into()), Some("{paid,partially_refunded}".into())]
    );
}

#[test]
fn staff_may_release_paid_orders_and_retry_failed_ones() {
    let s = request("ord_x");
    assert_eq!(
        s.params,
        vec![Some("ord_x".into()), Some("{paid,partially_refunded,fulfilling}".into())]
    );
    let q: Requested = serde_json::from_str(
        r#"{"queued": {"outbox": [{"id": 1, "topic": "fulfillment", "body": {"order_id": 2, "outbox_id": 1}}]}}"#,
    )
    .unwrap();
    assert!(matches!(q, Requested::Queued { ref outbox } if outbox.len() == 1));
}

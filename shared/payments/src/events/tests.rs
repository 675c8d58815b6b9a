//! Tests of `events` (the parent module).

use super::*;
use proptest::prelude::*;
use serde_json::json;
use std::str::FromStr;

const ORDER: &str = "ord_01hx3k5m7p9r2t4v6w8y0z2b4c";

/// Real-shaped payloads (tests/fixtures/{stripe,paypal}/), by event type.
fn fixture(provider: Provider, event_type: &str) -> Value {
    let text = match (provider, event_type) {
        (Provider::Stripe, "payment_intent.succeeded") => {
            include_str!("../../tests/fixtures/stripe/payment_intent.succeeded.json")
        }
        (Provider::Stripe, "payment_intent.payment_failed") => {
            include_str!("../../tests/fixtures/stripe/payment_intent.payment_failed.json")
        }
        (Provider::Stripe, "payment_intent.canceled") => {
            include_str!("../../tests/fixtures/stripe/payment_intent.canceled.json")
        }
        (Provider::Stripe, "charge.refunded") => {
            include_str!("../../tests/fixtures/stripe/charge.refunded.json")
        }
        (Provider::Stripe, "charge.dispute.created") => {
            include_str!("../../tests/fixtures/stripe/charge.dispute.created.json")
        }
        (Provider::Stripe, "customer.created") => {
            include_str!("../../tests/fixtures/stripe/customer.created.json")
        }
        (Provider::PayPal, "CHECKOUT.ORDER.APPROVED") => {
            include_str!("../../tests/fixtures/paypal/CHECKOUT.ORDER.APPROVED.json")
        }
        (Provider::PayPal, "PAYMENT.CAPTURE.COMPLETED") => {
            include_str!("../../tests/fixtures/paypal/PAYMENT.CAPTURE.COMPLETED.json")
        }
        (Provider::PayPal, "PAYMENT.CAPTURE.DECLINED") => {
            include_str!("../../tests/fixtures/paypal/PAYMENT.CAPTURE.DECLINED.json")
        }
        (Provider::PayPal, "PAYMENT.CAPTURE.PENDING") => {
            include_str!("../../tests/fixtures/paypal/PAYMENT.CAPTURE.PENDING.json")
        }
        (Provider::PayPal, "PAYMENT.CAPTURE.REFUNDED") => {
            include_str!("../../tests/fixtures/paypal/PAYMENT.CAPTURE.REFUNDED.json")
        }
        (Provider::PayPal, "PAYMENT.CAPTURE.REVERSED") => {
            include_str!("../../tests/fixtures/paypal/PAYMENT.CAPTURE.REVERSED.json")
        }
        _ => panic!("no fixture {event_type}"),
    };
    serde_json::from_str(text).unwrap()
}

fn parse(provider: Provider, event: &Value) -> Result<ProviderEvent, ApiError> {
    ProviderEvent::parse(provider, event.to_string().as_bytes())
}

fn parsed(provider: Provider, event_type: &str) -> ProviderEvent {
    parse(provider, &fixture(provider, event_type)).unwrap()
}

/// The fixture with the field at `pointer` set to `value` (`None`: removed).
fn with(provider: Provider, event_type: &str, pointer: &str, value: Option<Value>) -> Value {
    let mut event = fixture(provider, event_type);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = event
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match (parent, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_string(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (Value::Array(items), None) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("{pointer} is not in an object or array"),
    }
    event
}

fn money(value: &str, currency: &str) -> Money {
    Money {
        amount: rust_decimal::Decimal::from_str(value).unwrap(),
        currency: Currency::parse(currency).unwrap(),
    }
}

fn assert_invalid(provider: Provider, event: &Value, why: &str) {
    let err = parse(provider, event).expect_err(why);
    assert_eq!(err.status, 400, "{why}");
    assert_eq!(err.code, "invalid_event", "{why}: {}", err.message);
}

// Stripe

#[test]
fn stripe_payment_intent_succeeded() {
    let e = parsed(Provider::Stripe, "payment_intent.succeeded");
    assert_eq!(
        e,
        ProviderEvent {
            provider: Provider::Stripe,
            event_id: "evt_3MtwBwLkdIwHu7ix0KFlQ1bU".into(),
            event_type: "payment_intent.succeeded".into(),
            kind: Some(EventKind::PaymentSucceeded),
            order_id: Some(ORDER.into()),
            payment_ref: Some("pi_3MtwBwLkdIwHu7ix28a3tqPa".into()),
            capture_ref: Some("ch_3MtwBwLkdIwHu7ix28V4Rsmh".into()),
            amount: Some(money("20.00", "USD")),
            refund: None,
        }
    );
    assert_eq!(e.amount.unwrap().amount.to_string(), "20.00");
}

#[test]
fn stripe_success_counts_what_was_received() {
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/amount_received",
        Some(json!(1500)),
    );
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap().amount,
        Some(money("15.00", "USD"))
    );
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/amount_received",
        None,
    );
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap().amount,
        Some(money("20.00", "USD"))
    );
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/amount_received",
        Some(Value::Null),
    );
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap().amount,
        Some(money("20.00", "USD"))
    );
}

#[test]
fn stripe_latest_charge_may_be_expanded_or_absent() {
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/latest_charge",
        Some(json!({"id": "ch_expanded", "object": "charge"})),
    );
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap().capture_ref.as_deref(),
        Some("ch_expanded")
    );
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/latest_charge",
        None,
    );
    assert_eq!(parse(Provider::Stripe, &e).unwrap().capture_ref, None);
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/latest_charge",
        Some(json!({"object": "charge"})),
    );
    assert_invalid(Provider::Stripe, &e, "an expanded charge without id");
}

#[test]
fn stripe_zero_decimal_currencies_keep_their_units() {
    let mut e = fixture(Provider::Stripe, "payment_intent.succeeded");
    e["data"]["object"]["currency"] = json!("jpy");
    e["data"]["object"]["amount_received"] = json!(5000);
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap().amount,
        Some(money("5000", "JPY"))
    );
}

#[test]
fn stripe_payment_failed_and_canceled() {
    let e = parsed(Provider::Stripe, "payment_intent.payment_failed");
    assert_eq!(e.kind, Some(EventKind::PaymentFailed));
    assert_eq!(
        e.payment_ref.as_deref(),
        Some("pi_3MtwBwLkdIwHu7ix28a3tqPa")
    );
    assert_eq!(
        e.capture_ref.as_deref(),
        Some("ch_3MtwBwLkdIwHu7ix1aJ7EKjw")
    );
    assert_eq!(e.order_id.as_deref(), Some(ORDER));
    // What was asked for, not the 0 received.
    assert_eq!(e.amount, Some(money("20.00", "USD")));

    let e = parsed(Provider::Stripe, "payment_intent.canceled");
    assert_eq!(e.kind, Some(EventKind::PaymentCanceled));
    assert_eq!(e.event_id, "evt_3MtwBwLkdIwHu7ix2CfT1Dlc");
    assert_eq!(e.capture_ref, None);
    assert_eq!(e.amount, Some(money("20.00", "USD")));
    assert_eq!(e.refund, None);
}

#[test]
fn stripe_charge_refunded_says_the_total_refunded() {
    let e = parsed(Provider::Stripe, "charge.refunded");
    assert_eq!(e.kind, Some(EventKind::Refunded));
    assert_eq!(
        e.capture_ref.as_deref(),
        Some("ch_3MtwBwLkdIwHu7ix28V4Rsmh")
    );
    assert_eq!(
        e.payment_ref.as_deref(),
        Some("pi_3MtwBwLkdIwHu7ix28a3tqPa")
    );
    assert_eq!(e.order_id.as_deref(), Some(ORDER));
    assert_eq!(e.amount, Some(money("20.00", "USD")));
    assert_eq!(
        e.refund,
        Some(RefundFacts {
            provider_refund_id: None,
            our_refund_id: None,
            amount: money("5.00", "USD"),
            cumulative: true,
        })
    );
    // A charge without a PaymentIntent or metadata still reads.
    let mut e = fixture(Provider::Stripe, "charge.refunded");
    e["data"]["object"]["payment_intent"] = Value::Null;
    e["data"]["object"]["metadata"] = json!({});
    let e = parse(Provider::Stripe, &e).unwrap();
    assert_eq!((e.payment_ref, e.order_id), (None, None));
}

#[test]
fn stripe_dispute_created() {
    let e = parsed(Provider::Stripe, "charge.dispute.created");
    assert_eq!(e.kind, Some(EventKind::Disputed));
    assert_eq!(
        e.capture_ref.as_deref(),
        Some("ch_3MtwBwLkdIwHu7ix28V4Rsmh")
    );
    assert_eq!(
        e.payment_ref.as_deref(),
        Some("pi_3MtwBwLkdIwHu7ix28a3tqPa")
    );
    assert_eq!(e.amount, Some(money("20.00", "USD")));
    assert_eq!((e.order_id, e.refund), (None, None));
}

#[test]
fn stripe_types_we_do_not_handle_are_read_and_left_alone() {
    let e = parsed(Provider::Stripe, "customer.created");
    assert_eq!(
        e,
        ProviderEvent::unhandled(
            Provider::Stripe,
            "evt_1NG8Du2eZvKYlo2CUI79vXWy".into(),
            "customer.created".into()
        )
    );
    // Even with no data at all, or a PayPal type.
    for t in [
        "payment_intent.created",
        "charge.succeeded",
        "PAYMENT.CAPTURE.COMPLETED",
    ] {
        let e = parse(Provider::Stripe, &json!({"id": "evt_1", "type": t})).unwrap();
        assert_eq!(e.kind, None, "{t}");
        assert_eq!(e.event_type, t);
    }
}

#[test]
fn stripe_events_without_what_they_need_are_invalid() {
    let s = Provider::Stripe;
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        ("payment_intent.succeeded", "/id", None),
        ("payment_intent.succeeded", "/id", Some(json!(""))),
        ("payment_intent.succeeded", "/id", Some(json!(42))),
        ("payment_intent.succeeded", "/id", Some(json!("evt 1"))),
        (
            "payment_intent.succeeded",
            "/id",
            Some(json!("a".repeat(256))),
        ),
        ("payment_intent.succeeded", "/id", Some(json!("evt_é"))),
        ("payment_intent.succeeded", "/type", None),
        (
            "payment_intent.succeeded",
            "/type",
            Some(json!(["payment_intent.succeeded"])),
        ),
        ("payment_intent.succeeded", "/data", None),
        (
            "payment_intent.succeeded",
            "/data/object",
            Some(json!("pi_1")),
        ),
        ("payment_intent.succeeded", "/data/object/id", None),
        (
            "payment_intent.succeeded",
            "/data/object/id",
            Some(json!("pi\n1")),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/amount_received",
            Some(json!(-1)),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/amount_received",
            Some(json!(20.5)),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/amount_received",
            Some(json!("2000")),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/amount_received",
            Some(json!(u64::MAX)),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/amount_received",
            Some(json!(1_000_000_000_000i64)),
        ),
        ("payment_intent.succeeded", "/data/object/currency", None),
        (
            "payment_intent.succeeded",
            "/data/object/currency",
            Some(json!("us")),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/currency",
            Some(json!("usdd")),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/currency",
            Some(json!("u$d")),
        ),
        (
            "payment_intent.succeeded",
            "/data/object/latest_charge",
            Some(json!(7)),
        ),
        ("payment_intent.payment_failed", "/data/object/amount", None),
        (
            "payment_intent.canceled",
            "/data/object/amount",
            Some(Value::Null),
        ),
        ("charge.refunded", "/data/object/id", None),
        ("charge.refunded", "/data/object/amount_refunded", None),
        ("charge.refunded", "/data/object/amount", Some(json!(-5))),
        (
            "charge.refunded",
            "/data/object/payment_intent",
            Some(json!("")),
        ),
        ("charge.dispute.created", "/data/object/charge", None),
        ("charge.dispute.created", "/data/object/amount", None),
    ];
    for (event_type, pointer, value) in cases {
        let why = format!("{event_type} {pointer} = {value:?}");
        assert_invalid(s, &with(s, event_type, pointer, value), &why);
    }
}

// PayPal

#[test]
fn paypal_checkout_order_approved() {
    let e = parsed(Provider::PayPal, "CHECKOUT.ORDER.APPROVED");
    assert_eq!(
        e,
        ProviderEvent {
            provider: Provider::PayPal,
            event_id: "WH-COC11055RA711503B-4YM959094A144403T".into(),
            event_type: "CHECKOUT.ORDER.APPROVED".into(),
            kind: Some(EventKind::PaymentApproved),
            order_id: Some(ORDER.into()),
            payment_ref: Some("5O190127TN364715T".into()),
            capture_ref: None,
            amount: Some(money("20.00", "USD")),
            refund: None,
        }
    );
}

#[test]
fn paypal_order_id_falls_back_to_reference_id() {
    let p = Provider::PayPal;
    let t = "CHECKOUT.ORDER.APPROVED";
    let e = with(p, t, "/resource/purchase_units/0/custom_id", None);
    assert_eq!(parse(p, &e).unwrap().order_id.as_deref(), Some(ORDER));
    let e = with(
        p,
        t,
        "/resource/purchase_units/0/custom_id",
        Some(json!("something else")),
    );
    assert_eq!(parse(p, &e).unwrap().order_id.as_deref(), Some(ORDER));
    let mut e = fixture(p, t);
    e["resource"]["purchase_units"][0]["custom_id"] = json!("default");
    e["resource"]["purchase_units"][0]["reference_id"] = json!("default");
    assert_eq!(parse(p, &e).unwrap().order_id, None);
}

#[test]
fn paypal_capture_completed_and_declined() {
    let e = parsed(Provider::PayPal, "PAYMENT.CAPTURE.COMPLETED");
    assert_eq!(
        e,
        ProviderEvent {
            provider: Provider::PayPal,
            event_id: "WH-58D329510W468432D-8HN650336L201105X".into(),
            event_type: "PAYMENT.CAPTURE.COMPLETED".into(),
            kind: Some(EventKind::PaymentSucceeded),
            order_id: Some(ORDER.into()),
            payment_ref: Some("5O190127TN364715T".into()),
            capture_ref: Some("2GG279541U471931P".into()),
            amount: Some(money("20.00", "USD")),
            refund: None,
        }
    );
    let e = parsed(Provider::PayPal, "PAYMENT.CAPTURE.DECLINED");
    assert_eq!(e.kind, Some(EventKind::PaymentFailed));
    assert_eq!(e.capture_ref.as_deref(), Some("7NW873794T343360M"));
    assert_eq!(e.payment_ref.as_deref(), Some("5O190127TN364715T"));
    // Without supplementary data, the order is unknown here (not guessed
    // from the links).
    let e = with(
        Provider::PayPal,
        "PAYMENT.CAPTURE.COMPLETED",
        "/resource/supplementary_data",
        None,
    );
    assert_eq!(parse(Provider::PayPal, &e).unwrap().payment_ref, None);
}

#[test]
fn paypal_capture_pending_is_not_handled() {
    let e = parsed(Provider::PayPal, "PAYMENT.CAPTURE.PENDING");
    assert_eq!(e.kind, None);
    assert_eq!(e.event_id, "WH-4SW78779LY2325805-07E03580SX1414828");
    assert_eq!((e.capture_ref, e.amount), (None, None));
    let e = parse(
        Provider::PayPal,
        &json!({"id": "WH-1", "event_type": "BILLING.SUBSCRIPTION.CREATED"}),
    )
    .unwrap();
    assert_eq!(e.kind, None);
}

#[test]
fn paypal_capture_refunded_is_one_refund() {
    let e = parsed(Provider::PayPal, "PAYMENT.CAPTURE.REFUNDED");
    assert_eq!(
        e,
        ProviderEvent {
            provider: Provider::PayPal,
            event_id: "WH-1GE84257G0350133W-6RW800890C634293G".into(),
            event_type: "PAYMENT.CAPTURE.REFUNDED".into(),
            kind: Some(EventKind::Refunded),
            order_id: None,
            payment_ref: None,
            capture_ref: Some("2GG279541U471931P".into()),
            amount: None,
            refund: Some(RefundFacts {
                provider_refund_id: Some("1Y107995YT783435V".into()),
                our_refund_id: Some("ref_01hx3k9q2w4e6r8t0y2u4i6o8p".into()),
                amount: money("5.00", "USD"),
                cumulative: false,
            }),
        }
    );
}

#[test]
fn paypal_refunds_name_their_capture_by_related_ids_first() {
    let p = Provider::PayPal;
    let t = "PAYMENT.CAPTURE.REFUNDED";
    let mut e = fixture(p, t);
    e["resource"]["supplementary_data"] =
        json!({"related_ids": {"capture_id": "CAPTURE1", "order_id": "ORDER1"}});
    let parsed = parse(p, &e).unwrap();
    assert_eq!(parsed.capture_ref.as_deref(), Some("CAPTURE1"));
    assert_eq!(parsed.payment_ref.as_deref(), Some("ORDER1"));
    // No related ids, no "up" link: a "self" link to a capture will do.
    let mut e = fixture(p, t);
    e["resource"]["links"] = json!([
        {"href": "https://api.paypal.com/v2/payments/captures/CAPTURE2", "rel": "self", "method": "GET"}
    ]);
    assert_eq!(
        parse(p, &e).unwrap().capture_ref.as_deref(),
        Some("CAPTURE2")
    );
    // Links elsewhere name no capture.
    for links in [
        json!([]),
        json!("not a list"),
        json!([{"href": "https://api.paypal.com/v2/payments/refunds/R1", "rel": "self"}]),
        json!([{"href": "https://api.paypal.com/v2/checkout/orders/O1", "rel": "up"}]),
        json!([{"href": "https://api.paypal.com/v2/payments/captures/", "rel": "up"}]),
        json!([{"href": "https://api.paypal.com/v2/payments/captures/C1/refund", "rel": "up"}]),
        json!([{"href": "https://api.paypal.com/v2/payments/captures/C1?x=1", "rel": "up"}]),
        json!([{"href": 7, "rel": "up"}]),
    ] {
        let mut e = fixture(p, t);
        e["resource"]["links"] = links.clone();
        assert_invalid(p, &e, &links.to_string());
    }
}

#[test]
fn paypal_capture_reversed() {
    let e = parsed(Provider::PayPal, "PAYMENT.CAPTURE.REVERSED");
    assert_eq!(e.kind, Some(EventKind::Reversed));
    assert_eq!(e.capture_ref.as_deref(), Some("2GG279541U471931P"));
    assert_eq!(e.amount, Some(money("20.00", "USD")));
    assert_eq!(e.refund, None);
    assert_eq!(e.order_id, None);
    let e = with(
        Provider::PayPal,
        "PAYMENT.CAPTURE.REVERSED",
        "/resource/custom_id",
        Some(json!(ORDER)),
    );
    assert_eq!(
        parse(Provider::PayPal, &e).unwrap().order_id.as_deref(),
        Some(ORDER)
    );
}

#[test]
fn paypal_amounts_are_exact_decimals_in_their_currency() {
    let p = Provider::PayPal;
    let t = "PAYMENT.CAPTURE.COMPLETED";
    let e = with(
        p,
        t,
        "/resource/amount",
        Some(json!({"currency_code": "JPY", "value": "2000"})),
    );
    assert_eq!(parse(p, &e).unwrap().amount, Some(money("2000", "JPY")));
    let e = with(
        p,
        t,
        "/resource/amount",
        Some(json!({"currency_code": "USD", "value": "19.9"})),
    );
    assert_eq!(
        parse(p, &e).unwrap().amount.unwrap().amount.to_string(),
        "19.90"
    );
    for amount in [
        json!({"currency_code": "USD", "value": "12.345"}),
        json!({"currency_code": "USD", "value": "1e3"}),
        json!({"currency_code": "USD", "value": "-1.00"}),
        json!({"currency_code": "USD", "value": " 1.00"}),
        json!({"currency_code": "USD", "value": "1,00"}),
        json!({"currency_code": "USD", "value": ".50"}),
        json!({"currency_code": "USD", "value": "1."}),
        json!({"currency_code": "USD", "value": ""}),
        json!({"currency_code": "USD", "value": 12.34}),
        json!({"currency_code": "USD", "value": "10000000000.00"}),
        json!({"currency_code": "JPY", "value": "2000.0"}),
        json!({"currency_code": "usd", "value": "1.00"}),
        json!({"currency_code": "USDX", "value": "1.00"}),
        json!({"value": "1.00"}),
        json!({"currency_code": "USD"}),
        json!("20.00"),
    ] {
        assert_invalid(
            p,
            &with(p, t, "/resource/amount", Some(amount.clone())),
            &amount.to_string(),
        );
    }
}

#[test]
fn paypal_events_without_what_they_need_are_invalid() {
    let p = Provider::PayPal;
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        ("CHECKOUT.ORDER.APPROVED", "/id", None),
        ("CHECKOUT.ORDER.APPROVED", "/event_type", None),
        ("CHECKOUT.ORDER.APPROVED", "/event_type", Some(json!(""))),
        ("CHECKOUT.ORDER.APPROVED", "/resource", None),
        ("CHECKOUT.ORDER.APPROVED", "/resource", Some(json!([]))),
        ("CHECKOUT.ORDER.APPROVED", "/resource/id", None),
        (
            "CHECKOUT.ORDER.APPROVED",
            "/resource/purchase_units",
            Some(json!([])),
        ),
        (
            "CHECKOUT.ORDER.APPROVED",
            "/resource/purchase_units/0/amount",
            None,
        ),
        ("PAYMENT.CAPTURE.COMPLETED", "/resource/id", None),
        (
            "PAYMENT.CAPTURE.COMPLETED",
            "/resource/id",
            Some(json!("2GG 279")),
        ),
        ("PAYMENT.CAPTURE.COMPLETED", "/resource/amount", None),
        (
            "PAYMENT.CAPTURE.COMPLETED",
            "/resource/supplementary_data/related_ids/order_id",
            Some(json!(5)),
        ),
        ("PAYMENT.CAPTURE.DECLINED", "/resource/amount", None),
        ("PAYMENT.CAPTURE.REFUNDED", "/resource/id", None),
        ("PAYMENT.CAPTURE.REFUNDED", "/resource/amount", None),
        ("PAYMENT.CAPTURE.REFUNDED", "/resource/links", None),
        (
            "PAYMENT.CAPTURE.REFUNDED",
            "/resource/custom_id",
            Some(json!("our refund")),
        ),
        ("PAYMENT.CAPTURE.REVERSED", "/resource/links", None),
        ("PAYMENT.CAPTURE.REVERSED", "/resource/amount", None),
    ];
    for (event_type, pointer, value) in cases {
        let why = format!("{event_type} {pointer} = {value:?}");
        assert_invalid(p, &with(p, event_type, pointer, value), &why);
    }
}

// Both

#[test]
fn order_ids_are_kept_only_when_well_formed() {
    for bad in [
        json!("ord_01hx3k5m7p9r2t4v6w8y0z2b4"),
        json!("ord_01hx3k5m7p9r2t4v6w8y0z2b4cd"),
        json!("ord_01HX3K5M7P9R2T4V6W8Y0Z2B4C"),
        json!("ORD_01hx3k5m7p9r2t4v6w8y0z2b4c"),
        json!("ord-01hx3k5m7p9r2t4v6w8y0z2b4c"),
        json!("ord_01hx3k5m7p9r2t4v6w8y0z2b4_"),
        json!(" ord_01hx3k5m7p9r2t4v6w8y0z2b4c"),
        json!("1' OR '1'='1"),
        json!(""),
        json!(17),
        json!({"id": ORDER}),
        Value::Null,
    ] {
        let e = with(
            Provider::Stripe,
            "payment_intent.succeeded",
            "/data/object/metadata/order_id",
            Some(bad.clone()),
        );
        assert_eq!(parse(Provider::Stripe, &e).unwrap().order_id, None, "{bad}");
        let e = with(
            Provider::PayPal,
            "PAYMENT.CAPTURE.COMPLETED",
            "/resource/custom_id",
            Some(bad.clone()),
        );
        assert_eq!(parse(Provider::PayPal, &e).unwrap().order_id, None, "{bad}");
    }
    let e = with(
        Provider::Stripe,
        "payment_intent.succeeded",
        "/data/object/metadata",
        None,
    );
    assert_eq!(parse(Provider::Stripe, &e).unwrap().order_id, None);
    assert!(is_public_order_id(ORDER));
}

#[test]
fn bodies_that_are_not_json_objects_are_invalid() {
    for body in [
        &b""[..],
        b"not json",
        b"{",
        b"[]",
        b"null",
        b"\"evt_1\"",
        b"{\"id\":\"evt_1\",\"type\":\"charge.refunded\"",
        b"\xff\xfe{}",
        b"{\"id\":\"evt_1\",\"type\":\"charge.refunded\"} trailing",
    ] {
        for provider in Provider::ALL {
            let err = ProviderEvent::parse(provider, body).unwrap_err();
            assert_eq!(err.code, "invalid_event", "{provider:?} {body:?}");
        }
    }
    // Nesting deeper than serde_json's limit is an error, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        parse_stripe(deep.as_bytes()).unwrap_err().code,
        "invalid_event"
    );
}

#[test]
fn messages_name_the_field() {
    let e = with(
        Provider::PayPal,
        "PAYMENT.CAPTURE.COMPLETED",
        "/resource/amount",
        None,
    );
    assert_eq!(
        parse(Provider::PayPal, &e).unwrap_err().message,
        "amount is missing"
    );
    let e = with(
        Provider::PayPal,
        "CHECKOUT.ORDER.APPROVED",
        "/resource/purchase_units/0/amount",
        None,
    );
    assert_eq!(
        parse(Provider::PayPal, &e).unwrap_err().message,
        "purchase_units[0].amount is missing"
    );
    let e = with(
        Provider::Stripe,
        "charge.refunded",
        "/data/object/amount_refunded",
        Some(json!(-1)),
    );
    assert_eq!(
        parse(Provider::Stripe, &e).unwrap_err().message,
        "amount_refunded must be a whole non-negative number of minor units"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_stripe(&body);
        let _ = parse_paypal(&body);
    }

    #[test]
    fn arbitrary_json_in_a_handled_event_never_panics(
        field in prop_oneof![
            Just("/data/object"), Just("/data/object/amount"), Just("/data/object/currency"),
            Just("/data/object/latest_charge"), Just("/data/object/metadata"), Just("/id"),
        ],
        value in arb_json(),
    ) {
        for t in ["payment_intent.succeeded", "charge.refunded", "charge.dispute.created"] {
            if fixture(Provider::Stripe, t).pointer(field).is_some() {
                let _ = parse(Provider::Stripe, &with(Provider::Stripe, t, field, Some(value.clone())));
            }
        }
        for t in ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED"] {
            let _ = parse(Provider::PayPal, &with(Provider::PayPal, t, "/resource", Some(value.clone())));
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

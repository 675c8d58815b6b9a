//! Tests of `stripe` (the parent module).

use std::str::FromStr;

use futures_executor::block_on;
use platform::money::Currency;
use rust_decimal::Decimal;

use super::*;
use crate::retry::scripted::{retrying, Scripted};
use crate::TransportError;

const KEY: &str = "sk_test_51Hq0secretKEYvalue";
const BASE: &str = "https://api.stripe.test/";

fn money(amount: &str, currency: &str) -> Money {
    Money {
        amount: Decimal::from_str(amount).unwrap(),
        currency: Currency::parse(currency).unwrap(),
    }
}

fn new_payment() -> NewPayment {
    NewPayment {
        order_id: "ord_01HZX3".into(),
        amount: money("12.34", "USD"),
        idempotency_key: "pay_ord_01HZX3_1".into(),
        return_url: "https://shop.test/return".into(),
        cancel_url: "https://shop.test/cancel".into(),
    }
}

fn refund_request() -> RefundRequest {
    RefundRequest {
        provider_ref: "pi_3MtwBwLkdIwHu7ix28a3tqPa".into(),
        amount: money("5.00", "USD"),
        refund_id: "42".into(),
        idempotency_key: "refund_42".into(),
    }
}

/// Shaped like Stripe's documented answer (trimmed).
const PAYMENT_INTENT: &str = r#"{
  "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
  "object": "payment_intent",
  "amount": 1234,
  "capture_method": "automatic",
  "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
  "currency": "usd",
  "metadata": {"order_id": "ord_01HZX3"},
  "status": "requires_payment_method"
}"#;

fn refund_answer(status: &str) -> String {
    format!(
        r#"{{"id":"re_1Nispe2eZvKYlo2Cd31jOCgZ","object":"refund","amount":500,
            "charge":"ch_1","currency":"usd","metadata":{{"refund_id":"42"}},
            "payment_intent":"pi_3MtwBwLkdIwHu7ix28a3tqPa","reason":null,"status":"{status}"}}"#
    )
}

#[test]
fn a_payment_is_a_form_encoded_payment_intent_under_the_idempotency_key() {
    let t = Scripted::replies([(200, PAYMENT_INTENT)]);
    let g = StripeGateway::new(BASE, KEY, &t);
    let created = block_on(g.create_payment(&new_payment())).unwrap();
    assert_eq!(
        created,
        CreatedPayment {
            provider_payment_id: "pi_3MtwBwLkdIwHu7ix28a3tqPa".into(),
            next_step: NextStep::ConfirmWithClientSecret(
                "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH".into()
            ),
        }
    );
    let calls = t.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.method, HttpMethod::Post);
    assert_eq!(c.url, "https://api.stripe.test/v1/payment_intents");
    assert_eq!(c.header("authorization"), Some(&*format!("Bearer {KEY}")));
    assert_eq!(c.header("Idempotency-Key"), Some("pay_ord_01HZX3_1"));
    assert_eq!(c.header("Stripe-Version"), Some("2024-06-20"));
    assert_eq!(
        c.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        c.body.as_deref(),
        Some("amount=1234&currency=usd&capture_method=automatic&metadata%5Border_id%5D=ord_01HZX3")
    );
}

#[test]
fn amounts_go_in_minor_units_of_their_currency() {
    let t = Scripted::replies([(200, PAYMENT_INTENT)]);
    let g = StripeGateway::new(BASE, KEY, &t);
    let mut p = new_payment();
    p.amount = money("1500", "JPY");
    block_on(g.create_payment(&p)).unwrap();
    let body = t.calls()[0].body.clone().unwrap();
    assert!(body.starts_with("amount=1500&currency=jpy&"), "{body}");
}

#[test]
fn a_fraction_of_a_minor_unit_is_refused_before_sending() {
    let t = Scripted::default();
    let g = StripeGateway::new(BASE, KEY, &t);
    let mut p = new_payment();
    p.amount = money("12.345", "USD");
    let err = block_on(g.create_payment(&p)).unwrap_err();
    assert!(
        matches!(err, GatewayError::Rejected { status: 400, ref code, .. } if code == "invalid_amount")
    );
    assert!(t.calls().is_empty());
}

#[test]
fn the_form_encoder_escapes_everything_but_unreserved_bytes() {
    assert_eq!(
        form_encode(&[("a b", "x&y=z/é+~"), ("k", "")]),
        "a+b=x%26y%3Dz%2F%C3%A9%2B%7E&k="
    );
    assert_eq!(form_encode(&[("ok-._*", "AZaz09")]), "ok-._*=AZaz09");
    assert_eq!(form_encode(&[]), "");
}

#[test]
fn capture_is_automatic_and_sends_nothing() {
    let t = Scripted::default();
    let g = StripeGateway::new(BASE, KEY, &t);
    assert_eq!(block_on(g.capture("pi_1", "cap_1")), Ok(None));
    assert!(t.calls().is_empty());
}

#[test]
fn a_refund_names_the_payment_intent_and_our_refund() {
    let answer = refund_answer("succeeded");
    let t = Scripted::replies([(200, answer.as_str())]);
    let g = StripeGateway::new(BASE, KEY, &t);
    let outcome = block_on(g.refund(&refund_request())).unwrap();
    assert_eq!(
        outcome,
        RefundOutcome {
            provider_refund_id: "re_1Nispe2eZvKYlo2Cd31jOCgZ".into(),
            state: RefundState::Succeeded,
        }
    );
    let c = &t.calls()[0];
    assert_eq!(c.url, "https://api.stripe.test/v1/refunds");
    assert_eq!(c.header("Idempotency-Key"), Some("refund_42"));
    assert_eq!(
        c.body.as_deref(),
        Some("payment_intent=pi_3MtwBwLkdIwHu7ix28a3tqPa&amount=500&metadata%5Brefund_id%5D=42")
    );
}

#[test]
fn refund_statuses() {
    for (status, state) in [
        ("succeeded", RefundState::Succeeded),
        ("pending", RefundState::Pending),
        ("requires_action", RefundState::Pending),
        ("failed", RefundState::Failed),
        ("canceled", RefundState::Failed),
        ("something_new", RefundState::Pending),
    ] {
        let answer = refund_answer(status);
        let t = Scripted::replies([(200, answer.as_str())]);
        let g = StripeGateway::new(BASE, KEY, &t);
        assert_eq!(
            block_on(g.refund(&refund_request())).unwrap().state,
            state,
            "{status}"
        );
    }
}

#[test]
fn client_errors_are_rejections_with_stripes_reason() {
    let cases = [
        (
            404,
            r#"{"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing",
               "message":"No such payment_intent: 'pi_x'","param":"payment_intent","type":"invalid_request_error"}}"#,
            "resource_missing",
            "No such payment_intent: 'pi_x'",
        ),
        // Only a type (some errors; localstripe's always).
        (
            400,
            r#"{"error":{"type":"invalid_request_error","message":"Bad request"}}"#,
            "invalid_request_error",
            "Bad request",
        ),
        (404, "<html>not found</html>", "http_404", ""),
    ];
    for (status, body, code, message) in cases {
        let t = Scripted::replies([(status, body)]);
        let g = StripeGateway::new(BASE, KEY, &t);
        assert_eq!(
            block_on(g.refund(&refund_request())),
            Err(GatewayError::Rejected {
                status,
                code: code.into(),
                message: message.into()
            })
        );
    }
}

#[test]
fn an_unreadable_success_is_malformed_without_quoting_the_body() {
    let t = Scripted::replies([(200, r#"{"id":"pi_1","client_secret":7}"#)]);
    let g = StripeGateway::new(BASE, KEY, &t);
    match block_on(g.create_payment(&new_payment())) {
        Err(GatewayError::Malformed { detail }) => {
            assert!(detail.starts_with("payment intent:"), "{detail}");
            assert!(!detail.contains("pi_1"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_secret_key_is_in_no_debug_output_nor_error() {
    let echo = format!(
        r#"{{"error":{{"type":"invalid_request_error","message":"Invalid API Key provided: {KEY}"}}}}"#
    );
    let t = Scripted::replies([(401, echo.as_str())]);
    let g = StripeGateway::new(BASE, KEY, &t);
    assert!(!format!("{g:?}").contains(KEY));
    let err = block_on(g.create_payment(&new_payment())).unwrap_err();
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
    assert!(matches!(err, GatewayError::Rejected { status: 401, .. }));
}

#[test]
fn the_whole_stack_retries_one_create_under_one_key() {
    let stack = retrying(Scripted::replies([
        (500, ""),
        (500, ""),
        (200, PAYMENT_INTENT),
    ]));
    let g = StripeGateway::new(BASE, KEY, &stack);
    let created = block_on(g.create_payment(&new_payment())).unwrap();
    assert_eq!(created.provider_payment_id, "pi_3MtwBwLkdIwHu7ix28a3tqPa");
    let calls = stack.inner.calls();
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| *c == calls[0]));
    assert!(calls
        .iter()
        .all(|c| c.header("Idempotency-Key") == Some("pay_ord_01HZX3_1")));
    assert_eq!(stack.sleeper.slept.borrow().len(), 2);
}

#[test]
fn spent_retries_are_unavailable() {
    let stack = retrying(Scripted::new([
        Err(TransportError::Timeout),
        Ok(crate::retry::scripted::reply(502, "")),
        Ok(crate::retry::scripted::reply(503, "")),
    ]));
    let g = StripeGateway::new(BASE, KEY, &stack);
    assert_eq!(
        block_on(g.create_payment(&new_payment())),
        Err(GatewayError::Unavailable {
            detail: "HTTP 503".into()
        })
    );
}

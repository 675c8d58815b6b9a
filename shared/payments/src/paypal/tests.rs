//! Tests of `paypal` (the parent module).

use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;

use futures_executor::block_on;
use rust_decimal::Decimal;
use serde_json::Value;

use super::*;
use crate::retry::scripted::{reply, retrying, Scripted};

const BASE: &str = "https://api-m.sandbox.paypal.test";
const CLIENT_ID: &str = "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5uX7F6Sj5s";
const SECRET: &str = "ECYYrrSHdKfk_Q0EdvzdGkzj58a66kKaUQ5dZAEv4HvvtDId";
const TOKEN: &str = "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg";

/// Shaped like PayPal's documented token answer.
fn token_answer(token: &str, expires_in: u64) -> String {
    format!(
        r#"{{"scope":"https://uri.paypal.com/services/payments/refund","access_token":"{token}",
            "token_type":"Bearer","app_id":"APP-80W284485P519543T","expires_in":{expires_in},
            "nonce":"2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg"}}"#
    )
}

const ORDER: &str = r#"{"id":"5O190127TN364715T","status":"PAYER_ACTION_REQUIRED",
    "payment_source":{"paypal":{}},
    "links":[{"href":"https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T","rel":"self","method":"GET"},
             {"href":"https://www.paypal.com/checkoutnow?token=5O190127TN364715T","rel":"payer-action","method":"GET"}]}"#;

fn captured_order(capture_status: &str) -> String {
    format!(
        r#"{{"id":"5O190127TN364715T","status":"COMPLETED",
            "payment_source":{{"paypal":{{"name":{{"given_name":"John","surname":"Doe"}},"email_address":"customer@example.com","account_id":"QYR5Z8XDVJNXQ"}}}},
            "purchase_units":[{{"reference_id":"ord_01HZX3","shipping":{{"address":{{"address_line_1":"1 Main St","admin_area_2":"San Jose","admin_area_1":"CA","postal_code":"95131","country_code":"US"}}}},
              "payments":{{"captures":[{{"id":"3C679366HH908993F","status":"{capture_status}",
                "amount":{{"currency_code":"USD","value":"12.34"}},"final_capture":true,
                "seller_protection":{{"status":"ELIGIBLE"}},
                "seller_receivable_breakdown":{{"gross_amount":{{"currency_code":"USD","value":"12.34"}},"paypal_fee":{{"currency_code":"USD","value":"0.71"}},"net_amount":{{"currency_code":"USD","value":"11.63"}}}},
                "create_time":"2024-01-01T00:00:00Z","update_time":"2024-01-01T00:00:00Z"}}]}}}}],
            "payer":{{"payer_id":"QYR5Z8XDVJNXQ"}},
            "links":[{{"href":"https://api-m.paypal.com/v2/checkout/orders/5O190127TN364715T","rel":"self","method":"GET"}}]}}"#
    )
}

fn refund_answer(status: &str) -> String {
    format!(
        r#"{{"id":"1JU08902781691411","status":"{status}","links":[{{"href":"https://api-m.paypal.com/v2/payments/refunds/1JU08902781691411","rel":"self","method":"GET"}}]}}"#
    )
}

#[derive(Default)]
struct MemoryTokens {
    entries: RefCell<HashMap<String, String>>,
    puts: RefCell<Vec<(String, String, u64)>>,
}

impl MemoryTokens {
    fn holding(token: &str) -> Self {
        let m = MemoryTokens::default();
        let key = gateway(&Scripted::default(), &m).token_key();
        m.entries.borrow_mut().insert(key, token.into());
        m
    }
}

#[async_trait(?Send)]
impl TokenCache for MemoryTokens {
    async fn get(&self, key: &str) -> Option<String> {
        self.entries.borrow().get(key).cloned()
    }
    async fn put(&self, key: &str, value: &str, ttl_secs: u64) {
        self.entries.borrow_mut().insert(key.into(), value.into());
        self.puts
            .borrow_mut()
            .push((key.into(), value.into(), ttl_secs));
    }
}

fn gateway<'a>(t: &'a dyn Transport, tokens: &'a dyn TokenCache) -> PayPalGateway<'a> {
    PayPalGateway::new(BASE, CLIENT_ID, SECRET, t, tokens)
}

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
        return_url: "https://shop.test/orders/ord_01HZX3/return".into(),
        cancel_url: "https://shop.test/orders/ord_01HZX3/cancel".into(),
    }
}

fn refund_request() -> RefundRequest {
    RefundRequest {
        provider_ref: "3C679366HH908993F".into(),
        amount: money("5", "USD"),
        refund_id: "42".into(),
        idempotency_key: "refund_42".into(),
    }
}

fn body_json(c: &HttpCall) -> Value {
    serde_json::from_str(c.body.as_deref().unwrap()).unwrap()
}

#[test]
fn the_first_call_gets_a_token_with_the_client_credentials_and_caches_it() {
    let token = token_answer(TOKEN, 32_400);
    let t = Scripted::replies([(200, token.as_str()), (200, ORDER)]);
    let tokens = MemoryTokens::default();
    let g = gateway(&t, &tokens);
    block_on(g.create_payment(&new_payment())).unwrap();

    let c = &t.calls()[0];
    assert_eq!(c.method, HttpMethod::Post);
    assert_eq!(c.url, format!("{BASE}/v1/oauth2/token"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"));
    assert_eq!(c.header("Authorization"), Some(&*format!("Basic {basic}")));
    assert_eq!(
        c.header("Content-Type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(c.body.as_deref(), Some("grant_type=client_credentials"));

    let puts = tokens.puts.borrow();
    assert_eq!(puts.len(), 1);
    let (key, value, ttl) = &puts[0];
    assert!(
        key.starts_with("paypal-token:") && key.len() == "paypal-token:".len() + 16,
        "{key}"
    );
    assert!(!key.contains(CLIENT_ID));
    assert_eq!(value, TOKEN);
    assert_eq!(*ttl, 32_400 - 120);
}

#[test]
fn an_order_is_created_with_the_token_under_the_request_id() {
    let tokens = MemoryTokens::holding(TOKEN);
    let t = Scripted::replies([(201, ORDER)]);
    let g = gateway(&t, &tokens);
    let created = block_on(g.create_payment(&new_payment())).unwrap();
    assert_eq!(
        created,
        CreatedPayment {
            provider_payment_id: "5O190127TN364715T".into(),
            next_step: NextStep::ApproveAt(
                "https://www.paypal.com/checkoutnow?token=5O190127TN364715T".into()
            ),
        }
    );
    // The cached token served: no token request.
    let calls = t.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.url, format!("{BASE}/v2/checkout/orders"));
    assert_eq!(c.header("Authorization"), Some(&*format!("Bearer {TOKEN}")));
    assert_eq!(c.header("PayPal-Request-Id"), Some("pay_ord_01HZX3_1"));
    assert_eq!(c.header("Content-Type"), Some("application/json"));
    assert_eq!(c.header("Prefer"), Some("return=minimal"));
    assert_eq!(
        body_json(c),
        json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": "ord_01HZX3",
                "custom_id": "ord_01HZX3",
                "amount": {"currency_code": "USD", "value": "12.34"},
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": "https://shop.test/orders/ord_01HZX3/return",
                "cancel_url": "https://shop.test/orders/ord_01HZX3/cancel",
                "user_action": "PAY_NOW",
            }}},
        })
    );
}

#[test]
fn the_second_call_uses_the_cached_token() {
    let token = token_answer(TOKEN, 32_400);
    let t = Scripted::replies([(200, token.as_str()), (201, ORDER), (201, ORDER)]);
    let tokens = MemoryTokens::default();
    let g = gateway(&t, &tokens);
    block_on(g.create_payment(&new_payment())).unwrap();
    block_on(g.create_payment(&new_payment())).unwrap();
    let urls: Vec<String> = t.calls().into_iter().map(|c| c.url).collect();
    assert_eq!(
        urls,
        [
            format!("{BASE}/v1/oauth2/token"),
            format!("{BASE}/v2/checkout/orders"),
            format!("{BASE}/v2/checkout/orders"),
        ]
    );
}

#[test]
fn an_approve_link_serves_too() {
    let tokens = MemoryTokens::holding(TOKEN);
    let order = r#"{"id":"O1","status":"CREATED","links":[{"href":"https://www.paypal.com/checkoutnow?token=O1","rel":"approve","method":"GET"}]}"#;
    let t = Scripted::replies([(201, order)]);
    let created = block_on(gateway(&t, &tokens).create_payment(&new_payment())).unwrap();
    assert_eq!(
        created.next_step,
        NextStep::ApproveAt("https://www.paypal.com/checkoutnow?token=O1".into())
    );
}

#[test]
fn an_order_without_an_approval_link_is_malformed() {
    let tokens = MemoryTokens::holding(TOKEN);
    let t = Scripted::replies([(201, r#"{"id":"O1","status":"CREATED","links":[]}"#)]);
    assert!(matches!(
        block_on(gateway(&t, &tokens).create_payment(&new_payment())),
        Err(GatewayError::Malformed { .. })
    ));
}

#[test]
fn a_401_for_a_cached_token_refreshes_it_once_and_resends_the_same_call() {
    let tokens = MemoryTokens::holding("stale-token");
    let fresh = token_answer("fresh-token", 32_400);
    let expired =
        r#"{"error":"invalid_token","error_description":"Token signature verification failed"}"#;
    let t = Scripted::replies([(401, expired), (200, fresh.as_str()), (201, ORDER)]);
    let g = gateway(&t, &tokens);
    let created = block_on(g.create_payment(&new_payment())).unwrap();
    assert_eq!(created.provider_payment_id, "5O190127TN364715T");
    let calls = t.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].header("Authorization"), Some("Bearer stale-token"));
    assert_eq!(calls[1].url, format!("{BASE}/v1/oauth2/token"));
    assert_eq!(calls[2].header("Authorization"), Some("Bearer fresh-token"));
    assert_eq!(
        calls[2].header("PayPal-Request-Id"),
        calls[0].header("PayPal-Request-Id")
    );
    assert_eq!(calls[2].body, calls[0].body);
    assert_eq!(tokens.puts.borrow()[0].1, "fresh-token");
}

#[test]
fn a_401_for_a_fresh_token_is_final() {
    let tokens = MemoryTokens::default();
    let token = token_answer(TOKEN, 32_400);
    let t = Scripted::replies([
        (200, token.as_str()),
        (
            401,
            r#"{"error":"invalid_token","error_description":"Access Token not found in cache"}"#,
        ),
    ]);
    let err = block_on(gateway(&t, &tokens).create_payment(&new_payment())).unwrap_err();
    assert_eq!(
        err,
        GatewayError::Rejected {
            status: 401,
            code: "invalid_token".into(),
            message: "Access Token not found in cache".into()
        }
    );
    assert_eq!(t.calls().len(), 2);
}

#[test]
fn wrong_client_credentials_are_a_rejection() {
    let tokens = MemoryTokens::default();
    let t = Scripted::replies([(
        401,
        r#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#,
    )]);
    assert_eq!(
        block_on(gateway(&t, &tokens).create_payment(&new_payment())),
        Err(GatewayError::Rejected {
            status: 401,
            code: "invalid_client".into(),
            message: "Client Authentication failed".into()
        })
    );
    assert!(tokens.puts.borrow().is_empty());
}

#[test]
fn tokens_are_cached_until_shortly_before_they_expire() {
    assert_eq!(cache_ttl(32_400), Some(32_280));
    assert_eq!(cache_ttl(100), Some(60));
    assert_eq!(cache_ttl(60), None);
    assert_eq!(cache_ttl(0), None);
}

#[test]
fn a_capture_reads_the_captures_id_amount_and_status() {
    for (status, completed) in [("COMPLETED", true), ("PENDING", false), ("DECLINED", false)] {
        let tokens = MemoryTokens::holding(TOKEN);
        let answer = captured_order(status);
        let t = Scripted::replies([(201, answer.as_str())]);
        let captured =
            block_on(gateway(&t, &tokens).capture("5O190127TN364715T", "cap_ord_01HZX3")).unwrap();
        assert_eq!(
            captured,
            Some(Captured {
                capture_id: "3C679366HH908993F".into(),
                amount: money("12.34", "USD"),
                completed,
            })
        );
        let c = &t.calls()[0];
        assert_eq!(
            c.url,
            format!("{BASE}/v2/checkout/orders/5O190127TN364715T/capture")
        );
        assert_eq!(c.header("PayPal-Request-Id"), Some("cap_ord_01HZX3"));
        assert_eq!(c.header("Prefer"), Some("return=representation"));
        assert_eq!(c.body.as_deref(), Some("{}"));
    }
}

#[test]
fn an_order_captured_already_is_a_rejection_the_caller_can_recognise() {
    let tokens = MemoryTokens::holding(TOKEN);
    let answer = r#"{"name":"UNPROCESSABLE_ENTITY",
        "details":[{"issue":"ORDER_ALREADY_CAPTURED","description":"Order already captured.If 'intent=CAPTURE' only one capture per order is allowed."}],
        "message":"The requested action could not be performed, semantically incorrect, or failed business validation.",
        "debug_id":"f2ad7b4d5b2b1","links":[{"href":"https://developer.paypal.com/docs/api/orders/v2/#error-ORDER_ALREADY_CAPTURED","rel":"information_link","method":"GET"}]}"#;
    let t = Scripted::replies([(422, answer)]);
    match block_on(gateway(&t, &tokens).capture("5O190127TN364715T", "cap_1")) {
        Err(GatewayError::Rejected {
            status,
            code,
            message,
        }) => {
            assert_eq!(status, 422);
            assert_eq!(code, "ORDER_ALREADY_CAPTURED");
            assert!(message.contains("Order already captured"), "{message}");
            assert!(message.ends_with("(debug_id f2ad7b4d5b2b1)"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.calls().len(), 1, "a 422 is not retried");
}

#[test]
fn rejections_fall_back_to_the_errors_name() {
    let tokens = MemoryTokens::holding(TOKEN);
    let t = Scripted::replies([(
        404,
        r#"{"name":"RESOURCE_NOT_FOUND","message":"The specified resource does not exist."}"#,
    )]);
    assert_eq!(
        block_on(gateway(&t, &tokens).refund(&refund_request())),
        Err(GatewayError::Rejected {
            status: 404,
            code: "RESOURCE_NOT_FOUND".into(),
            message: "The specified resource does not exist.".into()
        })
    );
}

#[test]
fn a_refund_names_the_capture_our_refund_and_the_amount() {
    let tokens = MemoryTokens::holding(TOKEN);
    let answer = refund_answer("COMPLETED");
    let t = Scripted::replies([(201, answer.as_str())]);
    let outcome = block_on(gateway(&t, &tokens).refund(&refund_request())).unwrap();
    assert_eq!(
        outcome,
        RefundOutcome {
            provider_refund_id: "1JU08902781691411".into(),
            state: RefundState::Succeeded
        }
    );
    let c = &t.calls()[0];
    assert_eq!(
        c.url,
        format!("{BASE}/v2/payments/captures/3C679366HH908993F/refund")
    );
    assert_eq!(c.header("PayPal-Request-Id"), Some("refund_42"));
    assert_eq!(
        body_json(c),
        json!({"amount": {"value": "5.00", "currency_code": "USD"}, "custom_id": "42"})
    );
}

#[test]
fn refund_statuses() {
    for (status, state) in [
        ("COMPLETED", RefundState::Succeeded),
        ("PENDING", RefundState::Pending),
        ("FAILED", RefundState::Failed),
        ("CANCELLED", RefundState::Failed),
    ] {
        let tokens = MemoryTokens::holding(TOKEN);
        let answer = refund_answer(status);
        let t = Scripted::replies([(201, answer.as_str())]);
        assert_eq!(
            block_on(gateway(&t, &tokens).refund(&refund_request()))
                .unwrap()
                .state,
            state
        );
    }
}

#[test]
fn amounts_have_exactly_the_currencys_minor_digits() {
    assert_eq!(
        amount_json(&money("12.3", "USD")).unwrap()["value"],
        "12.30"
    );
    assert_eq!(amount_json(&money("1500", "JPY")).unwrap()["value"], "1500");
    assert!(matches!(
        amount_json(&money("12.345", "USD")),
        Err(GatewayError::Rejected { status: 400, .. })
    ));
}

#[test]
fn ids_that_could_change_the_path_are_refused_before_sending() {
    for bad in [
        "",
        "../v1/oauth2/token",
        "a/b",
        "a?b",
        "a#b",
        "a%2Fb",
        "a b",
        "é",
        &"x".repeat(129),
    ] {
        let tokens = MemoryTokens::holding(TOKEN);
        let t = Scripted::default();
        let g = gateway(&t, &tokens);
        let err = block_on(g.capture(bad, "k")).unwrap_err();
        assert!(
            matches!(err, GatewayError::Rejected { status: 400, ref code, .. } if code == "invalid_id"),
            "{bad:?}"
        );
        let mut r = refund_request();
        r.provider_ref = bad.to_string();
        assert!(block_on(g.refund(&r)).is_err());
        assert!(t.calls().is_empty(), "{bad:?}");
    }
    assert_eq!(
        path_id("3C679366HH908993F-a_b"),
        Ok("3C679366HH908993F-a_b")
    );
}

#[test]
fn secrets_and_tokens_are_in_no_debug_output_nor_error() {
    let tokens = MemoryTokens::holding(TOKEN);
    let echo = format!(r#"{{"name":"X","message":"bad {TOKEN} and {SECRET}"}}"#);
    let t = Scripted::replies([(400, echo.as_str())]);
    let g = gateway(&t, &tokens);
    let debug = format!("{g:?}");
    assert!(
        !debug.contains(SECRET) && debug.contains(CLIENT_ID),
        "{debug}"
    );
    let err = format!(
        "{:?}",
        block_on(g.create_payment(&new_payment())).unwrap_err()
    );
    assert!(!err.contains(SECRET) && !err.contains(TOKEN), "{err}");

    // Nor in what an unreadable token answer produces.
    let tokens = MemoryTokens::default();
    let bad = format!(r#"{{"access_token":"{TOKEN}","expires_in":"soon"}}"#);
    let t = Scripted::replies([(200, bad.as_str())]);
    let err = format!(
        "{:?}",
        block_on(gateway(&t, &tokens).create_payment(&new_payment())).unwrap_err()
    );
    assert!(err.contains("Malformed") && !err.contains(TOKEN), "{err}");
}

#[test]
fn the_whole_stack_retries_one_create_under_one_request_id() {
    let token = token_answer(TOKEN, 32_400);
    let stack = retrying(Scripted::new([
        Ok(reply(200, &token)),
        Ok(reply(500, "")),
        Ok(reply(500, "")),
        Ok(reply(201, ORDER)),
    ]));
    let tokens = MemoryTokens::default();
    let g = gateway(&stack, &tokens);
    let created = block_on(g.create_payment(&new_payment())).unwrap();
    assert_eq!(created.provider_payment_id, "5O190127TN364715T");
    let calls = stack.inner.calls();
    assert_eq!(calls.len(), 4);
    let orders = &calls[1..];
    assert!(
        orders.iter().all(|c| *c == orders[0]),
        "the same call, resent"
    );
    assert_eq!(
        orders[0].header("PayPal-Request-Id"),
        Some("pay_ord_01HZX3_1")
    );
    assert_eq!(stack.sleeper.slept.borrow().len(), 2);
}

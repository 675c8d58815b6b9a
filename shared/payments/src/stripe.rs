//! Stripe: a PaymentIntent per payment (captured automatically once the
//! shopper confirms it with Stripe.js), refunds against it.
//!
//! Stripe's API takes form-encoded bodies, amounts in integer minor units,
//! and an `Idempotency-Key` header under which it answers a repeated request
//! with the first answer. The transport given is already the retrying one:
//! this file only says what to send and reads what came back.

use std::fmt;

use async_trait::async_trait;
use platform::money::Money;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::gateway::{
    Captured, CreatedPayment, Gateway, GatewayError, HttpCall, HttpMethod, HttpReply, NewPayment,
    NextStep, RefundOutcome, RefundRequest, RefundState, Transport,
};
use crate::retry::settled;
use crate::Provider;

/// The API version the answers below are read as. Pinned, so a change of
/// the account's default version in Stripe's dashboard changes nothing here.
pub const API_VERSION: &str = "2024-06-20";

pub struct StripeGateway<'a> {
    api_base: String,
    secret_key: String,
    transport: &'a dyn Transport,
}

/// By hand, so the secret key never reaches a log line through `{:?}`.
impl fmt::Debug for StripeGateway<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway")
            .field("api_base", &self.api_base)
            .field("secret_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl<'a> StripeGateway<'a> {
    /// `api_base` is `https://api.stripe.com` (or a local fake's address).
    pub fn new(api_base: &str, secret_key: &str, transport: &'a dyn Transport) -> Self {
        StripeGateway {
            api_base: api_base.trim_end_matches('/').to_string(),
            secret_key: secret_key.to_string(),
            transport,
        }
    }

    fn post(&self, path: &str, idempotency_key: &str, form: &[(&str, &str)]) -> HttpCall {
        HttpCall {
            method: HttpMethod::Post,
            url: format!("{}{path}", self.api_base),
            headers: vec![
                (
                    "Authorization".into(),
                    format!("Bearer {}", self.secret_key),
                ),
                ("Idempotency-Key".into(), idempotency_key.into()),
                ("Stripe-Version".into(), API_VERSION.into()),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
            ],
            body: Some(form_encode(form)),
        }
    }

    /// Sends `call` and reads a 2xx as `T`; anything else is an error.
    async fn exchange<T: DeserializeOwned>(
        &self,
        call: &HttpCall,
        what: &str,
    ) -> Result<T, GatewayError> {
        let reply = settled(self.transport.send(call).await)?;
        match reply.status {
            200..=299 => decode(&reply.body, what),
            400..=499 => Err(self.rejected(&reply)),
            status => Err(GatewayError::Malformed {
                detail: format!("{what}: unexpected HTTP {status}"),
            }),
        }
    }

    /// Stripe's `{"error":{"type","code","message"}}`: `code` is the precise
    /// reason (`resource_missing`), `type` the broad one, the only one some
    /// errors (and local fakes) carry.
    fn rejected(&self, reply: &HttpReply) -> GatewayError {
        #[derive(Deserialize)]
        struct Body {
            error: Detail,
        }
        #[derive(Deserialize)]
        struct Detail {
            #[serde(rename = "type")]
            kind: Option<String>,
            code: Option<String>,
            message: Option<String>,
        }
        let detail = serde_json::from_str::<Body>(&reply.body)
            .ok()
            .map(|b| b.error);
        let (code, message) = match detail {
            Some(d) => (d.code.or(d.kind), d.message),
            None => (None, None),
        };
        GatewayError::Rejected {
            status: reply.status,
            code: code.unwrap_or_else(|| format!("http_{}", reply.status)),
            message: self.scrub(message.unwrap_or_default()),
        }
    }

    /// Stripe masks keys in its messages; this holds even if something
    /// between us and it (or a fake) does not.
    fn scrub(&self, text: String) -> String {
        if self.secret_key.is_empty() {
            return text;
        }
        text.replace(&self.secret_key, "[redacted]")
    }
}

#[async_trait(?Send)]
impl Gateway for StripeGateway<'_> {
    fn provider(&self) -> Provider {
        Provider::Stripe
    }

    async fn create_payment(&self, p: &NewPayment) -> Result<CreatedPayment, GatewayError> {
        #[derive(Deserialize)]
        struct PaymentIntent {
            id: String,
            client_secret: String,
        }
        let amount = minor_units(&p.amount)?;
        let currency = p.amount.currency.as_str().to_ascii_lowercase();
        let call = self.post(
            "/v1/payment_intents",
            &p.idempotency_key,
            &[
                ("amount", &amount),
                ("currency", &currency),
                ("capture_method", "automatic"),
                ("metadata[order_id]", &p.order_id),
            ],
        );
        let intent: PaymentIntent = self.exchange(&call, "payment intent").await?;
        Ok(CreatedPayment {
            provider_payment_id: intent.id,
            next_step: NextStep::ConfirmWithClientSecret(intent.client_secret),
        })
    }

    /// PaymentIntents capture themselves when confirmed: nothing to send.
    async fn capture(
        &self,
        _provider_payment_id: &str,
        _idempotency_key: &str,
    ) -> Result<Option<Captured>, GatewayError> {
        Ok(None)
    }

    async fn refund(&self, r: &RefundRequest) -> Result<RefundOutcome, GatewayError> {
        #[derive(Deserialize)]
        struct Refund {
            id: String,
            status: String,
        }
        let amount = minor_units(&r.amount)?;
        let call = self.post(
            "/v1/refunds",
            &r.idempotency_key,
            &[
                ("payment_intent", &r.provider_ref),
                ("amount", &amount),
                ("metadata[refund_id]", &r.refund_id),
            ],
        );
        let refund: Refund = self.exchange(&call, "refund").await?;
        Ok(RefundOutcome {
            state: refund_state(&refund.status),
            provider_refund_id: refund.id,
        })
    }
}

/// A refund Stripe created but has not finished (`pending`,
/// `requires_action`, or a status newer than this code) is pending: its
/// `charge.refunded` / `refund.updated` event settles it.
fn refund_state(status: &str) -> RefundState {
    match status {
        "succeeded" => RefundState::Succeeded,
        "failed" | "canceled" => RefundState::Failed,
        _ => RefundState::Pending,
    }
}

/// Integer minor units, or a refusal before anything is sent: Stripe would
/// refuse a fraction of a cent too, and rounding would take a different sum
/// than the order says.
fn minor_units(m: &Money) -> Result<String, GatewayError> {
    m.to_minor_units()
        .map(|units| units.to_string())
        .map_err(|_| GatewayError::Rejected {
            status: 400,
            code: "invalid_amount".into(),
            message: format!(
                "{} {} is not a whole number of minor units; not sent",
                m.amount, m.currency
            ),
        })
}

/// A 2xx body as `T`. The detail names where the JSON went wrong but never
/// quotes it: the body holds the client secret.
fn decode<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, GatewayError> {
    serde_json::from_str(body).map_err(|e| GatewayError::Malformed {
        detail: format!(
            "{what}: {:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// `application/x-www-form-urlencoded` (the WHATWG URL standard's
/// serializer): unreserved bytes as they are, space as `+`, every other
/// byte of the UTF-8 as `%XX`. Keys too: `metadata[order_id]` goes as
/// `metadata%5Border_id%5D`, which Stripe decodes back.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(key, &mut out);
        out.push('=');
        encode_component(value, &mut out);
    }
    out
}

fn encode_component(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
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
            Some(
                "payment_intent=pi_3MtwBwLkdIwHu7ix28a3tqPa&amount=500&metadata%5Brefund_id%5D=42"
            )
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
}

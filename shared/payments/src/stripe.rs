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
    decode, Captured, CreatedPayment, Gateway, GatewayError, HttpCall, HttpMethod, HttpReply,
    NewPayment, NextStep, RefundOutcome, RefundRequest, RefundState, Transport,
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
mod tests;

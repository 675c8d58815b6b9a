//! PayPal: an Orders v2 order per payment (the shopper approves it on
//! PayPal, then we capture it), refunds against the capture.
//!
//! Every call carries an OAuth2 access token got with the client
//! credentials; tokens live hours, so one is kept in the [`TokenCache`]
//! (KV in a Worker) and shared by every request until shortly before it
//! expires. `PayPal-Request-Id` is PayPal's idempotency key. Amounts are
//! decimal strings with exactly the currency's minor digits. The transport
//! given is already the retrying one.

use std::fmt;

use async_trait::async_trait;
use base64::Engine;
use platform::money::{Currency, Money};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::gateway::{
    decode, Captured, CreatedPayment, Gateway, GatewayError, HttpCall, HttpMethod, HttpReply,
    NewPayment, NextStep, RefundOutcome, RefundRequest, RefundState, TokenCache, Transport,
};
use crate::retry::settled;
use crate::Provider;

/// A token is dropped from the cache this long before PayPal expires it,
/// so no call starts with a token about to lapse.
const TOKEN_MARGIN_SECS: u64 = 120;
/// KV's shortest expiration TTL.
const MIN_CACHE_TTL_SECS: u64 = 60;
/// PayPal's ids are about 17 characters; anything longer is not one.
const MAX_ID_LEN: usize = 128;

pub struct PayPalGateway<'a> {
    api_base: String,
    client_id: String,
    client_secret: String,
    transport: &'a dyn Transport,
    tokens: &'a dyn TokenCache,
}

/// By hand, so the client secret never reaches a log line through `{:?}`.
impl fmt::Debug for PayPalGateway<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayPalGateway")
            .field("api_base", &self.api_base)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl<'a> PayPalGateway<'a> {
    /// `api_base` is `https://api-m.paypal.com` (or the sandbox's, or a
    /// local fake's address).
    pub fn new(
        api_base: &str,
        client_id: &str,
        client_secret: &str,
        transport: &'a dyn Transport,
        tokens: &'a dyn TokenCache,
    ) -> Self {
        PayPalGateway {
            api_base: api_base.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            transport,
            tokens,
        }
    }

    /// One cache entry per PayPal account and environment. Hashed: the key
    /// stays short and printable whatever the base URL holds.
    fn token_key(&self) -> String {
        let digest = Sha256::new()
            .chain_update(self.api_base.as_bytes())
            .chain_update(b"|")
            .chain_update(self.client_id.as_bytes())
            .finalize();
        format!("paypal-token:{}", &platform::crypto::hex(&digest)[..16])
    }

    /// A new access token (client credentials), cached for the next calls.
    async fn fresh_token(&self) -> Result<String, GatewayError> {
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: u64,
        }
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.client_id, self.client_secret));
        let call = HttpCall {
            method: HttpMethod::Post,
            url: format!("{}/v1/oauth2/token", self.api_base),
            headers: vec![
                ("Authorization".into(), format!("Basic {basic}")),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some("grant_type=client_credentials".into()),
        };
        let reply = settled(self.transport.send(&call).await)?;
        let token: Token = self.read(reply, "access token", None)?;
        if let Some(ttl) = cache_ttl(token.expires_in) {
            self.tokens
                .put(&self.token_key(), &token.access_token, ttl)
                .await;
        }
        Ok(token.access_token)
    }

    /// Sends the call `build` makes with a token, and reads its 2xx as `T`.
    /// A 401 for a cached token means PayPal dropped it before our TTL did
    /// (revoked, rotated credentials): one fresh token, one more send of
    /// the same call (same `PayPal-Request-Id`: the refused send did nothing).
    async fn api<T: DeserializeOwned>(
        &self,
        what: &str,
        build: impl Fn(&str) -> HttpCall,
    ) -> Result<T, GatewayError> {
        let cached = self.tokens.get(&self.token_key()).await;
        let was_cached = cached.is_some();
        let mut token = match cached {
            Some(t) => t,
            None => self.fresh_token().await?,
        };
        let mut reply = settled(self.transport.send(&build(&token)).await)?;
        if reply.status == 401 && was_cached {
            token = self.fresh_token().await?;
            reply = settled(self.transport.send(&build(&token)).await)?;
        }
        self.read(reply, what, Some(&token))
    }

    fn read<T: DeserializeOwned>(
        &self,
        reply: HttpReply,
        what: &str,
        token: Option<&str>,
    ) -> Result<T, GatewayError> {
        match reply.status {
            200..=299 => decode(&reply.body, what),
            400..=499 => Err(self.rejected(&reply, token)),
            status => Err(GatewayError::Malformed {
                detail: format!("{what}: unexpected HTTP {status}"),
            }),
        }
    }

    /// PayPal's REST errors are `{"name","message","details":[{"issue",
    /// "description"}],"debug_id"}`, its OAuth errors `{"error",
    /// "error_description"}`. The first detail's `issue` is the precise
    /// reason (`ORDER_ALREADY_CAPTURED`), `name` the broad one.
    fn rejected(&self, reply: &HttpReply, token: Option<&str>) -> GatewayError {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Body {
            name: Option<String>,
            message: Option<String>,
            details: Vec<Issue>,
            debug_id: Option<String>,
            error: Option<String>,
            error_description: Option<String>,
        }
        #[derive(Deserialize)]
        struct Issue {
            issue: Option<String>,
            description: Option<String>,
        }
        let b: Body = serde_json::from_str(&reply.body).unwrap_or_default();
        let first = b.details.into_iter().next();
        let (issue, description) = match first {
            Some(i) => (i.issue, i.description),
            None => (None, None),
        };
        let code = issue
            .or(b.name)
            .or(b.error)
            .unwrap_or_else(|| format!("http_{}", reply.status));
        let mut message = b.message.or(b.error_description).unwrap_or_default();
        if let Some(d) = description {
            message = if message.is_empty() {
                d
            } else {
                format!("{message}: {d}")
            };
        }
        // PayPal's support asks for this id.
        if let Some(id) = b.debug_id {
            message.push_str(&format!(" (debug_id {id})"));
        }
        GatewayError::Rejected {
            status: reply.status,
            code,
            message: self.scrub(message, token),
        }
    }

    /// PayPal does not echo credentials; this holds even if something
    /// between us and it (or a fake) does.
    fn scrub(&self, mut text: String, token: Option<&str>) -> String {
        for secret in [Some(self.client_secret.as_str()), token]
            .into_iter()
            .flatten()
        {
            if !secret.is_empty() {
                text = text.replace(secret, "[redacted]");
            }
        }
        text
    }

    fn post_json(
        &self,
        path: &str,
        token: &str,
        request_id: &str,
        prefer: &str,
        body: &str,
    ) -> HttpCall {
        HttpCall {
            method: HttpMethod::Post,
            url: format!("{}{path}", self.api_base),
            headers: vec![
                ("Authorization".into(), format!("Bearer {token}")),
                ("PayPal-Request-Id".into(), request_id.into()),
                ("Content-Type".into(), "application/json".into()),
                ("Prefer".into(), prefer.into()),
            ],
            body: Some(body.to_string()),
        }
    }
}

#[async_trait(?Send)]
impl Gateway for PayPalGateway<'_> {
    fn provider(&self) -> Provider {
        Provider::PayPal
    }

    async fn create_payment(&self, p: &NewPayment) -> Result<CreatedPayment, GatewayError> {
        #[derive(Deserialize)]
        struct Order {
            id: String,
            #[serde(default)]
            links: Vec<Link>,
        }
        #[derive(Deserialize)]
        struct Link {
            href: String,
            rel: String,
        }
        let body = json!({
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": p.order_id,
                "custom_id": p.order_id,
                "amount": amount_json(&p.amount)?,
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": p.return_url,
                "cancel_url": p.cancel_url,
                "user_action": "PAY_NOW",
            }}},
        })
        .to_string();
        let order: Order = self
            .api("order", |token| {
                self.post_json(
                    "/v2/checkout/orders",
                    token,
                    &p.idempotency_key,
                    "return=minimal",
                    &body,
                )
            })
            .await?;
        // `payer-action` when a payment source is given (as here); older
        // integrations get `approve`.
        let approve = order
            .links
            .into_iter()
            .find(|l| l.rel == "payer-action" || l.rel == "approve")
            .ok_or_else(|| GatewayError::Malformed {
                detail: "order: no payer-action link".into(),
            })?;
        Ok(CreatedPayment {
            provider_payment_id: order.id,
            next_step: NextStep::ApproveAt(approve.href),
        })
    }

    async fn capture(
        &self,
        provider_payment_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<Captured>, GatewayError> {
        #[derive(Deserialize)]
        struct Order {
            purchase_units: Vec<Unit>,
        }
        #[derive(Deserialize)]
        struct Unit {
            payments: Payments,
        }
        #[derive(Deserialize)]
        struct Payments {
            captures: Vec<Capture>,
        }
        #[derive(Deserialize)]
        struct Capture {
            id: String,
            status: String,
            amount: Amount,
        }
        let path = format!(
            "/v2/checkout/orders/{}/capture",
            path_id(provider_payment_id)?
        );
        // The full representation: the capture's id, status and amount are
        // in it, the minimal one has only the order's.
        let order: Order = self
            .api("capture", |token| {
                self.post_json(&path, token, idempotency_key, "return=representation", "{}")
            })
            .await?;
        let capture = order
            .purchase_units
            .into_iter()
            .next()
            .and_then(|u| u.payments.captures.into_iter().next())
            .ok_or_else(|| GatewayError::Malformed {
                detail: "capture: no purchase_units[0].payments.captures[0]".into(),
            })?;
        Ok(Some(Captured {
            amount: capture.amount.money()?,
            // The capture's own status: an order is COMPLETED even when its
            // capture is PENDING (held for review) or DECLINED.
            completed: capture.status == "COMPLETED",
            capture_id: capture.id,
        }))
    }

    async fn refund(&self, r: &RefundRequest) -> Result<RefundOutcome, GatewayError> {
        #[derive(Deserialize)]
        struct Refund {
            id: String,
            status: String,
        }
        let path = format!("/v2/payments/captures/{}/refund", path_id(&r.provider_ref)?);
        let body = json!({
            "amount": amount_json(&r.amount)?,
            "custom_id": r.refund_id,
        })
        .to_string();
        let refund: Refund = self
            .api("refund", |token| {
                self.post_json(&path, token, &r.idempotency_key, "return=minimal", &body)
            })
            .await?;
        Ok(RefundOutcome {
            state: refund_state(&refund.status),
            provider_refund_id: refund.id,
        })
    }
}

/// How long a token with `expires_in` seconds left may stay cached: until
/// [`TOKEN_MARGIN_SECS`] before it expires, at least KV's minimum; `None`
/// (not cached) when even the minimum would outlive it.
fn cache_ttl(expires_in: u64) -> Option<u64> {
    let ttl = expires_in
        .saturating_sub(TOKEN_MARGIN_SECS)
        .max(MIN_CACHE_TTL_SECS);
    (ttl < expires_in).then_some(ttl)
}

/// A refund PayPal accepted but has not finished (`PENDING`, or a status
/// newer than this code) is pending: its `PAYMENT.CAPTURE.REFUNDED` event
/// settles it.
fn refund_state(status: &str) -> RefundState {
    match status {
        "COMPLETED" => RefundState::Succeeded,
        "FAILED" | "CANCELLED" => RefundState::Failed,
        _ => RefundState::Pending,
    }
}

/// PayPal's `{"currency_code","value"}`. The value has exactly the
/// currency's minor digits; an amount with more is refused before sending
/// rather than rounded into a different sum than the order's.
fn amount_json(m: &Money) -> Result<serde_json::Value, GatewayError> {
    if m.to_minor_units().is_err() {
        return Err(GatewayError::Rejected {
            status: 400,
            code: "invalid_amount".into(),
            message: format!(
                "{} {} is not a whole number of minor units; not sent",
                m.amount, m.currency
            ),
        });
    }
    Ok(json!({
        "currency_code": m.currency.as_str(),
        "value": m.currency.format(m.amount),
    }))
}

#[derive(Deserialize)]
struct Amount {
    currency_code: String,
    value: String,
}

impl Amount {
    fn money(&self) -> Result<Money, GatewayError> {
        let money = match Currency::parse(&self.currency_code) {
            Ok(currency) => Money::parse(&self.value, currency).ok(),
            Err(_) => None,
        };
        money.ok_or_else(|| GatewayError::Malformed {
            detail: "capture: amount is not a currency and a decimal".into(),
        })
    }
}

/// An id that goes into a URL path: letters, digits, `-` and `_` only, so
/// no id (from our database, from an event) can point the call at another
/// path (`../`, `?`, `#`, `%2F`).
fn path_id(id: &str) -> Result<&str, GatewayError> {
    let valid = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(id)
    } else {
        Err(GatewayError::Rejected {
            status: 400,
            code: "invalid_id".into(),
            message: "not a PayPal id (letters, digits, - and _ only); not sent".into(),
        })
    }
}

#[cfg(test)]
mod tests;

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
    Captured, CreatedPayment, Gateway, GatewayError, HttpCall, HttpMethod, HttpReply, NewPayment,
    NextStep, RefundOutcome, RefundRequest, RefundState, TokenCache, Transport,
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

/// A 2xx body as `T`. The detail names where the JSON went wrong but never
/// quotes it: token answers hold the access token.
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

#[cfg(test)]
mod tests {
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
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{SECRET}"));
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
        let expired = r#"{"error":"invalid_token","error_description":"Token signature verification failed"}"#;
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
                block_on(gateway(&t, &tokens).capture("5O190127TN364715T", "cap_ord_01HZX3"))
                    .unwrap();
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
}

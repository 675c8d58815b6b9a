//! One trait for every payment provider, and the transport it speaks through.
//!
//! A gateway turns our intent (take this order's money, refund this much)
//! into the provider's HTTP calls and reads its answers. It never touches the
//! network itself: it is given a [`Transport`] (in a Worker, `fetch::FetchTransport`
//! wrapped in `retry::Retrying`; in tests, a scripted one) and, for providers
//! with OAuth, a [`TokenCache`] (KV in a Worker). Adding a provider means one
//! new `impl Gateway` and one arm in `gateway_for`.

use async_trait::async_trait;
use platform::money::Money;

use crate::Provider;

pub use platform::outbound::{HttpCall, HttpMethod, HttpReply, Transport, TransportError};

/// Short-lived values shared between requests (PayPal's OAuth token).
#[async_trait(?Send)]
pub trait TokenCache {
    async fn get(&self, key: &str) -> Option<String>;
    /// Best effort: a failed put only costs a new token next time.
    async fn put(&self, key: &str, value: &str, ttl_secs: u64);
}

/// Why a gateway call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The provider refused the request (a 4xx): retrying it changes nothing.
    /// `code` is the provider's machine-readable reason when it gave one.
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// No usable answer after the bounded retries (network errors,
    /// timeouts, 429, 5xx): safe to try again later with the same key.
    Unavailable { detail: String },
    /// A 2xx we could not read: a provider change or our bug.
    Malformed { detail: String },
}

impl GatewayError {
    /// The HTTP error our API answers with. A rejection is the provider's
    /// word about this request (502 `payment_provider_rejected`, with the
    /// provider's reason in the message); unavailability is a 503 with
    /// Retry-After.
    pub fn to_api_error(&self, provider: Provider) -> platform::ApiError {
        use platform::ApiError;
        match self {
            GatewayError::Rejected {
                status,
                code,
                message,
            } => ApiError::bad_gateway(
                "payment_provider_rejected",
                format!(
                    "{} refused the request ({status} {code}): {message}",
                    provider.as_str()
                ),
            ),
            GatewayError::Unavailable { .. } => ApiError::unavailable(
                "payment_provider_unavailable",
                format!("{} could not be reached; retry shortly", provider.as_str()),
            ),
            GatewayError::Malformed { detail } => ApiError::internal(format!(
                "{} answered something unreadable: {detail}",
                provider.as_str()
            )),
        }
    }
}

/// A payment to create for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// Our public order id (`ord_...`): Stripe's `metadata[order_id]`,
    /// PayPal's `custom_id` and `reference_id`.
    pub order_id: String,
    pub amount: Money,
    /// Sent as `Idempotency-Key` / `PayPal-Request-Id`: derived from our ids,
    /// so a retried request creates nothing new.
    pub idempotency_key: String,
    /// PayPal: where the shopper returns after approving / cancelling.
    pub return_url: String,
    pub cancel_url: String,
}

/// What the client needs to let the shopper pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// Stripe: confirm the PaymentIntent with Stripe.js and this secret.
    ConfirmWithClientSecret(String),
    /// PayPal: send the shopper to this approval link.
    ApproveAt(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPayment {
    /// The PaymentIntent id (`pi_...`) or the PayPal order id.
    pub provider_payment_id: String,
    pub next_step: NextStep,
}

/// A capture the provider completed (PayPal; Stripe captures by itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// PayPal's capture id (refunds name it).
    pub capture_id: String,
    pub amount: Money,
    /// `false` when the capture was declined or is still pending.
    pub completed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// What the provider refunds: the PaymentIntent id (Stripe) or the
    /// capture id (PayPal).
    pub provider_ref: String,
    pub amount: Money,
    /// Our refund's id (`refunds.id`), sent along (`metadata[refund_id]`,
    /// PayPal `custom_id`) so the provider's events name it.
    pub refund_id: String,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundState {
    Succeeded,
    /// Accepted, not final yet: the provider's event settles it.
    Pending,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundOutcome {
    pub provider_refund_id: String,
    pub state: RefundState,
}

/// A provider's JSON answer read into `T`. The detail never quotes the body:
/// a PaymentIntent holds its client secret, a token answer the token.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    body: &str,
    what: &str,
) -> Result<T, GatewayError> {
    serde_json::from_str(body).map_err(|e| GatewayError::Malformed {
        detail: format!(
            "{what}: {:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

#[async_trait(?Send)]
pub trait Gateway {
    fn provider(&self) -> Provider;
    /// Creates the payment (idempotently, under `p.idempotency_key`).
    async fn create_payment(&self, p: &NewPayment) -> Result<CreatedPayment, GatewayError>;
    /// Captures an approved payment. Stripe PaymentIntents capture
    /// automatically, so Stripe answers `Ok(None)` without a call.
    async fn capture(
        &self,
        provider_payment_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<Captured>, GatewayError>;
    async fn refund(&self, r: &RefundRequest) -> Result<RefundOutcome, GatewayError>;
}

/// Each provider's address and credentials; `None` where its settings or
/// secrets are missing (a deployment without PayPal, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayConfig {
    pub stripe: Option<StripeConfig>,
    pub paypal: Option<PayPalConfig>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct StripeConfig {
    /// `https://api.stripe.com`, or a local fake's address.
    pub api_base: String,
    pub secret_key: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct PayPalConfig {
    /// `https://api-m.paypal.com` (`api-m.sandbox.paypal.com` to test).
    pub api_base: String,
    pub client_id: String,
    pub client_secret: String,
}

/// By hand, so secrets never reach a log line through `{:?}`.
impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("secret_key", &"[redacted]")
            .finish()
    }
}

impl std::fmt::Debug for PayPalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayPalConfig")
            .field("api_base", &self.api_base)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// The gateway for `provider`, or 503 `payment_provider_not_configured`
/// when its settings or secrets are missing. Adding a provider is one file
/// with its `impl Gateway` and one arm here.
// `ApiError` is the house error everywhere (clippy's size lint fires on
// every use of it in the workspace; boxing it would be a workspace change).
#[allow(clippy::result_large_err)]
pub fn gateway_for<'a>(
    provider: Provider,
    config: &'a GatewayConfig,
    transport: &'a dyn Transport,
    tokens: &'a dyn TokenCache,
) -> Result<Box<dyn Gateway + 'a>, platform::ApiError> {
    let not_configured = || {
        let mut e = platform::ApiError::unavailable(
            "payment_provider_not_configured",
            format!("payments with {} are not available", provider.as_str()),
        );
        // A missing setting does not come back in two seconds.
        e.retry_after_secs = None;
        e
    };
    Ok(match provider {
        Provider::Stripe => {
            let c = config.stripe.as_ref().ok_or_else(not_configured)?;
            Box::new(crate::stripe::StripeGateway::new(
                &c.api_base,
                &c.secret_key,
                transport,
            ))
        }
        Provider::PayPal => {
            let c = config.paypal.as_ref().ok_or_else(not_configured)?;
            Box::new(crate::paypal::PayPalGateway::new(
                &c.api_base,
                &c.client_id,
                &c.client_secret,
                transport,
                tokens,
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::scripted::Scripted;

    struct NoTokens;

    #[async_trait(?Send)]
    impl TokenCache for NoTokens {
        async fn get(&self, _key: &str) -> Option<String> {
            None
        }
        async fn put(&self, _key: &str, _value: &str, _ttl_secs: u64) {}
    }

    fn full() -> GatewayConfig {
        GatewayConfig {
            stripe: Some(StripeConfig {
                api_base: "https://api.stripe.com".into(),
                secret_key: "sk_test_hush".into(),
            }),
            paypal: Some(PayPalConfig {
                api_base: "https://api-m.paypal.com".into(),
                client_id: "client-id".into(),
                client_secret: "paypal-hush".into(),
            }),
        }
    }

    #[test]
    fn each_configured_provider_gets_its_gateway() {
        let (config, t) = (full(), Scripted::default());
        for p in Provider::ALL {
            let g = gateway_for(p, &config, &t, &NoTokens).unwrap();
            assert_eq!(g.provider(), p);
        }
    }

    #[test]
    fn a_provider_without_settings_is_unavailable_here() {
        let t = Scripted::default();
        let none = GatewayConfig::default();
        for p in Provider::ALL {
            let err = gateway_for(p, &none, &t, &NoTokens).err().unwrap();
            assert_eq!(
                (err.status, err.code),
                (503, "payment_provider_not_configured")
            );
        }
        let stripe_only = GatewayConfig {
            paypal: None,
            ..full()
        };
        assert!(gateway_for(Provider::Stripe, &stripe_only, &t, &NoTokens).is_ok());
        assert!(gateway_for(Provider::PayPal, &stripe_only, &t, &NoTokens).is_err());
    }

    #[test]
    fn the_config_keeps_its_secrets_out_of_debug() {
        let debug = format!("{:?}", full());
        assert!(!debug.contains("hush"), "{debug}");
        assert!(debug.contains("client-id"));
    }
}

//! The Workers glue: outbound HTTP through `fetch` with a time limit,
//! sleeping between retries, PayPal's token in KV, and the gateways'
//! settings from the Worker's environment.

use std::time::Duration;

use async_trait::async_trait;
use worker::kv::KvStore;
use worker::{Delay, Env};

pub use platform::outbound_fetch::FetchTransport;

use crate::gateway::{GatewayConfig, PayPalConfig, StripeConfig, TokenCache};
use crate::retry::{RetryPolicy, Retrying, Sleeper};

/// Per attempt. Stripe and PayPal answer in well under a second; ten is a
/// provider in trouble, and the next attempt (same idempotency key) is the
/// better bet than waiting on.
pub const ATTEMPT_TIMEOUT_MS: u64 = 10_000;

/// [`FetchTransport`] with [`ATTEMPT_TIMEOUT_MS`], retried by the default
/// [`RetryPolicy`]: at most 3 × 10 s + 2 × 2 s before a gateway gives up.
pub fn transport() -> Retrying<FetchTransport, WorkerSleeper> {
    Retrying::new(
        FetchTransport {
            timeout_ms: ATTEMPT_TIMEOUT_MS,
        },
        WorkerSleeper,
        RetryPolicy::default(),
    )
}

/// Waits with the runtime's timer.
pub struct WorkerSleeper;

#[async_trait(?Send)]
impl Sleeper for WorkerSleeper {
    async fn sleep_ms(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }
}

/// PayPal's access token in KV, shared by every isolate and region. Best
/// effort both ways: a failed read or write only costs a token request.
pub struct KvTokenCache {
    pub kv: KvStore,
}

impl KvTokenCache {
    pub fn new(kv: KvStore) -> Self {
        KvTokenCache { kv }
    }
}

#[async_trait(?Send)]
impl TokenCache for KvTokenCache {
    async fn get(&self, key: &str) -> Option<String> {
        self.kv.get(key).text().await.ok().flatten()
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) {
        if let Ok(put) = self.kv.put(key, value) {
            let _ = put.expiration_ttl(ttl_secs).execute().await;
        }
    }
}

pub const STRIPE_API_BASE: &str = "STRIPE_API_BASE";
pub const STRIPE_SECRET_KEY: &str = "STRIPE_SECRET_KEY";
pub const PAYPAL_API_BASE: &str = "PAYPAL_API_BASE";
pub const PAYPAL_CLIENT_ID: &str = "PAYPAL_CLIENT_ID";
pub const PAYPAL_CLIENT_SECRET: &str = "PAYPAL_CLIENT_SECRET";

/// The gateways' settings: the API bases are vars, the credentials
/// secrets. A provider missing any of its values is `None` (and
/// `gateway_for` answers 503 for it).
pub fn gateway_config(env: &Env) -> GatewayConfig {
    let var = |name| present(env.var(name).ok().map(|v| v.to_string()));
    let secret = |name| present(env.secret(name).ok().map(|v| v.to_string()));
    let stripe = match (var(STRIPE_API_BASE), secret(STRIPE_SECRET_KEY)) {
        (Some(api_base), Some(secret_key)) => Some(StripeConfig {
            api_base,
            secret_key,
        }),
        _ => None,
    };
    let paypal = match (
        var(PAYPAL_API_BASE),
        secret(PAYPAL_CLIENT_ID),
        secret(PAYPAL_CLIENT_SECRET),
    ) {
        (Some(api_base), Some(client_id), Some(client_secret)) => Some(PayPalConfig {
            api_base,
            client_id,
            client_secret,
        }),
        _ => None,
    };
    GatewayConfig { stripe, paypal }
}

/// An empty value (`STRIPE_SECRET_KEY=""` in a `.dev.vars`) is a missing one.
fn present(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

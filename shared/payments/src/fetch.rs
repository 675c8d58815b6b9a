//! The Workers glue: outbound HTTP through `fetch` with a time limit,
//! sleeping between retries, PayPal's token in KV, and the gateways'
//! settings from the Worker's environment.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use worker::kv::KvStore;
use worker::wasm_bindgen::JsValue;
use worker::{
    AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::gateway::{
    GatewayConfig, HttpCall, HttpMethod, HttpReply, PayPalConfig, StripeConfig, TokenCache,
    Transport, TransportError,
};
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

/// Sends an [`HttpCall`] with the Workers `fetch`, giving up after
/// `timeout_ms` (the body read included). A call given up is aborted, not
/// left running: its answer would be read by nobody.
pub struct FetchTransport {
    pub timeout_ms: u64,
}

#[async_trait(?Send)]
impl Transport for FetchTransport {
    async fn send(&self, call: &HttpCall) -> Result<HttpReply, TransportError> {
        let request = build_request(call)?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let exchange = async {
            let mut response = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(|e| network("fetch", e))?;
            let retry_after_secs = response
                .headers()
                .get("Retry-After")
                .ok()
                .flatten()
                .and_then(|v| v.trim().parse().ok());
            let body = response.text().await.map_err(|e| network("body", e))?;
            Ok(HttpReply {
                status: response.status_code(),
                retry_after_secs,
                body,
            })
        };
        let timer = Delay::from(Duration::from_millis(self.timeout_ms));
        match first_of(exchange, timer).await {
            Some(result) => result,
            None => {
                controller.abort();
                Err(TransportError::Timeout)
            }
        }
    }
}

fn build_request(call: &HttpCall) -> Result<Request, TransportError> {
    let headers = Headers::new();
    for (name, value) in &call.headers {
        // Not the runtime's message: it may quote the value, a credential.
        headers.set(name, value).map_err(|_| {
            TransportError::Network(format!("request: the {name} header is not valid"))
        })?;
    }
    let mut init = RequestInit::new();
    init.with_method(match call.method {
        HttpMethod::Get => Method::Get,
        HttpMethod::Post => Method::Post,
    })
    .with_headers(headers)
    // The providers' APIs do not redirect; following one would send the
    // credentials wherever it pointed. A 3xx is read as an unexpected answer.
    .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &call.body {
        init.with_body(Some(JsValue::from_str(body)));
    }
    Request::new_with_init(&call.url, &init).map_err(|e| network("request", e))
}

/// The runtime's reason (a refused connection, a bad URL); the calls'
/// credentials are in headers, which these errors do not quote.
fn network(stage: &str, e: worker::Error) -> TransportError {
    TransportError::Network(format!("{stage}: {e}"))
}

/// `work`'s output, or `None` if `timer` ends first. (Polled by hand: a
/// two-way race does not need a futures crate.)
async fn first_of<T>(work: impl Future<Output = T>, timer: impl Future<Output = ()>) -> Option<T> {
    let mut work = pin!(work);
    let mut timer = pin!(timer);
    poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
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

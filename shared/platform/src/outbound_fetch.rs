//! The Workers side of [`crate::outbound`]: a call sent with `fetch`, with a
//! time limit.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use async_trait::async_trait;
use worker::wasm_bindgen::JsValue;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use crate::outbound::{HttpCall, HttpMethod, HttpReply, Transport, TransportError};

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
        HttpMethod::Put => Method::Put,
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


//! Outbound HTTP, as data: the request a client (a payment gateway, the
//! carrier, the email provider) wants sent and the answer it got, and the
//! [`Transport`] that sends it. Clients build calls and read replies without
//! touching the network, so they are tested natively with a scripted
//! transport; in a Worker the transport is `outbound_fetch::FetchTransport`.

use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
}

/// One outbound request, complete: a retry sends exactly this again
/// (so the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl HttpCall {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the provider answered (any status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// `Retry-After` in seconds, when the provider sent one.
    pub retry_after_secs: Option<u64>,
    pub body: String,
}

/// The request never got an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused, reset, DNS: nothing came back.
    Network(String),
    /// No answer within the call's time limit.
    Timeout,
}

#[async_trait(?Send)]
pub trait Transport {
    async fn send(&self, call: &HttpCall) -> Result<HttpReply, TransportError>;
}


//! Bounded retries with exponential backoff and full jitter, as a
//! [`Transport`] around another one.
//!
//! A retry sends exactly the same [`HttpCall`] again, so the same
//! `Idempotency-Key` / `PayPal-Request-Id`: the provider answers a repeat
//! with the first answer instead of charging twice. That is what makes
//! retrying a payment call safe at all.
//!
//! Full jitter (a uniform wait in `[0, min(cap, base·2^n)]`) spreads the
//! retries of many requests that failed together, so they do not hit a
//! recovering provider in lockstep.

use async_trait::async_trait;

use crate::gateway::{GatewayError, HttpCall, HttpReply, Transport, TransportError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends in all, the first included (0 is read as 1).
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    /// No wait is longer, whatever the backoff or the provider's
    /// `Retry-After` says: a shopper is waiting on the other end.
    pub max_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay_ms: 200,
            max_delay_ms: 2_000,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry `retry_number` (0 before the second send):
    /// uniform in `[0, min(cap, base·2^n)]`, drawn from `random`.
    pub fn delay_ms(&self, retry_number: u32, random: u64) -> u64 {
        let ceiling = 2u64
            .checked_pow(retry_number)
            .and_then(|factor| self.base_delay_ms.checked_mul(factor))
            .unwrap_or(u64::MAX)
            .min(self.max_delay_ms);
        // The modulo's bias is at most ceiling/2^64: nothing at these sizes.
        match ceiling.checked_add(1) {
            Some(span) => random % span,
            None => random,
        }
    }

    /// [`delay_ms`](Self::delay_ms), but at least the provider's
    /// `Retry-After` when it sent one, and never above the cap.
    pub fn wait_ms(&self, retry_number: u32, random: u64, retry_after_secs: Option<u64>) -> u64 {
        let jitter = self.delay_ms(retry_number, random);
        match retry_after_secs {
            Some(secs) => jitter.max(secs.saturating_mul(1000)).min(self.max_delay_ms),
            None => jitter,
        }
    }
}

/// Whether sending the same call again may get a better answer: no answer
/// at all, 429 (slow down), 5xx (the provider's trouble), and 409 (the
/// provider is still working on an earlier send under the same idempotency
/// key, typically one we gave up waiting for: Stripe's
/// `idempotency_key_in_use`). Any other answer is final.
pub fn is_retryable(result: &Result<HttpReply, TransportError>) -> bool {
    match result {
        Err(_) => true,
        Ok(reply) => retryable_status(reply.status),
    }
}

fn retryable_status(status: u16) -> bool {
    matches!(status, 409 | 429 | 500..=599)
}

/// What a transport result means once the retries are spent: a failure a
/// retry could have fixed is [`GatewayError::Unavailable`]; any other
/// answer is for the gateway to read.
pub fn settled(result: Result<HttpReply, TransportError>) -> Result<HttpReply, GatewayError> {
    let detail = match result {
        Ok(reply) if !retryable_status(reply.status) => return Ok(reply),
        Ok(reply) => format!("HTTP {}", reply.status),
        Err(TransportError::Timeout) => "timed out".to_string(),
        Err(TransportError::Network(e)) => format!("network: {e}"),
    };
    Err(GatewayError::Unavailable { detail })
}

#[async_trait(?Send)]
pub trait Sleeper {
    async fn sleep_ms(&self, ms: u64);
}

/// A [`Transport`] that sends each call up to `policy.max_attempts` times
/// while the result [`is_retryable`], sleeping between sends, and returns
/// the last result.
pub struct Retrying<T: Transport, S: Sleeper> {
    pub inner: T,
    pub sleeper: S,
    pub policy: RetryPolicy,
    /// The jitter's entropy (a fixed function in tests).
    pub random: fn() -> u64,
}

impl<T: Transport, S: Sleeper> Retrying<T, S> {
    pub fn new(inner: T, sleeper: S, policy: RetryPolicy) -> Self {
        Retrying {
            inner,
            sleeper,
            policy,
            random: os_random,
        }
    }
}

/// Should the system's randomness fail (it does not on Workers), waiting
/// the longest is the safe mistake: retries without a pause are the
/// thundering herd that jitter exists to prevent.
fn os_random() -> u64 {
    getrandom::u64().unwrap_or(u64::MAX)
}

#[async_trait(?Send)]
impl<T: Transport, S: Sleeper> Transport for Retrying<T, S> {
    async fn send(&self, call: &HttpCall) -> Result<HttpReply, TransportError> {
        let attempts = self.policy.max_attempts.max(1);
        let mut sent = 0;
        loop {
            let result = self.inner.send(call).await;
            sent += 1;
            if sent >= attempts || !is_retryable(&result) {
                return result;
            }
            let retry_after = result.as_ref().ok().and_then(|r| r.retry_after_secs);
            let wait = self.policy.wait_ms(sent - 1, (self.random)(), retry_after);
            self.sleeper.sleep_ms(wait).await;
        }
    }
}

/// Test doubles shared by the gateways' tests: a transport that plays a
/// script and records what it was sent, and a sleeper that records waits.
#[cfg(test)]
pub(crate) mod scripted {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::*;

    #[derive(Default)]
    pub struct Scripted {
        script: RefCell<VecDeque<Result<HttpReply, TransportError>>>,
        calls: RefCell<Vec<HttpCall>>,
    }

    impl Scripted {
        pub fn new(script: impl IntoIterator<Item = Result<HttpReply, TransportError>>) -> Self {
            Scripted {
                script: RefCell::new(script.into_iter().collect()),
                calls: RefCell::default(),
            }
        }

        /// Replies with this status and body, in order.
        pub fn replies<'b>(replies: impl IntoIterator<Item = (u16, &'b str)>) -> Self {
            Self::new(replies.into_iter().map(|(s, b)| Ok(reply(s, b))))
        }

        pub fn calls(&self) -> Vec<HttpCall> {
            self.calls.borrow().clone()
        }
    }

    pub fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            retry_after_secs: None,
            body: body.to_string(),
        }
    }

    #[async_trait(?Send)]
    impl Transport for Scripted {
        async fn send(&self, call: &HttpCall) -> Result<HttpReply, TransportError> {
            self.calls.borrow_mut().push(call.clone());
            self.script.borrow_mut().pop_front().unwrap_or_else(|| {
                panic!(
                    "unscripted call: {} {}",
                    call.url,
                    call.body.as_deref().unwrap_or("")
                )
            })
        }
    }

    #[derive(Default)]
    pub struct RecordingSleeper {
        pub slept: RefCell<Vec<u64>>,
    }

    #[async_trait(?Send)]
    impl Sleeper for RecordingSleeper {
        async fn sleep_ms(&self, ms: u64) {
            self.slept.borrow_mut().push(ms);
        }
    }

    /// The whole retrying stack over a script, with a fixed "random".
    pub fn retrying(script: Scripted) -> Retrying<Scripted, RecordingSleeper> {
        Retrying {
            inner: script,
            sleeper: RecordingSleeper::default(),
            policy: RetryPolicy::default(),
            random: || 7,
        }
    }
}

#[cfg(test)]
mod tests;

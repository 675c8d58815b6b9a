//! Tests of `retry` (the parent module).

use futures_executor::block_on;
use proptest::prelude::*;

use super::scripted::{reply, retrying, Scripted};
use super::*;
use crate::gateway::HttpMethod;

fn call() -> HttpCall {
    HttpCall {
        method: HttpMethod::Post,
        url: "https://api.example/v1/things".into(),
        headers: vec![("Idempotency-Key".into(), "k-1".into())],
        body: Some("a=1".into()),
    }
}

#[test]
fn server_errors_are_retried_with_the_same_call_until_one_succeeds() {
    let r = retrying(Scripted::replies([(500, ""), (503, ""), (200, "ok")]));
    let got = block_on(r.send(&call())).unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.body, "ok");
    let calls = r.inner.calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls.iter().all(|c| *c == call()),
        "every send is the same call"
    );
    assert_eq!(r.sleeper.slept.borrow().len(), 2);
}

#[test]
fn a_client_error_is_final() {
    let r = retrying(Scripted::replies([(400, "bad")]));
    assert_eq!(block_on(r.send(&call())).unwrap().status, 400);
    assert_eq!(r.inner.calls().len(), 1);
    assert!(r.sleeper.slept.borrow().is_empty());
}

#[test]
fn a_rate_limit_waits_at_least_its_retry_after() {
    let mut limited = reply(429, "");
    limited.retry_after_secs = Some(1);
    let r = retrying(Scripted::new([Ok(limited), Ok(reply(200, ""))]));
    assert_eq!(block_on(r.send(&call())).unwrap().status, 200);
    assert_eq!(*r.sleeper.slept.borrow(), vec![1_000]);
}

#[test]
fn a_retry_after_beyond_the_cap_waits_the_cap() {
    let mut limited = reply(429, "");
    limited.retry_after_secs = Some(60);
    let r = retrying(Scripted::new([Ok(limited), Ok(reply(200, ""))]));
    block_on(r.send(&call())).unwrap();
    assert_eq!(*r.sleeper.slept.borrow(), vec![2_000]);
}

#[test]
fn network_errors_give_up_after_the_last_attempt_with_the_last_error() {
    let r = retrying(Scripted::new([
        Err(TransportError::Network("reset".into())),
        Err(TransportError::Timeout),
        Err(TransportError::Network("refused".into())),
    ]));
    assert_eq!(
        block_on(r.send(&call())),
        Err(TransportError::Network("refused".into()))
    );
    assert_eq!(r.inner.calls().len(), 3);
    assert_eq!(r.sleeper.slept.borrow().len(), 2);
}

#[test]
fn what_is_retryable() {
    for status in [409, 429, 500, 502, 503, 504] {
        assert!(is_retryable(&Ok(reply(status, ""))), "{status}");
    }
    for status in [200, 201, 204, 301, 400, 401, 402, 403, 404, 422] {
        assert!(!is_retryable(&Ok(reply(status, ""))), "{status}");
    }
    assert!(is_retryable(&Err(TransportError::Timeout)));
    assert!(is_retryable(&Err(TransportError::Network("x".into()))));
}

#[test]
fn spent_retries_are_unavailable_and_answers_pass_through() {
    assert_eq!(settled(Ok(reply(404, "x"))), Ok(reply(404, "x")));
    assert_eq!(settled(Ok(reply(200, "x"))), Ok(reply(200, "x")));
    assert_eq!(
        settled(Ok(reply(503, "x"))),
        Err(GatewayError::Unavailable {
            detail: "HTTP 503".into()
        })
    );
    assert_eq!(
        settled(Err(TransportError::Timeout)),
        Err(GatewayError::Unavailable {
            detail: "timed out".into()
        })
    );
}

#[test]
fn zero_attempts_still_sends_once() {
    let mut r = retrying(Scripted::replies([(500, "")]));
    r.policy.max_attempts = 0;
    assert_eq!(block_on(r.send(&call())).unwrap().status, 500);
    assert_eq!(r.inner.calls().len(), 1);
}

#[test]
fn the_backoff_doubles_up_to_the_cap() {
    let p = RetryPolicy::default();
    // `random` is taken modulo the range's size, [0, min(cap, 200·2^n)].
    assert_eq!(p.delay_ms(0, 0), 0);
    assert_eq!(p.delay_ms(0, 200), 200);
    assert_eq!(p.delay_ms(1, 400), 400);
    assert_eq!(p.delay_ms(1, 401), 0);
    assert_eq!(p.delay_ms(4, 2_000), 2_000);
    assert_eq!(p.delay_ms(40, 2_000), 2_000);
}

proptest! {
    #[test]
    fn delays_stay_within_the_backoff_and_the_cap(
        n in 0u32..200,
        random in any::<u64>(),
        base in 0u64..10_000,
        cap in 0u64..100_000,
        retry_after in proptest::option::of(0u64..100_000),
    ) {
        let p = RetryPolicy { max_attempts: 3, base_delay_ms: base, max_delay_ms: cap };
        let d = p.delay_ms(n, random);
        prop_assert!(d <= cap);
        let ceiling = 2u64.checked_pow(n).and_then(|f| base.checked_mul(f)).unwrap_or(u64::MAX);
        prop_assert!(d <= ceiling);
        let w = p.wait_ms(n, random, retry_after);
        prop_assert!(w <= cap);
        prop_assert!(w >= d.min(cap));
        if let Some(secs) = retry_after {
            prop_assert!(w >= secs.saturating_mul(1000).min(cap));
        }
    }

    #[test]
    fn huge_settings_do_not_overflow(n in any::<u32>(), random in any::<u64>()) {
        let p = RetryPolicy { max_attempts: 3, base_delay_ms: u64::MAX, max_delay_ms: u64::MAX };
        let _ = p.wait_ms(n, random, Some(u64::MAX));
    }
}

//! Stripe's webhook signature (`Stripe-Signature`), checked as Stripe's own
//! libraries check it: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where each
//! `v1` is hex(HMAC-SHA256(endpoint secret, "{t}.{raw body}")).
//!
//! It runs on the raw bytes, before any JSON parsing: re-serialising the
//! body would change it. The endpoint secret (`whsec_…`) is the HMAC key as
//! written, prefix included, as Stripe uses it.

use hmac::{Hmac, Mac};
use platform::crypto::{constant_time_eq, hex};
use sha2::Sha256;

use crate::signature::SignatureError;

/// Stripe's libraries accept a timestamp up to five minutes away.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Checks `header` (the `Stripe-Signature` value, `None` when absent)
/// against `body` under each of `secrets`: the current endpoint secret and,
/// while Stripe rolls it, the previous one. Any `v1` signature matching any
/// secret passes. Empty secrets are skipped, so an unset variable never
/// becomes a key anyone can sign with.
///
/// The signature is checked before the timestamp (as Stripe does), so
/// `Stale` is only ever said of a genuine, old (replayed) or future event.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&[u8]],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let header = SignatureHeader::parse(header.ok_or(SignatureError::Missing)?)?;
    if header.v1.is_empty() {
        return Err(SignatureError::NoV1);
    }
    let matched = secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .map(|secret| expected_signature(secret, header.timestamp, body))
        .any(|expected| {
            // Each comparison is constant-time; stopping at the first match
            // tells nothing, since the header's v1 values are no secret.
            header
                .v1
                .iter()
                .any(|given| constant_time_eq(expected.as_bytes(), given.as_bytes()))
        });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let age = now_unix.saturating_sub(header.timestamp);
    if age.unsigned_abs() > tolerance_secs.max(0).unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// hex(HMAC-SHA256(secret, "{timestamp}.{body}")): what Stripe signs.
/// Public so tests (ours and the webhooks worker's) can sign events.
pub fn expected_signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// A `Stripe-Signature` value for `body` signed at `timestamp` (for tests
/// and local tools that play Stripe).
pub fn sign_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        expected_signature(secret, timestamp, body)
    )
}

/// The header, read: its one timestamp and its `v1` signatures.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader<'a> {
    timestamp: i64,
    v1: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    fn parse(header: &'a str) -> Result<Self, SignatureError> {
        use SignatureError::Malformed;
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for item in header.split(',') {
            let (key, value) = item
                .split_once('=')
                .ok_or(Malformed("an item is not key=value"))?;
            match key {
                "t" if timestamp.is_some() => return Err(Malformed("more than one timestamp")),
                "t" => timestamp = Some(parse_timestamp(value)?),
                "v1" => v1.push(value),
                // v0 (Stripe's test-mode scheme) and any scheme Stripe adds
                // later: not ours to check.
                _ => {}
            }
        }
        Ok(SignatureHeader {
            timestamp: timestamp.ok_or(Malformed("no timestamp"))?,
            v1,
        })
    }
}

/// Unix seconds: plain digits (no sign, no spaces), at most 12 of them.
fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed(
            "the timestamp is not unix seconds",
        ));
    }
    value
        .parse()
        .map_err(|_| SignatureError::Malformed("the timestamp is not unix seconds"))
}

#[cfg(test)]
mod tests;

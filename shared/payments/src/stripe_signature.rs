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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const PREVIOUS: &[u8] = b"whsec_previous_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;
    const T: i64 = 1_700_000_000;

    /// Derived independently:
    /// python3 -c 'import hmac,hashlib;print(hmac.new(b"whsec_test_secret",
    ///   b"1700000000.{\"id\":\"evt_1\",\"object\":\"event\"}", hashlib.sha256).hexdigest())'
    const KNOWN_V1: &str = "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";

    fn check(header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
        verify(Some(header), body, &[SECRET], now, DEFAULT_TOLERANCE_SECS)
    }

    #[test]
    fn the_known_vector_passes() {
        assert_eq!(expected_signature(SECRET, T, BODY), KNOWN_V1);
        check(&format!("t={T},v1={KNOWN_V1}"), BODY, T).unwrap();
        assert_eq!(sign_header(SECRET, T, BODY), format!("t={T},v1={KNOWN_V1}"));
    }

    #[test]
    fn any_v1_among_several_passes_and_other_schemes_are_ignored() {
        let bogus = "0".repeat(64);
        let header = format!("t={T},v1={bogus},v0={bogus},v1={KNOWN_V1},v9=x,foo=bar");
        check(&header, BODY, T).unwrap();
        let header = format!("v1={KNOWN_V1},t={T}");
        check(&header, BODY, T).unwrap();
    }

    #[test]
    fn the_previous_secret_passes_during_a_rotation() {
        let header = sign_header(PREVIOUS, T, BODY);
        assert_eq!(check(&header, BODY, T), Err(SignatureError::Mismatch));
        verify(Some(&header), BODY, &[SECRET, PREVIOUS], T, 300).unwrap();
        verify(Some(&header), BODY, &[PREVIOUS, SECRET], T, 300).unwrap();
    }

    #[test]
    fn v0_alone_never_passes() {
        // Even a v0 that is the right HMAC.
        let header = format!("t={T},v0={KNOWN_V1}");
        assert_eq!(check(&header, BODY, T), Err(SignatureError::NoV1));
        assert_eq!(check(&format!("t={T}"), BODY, T), Err(SignatureError::NoV1));
    }

    #[test]
    fn timestamps_beyond_the_tolerance_are_stale_both_ways() {
        let header = sign_header(SECRET, T, BODY);
        check(&header, BODY, T + 300).unwrap();
        check(&header, BODY, T - 300).unwrap();
        assert_eq!(check(&header, BODY, T + 301), Err(SignatureError::Stale));
        assert_eq!(check(&header, BODY, T - 301), Err(SignatureError::Stale));
        assert_eq!(check(&header, BODY, 0), Err(SignatureError::Stale));
        assert_eq!(check(&header, BODY, i64::MAX), Err(SignatureError::Stale));
        assert_eq!(check(&header, BODY, i64::MIN), Err(SignatureError::Stale));
        // A negative tolerance is no tolerance, not a bigger one.
        assert_eq!(
            verify(Some(&header), BODY, &[SECRET], T + 1, -5),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn a_stale_forgery_is_a_mismatch_not_stale() {
        let header = format!("t={},v1={}", T - 10_000, "ab".repeat(32));
        assert_eq!(check(&header, BODY, T), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_tampered_body_or_timestamp_or_wrong_secret_fails() {
        let header = sign_header(SECRET, T, BODY);
        assert_eq!(
            check(&header, br#"{"id":"evt_2","object":"event"}"#, T),
            Err(SignatureError::Mismatch)
        );
        let mut spaced = BODY.to_vec();
        spaced.push(b' ');
        assert_eq!(check(&header, &spaced, T), Err(SignatureError::Mismatch));
        let moved = format!("t={},v1={KNOWN_V1}", T + 1);
        assert_eq!(check(&moved, BODY, T), Err(SignatureError::Mismatch));
        assert_eq!(
            verify(Some(&header), BODY, &[b"whsec_other"], T, 300),
            Err(SignatureError::Mismatch)
        );
        // Upper-case hex is not what Stripe sends.
        let upper = format!("t={T},v1={}", KNOWN_V1.to_uppercase());
        assert_eq!(check(&upper, BODY, T), Err(SignatureError::Mismatch));
    }

    #[test]
    fn no_secret_or_an_empty_one_verifies_nothing() {
        let header = sign_header(b"", T, BODY);
        assert_eq!(
            verify(Some(&header), BODY, &[], T, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(Some(&header), BODY, &[b""], T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_missing_header_is_missing() {
        assert_eq!(
            verify(None, BODY, &[SECRET], T, 300),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn garbage_headers_are_malformed() {
        for header in [
            "",
            "garbage",
            &format!("v1={KNOWN_V1}"),
            &format!("t=,v1={KNOWN_V1}"),
            &format!("t=-1,v1={KNOWN_V1}"),
            &format!("t=+{T},v1={KNOWN_V1}"),
            &format!("t= {T},v1={KNOWN_V1}"),
            &format!("t={T}.5,v1={KNOWN_V1}"),
            &format!("t=9999999999999,v1={KNOWN_V1}"),
            &format!("t={T},t={T},v1={KNOWN_V1}"),
            &format!("t={T},,v1={KNOWN_V1}"),
            &format!("t={T};v1={KNOWN_V1}"),
        ] {
            assert!(
                matches!(check(header, BODY, T), Err(SignatureError::Malformed(_))),
                "{header:?}: {:?}",
                check(header, BODY, T)
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic_and_never_pass(header in ".{0,200}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert!(check(&header, &body, T).is_err());
        }

        #[test]
        fn header_shaped_noise_never_passes(
            t in 0i64..2_000_000_000,
            sigs in proptest::collection::vec("[0-9a-f]{0,70}", 0..4),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut header = format!("t={t}");
            for s in &sigs { header.push_str(&format!(",v1={s}")); }
            prop_assert!(check(&header, &body, t).is_err());
        }

        #[test]
        fn a_correct_signature_always_passes(
            t in 0i64..2_000_000_000,
            skew in -300i64..=300,
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let header = sign_header(SECRET, t, &body);
            prop_assert_eq!(check(&header, &body, t + skew), Ok(()));
            // ...and only for its own body.
            let mut other = body.clone();
            other.push(0);
            prop_assert_eq!(check(&header, &other, t), Err(SignatureError::Mismatch));
        }
    }
}

//! Tests of `stripe_signature` (the parent module).

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

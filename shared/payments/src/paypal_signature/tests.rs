//! Tests of `paypal_signature` (the parent module).

//! The fixtures (tests/fixtures/paypal/) are self-signed certificates
//! made with the openssl CLI; only they and one signature are kept, not
//! the private keys:
//!
//!   openssl genrsa -out key.pem 2048   (other_key: 2048, short_key: 1024)
//!   openssl ecparam -name prime256v1 -genkey -noout -out ec_key.pem
//!   openssl req -x509 -new -key key.pem -sha256 -days 3650 \
//!     -subj "/C=US/O=edgeshop test/CN=messageverificationcerts.test.invalid" -out cert.pem
//!   (the same for other_cert, short_cert, ec_cert; valid 2026-11-26T01:16:01Z
//!    to 2036-11-23T01:16:01Z)
//!   printf '%s' "$MESSAGE" | openssl dgst -sha256 -sign key.pem | base64 -w0
//!
//! and the CRC32 with python3 -c 'import zlib; print(zlib.crc32(BODY))'.

use super::*;
use proptest::prelude::*;

const CERT: &str = include_str!("../../tests/fixtures/paypal/cert.pem");
const OTHER_CERT: &str = include_str!("../../tests/fixtures/paypal/other_cert.pem");
const SHORT_KEY_CERT: &str = include_str!("../../tests/fixtures/paypal/short_cert.pem");
const EC_CERT: &str = include_str!("../../tests/fixtures/paypal/ec_cert.pem");
const NOT_BEFORE: i64 = 1_795_655_761;
const NOT_AFTER: i64 = 2_111_015_761;

const BODY: &[u8] =
    br#"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#;
const TRANSMISSION_ID: &str = "69cd13f0-d67a-11e5-baa3-778b53f4ae55";
const TRANSMISSION_TIME: &str = "2026-11-26T02:00:00Z";
const SENT_AT: i64 = 1_795_658_400;
const WEBHOOK_ID: &str = "1JE4291016473214C";
const MESSAGE: &str =
    "69cd13f0-d67a-11e5-baa3-778b53f4ae55|2026-11-26T02:00:00Z|1JE4291016473214C|3863852516";
/// MESSAGE signed with cert.pem's key.
const SIG: &str = "EirxJslkV30/YCr5v6fhVRwT3ycLqYmC+AR+dZ5bGJ92pefE3MZlmhfjXjohfMM3Bo8aDcD/QiOz0Tvp1OYiw7+uMSX/8Bq2rzHF7InN7aOqEZYqOsUClBCXkPa5PDYaCZjEO9BhL8D+DDrVUCIovX32kvCisIYVP5Mi/p++UlvDcMUnV+UL9tHgM03F0R0RYHwZz+4Q6I0LiUcLxgZxtI02M8VC/PhAioUanyOAtNpWJ2m9jbJQforfi49tUVfQKDbLUNZelZdZcunpdjfDGoo8l47MYnIYdx5z6T82+l7f3bF3kG61gLznANmQv6a1YYGsOew84PH4h3wRKcz98w==";

const CERT_URL: &str =
    "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77";

fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("PAYPAL-TRANSMISSION-ID", TRANSMISSION_ID.into()),
        ("PAYPAL-TRANSMISSION-TIME", TRANSMISSION_TIME.into()),
        ("PAYPAL-TRANSMISSION-SIG", SIG.into()),
        ("PAYPAL-CERT-URL", CERT_URL.into()),
        ("PAYPAL-AUTH-ALGO", "SHA256withRSA".into()),
    ]
}

fn read(h: &[(&'static str, String)]) -> Result<PayPalHeaders, SignatureError> {
    PayPalHeaders::from_lookup(|name| h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()))
}

fn with(name: &str, value: &str) -> Vec<(&'static str, String)> {
    let mut h = headers();
    h.iter_mut().find(|(n, _)| *n == name).unwrap().1 = value.into();
    h
}

fn allowed() -> Vec<String> {
    let mut origins: Vec<String> = PAYPAL_CERT_ORIGINS.iter().map(|s| s.to_string()).collect();
    origins.push("http://127.0.0.1:8790".into());
    origins
}

#[test]
fn the_whole_check_passes_for_the_fixture() {
    let h = read(&headers()).unwrap();
    assert_eq!(h.transmission_id, TRANSMISSION_ID);
    check_cert_url(&h.cert_url, &allowed()).unwrap();
    check_fresh(&h.transmission_time, SENT_AT + 60, 300).unwrap();
    let message = h.signed_message(WEBHOOK_ID, BODY);
    assert_eq!(message, MESSAGE);
    verify_rsa(CERT, message.as_bytes(), &h.transmission_sig, SENT_AT).unwrap();
}

#[test]
fn the_crc_is_zlibs() {
    // zlib.crc32(b"123456789") == 0xCBF43926, the CRC-32 check value.
    assert_eq!(
        signed_message("a", "b", "c", b"123456789"),
        "a|b|c|3421780262"
    );
    assert_eq!(signed_message("a", "b", "c", b""), "a|b|c|0");
    assert_eq!(signed_message("a", "b", "c", b"hello"), "a|b|c|907060870");
}

proptest! {
    #[test]
    fn the_crc_is_crc32fasts(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(crc32(&body), crc32fast::hash(&body));
    }
}

#[test]
fn a_tampered_message_or_body_fails() {
    let other_body = signed_message(TRANSMISSION_ID, TRANSMISSION_TIME, WEBHOOK_ID, b"{}");
    for message in [
        other_body.as_str(),
        &MESSAGE.replace("1JE4291016473214C", "1JE4291016473214D"),
        &MESSAGE.replace("02:00:00", "02:00:01"),
        "",
    ] {
        assert_eq!(
            verify_rsa(CERT, message.as_bytes(), SIG, SENT_AT),
            Err(SignatureError::Mismatch),
            "{message:?}"
        );
    }
}

#[test]
fn a_tampered_signature_fails() {
    let mut sig = base64::engine::general_purpose::STANDARD
        .decode(SIG)
        .unwrap();
    sig[10] ^= 1;
    let flipped = base64::engine::general_purpose::STANDARD.encode(&sig);
    assert_eq!(
        verify_rsa(CERT, MESSAGE.as_bytes(), &flipped, SENT_AT),
        Err(SignatureError::Mismatch)
    );
    let short = base64::engine::general_purpose::STANDARD.encode(&sig[1..]);
    assert_eq!(
        verify_rsa(CERT, MESSAGE.as_bytes(), &short, SENT_AT),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_rsa(CERT, MESSAGE.as_bytes(), "", SENT_AT),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn another_key_fails() {
    assert_eq!(
        verify_rsa(OTHER_CERT, MESSAGE.as_bytes(), SIG, SENT_AT),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_first_certificate_of_a_chain_is_the_signers() {
    let chain = format!("{CERT}\n{OTHER_CERT}");
    verify_rsa(&chain, MESSAGE.as_bytes(), SIG, SENT_AT).unwrap();
    let reversed = format!("{OTHER_CERT}{CERT}");
    assert_eq!(
        verify_rsa(&reversed, MESSAGE.as_bytes(), SIG, SENT_AT),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_certificate_must_be_valid_now() {
    verify_rsa(CERT, MESSAGE.as_bytes(), SIG, NOT_BEFORE).unwrap();
    verify_rsa(CERT, MESSAGE.as_bytes(), SIG, NOT_AFTER).unwrap();
    assert_eq!(
        verify_rsa(CERT, MESSAGE.as_bytes(), SIG, NOT_AFTER + 1),
        Err(SignatureError::CertificateInvalid(
            "the certificate has expired"
        ))
    );
    assert_eq!(
        verify_rsa(CERT, MESSAGE.as_bytes(), SIG, NOT_BEFORE - 1),
        Err(SignatureError::CertificateInvalid(
            "the certificate is not valid yet"
        ))
    );
    assert!(matches!(
        verify_rsa(CERT, MESSAGE.as_bytes(), SIG, -1),
        Err(SignatureError::CertificateInvalid(_))
    ));
}

#[test]
fn certificates_without_a_usable_rsa_key_are_refused() {
    for (pem, why) in [
        (EC_CERT, "the certificate's key is not RSA"),
        (SHORT_KEY_CERT, "the certificate's RSA key is too short"),
        ("", "no PEM certificate"),
        ("not a certificate", "no PEM certificate"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "the certificate cannot be read",
        ),
        (
            &CERT.replace("MII", "MIJ"),
            "the certificate cannot be read",
        ),
    ] {
        assert_eq!(
            verify_rsa(pem, MESSAGE.as_bytes(), SIG, SENT_AT),
            Err(SignatureError::CertificateInvalid(why)),
            "{pem:.40}"
        );
    }
    // A certificate cut short loses its end marker.
    assert_eq!(
        verify_rsa(&CERT[..CERT.len() / 2], MESSAGE.as_bytes(), SIG, SENT_AT),
        Err(SignatureError::CertificateInvalid("no PEM certificate"))
    );
}

#[test]
fn a_signature_that_is_not_base64_is_malformed() {
    for sig in ["not base64!", "AAA", "====", "QUJD\n"] {
        assert_eq!(
            verify_rsa(CERT, MESSAGE.as_bytes(), sig, SENT_AT),
            Err(SignatureError::Malformed("the signature is not base64")),
            "{sig:?}"
        );
    }
}

#[test]
fn every_header_is_required() {
    for (name, _) in headers() {
        let h: Vec<_> = headers().into_iter().filter(|(n, _)| *n != name).collect();
        assert_eq!(read(&h), Err(SignatureError::Missing), "{name}");
    }
    assert_eq!(read(&[]), Err(SignatureError::Missing));
}

#[test]
fn only_sha256_with_rsa_is_accepted() {
    for algo in [
        "SHA1withRSA",
        "sha256withrsa",
        "SHA256withECDSA",
        "",
        "SHA256withRSA ",
    ] {
        assert_eq!(
            read(&with("PAYPAL-AUTH-ALGO", algo)),
            Err(SignatureError::UnsupportedAlgorithm),
            "{algo:?}"
        );
    }
}

#[test]
fn header_values_of_the_wrong_shape_are_malformed() {
    for (name, value) in [
        ("PAYPAL-TRANSMISSION-ID", ""),
        ("PAYPAL-TRANSMISSION-ID", "a|b"),
        ("PAYPAL-TRANSMISSION-ID", "a b"),
        ("PAYPAL-TRANSMISSION-ID", &"a".repeat(256)),
        ("PAYPAL-TRANSMISSION-TIME", ""),
        ("PAYPAL-TRANSMISSION-TIME", "2026-11-26T02:00:00Z|x"),
        ("PAYPAL-TRANSMISSION-SIG", ""),
        ("PAYPAL-TRANSMISSION-SIG", "abc def"),
        ("PAYPAL-TRANSMISSION-SIG", &"A".repeat(1025)),
        ("PAYPAL-CERT-URL", ""),
    ] {
        assert!(
            matches!(read(&with(name, value)), Err(SignatureError::Malformed(_))),
            "{name}: {value:.40?}"
        );
    }
}

#[test]
fn certificate_urls_at_allowed_origins_pass() {
    for url in [
        CERT_URL,
        "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270",
        "http://127.0.0.1:8790/v1/notifications/certs/CERT-local",
    ] {
        check_cert_url(url, &allowed()).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn anything_else_is_not_allowed() {
    for url in [
        "https://api.paypal.com.evil.com/v1/notifications/certs/CERT-1",
        "https://evil.com/?x=https://api.paypal.com",
        "https://evil.com/https://api.paypal.com/v1/certs",
        "https://api.paypal.com@evil.com/v1/notifications/certs/CERT-1",
        "https://user@api.paypal.com/v1/notifications/certs/CERT-1",
        "https://evil.com\\@api.paypal.com/v1/certs",
        "https://api.paypal.com\\@evil.com/v1/certs",
        "https://api.paypal.com\\v1\\certs",
        "https://API.PAYPAL.COM/v1/notifications/certs/CERT-1",
        "HTTPS://api.paypal.com/v1/notifications/certs/CERT-1",
        "http://api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com:443/v1/notifications/certs/CERT-1",
        "https://api.paypal.com./v1/notifications/certs/CERT-1",
        "https://api.paypal.com",
        "https://api.paypal.com/",
        "https://api.paypal.com/v1/certs?x=1",
        "https://api.paypal.com/v1/certs#x",
        "https://api.paypal.com/v1/%2e%2e/certs",
        "https://api.paypal.com/v1/../certs",
        "https://api.paypal.com/v1/./certs",
        "https://api.paypal.com /v1/certs",
        " https://api.paypal.com/v1/certs",
        "https://api.paypal.com/v1/certs\n",
        "//api.paypal.com/v1/certs",
        "api.paypal.com/v1/certs",
        "ftp://api.paypal.com/v1/certs",
        "https:/api.paypal.com/v1/certs",
        "https:///api.paypal.com/v1/certs",
        "https://[::1]/v1/certs",
        "http://127.0.0.1/v1/certs",
        "http://127.0.0.1:08790/v1/certs",
        "http://127.0.0.1:8791/v1/certs",
        "http://127.0.0.1:8790:1/v1/certs",
        "http://localhost:8790/v1/certs",
        "https://api.ѕandbox.paypal.com/v1/certs",
        "",
    ] {
        assert_eq!(
            check_cert_url(url, &allowed()),
            Err(SignatureError::CertificateUrlNotAllowed),
            "{url:?}"
        );
    }
}

#[test]
fn no_origin_is_allowed_unless_configured() {
    assert_eq!(
        check_cert_url(CERT_URL, &[]),
        Err(SignatureError::CertificateUrlNotAllowed)
    );
    assert_eq!(
        check_cert_url(CERT_URL, &["https://api.paypal.com".into()]),
        Err(SignatureError::CertificateUrlNotAllowed)
    );
}

#[test]
fn transmission_times_must_be_recent_rfc_3339() {
    check_fresh(TRANSMISSION_TIME, SENT_AT, 300).unwrap();
    check_fresh(TRANSMISSION_TIME, SENT_AT + 300, 300).unwrap();
    check_fresh(TRANSMISSION_TIME, SENT_AT - 300, 300).unwrap();
    check_fresh("2026-11-26T02:00:00.123Z", SENT_AT, 300).unwrap();
    check_fresh("2026-11-26T03:00:00+01:00", SENT_AT, 300).unwrap();
    assert_eq!(
        check_fresh(TRANSMISSION_TIME, SENT_AT + 301, 300),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        check_fresh(TRANSMISSION_TIME, SENT_AT - 301, 300),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        check_fresh(TRANSMISSION_TIME, i64::MIN, 300),
        Err(SignatureError::Stale)
    );
    assert_eq!(
        check_fresh(TRANSMISSION_TIME, i64::MAX, 300),
        Err(SignatureError::Stale)
    );
    for bad in [
        "",
        "yesterday",
        "2026-11-26 02:00:00",
        "2026-11-26T02:00:00",
        "1795658400",
    ] {
        assert!(
            matches!(
                check_fresh(bad, SENT_AT, 300),
                Err(SignatureError::Malformed(_))
            ),
            "{bad:?}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_inputs_never_panic_and_never_verify(
        pem in ".{0,300}",
        sig in "[A-Za-z0-9+/=]{0,400}",
        message in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        prop_assert!(verify_rsa(&pem, &message, &sig, SENT_AT).is_err());
        prop_assert!(verify_rsa(CERT, &message, &sig, SENT_AT).is_err());
    }

    #[test]
    fn arbitrary_urls_never_panic(url in ".{0,120}") {
        let _ = check_cert_url(&url, &allowed());
    }

    #[test]
    fn url_shaped_noise_passes_only_at_an_allowed_origin(
        scheme in "(https?|HTTPS)",
        host in "[a-zA-Z0-9.@:\\\\-]{0,30}",
        path in "[a-zA-Z0-9/?#%.@\\\\-]{0,30}",
    ) {
        let url = format!("{scheme}://{host}{path}");
        if check_cert_url(&url, &allowed()).is_ok() {
            let origin = format!("{scheme}://{host}");
            prop_assert!(allowed().contains(&origin), "{}", url);
        }
    }

    #[test]
    fn arbitrary_times_never_panic(time in ".{0,40}", now in any::<i64>(), tol in any::<i64>()) {
        let _ = check_fresh(&time, now, tol);
    }
}

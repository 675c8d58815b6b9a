//! PayPal's webhook signature, checked offline as PayPal's SDKs check it
//! (no call to `/v1/notifications/verify-webhook-signature`):
//!
//! 1. the five `PAYPAL-*` headers are read ([`PayPalHeaders::from_lookup`]);
//! 2. the certificate URL must be at one of PayPal's origins
//!    ([`check_cert_url`]): whoever chooses the certificate chooses the key,
//!    so this check, plus HTTPS to that origin, is what makes the key PayPal's;
//! 3. the transmission time must be recent ([`check_fresh`]), against replays;
//! 4. the certificate (fetched and cached by the caller) must be valid now,
//!    and its RSA key must verify the PKCS#1 v1.5 SHA-256 signature over
//!    `"{transmission id}|{transmission time}|{webhook id}|{crc32(body)}"`
//!    ([`signed_message`], [`verify_rsa`]).
//!
//! Like the Stripe check, all of it runs on the raw body, before any JSON.

use base64::Engine;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};

use crate::signature::SignatureError;
use crate::signing_certificate::SigningCertificate;

/// The one algorithm PayPal signs webhooks with.
pub const AUTH_ALGO: &str = "SHA256withRSA";

/// Where PayPal serves its webhook certificates (live, sandbox).
pub const PAYPAL_CERT_ORIGINS: [&str; 2] =
    ["https://api.paypal.com", "https://api.sandbox.paypal.com"];

/// Smaller RSA keys are not PayPal's (its certificates carry 2048 bits).
pub(crate) const MIN_KEY_BITS: usize = 2048;

/// The signature headers of one delivery, each checked for its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPalHeaders {
    pub transmission_id: String,
    pub transmission_time: String,
    /// Base64 of the RSA signature.
    pub transmission_sig: String,
    pub cert_url: String,
    pub auth_algo: String,
}

impl PayPalHeaders {
    /// Reads the headers through `get` (which must match names without
    /// regard to case, as HTTP does). Any header absent: `Missing`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SignatureError> {
        use SignatureError::Malformed;
        let header = |name: &str| get(name).ok_or(SignatureError::Missing);
        let transmission_id = header("PAYPAL-TRANSMISSION-ID")?;
        let transmission_time = header("PAYPAL-TRANSMISSION-TIME")?;
        let transmission_sig = header("PAYPAL-TRANSMISSION-SIG")?;
        let cert_url = header("PAYPAL-CERT-URL")?;
        let auth_algo = header("PAYPAL-AUTH-ALGO")?;
        // The id and time are joined with '|' into the signed message: a '|'
        // inside either would make two different pairs sign the same text.
        if !is_message_field(&transmission_id, 255) {
            return Err(Malformed("PAYPAL-TRANSMISSION-ID is not a plain id"));
        }
        if !is_message_field(&transmission_time, 64) {
            return Err(Malformed(
                "PAYPAL-TRANSMISSION-TIME is not a plain timestamp",
            ));
        }
        if transmission_sig.is_empty()
            || transmission_sig.len() > 1024
            || !transmission_sig
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return Err(Malformed("PAYPAL-TRANSMISSION-SIG is not base64"));
        }
        if cert_url.is_empty() || cert_url.len() > 2048 {
            return Err(Malformed("PAYPAL-CERT-URL is empty or too long"));
        }
        if auth_algo != AUTH_ALGO {
            return Err(SignatureError::UnsupportedAlgorithm);
        }
        Ok(PayPalHeaders {
            transmission_id,
            transmission_time,
            transmission_sig,
            cert_url,
            auth_algo,
        })
    }

    /// The text PayPal signed for this delivery of `body`.
    pub fn signed_message(&self, webhook_id: &str, body: &[u8]) -> String {
        signed_message(
            &self.transmission_id,
            &self.transmission_time,
            webhook_id,
            body,
        )
    }
}

/// 1..=`max` printable ASCII characters, no space, no '|'.
fn is_message_field(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic() && b != b'|')
}

/// `"{id}|{time}|{webhook id}|{crc32(body)}"`, the CRC32 in decimal: what
/// PayPal signs.
pub fn signed_message(
    transmission_id: &str,
    transmission_time: &str,
    webhook_id: &str,
    body: &[u8],
) -> String {
    let crc = crc32(body);
    format!("{transmission_id}|{transmission_time}|{webhook_id}|{crc}")
}

/// CRC-32 as zlib's `crc32` (IEEE 802.3, reflected, polynomial 0xEDB88320),
/// one 1 KB table built at compile time. (`crc32fast` is the same function
/// with 16 KB of tables: 17 KB more gzipped wasm, for bodies of a few KB.)
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut bit = 0;
            while bit < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                bit += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes.iter().fold(!0u32, |crc, &b| {
        TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// The certificate URL's origin (`scheme://host[:port]`) must be exactly
/// one of `allowed_origins`. Anything unusual is refused rather than
/// interpreted: user info, upper case, backslashes, percent signs, a query
/// or fragment, a port written oddly, characters outside a plain path.
pub fn check_cert_url(url: &str, allowed_origins: &[String]) -> Result<(), SignatureError> {
    let origin = plain_url_origin(url).ok_or(SignatureError::CertificateUrlNotAllowed)?;
    if allowed_origins.iter().any(|allowed| allowed == origin) {
        Ok(())
    } else {
        Err(SignatureError::CertificateUrlNotAllowed)
    }
}

/// The origin of `url` when it is `http(s)://host[:port]/path` written
/// plainly (lower-case host of letters, digits, '-' and '.'; a path of
/// unreserved characters and '/', no dot segments), else `None`.
fn plain_url_origin(url: &str) -> Option<&str> {
    if url.len() > 2048 {
        return None;
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority_len = rest.find('/')?;
    let (authority, path) = rest.split_at(authority_len);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && !host.contains("..");
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && !p.starts_with('0')
            && p.parse::<u32>().is_ok_and(|n| n <= 65535)
    });
    let path_ok = path.len() > 1
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~'))
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..");
    (host_ok && port_ok && path_ok).then(|| &url[..url.len() - path.len()])
}

/// The transmission time (RFC 3339) is within `tolerance_secs` of now, in
/// either direction.
pub fn check_fresh(
    transmission_time: &str,
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let sent = chrono::DateTime::parse_from_rfc3339(transmission_time)
        .map_err(|_| SignatureError::Malformed("PAYPAL-TRANSMISSION-TIME is not RFC 3339"))?
        .timestamp();
    let age = now_unix.saturating_sub(sent);
    if age.unsigned_abs() > tolerance_secs.max(0).unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// Verifies `signature_b64` (RSASSA-PKCS1-v1_5, SHA-256) over `message`
/// with the RSA key of the certificate in `cert_pem` (the first certificate
/// when PayPal sends a chain, as its SDKs take it), which must be valid at
/// `now_unix`.
///
/// The certificate is trusted for where it came from (the origin checked
/// by [`check_cert_url`], fetched over HTTPS), not for a chain to a root:
/// the Workers runtime offers no X.509 path validation.
///
/// In a Worker, prefer `paypal_webcrypto::verify_rsa` (feature `worker`):
/// the same checks with the runtime's WebCrypto doing the RSA, which keeps
/// the `rsa` crate (~15 KB of gzipped wasm) out of the Worker.
pub fn verify_rsa(
    cert_pem: &str,
    message: &[u8],
    signature_b64: &str,
    now_unix: i64,
) -> Result<(), SignatureError> {
    let cert = SigningCertificate::from_pem(cert_pem, now_unix)?;
    let key = rsa_key(cert.spki_der())?;
    let signature = decode_signature(signature_b64)?;
    key.verify(
        Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(message),
        &signature,
    )
    .map_err(|_| SignatureError::Mismatch)
}

/// The signature's bytes (standard base64, as PayPal sends it).
pub fn decode_signature(signature_b64: &str) -> Result<Vec<u8>, SignatureError> {
    base64::engine::general_purpose::STANDARD
        .decode(signature_b64)
        .map_err(|_| SignatureError::Malformed("the signature is not base64"))
}

/// The RSA key of a `SubjectPublicKeyInfo`, at least 2048 bits.
fn rsa_key(spki_der: &[u8]) -> Result<RsaPublicKey, SignatureError> {
    // Checks the algorithm is rsaEncryption and reads (n, e).
    let key = RsaPublicKey::from_public_key_der(spki_der)
        .map_err(|_| SignatureError::CertificateInvalid("the certificate's key is not RSA"))?;
    if key.size() * 8 < MIN_KEY_BITS {
        return Err(SignatureError::CertificateInvalid(
            "the certificate's RSA key is too short",
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
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

    const CERT: &str = include_str!("../tests/fixtures/paypal/cert.pem");
    const OTHER_CERT: &str = include_str!("../tests/fixtures/paypal/other_cert.pem");
    const SHORT_KEY_CERT: &str = include_str!("../tests/fixtures/paypal/short_cert.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/paypal/ec_cert.pem");
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
        PayPalHeaders::from_lookup(|name| {
            h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        })
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
}

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
mod tests;

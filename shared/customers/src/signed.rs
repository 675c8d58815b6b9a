//! The envelope both token kinds share: `<prefix>.<b64url(payload)>.<b64url(mac)>`
//! with mac = HMAC-SHA256(key, "<prefix>." + b64url(payload)). The MAC covers
//! the text as sent (prefix and encoded payload), so any change to a token
//! is caught before its payload is even decoded, and a token of one kind
//! (`s1`) can never pass for another (`l1`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest token read at all: a session token is ~150 bytes, a link token
/// with a 254-byte email ~560. Anything longer is refused before any work.
pub(crate) const MAX_TOKEN_LEN: usize = 1024;

/// Why an envelope did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsealed {
    /// Not `<prefix>.<b64url>.<b64url>` (or too long).
    Malformed,
    /// Well-formed, but no key made its MAC.
    BadSignature,
}

fn mac(key: &[u8], signed_text: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(signed_text.as_bytes());
    mac
}

/// The token for `payload` under `key`.
pub(crate) fn seal(prefix: &str, payload: &[u8], key: &[u8]) -> String {
    let signed_text = format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(payload));
    let tag = mac(key, &signed_text).finalize().into_bytes();
    format!("{signed_text}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The payload of `token` if one of `keys` made it. Each MAC is compared in
/// constant time (`verify_slice`). The decoder is strict: padding, other
/// alphabets and non-zero trailing bits are malformed, so each token has one
/// spelling.
pub(crate) fn open(prefix: &str, token: &str, keys: &[&[u8]]) -> Result<Vec<u8>, Unsealed> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Unsealed::Malformed);
    }
    let Some((signed_text, tag_b64)) = token.rsplit_once('.') else {
        return Err(Unsealed::Malformed);
    };
    let Some(payload_b64) = signed_text
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
    else {
        return Err(Unsealed::Malformed);
    };
    if payload_b64.is_empty() || payload_b64.contains('.') {
        return Err(Unsealed::Malformed);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag_b64)
        .map_err(|_| Unsealed::Malformed)?;
    if tag.len() != 32 {
        return Err(Unsealed::Malformed);
    }
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| Unsealed::Malformed)?;
    if keys
        .iter()
        .any(|key| mac(key, signed_text).verify_slice(&tag).is_ok())
    {
        Ok(payload)
    } else {
        Err(Unsealed::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open() {
        let t = seal("x1", b"hello", b"k");
        assert!(t.starts_with("x1.aGVsbG8."), "{t}");
        assert_eq!(open("x1", &t, &[b"k"]).unwrap(), b"hello");
        assert_eq!(open("x1", &t, &[b"other", b"k"]).unwrap(), b"hello");
        assert_eq!(open("x1", &t, &[b"other"]), Err(Unsealed::BadSignature));
        assert_eq!(open("x1", &t, &[]), Err(Unsealed::BadSignature));
        assert_eq!(open("y1", &t, &[b"k"]), Err(Unsealed::Malformed));
    }

    #[test]
    fn the_mac_is_hmac_sha256_of_prefix_and_encoded_payload() {
        let t = seal("s1", b"p", b"key");
        let (signed, tag) = t.rsplit_once('.').unwrap();
        assert_eq!(signed, "s1.cA");
        let want = platform::crypto::hmac_sha256(b"key", &[b"s1.cA"]);
        assert_eq!(URL_SAFE_NO_PAD.decode(tag).unwrap(), want);
    }

    #[test]
    fn anything_but_the_exact_shape_is_malformed() {
        let t = seal("x1", b"hello", b"k");
        let (_, tag) = t.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            "x1".into(),
            "x1..".into(),
            format!("x1.{tag}"),
            format!("x1..{tag}"),
            format!("x1.aGVsbG8=.{tag}"),
            format!("x1.aGVs.bG8.{tag}"),
            format!("x1.aGVsbG8.{tag}="),
            format!("x1.aGVsbG8.{}", &tag[..40]),
            format!("x1.aGVsbG8+.{tag}"),
            format!("x1.aGVsbG9.{tag}"), // non-zero trailing bits
            format!("x1.{}.{tag}", "A".repeat(MAX_TOKEN_LEN)),
        ] {
            assert_eq!(open("x1", &bad, &[b"k"]), Err(Unsealed::Malformed), "{bad}");
        }
    }
}

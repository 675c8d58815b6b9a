//! The one place for keyed hashes: HMAC-SHA256 over a message's parts, hex
//! encoding, and comparing tags in constant time. Tokens we hand out and take
//! back (read-your-writes positions), idempotency fingerprints and hashed
//! client addresses all use it, each under its own secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `parts` joined with a 0x1f separator (so `("ab","c")` and
/// `("a","bc")` differ).
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(&[0x1f]);
        }
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// Equal in time that depends only on the lengths, not on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A hex tag of `parts` under `key`, cut to `hex_len` characters (tokens in
/// headers stay short; 64 bits are plenty where a forgery gains a client at
/// most a read from the primary).
pub fn tag(key: &[u8], parts: &[&[u8]], hex_len: usize) -> String {
    let mut t = hex(&hmac_sha256(key, parts));
    t.truncate(hex_len.min(64));
    t
}

/// Whether `given` is `tag(key, parts, given.len())`, compared in constant time.
pub fn verify_tag(key: &[u8], parts: &[&[u8]], given: &str, hex_len: usize) -> bool {
    given.len() == hex_len
        && constant_time_eq(tag(key, parts, hex_len).as_bytes(), given.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn parts_are_separated() {
        assert_ne!(
            hmac_sha256(b"k", &[b"ab", b"c"]),
            hmac_sha256(b"k", &[b"a", b"bc"])
        );
    }

    #[test]
    fn tags_verify_only_with_the_same_key_and_message() {
        let t = tag(b"key", &[b"16/B374D848"], 16);
        assert_eq!(t.len(), 16);
        assert!(verify_tag(b"key", &[b"16/B374D848"], &t, 16));
        assert!(!verify_tag(b"other", &[b"16/B374D848"], &t, 16));
        assert!(!verify_tag(b"key", &[b"16/B374D849"], &t, 16));
        assert!(!verify_tag(b"key", &[b"16/B374D848"], &t[..15], 16));
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

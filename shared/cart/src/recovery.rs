//! Abandoned-cart recovery, the pure parts: the signed restore link that
//! brings a shopper back to their cart (`GET /cart/restore?token=...`) and
//! the message that carries it. The index of carts with an email is a
//! PostgreSQL table (`cart_recovery`; statements in `queries`, functions in
//! shared/cart/sql/cart_recovery.sql).
//!
//! A restore token is `<cart id>.<expires, unix seconds>.<signature>`, the
//! signature being the unpadded base64url HMAC-SHA256, under
//! `CART_RESTORE_SECRET`, of a purpose label, the cart id and the expiry
//! exactly as written. All three parts are URL-safe, so the token goes into
//! a query string as it is. The cart id alone already opens a guest cart;
//! the token adds an expiry, so a forwarded or leaked email stops working.

use platform::crypto::{constant_time_eq, hmac_sha256};

use crate::CartId;

/// A sensible lifetime for a restore link (the sender picks the expiry).
/// Carts themselves rest 30 days after their last change (`CART_TTL_SECS`).
pub const RESTORE_TOKEN_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// Domain separation: the same key signing anything else never yields a
/// valid restore token.
const PURPOSE: &[u8] = b"cart_restore_v1";

/// The token that opens `cart_id` until `expires_at_unix` (excluded).
pub fn restore_token(key: &[u8], cart_id: &CartId, expires_at_unix: i64) -> String {
    let expires = expires_at_unix.to_string();
    let sig = signature(key, cart_id.as_str(), &expires);
    format!("{cart_id}.{expires}.{sig}")
}

/// The cart a token opens, if it is well-formed, signed under `key`, and
/// `now_unix` is before its expiry; `None` for anything else, without
/// saying why (the route answers every refusal with the same 404).
pub fn verify_restore_token(key: &[u8], token: &str, now_unix: i64) -> Option<CartId> {
    let mut parts = token.split('.');
    let (id, expires, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let cart_id = CartId::parse(id).ok()?;
    // Digits only (no sign, no spaces): the signature covers the text as
    // written, and this is the only spelling `restore_token` writes.
    if expires.is_empty() || expires.len() > 18 || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let expires_at: i64 = expires.parse().ok()?;
    let expected = signature(key, id, expires);
    if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return None;
    }
    (now_unix < expires_at).then_some(cart_id)
}

/// The `token` parameter of a request URL (`/cart/restore?token=...`), the
/// first if there are several. Not percent-decoded: a token is made only of
/// characters a URL carries as they are, so an encoded one is no valid
/// token anyway. (Cheaper in wasm than parsing the whole URL.)
pub fn token_param(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

fn signature(key: &[u8], cart_id: &str, expires: &str) -> String {
    base64url(&hmac_sha256(
        key,
        &[PURPOSE, cart_id.as_bytes(), expires.as_bytes()],
    ))
}

/// Unpadded base64url (RFC 4648 §5). Only ever encoded: a token is checked
/// by encoding the expected signature and comparing the text.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    out
}

/// The recovery message: `(subject, plain-text body)`. `store` names the
/// shop (its name, or anything the sender has); `item_count` is the number
/// of items, when the sender knows it. Pure text, nothing about the
/// shopper in it: the link is the only way back to the cart.
pub fn recovery_email(restore_url: &str, store: &str, item_count: Option<u32>) -> (String, String) {
    // One line, no control characters: the store's name goes into a header.
    let store: String = store
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect();
    let store = store.trim();
    let at_store = if store.is_empty() {
        String::new()
    } else {
        format!(" at {store}")
    };
    let what = match item_count {
        Some(1) => "1 item".to_string(),
        Some(n) if n > 1 => format!("{n} items"),
        _ => "items".to_string(),
    };
    let subject = format!("You left {what} in your cart{at_store}");
    let body = format!(
        "Hello,\n\n\
         you left {what} in your cart{at_store}. We kept it for you; this link \
         opens it again:\n\n\
         {restore_url}\n\n\
         Prices and stock are checked again when you open it. The link works \
         for a limited time. If you did not leave your email with us, you can \
         ignore this message.\n"
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn id() -> CartId {
        CartId::from_random([0x5a; 16])
    }

    #[test]
    fn a_token_opens_its_cart_until_it_expires() {
        let t = restore_token(KEY, &id(), NOW + 60);
        assert_eq!(verify_restore_token(KEY, &t, NOW), Some(id()));
        assert_eq!(verify_restore_token(KEY, &t, NOW + 59), Some(id()));
        assert_eq!(verify_restore_token(KEY, &t, NOW + 60), None, "expired");
        assert_eq!(verify_restore_token(KEY, &t, NOW + 10_000), None);
        // URL-safe as it is: hex, digits, dots and base64url.
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        let sig = t.rsplit('.').next().unwrap();
        assert_eq!(sig.len(), 43, "32 bytes, unpadded");
    }

    #[test]
    fn tampering_with_any_part_fails() {
        let t = restore_token(KEY, &id(), NOW + 60);
        let parts: Vec<&str> = t.split('.').collect();
        let other_id = CartId::from_random([0x5b; 16]);
        let mut sig_flipped = parts[2].to_string();
        let last = sig_flipped.pop().unwrap();
        sig_flipped.push(if last == 'A' { 'B' } else { 'A' });
        for forged in [
            format!("{other_id}.{}.{}", parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], NOW + 999_999, parts[2]),
            format!("{}.0{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.+{}.{}", parts[0], parts[1], parts[2]),
            format!("{}.{}.{}", parts[0], parts[1], sig_flipped),
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..42]),
            format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
            format!("{}.{}", parts[0], parts[1]),
            format!("{t}.x"),
            format!("{}.{}.{}", parts[0].to_uppercase(), parts[1], parts[2]),
        ] {
            assert_eq!(verify_restore_token(KEY, &forged, NOW), None, "{forged}");
        }
    }

    #[test]
    fn garbage_and_other_keys_fail() {
        for garbage in [
            "",
            ".",
            "..",
            "restore",
            "not.a.token",
            "0.0.0",
            &"a".repeat(500),
            &format!("{}..", id()),
            &format!("{}.-5.abc", id()),
            &format!("{}.99999999999999999999.abc", id()),
        ] {
            assert_eq!(verify_restore_token(KEY, garbage, NOW), None, "{garbage}");
        }
        let t = restore_token(KEY, &id(), NOW + 60);
        assert_eq!(
            verify_restore_token(b"another key, also 32 bytes long!", &t, NOW),
            None
        );
        assert_eq!(verify_restore_token(b"", &t, NOW), None);
    }

    #[test]
    fn the_token_is_read_from_the_query() {
        let t = restore_token(KEY, &id(), NOW + 60);
        let url = format!("https://shop.example/cart/restore?token={t}");
        assert_eq!(token_param(&url), Some(t.as_str()));
        assert_eq!(
            token_param(&format!(
                "https://x/cart/restore?a=1&token={t}&token=x#frag"
            )),
            Some(t.as_str())
        );
        assert_eq!(
            token_param("https://x/cart/restore?token=abc#f"),
            Some("abc")
        );
        assert_eq!(token_param("https://x/cart/restore?token="), Some(""));
        for none in [
            "https://x/cart/restore",
            "https://x/cart/restore?",
            "https://x/cart/restore?tokens=abc",
            "https://x/cart/restore?xtoken=abc",
            "https://x/cart/restore#token=abc",
        ] {
            assert_eq!(token_param(none), None, "{none}");
        }
    }

    #[test]
    fn base64url_matches_rfc_4648() {
        for (raw, encoded) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff, 0xbf], "-_-_"),
        ] {
            assert_eq!(base64url(raw), encoded);
        }
    }

    #[test]
    fn the_message_carries_the_link() {
        let url = "https://shop.example/cart/restore?token=abc.123.xyz";
        let (subject, body) = recovery_email(url, "Corner Shop", Some(3));
        assert_eq!(subject, "You left 3 items in your cart at Corner Shop");
        assert!(body.contains(url), "{body}");
        assert!(body.contains("3 items"));
        let (subject, body) = recovery_email(url, "Evil\r\nBcc: x@y.z", None);
        assert!(
            !subject.contains('\n') && !subject.contains('\r'),
            "{subject}"
        );
        assert!(body.contains(url));
        let (subject, _) = recovery_email(url, "", Some(1));
        assert_eq!(subject, "You left 1 item in your cart");
    }
}

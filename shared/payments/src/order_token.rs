//! The order's access token: what a guest shopper shows to pay (again) for
//! the order checkout gave them. An HMAC of the public order id under
//! `ORDER_TOKEN_SECRET`, so no table holds it and nobody can mint one for an
//! order id they guessed or saw.

use platform::crypto;

/// Hex characters of the tag: 128 bits.
const TOKEN_HEX_LEN: usize = 32;

pub fn issue(secret: &[u8], public_order_id: &str) -> String {
    crypto::tag(
        secret,
        &[b"order-token:", public_order_id.as_bytes()],
        TOKEN_HEX_LEN,
    )
}

/// Constant-time comparison with the token this order's id gets.
pub fn verify(secret: &[u8], public_order_id: &str, token: &str) -> bool {
    crypto::verify_tag(
        secret,
        &[b"order-token:", public_order_id.as_bytes()],
        token,
        TOKEN_HEX_LEN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_opens_its_own_order_only() {
        let t = issue(SECRET, "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(t.len(), TOKEN_HEX_LEN);
        assert!(verify(SECRET, "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa", &t));
        assert!(!verify(SECRET, "ord_aaaaaaaaaaaaaaaaaaaaaaaaab", &t));
        assert!(!verify(
            b"another secret of thirty-two byt",
            "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa",
            &t
        ));
        assert!(!verify(SECRET, "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa", ""));
        assert!(!verify(SECRET, "ord_aaaaaaaaaaaaaaaaaaaaaaaaaa", &t[..31]));
    }
}

//! Which request ids and browser origins the edge trusts.

/// A request id from the client is kept when it is short and plain, so logs
/// can be joined across systems; otherwise we mint our own.
pub fn accept_request_id(candidate: &str) -> bool {
    (1..=128).contains(&candidate.len())
        && candidate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The storefront origins allowed to call us from a browser, from the
/// comma-separated `ALLOWED_ORIGINS` variable.
pub fn origin_allowed(allowed_origins: &str, origin: &str) -> bool {
    allowed_origins
        .split(',')
        .map(str::trim)
        .any(|o| !o.is_empty() && o == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(accept_request_id("abc-123_x.y:z"));
        assert!(!accept_request_id(""));
        assert!(!accept_request_id("has space"));
        assert!(!accept_request_id(&"a".repeat(129)));
    }

    #[test]
    fn origins() {
        let cfg = "https://shop.example, http://localhost:3000";
        assert!(origin_allowed(cfg, "http://localhost:3000"));
        assert!(!origin_allowed(cfg, "https://evil.example"));
        assert!(!origin_allowed("", ""));
    }
}

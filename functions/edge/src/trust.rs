//! Which browser origins the edge trusts.

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
    fn origins() {
        let cfg = "https://shop.example, http://localhost:3000";
        assert!(origin_allowed(cfg, "http://localhost:3000"));
        assert!(!origin_allowed(cfg, "https://evil.example"));
        assert!(!origin_allowed("", ""));
    }
}

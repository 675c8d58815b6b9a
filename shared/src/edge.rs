//! The entry worker's rules, kept pure: which function owns a path, what a
//! cache key looks like, which request ids and origins to trust.

/// Public path prefix → the service binding of the function that owns it.
/// A function that is not deployed yet simply has no binding, and the edge
/// answers 503 for its paths.
pub const ROUTES: &[(&str, &str)] = &[
    ("/catalog", "CATALOG"),
    ("/cart", "CART"),
    ("/checkout", "CHECKOUT"),
    ("/webhooks", "WEBHOOKS"),
    ("/orders", "ORDERS"),
    ("/customers", "CUSTOMERS"),
    ("/admin", "ADMIN"),
];

/// 64 KiB: larger than any cart, checkout or webhook payload we accept.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The binding that serves `path`, matching whole segments only
/// (`/catalogue` is not `/catalog`).
pub fn binding_for(path: &str) -> Option<&'static str> {
    ROUTES.iter().find_map(|(prefix, binding)| {
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(*binding)
    })
}

/// Catalog responses the edge may cache. The catalog is public; everything
/// else is per-customer.
pub fn is_cacheable_path(path: &str) -> bool {
    binding_for(path) == Some("CATALOG")
}

/// A request id from the client is kept when it is short and plain, so logs
/// can be joined across systems; otherwise we mint our own.
pub fn accept_request_id(candidate: &str) -> bool {
    (1..=128).contains(&candidate.len())
        && candidate.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The cache key for a catalog GET: the catalog version (bumping it orphans
/// every older entry at once), the path, and the query with its parameters in
/// a canonical order so `?a=1&b=2` and `?b=2&a=1` share an entry.
pub fn cache_key(origin: &str, version: &str, path: &str, query: Option<&str>) -> String {
    let mut pairs: Vec<&str> = query.unwrap_or("").split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_unstable();
    let mut key = format!("{origin}/__edge_cache/v{version}{path}");
    if !pairs.is_empty() {
        key.push('?');
        key.push_str(&pairs.join("&"));
    }
    key
}

/// The storefront origins allowed to call us from a browser, from the
/// comma-separated `ALLOWED_ORIGINS` variable.
pub fn origin_allowed(allowed_origins: &str, origin: &str) -> bool {
    allowed_origins.split(',').map(str::trim).any(|o| !o.is_empty() && o == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_whole_segments() {
        assert_eq!(binding_for("/catalog"), Some("CATALOG"));
        assert_eq!(binding_for("/catalog/products/x"), Some("CATALOG"));
        assert_eq!(binding_for("/checkout"), Some("CHECKOUT"));
        assert_eq!(binding_for("/webhooks/stripe"), Some("WEBHOOKS"));
        assert_eq!(binding_for("/catalogue"), None);
        assert_eq!(binding_for("/"), None);
        assert_eq!(binding_for("/nope"), None);
    }

    #[test]
    fn only_catalog_is_cacheable() {
        assert!(is_cacheable_path("/catalog/products"));
        assert!(!is_cacheable_path("/cart/abc"));
    }

    #[test]
    fn request_ids() {
        assert!(accept_request_id("abc-123_x.y:z"));
        assert!(!accept_request_id(""));
        assert!(!accept_request_id("has space"));
        assert!(!accept_request_id(&"a".repeat(129)));
    }

    #[test]
    fn cache_keys_are_canonical_and_versioned() {
        let a = cache_key("https://h", "3", "/catalog/products", Some("b=2&a=1"));
        let b = cache_key("https://h", "3", "/catalog/products", Some("a=1&b=2"));
        assert_eq!(a, b);
        assert_eq!(a, "https://h/__edge_cache/v3/catalog/products?a=1&b=2");
        assert_ne!(a, cache_key("https://h", "4", "/catalog/products", Some("a=1&b=2")));
        assert_eq!(cache_key("https://h", "1", "/catalog/stores", None), "https://h/__edge_cache/v1/catalog/stores");
    }

    #[test]
    fn origins() {
        let cfg = "https://shop.example, http://localhost:3000";
        assert!(origin_allowed(cfg, "http://localhost:3000"));
        assert!(!origin_allowed(cfg, "https://evil.example"));
        assert!(!origin_allowed("", ""));
    }
}

//! The edge's route table: which function worker owns which public path.
//! `scripts/check-config` reads the `("/prefix", "BINDING")` lines below and
//! checks them against the service bindings in the top-level wrangler.toml.

/// Public path prefix → the service binding of the function that owns it.
/// A function that is not deployed yet simply has no binding, and the edge
/// answers 503 for its paths.
pub const ROUTES: &[(&str, &str)] = &[
    ("/catalog", "CATALOG"),
    ("/cart", "CART"),
    ("/checkout", "CHECKOUT"),
    ("/webhooks", "WEBHOOKS"),
    ("/orders", "ORDERS"),
    // Staff's order routes (refunds) live with the orders; listed before
    // "/admin" because the first matching prefix wins.
    ("/admin/orders", "ORDERS"),
    // Stock levels and their sync live with the stock alerts.
    ("/admin/inventory", "ALERTS"),
    ("/customers", "CUSTOMERS"),
    // A store's orders for staff (the dashboard) live with the orders too.
    ("/admin/stores", "ORDERS"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_whole_segments() {
        assert_eq!(binding_for("/catalog"), Some("CATALOG"));
        assert_eq!(binding_for("/catalog/products/x"), Some("CATALOG"));
        assert_eq!(binding_for("/checkout"), Some("CHECKOUT"));
        assert_eq!(binding_for("/webhooks/stripe"), Some("WEBHOOKS"));
        assert_eq!(binding_for("/admin/orders/ord_x/refunds"), Some("ORDERS"));
        assert_eq!(binding_for("/admin/inventory/adjustments"), Some("ALERTS"));
        assert_eq!(binding_for("/admin/stores/1/orders"), Some("ORDERS"));
        assert_eq!(binding_for("/admin/storesx"), Some("ADMIN"));
        assert_eq!(binding_for("/admin/stats"), Some("ADMIN"));
        assert_eq!(binding_for("/catalogue"), None);
        assert_eq!(binding_for("/"), None);
        assert_eq!(binding_for("/nope"), None);
    }

    #[test]
    fn only_catalog_is_cacheable() {
        assert!(is_cacheable_path("/catalog/products"));
        assert!(!is_cacheable_path("/cart/abc"));
    }
}

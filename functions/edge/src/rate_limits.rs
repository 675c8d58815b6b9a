//! Per-client rate limits on the routes that hold stock or make work for the
//! database: opening carts, changing them, checking out. A script that opens
//! carts and checks out in a loop would otherwise hold every SKU's stock in
//! reservations. Each class is a Cloudflare rate-limiting binding (top-level
//! wrangler.toml, `[[ratelimits]]`, where the limits live; scripts/check-config
//! checks every `binding:` below has one), keyed by the
//! client's address (`CF-Connecting-IP`, set by Cloudflare). Over the limit:
//! 429 `rate_limited` with `Retry-After`.
//!
//! The binding counts per Cloudflare location and is eventually consistent
//! (Cloudflare documents it as a guard against abuse, not an exact meter);
//! checkout's caps on pending orders (per email and per client) are the exact
//! backstop in the database.

use worker::{Env, Method, RateLimiter};

use platform::{ApiError, Log};

/// One rate-limited class of requests: its binding and the period its
/// `simple = { limit, period }` uses (Cloudflare allows 10 or 60 seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitClass {
    pub binding: &'static str,
    pub period_secs: u32,
}

pub const CART_CREATE: LimitClass = LimitClass {
    binding: "CART_CREATE_LIMIT",
    period_secs: 60,
};
pub const CART_WRITE: LimitClass = LimitClass {
    binding: "CART_WRITE_LIMIT",
    period_secs: 60,
};
/// Routes that send an email to an address the client names (signup, a
/// password reset, a resent verify link): a guard against mail-bombing.
pub const ACCOUNT_MAIL: LimitClass = LimitClass {
    binding: "ACCOUNT_MAIL_LIMIT",
    period_secs: 60,
};
pub const CHECKOUT: LimitClass = LimitClass {
    binding: "CHECKOUT_LIMIT",
    period_secs: 60,
};

/// The class a request falls in, if any. Reads are not limited here: the
/// catalog is cached, and a cart read is one object call.
pub fn class_for(method: &Method, path: &str) -> Option<LimitClass> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let writes = matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    );
    match (writes, segments.as_slice()) {
        (true, ["cart"]) => Some(CART_CREATE),
        (true, ["cart", _, ..]) => Some(CART_WRITE),
        (true, ["checkout", ..]) => Some(CHECKOUT),
        (true, ["customers", "signup" | "password-reset"])
        | (true, ["customers", "me", "verify-email"]) => Some(ACCOUNT_MAIL),
        _ => None,
    }
}

/// 429 when `client` is over the class's limit. A missing binding (a config
/// mistake that scripts/check-config catches) or a failing limiter lets the
/// request through, logged: the limiter guards against abuse and must not
/// take the shop down with it.
pub async fn check(env: &Env, log: &Log, class: LimitClass, client: &str) -> Result<(), ApiError> {
    let limiter: RateLimiter = match env.get_binding(class.binding) {
        Ok(l) => l,
        Err(_) => {
            log.warn(
                "rate_limiter_missing",
                serde_json::json!({"binding": class.binding}),
            );
            return Ok(());
        }
    };
    match limiter.limit(format!("ip:{client}")).await {
        Ok(outcome) if !outcome.success => Err(ApiError::too_many_requests(
            "rate_limited",
            "too many requests from this client; retry later",
            class.period_secs,
        )),
        Ok(_) => Ok(()),
        Err(e) => {
            log.warn(
                "rate_limiter_failed",
                serde_json::json!({"binding": class.binding, "detail": e.to_string()}),
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_route() {
        assert_eq!(class_for(&Method::Post, "/cart"), Some(CART_CREATE));
        assert_eq!(
            class_for(&Method::Post, "/cart/abc/items"),
            Some(CART_WRITE)
        );
        assert_eq!(
            class_for(&Method::Patch, "/cart/abc/items/SKU"),
            Some(CART_WRITE)
        );
        assert_eq!(
            class_for(&Method::Delete, "/cart/abc/items/SKU"),
            Some(CART_WRITE)
        );
        assert_eq!(class_for(&Method::Post, "/checkout"), Some(CHECKOUT));
        assert_eq!(class_for(&Method::Get, "/cart/abc"), None);
        assert_eq!(class_for(&Method::Get, "/catalog/products"), None);
        assert_eq!(class_for(&Method::Post, "/catalog/products"), None);
        assert_eq!(class_for(&Method::Post, "/cartx"), None);
        assert_eq!(class_for(&Method::Post, "/customers/signup"), Some(ACCOUNT_MAIL));
        assert_eq!(class_for(&Method::Post, "/customers/password-reset"), Some(ACCOUNT_MAIL));
        assert_eq!(class_for(&Method::Post, "/customers/login"), None);
    }
}

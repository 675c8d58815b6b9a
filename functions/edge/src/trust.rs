//! Which browser origins the edge trusts.

use worker::Method;

/// The storefront origins allowed to call us from a browser, from the
/// comma-separated `ALLOWED_ORIGINS` variable.
pub fn origin_allowed(allowed_origins: &str, origin: &str) -> bool {
    allowed_origins
        .split(',')
        .map(str::trim)
        .any(|o| !o.is_empty() && o == origin)
}

/// A write authenticated by the session cookie: the browser sends cookies
/// with cross-site requests too (SameSite=Lax lets top-level POST forms
/// through on some browsers' defaults, and subdomains are same-site), so
/// such a write must come from an allowed origin. Bearer-token clients
/// (native apps) send no cookie and need no Origin.
pub fn is_cookie_session_write(method: &Method, cookie: Option<&str>) -> bool {
    let writes = matches!(method, Method::Post | Method::Put | Method::Patch | Method::Delete);
    writes
        && cookie.is_some_and(|c| {
            c.split(';')
                .any(|pair| pair.trim_start().split_once('=').is_some_and(|(name, _)| name == "session"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_session_writes() {
        assert!(is_cookie_session_write(&Method::Post, Some("session=s1.x")));
        assert!(is_cookie_session_write(&Method::Delete, Some("db_lsn=1; session=s1.x")));
        assert!(!is_cookie_session_write(&Method::Get, Some("session=s1.x")));
        assert!(!is_cookie_session_write(&Method::Post, Some("db_lsn=1")));
        assert!(!is_cookie_session_write(&Method::Post, Some("xsession=1")));
        assert!(!is_cookie_session_write(&Method::Post, None));
    }

    #[test]
    fn origins() {
        let cfg = "https://shop.example, http://localhost:3000";
        assert!(origin_allowed(cfg, "http://localhost:3000"));
        assert!(!origin_allowed(cfg, "https://evil.example"));
        assert!(!origin_allowed("", ""));
    }
}

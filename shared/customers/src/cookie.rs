//! Where a session token travels: the `session` cookie (browsers) or an
//! `Authorization: Bearer s1....` header (apps, scripts). The cookie is
//! `HttpOnly` (page scripts cannot read it), `Secure`, and `SameSite=Lax`
//! (not sent on cross-site subrequests; the edge's `Origin` check covers the
//! rest).

/// The cookie's name.
pub const COOKIE_NAME: &str = "session";

/// `Set-Cookie` value carrying `token` for `max_age_secs` (negative counts
/// as 0): `session=<t>; Path=/; Max-Age=<n>; HttpOnly; Secure; SameSite=Lax`.
pub fn set_cookie(token: &str, max_age_secs: i64) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        max_age_secs.max(0)
    )
}

/// `Set-Cookie` value that removes the cookie (logout), with the same
/// attributes as `set_cookie` so the browser matches it to the one it holds.
pub fn clear_cookie() -> String {
    set_cookie("", 0)
}

/// The `session` cookie's value from a `Cookie` header holding any number of
/// cookies (`a=1; session=s1...; b=2`): the first non-empty one, surrounding
/// double quotes removed. `None` when absent or empty.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if name.trim() != COOKIE_NAME {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty()).then_some(value)
    })
}

/// The session token of an `Authorization` header: scheme `Bearer` (any
/// case), then a token starting `s1.`. Other schemes and other bearer
/// credentials (an admin key) are not sessions: `None`.
pub fn from_authorization(header: &str) -> Option<&str> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    (crate::session::is_session_token(token) && !token.contains(char::is_whitespace))
        .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_clear() {
        assert_eq!(
            set_cookie("s1.a.b", 1_209_600),
            "session=s1.a.b; Path=/; Max-Age=1209600; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            clear_cookie(),
            "session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
        );
        assert!(set_cookie("t", -5).contains("Max-Age=0;"));
    }

    #[test]
    fn the_session_cookie_among_others() {
        assert_eq!(from_cookie_header("session=s1.a.b"), Some("s1.a.b"));
        assert_eq!(
            from_cookie_header("a=1; session=s1.a.b; c=2"),
            Some("s1.a.b")
        );
        assert_eq!(from_cookie_header("a=1;session=\"s1.a.b\""), Some("s1.a.b"));
        assert_eq!(
            from_cookie_header("session=; session=s1.x.y"),
            Some("s1.x.y")
        );
        assert_eq!(from_cookie_header("xsession=s1.a.b; sessionx=1"), None);
        assert_eq!(from_cookie_header("session="), None);
        assert_eq!(from_cookie_header(""), None);
        assert_eq!(from_cookie_header("garbage"), None);
    }

    #[test]
    fn bearer_session_tokens_only() {
        assert_eq!(from_authorization("Bearer s1.a.b"), Some("s1.a.b"));
        assert_eq!(from_authorization("bearer   s1.a.b "), Some("s1.a.b"));
        assert_eq!(from_authorization("Bearer adminkey"), None);
        assert_eq!(from_authorization("Basic s1.a.b"), None);
        assert_eq!(from_authorization("Bearer s1.a b"), None);
        assert_eq!(from_authorization("Bearer"), None);
        assert_eq!(from_authorization("s1.a.b"), None);
    }
}

//! Small HTTP rules shared by the edge and the functions: ETags, conditional
//! requests and cookies.

use sha2::{Digest, Sha256};

/// A strong ETag derived from the body, so every replica and every isolate
/// produces the same tag for the same representation.
pub fn etag_for(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..12] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

/// RFC 9110 §13.1.2: `If-None-Match` uses weak comparison and may list several
/// tags or `*`.
pub fn if_none_match_matches(if_none_match: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = opaque(etag);
    if_none_match.split(',').any(|candidate| {
        let c = candidate.trim();
        c == "*" || opaque(c) == ours
    })
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v.trim())
    })
}

/// `application/json`, any case, optionally with parameters (`; charset=utf-8`).
pub fn is_json_content_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_stable_and_content_sensitive() {
        let a = etag_for(b"{\"a\":1}");
        assert_eq!(a, etag_for(b"{\"a\":1}"));
        assert_ne!(a, etag_for(b"{\"a\":2}"));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 26);
    }

    #[test]
    fn if_none_match_forms() {
        let tag = "\"abc\"";
        assert!(if_none_match_matches("\"abc\"", tag));
        assert!(if_none_match_matches("W/\"abc\"", tag));
        assert!(if_none_match_matches("\"x\", \"abc\"", tag));
        assert!(if_none_match_matches("*", tag));
        assert!(!if_none_match_matches("\"abd\"", tag));
        assert!(!if_none_match_matches("", tag));
    }

    #[test]
    fn finds_cookies() {
        assert_eq!(cookie_value("a=1; b=2", "b"), Some("2"));
        assert_eq!(cookie_value("ab=1; b=2", "a"), None);
        assert_eq!(cookie_value("", "a"), None);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
        assert!(!is_json_content_type("application/jsonp"));
        assert!(!is_json_content_type(""));
    }
}

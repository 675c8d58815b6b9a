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

/// The query string's pairs, percent-decoded (`+` is a space), in order,
/// from a request URL. Workers read their query with this rather than
/// `Request::url()`, whose URL parser links ~90 KB of IDNA tables into the
/// wasm. Invalid UTF-8 after decoding is replaced (U+FFFD): the parameter's
/// own parser then refuses it.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// A value for a URL's query (or path): every byte but RFC 3986's
/// unreserved characters (`A-Z a-z 0-9 - _ . ~`) percent-encoded, so `+`,
/// `&`, `=` and spaces arrive as they were written.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod query_tests {
    use super::*;

    fn pairs(url: &str) -> Vec<(String, String)> {
        query_pairs(url)
    }

    #[test]
    fn reads_pairs_in_order_decoded() {
        assert_eq!(
            pairs("https://x/a?status=pending&cursor=b2%7C1&limit=2#frag"),
            vec![
                ("status".into(), "pending".into()),
                ("cursor".into(), "b2|1".into()),
                ("limit".into(), "2".into())
            ]
        );
        assert_eq!(pairs("/a?q=a+b%20c&empty=&flag"), vec![
            ("q".into(), "a b c".into()),
            ("empty".into(), "".into()),
            ("flag".into(), "".into())
        ]);
        assert!(pairs("/a").is_empty());
        assert!(pairs("/a?").is_empty());
        assert_eq!(pairs("/a?&&x=1"), vec![("x".into(), "1".into())]);
    }

    #[test]
    fn encoded_values_read_back_as_written() {
        assert_eq!(percent_encode("TEE-S_1.~"), "TEE-S_1.~");
        assert_eq!(percent_encode("a+b@x.com"), "a%2Bb%40x.com");
        assert_eq!(percent_encode("é &="), "%C3%A9%20%26%3D");
        let value = "ada+shop@example.com & é=1";
        assert_eq!(
            pairs(&format!("/a?to={}", percent_encode(value))),
            vec![("to".into(), value.into())]
        );
    }

    #[test]
    fn bad_escapes_stay_as_they_are_and_bad_utf8_is_replaced() {
        assert_eq!(pairs("/a?x=%zz%4"), vec![("x".into(), "%zz%4".into())]);
        assert_eq!(pairs("/a?x=%FF"), vec![("x".into(), "\u{FFFD}".into())]);
        assert_eq!(pairs("/a?sku=%41-1"), vec![("sku".into(), "A-1".into())]);
    }
}

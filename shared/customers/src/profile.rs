//! The parts of a customer's profile a client sends: their name and their
//! email. (Saved addresses: `address`.) Parsed once at the edge, so the rest
//! of the code holds only valid values.

use platform::ApiError;
use serde::Serialize;

/// Longest name accepted, in characters, once trimmed.
pub const NAME_MAX_CHARS: usize = 200;

/// Characters refused in names and saved addresses: control characters (C0,
/// DEL, C1), the line and paragraph separators, and the bidirectional
/// embeddings, overrides and isolates, which make text shown in an email or
/// an admin screen read other than it is. Zero-width joiners stay allowed:
/// several scripts need them to spell names.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// What the customer wants to be called: trimmed, 1-200 characters, none of
/// them forbidden (see `is_forbidden_char`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Name(String);

impl Name {
    /// 400 `invalid_name` for anything else.
    pub fn parse(raw: &str) -> Result<Name, ApiError> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 || n > NAME_MAX_CHARS {
            return Err(invalid_name(&format!(
                "name must be 1-{NAME_MAX_CHARS} characters"
            )));
        }
        if s.chars().any(is_forbidden_char) {
            return Err(invalid_name(
                "name must not contain control, line-break or text-direction characters",
            ));
        }
        Ok(Name(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

/// A `Name` reads as the `str` it holds (`Option<Name>::as_deref()`).
impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

pub(crate) fn invalid_name(why: &str) -> ApiError {
    ApiError::bad_request("invalid_name", why.to_string())
}

/// An account's email: the rule of `cart::check_address` (WHATWG's valid
/// address, at most 254 characters, a dot in the domain) on the trimmed
/// text, then the whole address lower-cased, so one person is one account
/// however they type it. (Checkout keeps the local part's case for the
/// order's mail; accounts compare addresses, so they fold it.)
///
/// Personal data: `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct CustomerEmail(String);

impl CustomerEmail {
    /// 400 `invalid_email` for anything but an address.
    pub fn parse(raw: &str) -> Result<CustomerEmail, ApiError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(invalid_email("it is empty"));
        }
        cart::check_address(s).map_err(invalid_email)?;
        Ok(CustomerEmail(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<CustomerEmail> for String {
    fn from(e: CustomerEmail) -> String {
        e.0
    }
}

impl std::fmt::Debug for CustomerEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomerEmail([redacted])")
    }
}

pub(crate) fn invalid_email(why: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_email",
        format!("email must be an address like name@example.com: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters() {
        assert_eq!(
            Name::parse("  Ada Lovelace \n").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(Some(Name::parse("Ada").unwrap()).as_deref(), Some("Ada"));
        assert!(Name::parse("李").is_ok());
        assert!(Name::parse(&"é".repeat(200)).is_ok());
        assert!(Name::parse("क्‍ष").is_ok()); // with a zero-width joiner
        for bad in [
            "",
            "   ",
            &"a".repeat(201),
            "Ada\nLovelace",
            "Ada\u{0}",
            "Ada\u{7f}",
            "Ada\u{85}x",
            "Ada\u{2028}x",
            "\u{202E}ecilA",
            "Ada\u{2066}x",
        ] {
            let e = Name::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_name"), "{bad:?}");
        }
    }

    #[test]
    fn emails_follow_the_cart_rule_and_fold_case() {
        let e = CustomerEmail::parse("  Ada.Lovelace+Shop@Mail.Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace+shop@mail.example.com");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            "\"ada.lovelace+shop@mail.example.com\""
        );
        assert!(!format!("{e:?}").contains("ada"));
        for bad in [
            "",
            "  ",
            "ada",
            "ada@example",
            "a b@example.com",
            "ádá@example.com",
        ] {
            let err = CustomerEmail::parse(bad).unwrap_err();
            assert_eq!((err.status, err.code), (400, "invalid_email"), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(243));
        assert_eq!(
            CustomerEmail::parse(&long).unwrap_err().code,
            "invalid_email"
        );
    }
}

//! The shopper's email on a cart (`PATCH /cart/{id}`), for the abandoned-cart
//! message. Holding an `Email` proves the text passed the rule below, in its
//! normal form; nothing downstream checks again.

use platform::ApiError;

/// Longest address accepted, in bytes (all ASCII), once trimmed.
pub const EMAIL_MAX_LEN: usize = 254;

/// An email address, normalised: trimmed and lower-cased (so one shopper is
/// one row of the recovery index however they type it), at most 254
/// characters, one `@`, a non-empty local part of letters, digits and
/// ``.!#$%&'*+/=?^_`{|}~-`` (no spaces, quotes or control characters), and a
/// domain of at least two dot-separated labels of letters, digits and inner
/// hyphens, 1-63 each: the rule checkout applies to its `email` (WHATWG's
/// "valid email address" with a dot in the domain), lower-cased whole.
///
/// Personal data: its `Debug` does not show it, and the cart's API view
/// says only `has_email`.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// What a client sent: trimmed and lower-cased first, then checked.
    /// Anything else is 400 `invalid_email`, the code checkout uses for the
    /// same field.
    pub fn parse(raw: &str) -> Result<Email, ApiError> {
        let s = raw.trim().to_ascii_lowercase();
        check(&s).map_err(invalid_email)?;
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn invalid_email(why: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_email",
        format!("email must be an address like name@example.com: {why}"),
    )
}

fn check(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("it is empty");
    }
    check_address(s)
}

/// The address rule itself, on trimmed text (either case), with the reason
/// it fails: at most 254 characters, WHATWG's "valid email address" with at
/// least two labels in the domain. The one place this rule lives: checkout's
/// `email` uses it too.
pub fn check_address(s: &str) -> Result<(), &'static str> {
    if s.len() > EMAIL_MAX_LEN {
        return Err("at most 254 characters");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err("it has no @");
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b));
    if !local_ok {
        return Err("the part before @ may hold only letters, digits and .!#$%&'*+/=?^_`{|}~-");
    }
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        (1..=63).contains(&b.len())
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    // A second `@` lands in the domain, where no label may hold it.
    if !(domain.contains('.') && domain.split('.').all(label_ok)) {
        return Err(
            "the domain must be labels of letters, digits and inner hyphens, such as example.com",
        );
    }
    Ok(())
}

/// Stored carts and database rows hold the normal form; reading one back
/// checks it again.
impl TryFrom<String> for Email {
    type Error = ApiError;
    fn try_from(s: String) -> Result<Self, ApiError> {
        Email::parse(&s)
    }
}

impl std::str::FromStr for Email {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        Email::parse(s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// Never the address: `Debug` output ends up in logs and panics.
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        for (given, stored) in [
            ("ada@example.com", "ada@example.com"),
            (
                "  Ada.Lovelace+Shop@Mail.Example.COM \n",
                "ada.lovelace+shop@mail.example.com",
            ),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x!#$%&'*+/=?^_`{|}~-@a-b.c0", "x!#$%&'*+/=?^_`{|}~-@a-b.c0"),
        ] {
            assert_eq!(Email::parse(given).unwrap().as_str(), stored, "{given}");
        }
        let max = format!("{}@example.com", "a".repeat(242)); // 254
        assert!(Email::parse(&max).is_ok());
    }

    #[test]
    fn anything_else_is_400_invalid_email() {
        let too_long = format!("{}@example.com", "a".repeat(243)); // 255
        let long_label = format!("ada@{}.com", "a".repeat(64));
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "ada@b@example.com",
            "ada@example",
            "a b@example.com",
            "ada@exa mple.com",
            "ada\t@example.com",
            "ada@example.com\r\nbcc: eve@example.com",
            "ada\u{0}@example.com",
            "\"ada\"@example.com",
            "<ada@example.com>",
            "ada@example.com;bcc",
            "ada@-example.com",
            "ada@example-.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
            "ada@exa_mple.com",
            "ádá@example.com",
            "ada@exämple.com",
            "ada@[127.0.0.1]",
            &long_label,
            &too_long,
        ] {
            let e = Email::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_email"), "{bad:?}");
        }
    }

    #[test]
    fn serde_goes_through_parse_and_debug_hides_the_address() {
        let e: Email = serde_json::from_str("\"ada@example.com\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"ada@example.com\"");
        assert!(serde_json::from_str::<Email>("\"not an email\"").is_err());
        assert_eq!("Ada@Example.com".parse::<Email>().unwrap(), e);
        assert!(!format!("{e:?}").contains("ada"));
    }
}

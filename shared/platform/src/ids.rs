//! Validated string ids. Holding a `Sku`, `CartId`, `RegionCode` or
//! `IdempotencyKey` proves the text passed its rule, so nothing downstream
//! checks again ("parse, don't validate"). Each is declared with
//! [`string_id!`](crate::string_id), which writes the same small type every
//! time: a private `String`, a fallible `parse`, serde through that same
//! `parse`, `as_str` and `Display`.

/// Declares a validated string id:
///
/// ```
/// # use platform::{string_id, ApiError};
/// fn is_code(s: &str) -> bool { s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) }
/// fn bad_code() -> ApiError { ApiError::bad_request("invalid_code", "three capitals") }
/// string_id! {
///     /// A three-letter code.
///     pub struct Code, valid: is_code, error: bad_code
/// }
/// assert_eq!(Code::parse("ABC").unwrap().as_str(), "ABC");
/// assert_eq!(Code::parse("abc").unwrap_err().code, "invalid_code");
/// ```
#[macro_export]
macro_rules! string_id {
    ($(#[$meta:meta])* pub struct $name:ident, valid: $valid:path, error: $error:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, $crate::ApiError> {
                if $valid(s) {
                    Ok($name(s.to_string()))
                } else {
                    Err($error())
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ApiError;
            fn try_from(s: String) -> Result<Self, $crate::ApiError> {
                $name::parse(&s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ApiError;
            fn from_str(s: &str) -> Result<Self, $crate::ApiError> {
                $name::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A stock-keeping unit as the catalog spells it (`P000123-2`): the
/// `variants.sku` CHECK, `^[A-Z0-9][A-Z0-9-]+$`, 3 to 64 long. The one rule
/// for every crate that names a variant; each declares its own `Sku` with the
/// status its body answers (the cart's 400, a stock adjustment's 422).
pub fn is_sku(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=64).contains(&b.len())
        && (b[0].is_ascii_uppercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-')
}

/// What `is_sku` asks, for the error message.
pub const SKU_RULE: &str = "sku must be 3-64 capital letters, digits or dashes, e.g. P000123-2";

fn is_idempotency_key(s: &str) -> bool {
    (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

fn invalid_idempotency_key() -> crate::ApiError {
    crate::ApiError::bad_request(
        "invalid_idempotency_key",
        "Idempotency-Key must be 1-255 visible ASCII characters",
    )
}

crate::string_id! {
    /// The client's `Idempotency-Key` (checkout, an order's payment, admin
    /// refunds): 1-255 visible ASCII characters (a UUID is typical).
    pub struct IdempotencyKey, valid: is_idempotency_key, error: invalid_idempotency_key
}

impl IdempotencyKey {
    /// The header is required where it is read: 400
    /// `idempotency_key_required` without it.
    pub fn from_header(header: Option<&str>) -> Result<Self, crate::ApiError> {
        let key = header.ok_or_else(|| {
            crate::ApiError::bad_request(
                "idempotency_key_required",
                "send an Idempotency-Key header (e.g. a UUID) so the request can be retried safely",
            )
        })?;
        IdempotencyKey::parse(key)
    }
}

#[cfg(test)]
mod tests {
    use crate::ApiError;

    fn short(s: &str) -> bool {
        (1..=3).contains(&s.len())
    }
    fn too_long() -> ApiError {
        ApiError::bad_request("invalid_short", "1-3 characters")
    }
    crate::string_id! {
        /// For the test.
        pub struct Short, valid: short, error: too_long
    }

    #[test]
    fn serde_goes_through_parse() {
        let ok: Short = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(ok.as_str(), "abc");
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"abc\"");
        assert!(serde_json::from_str::<Short>("\"abcd\"").is_err());
        assert_eq!("abcd".parse::<Short>().unwrap_err().code, "invalid_short");
        assert_eq!(Short::parse("ab").unwrap().to_string(), "ab");
    }
}

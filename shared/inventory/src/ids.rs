//! The names an adjustment uses, each a validated newtype: holding one
//! proves the text passed its rule, so the SQL never sees anything else.
//!
//! `Sku` follows `platform::ids::is_sku`, as `cart::Sku` does, but answers
//! 422 (a field of this body) where the cart's answers 400. Depending on the
//! cart crate instead would bring the regions and their compiled-in time
//! zones into the alerts worker.

use platform::ApiError;

use crate::unprocessable;

fn invalid_sku() -> ApiError {
    unprocessable("invalid_sku", platform::ids::SKU_RULE)
}

platform::string_id! {
    /// A stock-keeping unit as the catalog spells it (`P000123-2`).
    pub struct Sku, valid: platform::ids::is_sku, error: invalid_sku
}

pub const MAX_WAREHOUSE_CODE_CHARS: usize = 64;

/// `warehouses.code` has no CHECK; the codes in use are lower-case words
/// with dashes (`sf-mission`). Accepted: 1-64 ASCII letters, digits, `-`,
/// `_` or `.`, starting with a letter or digit. Compared exactly (case
/// matters), as the unique index does.
fn is_warehouse_code(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=MAX_WAREHOUSE_CODE_CHARS).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn invalid_warehouse() -> ApiError {
    unprocessable(
        "invalid_warehouse",
        "warehouse must be a warehouse code: 1-64 ASCII letters, digits, '-', '_' or '.', e.g. sf-mission",
    )
}

platform::string_id! {
    /// A warehouse as staff and other systems name it (`warehouses.code`).
    pub struct WarehouseCode, valid: is_warehouse_code, error: invalid_warehouse
}

pub const MAX_EXTERNAL_REF_CHARS: usize = 200;

/// The sender's id of one adjustment, the key of its idempotency: 1-200
/// characters, none of them a control character, and no white space at
/// either end (`"A1"` and `"A1 "` would look like one reference and be two).
fn is_external_ref(s: &str) -> bool {
    let n = s.chars().count();
    (1..=MAX_EXTERNAL_REF_CHARS).contains(&n) && !s.chars().any(char::is_control) && s.trim() == s
}

fn invalid_external_ref() -> ApiError {
    unprocessable(
        "invalid_external_ref",
        "external_ref must be 1-200 printable characters without white space at either end",
    )
}

platform::string_id! {
    /// The sender's reference of one adjustment (`inventory_adjustments`'s key).
    pub struct ExternalRef, valid: is_external_ref, error: invalid_external_ref
}

pub const MAX_REASON_CHARS: usize = 200;

/// Why the stock changed, for the records: 1-200 characters without control
/// characters, not all blank; kept trimmed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub struct Reason(String);

impl Reason {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let n = s.chars().count();
        if n <= MAX_REASON_CHARS && !s.trim().is_empty() && !s.chars().any(char::is_control) {
            Ok(Reason(s.trim().to_string()))
        } else {
            Err(unprocessable(
                "invalid_reason",
                "reason must be 1-200 characters of text, not all blank, without control characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_follow_the_variants_check() {
        assert!(Sku::parse("P000123-2").is_ok());
        assert!(Sku::parse("ABC").is_ok());
        for bad in [
            "",
            "AB",
            "p000123-2",
            "-P1",
            "P 1",
            &"A".repeat(65),
            "P1;DROP",
            "P1\u{0}",
        ] {
            let e = Sku::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_sku"), "{bad:?}");
        }
        assert!(Sku::parse(&"A".repeat(64)).is_ok());
    }

    #[test]
    fn warehouse_codes_are_short_plain_words() {
        for ok in ["sf-mission", "den-central", "W1", "eu_west.2", "a"] {
            assert!(WarehouseCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-sf",
            "sf mission",
            "sf/1",
            "caf\u{e9}",
            &"a".repeat(65),
            "x\n",
        ] {
            let e = WarehouseCode::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_warehouse"), "{bad:?}");
        }
    }

    #[test]
    fn external_refs_are_printable_and_untrimmed() {
        for ok in [
            "pos-1/2024-06-01#17",
            "A",
            "caf\u{e9} 1",
            &"x".repeat(200),
            &"\u{e9}".repeat(200),
        ] {
            assert!(ExternalRef::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " a",
            "a ",
            "a\tb",
            "a\u{0}",
            "a\u{85}b",
            &"x".repeat(201),
        ] {
            let e = ExternalRef::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_external_ref"), "{bad:?}");
        }
    }

    #[test]
    fn reasons_are_trimmed_text() {
        assert_eq!(
            Reason::parse("  cycle count ").unwrap().as_str(),
            "cycle count"
        );
        assert!(Reason::parse(&"r".repeat(200)).is_ok());
        // The limit counts what was sent, blanks included.
        for bad in [
            "",
            "   ",
            "a\nb",
            "a\u{7f}",
            &"r".repeat(201),
            &format!(" {} ", "r".repeat(199)),
        ] {
            let e = Reason::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_reason"), "{bad:?}");
        }
    }
}

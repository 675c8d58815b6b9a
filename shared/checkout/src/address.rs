//! The shipping address and the email of a checkout, parsed at the edge of
//! the system so the rest of the code holds only valid ones.

use platform::body::Field;
use platform::ApiError;
use serde::{Deserialize, Serialize};

/// Stored with the order (`orders.shipping_address`, jsonb) as serialized here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippingAddress {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// Subdivision code, e.g. "CA".
    pub state: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

/// `shipping_address` as the client sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    #[serde(default)]
    name: Field<String>,
    #[serde(default)]
    line1: Field<String>,
    #[serde(default)]
    line2: Field<String>,
    #[serde(default)]
    city: Field<String>,
    #[serde(default)]
    state: Field<String>,
    #[serde(default)]
    postal_code: Field<String>,
    #[serde(default)]
    country: Field<String>,
}

/// 400 `invalid_address`, saying which part is wrong.
pub fn invalid_address(why: &str) -> ApiError {
    ApiError::bad_request("invalid_address", format!("shipping_address: {why}"))
}

/// Longest value of each address field, in characters (Unicode scalar
/// values), once trimmed. `state` and `country` are codes, checked apart.
pub const NAME_MAX_CHARS: usize = 100;
pub const LINE_MAX_CHARS: usize = 100;
pub const CITY_MAX_CHARS: usize = 100;
pub const POSTAL_CODE_MAX_CHARS: usize = 16;

impl TryFrom<AddressBody> for ShippingAddress {
    type Error = ApiError;
    fn try_from(body: AddressBody) -> Result<Self, ApiError> {
        let address = ShippingAddress {
            name: text("name", body.name, NAME_MAX_CHARS)?,
            line1: text("line1", body.line1, LINE_MAX_CHARS)?,
            line2: optional_text("line2", body.line2, LINE_MAX_CHARS)?,
            city: text("city", body.city, CITY_MAX_CHARS)?,
            state: text("state", body.state, LINE_MAX_CHARS)?,
            postal_code: text("postal_code", body.postal_code, POSTAL_CODE_MAX_CHARS)?,
            country: text("country", body.country, LINE_MAX_CHARS)?,
        };
        if !(address.country.len() == 2 && address.country.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(invalid_address(
                "country must be an ISO 3166 code such as US",
            ));
        }
        if !((1..=3).contains(&address.state.len())
            && address
                .state
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        {
            return Err(invalid_address(
                "state must be a subdivision code such as CA",
            ));
        }
        if address.country == "US" && !is_us_zip(&address.postal_code) {
            return Err(invalid_address(
                "postal_code must be a US ZIP code: 12345 or 12345-6789",
            ));
        }
        Ok(address)
    }
}

/// A required field: 1 to `max` characters once trimmed, none of them hidden
/// (see `is_hidden`).
fn text(name: &str, field: Field<String>, max: usize) -> Result<String, ApiError> {
    optional_text(name, field, max)?
        .ok_or_else(|| invalid_address(&format!("{name} is required and must be a string")))
}

fn optional_text(name: &str, field: Field<String>, max: usize) -> Result<Option<String>, ApiError> {
    let bad_type = || invalid_address(&format!("{name} is required and must be a string"));
    let Some(s) = field.optional(bad_type)? else {
        return Ok(None);
    };
    let s = s.trim();
    if s.is_empty() || s.chars().count() > max {
        return Err(invalid_address(&format!(
            "{name} must be 1-{max} characters"
        )));
    }
    if s.chars().any(is_hidden) {
        return Err(invalid_address(&format!(
            "{name} must not contain control, line-break, bidirectional-control or zero-width characters"
        )));
    }
    Ok(Some(s.to_string()))
}

/// Characters that make text show other than it reads, or break the line it
/// is printed on (a label, a packing slip, an admin screen): control
/// characters (C0, DEL, C1), line and paragraph separators, the bidirectional
/// marks, embeddings, overrides and isolates (U+061C, U+200E-U+200F,
/// U+202A-U+202E, U+2066-U+2069) and the zero-width ones (U+200B-U+200D,
/// U+2060, U+FEFF).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

fn is_us_zip(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => digits(b),
        10 => digits(&b[..5]) && b[5] == b'-' && digits(&b[6..]),
        _ => false,
    }
}

/// An email address (the rule: `cart::check_address`): trimmed, at most 254 characters, a WHATWG "valid email
/// address" (<https://html.spec.whatwg.org/#valid-e-mail-address>: a local
/// part of letters, digits and ``.!#$%&'*+/=?^_`{|}~-``, an `@`, then
/// dot-separated labels of letters, digits and inner hyphens, 1-63 each)
/// whose domain has at least two labels (mail to a dotless domain does not
/// leave the building). The domain is lower-cased; the local part is kept as
/// sent. Anything else is 400 `invalid_email`. (Deliverability is the mail's
/// problem, not ours.)
pub fn parse_email(field: Field<String>) -> Result<String, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_request(
            "invalid_email",
            format!("email must be an address like name@example.com: {why}"),
        )
    };
    let raw = field.required(|| bad("it is required and must be a string"))?;
    let s = raw.trim();
    cart::check_address(s).map_err(bad)?;
    let (local, domain) = s.split_once('@').expect("the rule requires an @");
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

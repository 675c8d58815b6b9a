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

impl TryFrom<AddressBody> for ShippingAddress {
    type Error = ApiError;
    fn try_from(body: AddressBody) -> Result<Self, ApiError> {
        let address = ShippingAddress {
            name: text("name", body.name)?,
            line1: text("line1", body.line1)?,
            line2: optional_text("line2", body.line2)?,
            city: text("city", body.city)?,
            state: text("state", body.state)?,
            postal_code: text("postal_code", body.postal_code)?,
            country: text("country", body.country)?,
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

/// A required line: 1-200 printable characters once trimmed.
fn text(name: &str, field: Field<String>) -> Result<String, ApiError> {
    optional_text(name, field)?
        .ok_or_else(|| invalid_address(&format!("{name} is required and must be a string")))
}

fn optional_text(name: &str, field: Field<String>) -> Result<Option<String>, ApiError> {
    let bad_type = || invalid_address(&format!("{name} is required and must be a string"));
    let Some(s) = field.optional(bad_type)? else {
        return Ok(None);
    };
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 || s.chars().any(char::is_control) {
        Err(invalid_address(&format!(
            "{name} must be 1-200 printable characters"
        )))
    } else {
        Ok(Some(s.to_string()))
    }
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

/// An email address, trimmed; 400 `invalid_email` unless it looks like
/// name@example.com. (Deliverability is the mail's problem, not ours.)
pub fn parse_email(field: Field<String>) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_email",
            "email must be an address like name@example.com",
        )
    };
    let raw = field.required(bad)?;
    let s = raw.trim();
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let ok = (3..=254).contains(&s.len())
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(s.to_string())
    } else {
        Err(bad())
    }
}

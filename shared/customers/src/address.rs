//! Saved addresses (`PATCH /customers/me` `addresses`, stored as jsonb in
//! `customers.addresses`): at most 10, each an object of known string fields.
//! Parsed field by field so the error names the address and the field
//! (`addresses[2].country: ...`); reading the stored column back goes
//! through the same parser.

use platform::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::profile::is_forbidden_char;

/// Most addresses one customer keeps.
pub const MAX_ADDRESSES: usize = 10;
/// Longest value of any address field, in characters, once trimmed.
pub const ADDRESS_FIELD_MAX_CHARS: usize = 200;

/// One saved address. `country` is ISO 3166-1 alpha-2 (`US`); `state` a
/// state or province as the customer writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// The list, in the customer's order. Serializes as the JSON array it was
/// parsed from (normalised: trimmed, empty optional fields left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Vec<Address>")]
pub struct Addresses(Vec<Address>);

const FIELDS: [&str; 7] = [
    "name",
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
];

/// 400 `invalid_address`, saying where.
pub fn invalid_address(why: &str) -> ApiError {
    ApiError::bad_request("invalid_address", format!("addresses: {why}"))
}

impl Addresses {
    /// An array of at most `MAX_ADDRESSES` objects. Each has the string
    /// fields `line1`, `city`, `postal_code`, `country` (two capital
    /// letters), and optionally `line2`, `state`, `name` (`null` or empty
    /// counts as absent); each at most 200 characters once trimmed, none
    /// forbidden (`profile::is_forbidden_char`). Any other field, or any
    /// other shape: 400 `invalid_address`.
    pub fn parse(value: &Value) -> Result<Addresses, ApiError> {
        let Value::Array(items) = value else {
            return Err(invalid_address("must be an array of address objects"));
        };
        if items.len() > MAX_ADDRESSES {
            return Err(invalid_address(&format!(
                "at most {MAX_ADDRESSES} addresses"
            )));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_one(i, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Addresses)
    }

    pub fn as_slice(&self) -> &[Address] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The jsonb value to store.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&self.0).expect("addresses serialize")
    }
}

/// The JSON array, as stored in the jsonb column.
impl std::fmt::Display for Addresses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_json().to_string())
    }
}

impl TryFrom<Value> for Addresses {
    type Error = ApiError;
    fn try_from(v: Value) -> Result<Self, ApiError> {
        Addresses::parse(&v)
    }
}

impl From<Addresses> for Vec<Address> {
    fn from(a: Addresses) -> Vec<Address> {
        a.0
    }
}

fn parse_one(i: usize, item: &Value) -> Result<Address, ApiError> {
    let Value::Object(obj) = item else {
        return Err(invalid_address(&format!(
            "addresses[{i}] must be an object"
        )));
    };
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid_address(&format!(
            "addresses[{i}] has an unknown field {unknown:?}; known: {}",
            FIELDS.join(", ")
        )));
    }
    let required = |name: &str| {
        optional(i, obj, name)?.ok_or_else(|| {
            invalid_address(&format!(
                "addresses[{i}].{name} is required (a non-empty string)"
            ))
        })
    };
    let address = Address {
        name: optional(i, obj, "name")?,
        line1: required("line1")?,
        line2: optional(i, obj, "line2")?,
        city: required("city")?,
        state: optional(i, obj, "state")?,
        postal_code: required("postal_code")?,
        country: required("country")?,
    };
    if !(address.country.len() == 2 && address.country.bytes().all(|b| b.is_ascii_uppercase())) {
        return Err(invalid_address(&format!(
            "addresses[{i}].country must be an ISO 3166 code such as US"
        )));
    }
    Ok(address)
}

/// A field that may be absent: `None` when missing, `null` or blank; its
/// trimmed text when a valid string; 400 otherwise.
fn optional(i: usize, obj: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    let s = match obj.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim(),
        Some(_) => {
            return Err(invalid_address(&format!(
                "addresses[{i}].{name} must be a string"
            )))
        }
    };
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > ADDRESS_FIELD_MAX_CHARS {
        return Err(invalid_address(&format!(
            "addresses[{i}].{name} must be at most {ADDRESS_FIELD_MAX_CHARS} characters"
        )));
    }
    if s.chars().any(is_forbidden_char) {
        return Err(invalid_address(&format!(
            "addresses[{i}].{name} must not contain control, line-break or text-direction characters"
        )));
    }
    Ok(Some(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn home() -> Value {
        json!({"line1": " 1 Main St ", "city": "Springfield", "postal_code": "12345", "country": "US"})
    }

    #[test]
    fn valid_lists_parse_and_store_normalised() {
        let full = json!({"name": "Ada", "line1": "1 Main St", "line2": "", "city": "Springfield",
                          "state": "IL", "postal_code": "12345", "country": "US"});
        let a = Addresses::parse(&json!([home(), full])).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.as_slice()[0].line1, "1 Main St");
        assert_eq!(a.as_slice()[1].line2, None);
        assert_eq!(a.as_slice()[1].state.as_deref(), Some("IL"));
        let stored = a.to_json();
        assert_eq!(
            stored[0],
            json!({"line1": "1 Main St", "city": "Springfield",
                                     "postal_code": "12345", "country": "US"})
        );
        assert_eq!(a.to_string(), stored.to_string());
        let back: Addresses = serde_json::from_value(stored).unwrap();
        assert_eq!(back, a);
        assert!(Addresses::parse(&json!([])).unwrap().is_empty());
        assert_eq!(
            Addresses::parse(&Value::Array(vec![home(); 10]))
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn anything_else_is_400_invalid_address() {
        let with = |k: &str, v: Value| {
            let mut a = home();
            a[k] = v;
            json!([a])
        };
        let without = |k: &str| {
            let mut a = home();
            a.as_object_mut().unwrap().remove(k);
            json!([a])
        };
        for bad in [
            json!({}),
            json!("1 Main St"),
            Value::Null,
            json!([1]),
            json!([[]]),
            Value::Array(vec![home(); 11]),
            with("province", json!("IL")),
            with("line1", json!("")),
            with("line1", json!(5)),
            with("line2", json!(["x"])),
            with("city", json!("a".repeat(201))),
            with("city", json!("Spring\nfield")),
            with("name", json!("\u{202E}adA")),
            with("country", json!("us")),
            with("country", json!("USA")),
            with("country", json!("U1")),
            without("line1"),
            without("city"),
            without("postal_code"),
            without("country"),
        ] {
            let e = Addresses::parse(&bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_address"), "{bad}");
        }
    }

    #[test]
    fn errors_say_which_address_and_field() {
        let mut second = home();
        second["country"] = json!("usa");
        let e = Addresses::parse(&json!([home(), second])).unwrap_err();
        assert!(e.message.contains("addresses[1].country"), "{}", e.message);
    }
}

//! Request bodies. A body is parsed into a serde struct that names every
//! field it accepts (`#[serde(deny_unknown_fields)]`), then converted with
//! `TryFrom` into domain types. Each field is a [`Field`], so a missing or
//! mistyped field is answered with that field's own error code
//! (`invalid_sku`, `invalid_quantity`, ...) rather than serde's generic text.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use crate::ApiError;

/// A JSON body parsed into `T`: 400 `invalid_json` when it is not JSON or not
/// an object, 400 `unknown_field` for a field `T` does not name.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    from_object(json_object(body)?)
}

/// An already-parsed JSON object into `T` (see `parse_json`).
pub fn from_object<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(object)).map_err(|e| {
        let text = e.to_string();
        if text.starts_with("unknown field") {
            ApiError::bad_request("unknown_field", text)
        } else {
            // Every field is a `Field`, which never fails; reaching this is a
            // struct that is not built that way.
            ApiError::bad_request("invalid_json", text)
        }
    })
}

/// A request body that must be one JSON object: 400 `invalid_json` otherwise.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })?;
    match v {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(
            "invalid_json",
            "the body must be a JSON object",
        )),
    }
}

/// One field of a request body as it arrived: absent (or `null`), a valid
/// `T`, or something else, with serde's reason. Deserializing a `Field`
/// never fails, so the caller decides what each case means.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    #[default]
    Missing,
    Valid(T),
    Invalid(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Field::Missing,
            v => {
                let whole = whole_number(&v);
                match T::deserialize(v) {
                    Ok(t) => Field::Valid(t),
                    Err(e) => match whole.and_then(|w| T::deserialize(w).ok()) {
                        Some(t) => Field::Valid(t),
                        None => Field::Invalid(e.to_string()),
                    },
                }
            }
        })
    }
}

/// `42.0` as the integer `42`: JSON (and JSON Schema's `integer`) does not
/// tell `42.0` from `42`, so neither may we. Only exact whole numbers within
/// f64's exact range qualify.
fn whole_number(v: &Value) -> Option<Value> {
    let f = v.as_f64().filter(|_| v.is_f64())?;
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then(|| Value::from(f as i64))
}

impl<T> Field<T> {
    /// The value, or `error()` when it is missing or invalid.
    pub fn required(self, error: impl FnOnce() -> ApiError) -> Result<T, ApiError> {
        match self {
            Field::Valid(t) => Ok(t),
            Field::Missing | Field::Invalid(_) => Err(error()),
        }
    }

    /// `None` when missing; `error()` when present but invalid.
    pub fn optional(self, error: impl FnOnce() -> ApiError) -> Result<Option<T>, ApiError> {
        match self {
            Field::Valid(t) => Ok(Some(t)),
            Field::Missing => Ok(None),
            Field::Invalid(_) => Err(error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[serde(default)]
        name: Field<String>,
        #[serde(default)]
        count: Field<u32>,
    }

    #[test]
    fn bodies_must_be_one_json_object() {
        assert_eq!(json_object(br#"{"a":1}"#).unwrap()["a"], 1);
        for bad in [&b"{\"a\":"[..], b"[1]", b"3", b""] {
            assert_eq!(json_object(bad).unwrap_err().code, "invalid_json");
        }
    }

    #[test]
    fn fields_are_missing_valid_or_invalid() {
        let b: Body = parse_json(br#"{"name":"x","count":-1}"#).unwrap();
        assert_eq!(b.name, Field::Valid("x".into()));
        assert!(matches!(b.count, Field::Invalid(_)));
        let b: Body = parse_json(br#"{"name":null}"#).unwrap();
        assert_eq!((b.name, b.count), (Field::Missing, Field::Missing));
        let b: Body = parse_json(br#"{"count":2.5}"#).unwrap();
        assert!(matches!(b.count, Field::Invalid(_)));
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let e = parse_json::<Body>(br#"{"nmae":"x"}"#).unwrap_err();
        assert_eq!((e.status, e.code), (400, "unknown_field"));
        assert!(e.message.contains("nmae"), "{}", e.message);
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        #[derive(Deserialize)]
        struct Q {
            n: Field<u32>,
        }
        let q = |s: &str| serde_json::from_str::<Q>(s).unwrap().n;
        assert_eq!(q(r#"{"n": 42.0}"#), Field::Valid(42));
        assert_eq!(q(r#"{"n": 42}"#), Field::Valid(42));
        assert!(matches!(q(r#"{"n": 42.5}"#), Field::Invalid(_)));
        assert!(matches!(q(r#"{"n": -1.0}"#), Field::Invalid(_)));
        assert!(matches!(q(r#"{"n": 1e300}"#), Field::Invalid(_)));
    }

    #[test]
    fn required_and_optional() {
        let bad = || ApiError::bad_request("invalid_x", "x");
        assert_eq!(Field::Valid(1).required(bad), Ok(1));
        assert_eq!(
            Field::<u8>::Missing.required(bad).unwrap_err().code,
            "invalid_x"
        );
        assert_eq!(Field::<u8>::Missing.optional(bad), Ok(None));
        assert!(Field::<u8>::Invalid("no".into()).optional(bad).is_err());
    }
}

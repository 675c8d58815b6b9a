//! The JSON bodies of the customer routes. Each is a serde struct naming
//! every field it takes (`deny_unknown_fields`: 400 `unknown_field`), each
//! field a `platform::body::Field`, converted with `TryFrom` into a request
//! of domain types, so a missing or mistyped field gets that field's own
//! error code (`invalid_email`, `invalid_password`, ...). The serde structs
//! are `...Body`; what a route holds is the parsed `...Request`. The link
//! routes' bodies are in `link_request`, re-exported here.

use cart::CartId;
use platform::body::{parse_json, Field};
use platform::ApiError;
use serde::Deserialize;
use serde_json::Value;

use crate::address::Addresses;
use crate::password::{Password, MAX_CHARS};
use crate::profile::{invalid_email, invalid_name, CustomerEmail, Name};

pub use crate::link_request::{ResetConfirmRequest, ResetRequest, VerifyRequest};

pub(crate) fn email(field: Field<String>) -> Result<CustomerEmail, ApiError> {
    CustomerEmail::parse(&field.required(|| invalid_email("it is required and must be a string"))?)
}

pub(crate) fn new_password(field: Field<String>) -> Result<Password, ApiError> {
    Password::parse(&field.required(|| Password::parse("").unwrap_err())?)
}

/// `POST /customers/signup` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    #[serde(default)]
    email: Field<String>,
    #[serde(default)]
    password: Field<String>,
    #[serde(default)]
    name: Field<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignupRequest {
    pub email: CustomerEmail,
    pub password: Password,
    pub name: Name,
}

impl TryFrom<SignupBody> for SignupRequest {
    type Error = ApiError;
    fn try_from(b: SignupBody) -> Result<Self, ApiError> {
        Ok(SignupRequest {
            email: email(b.email)?,
            password: new_password(b.password)?,
            name: Name::parse(&b.name.required(|| invalid_name("name is required"))?)?,
        })
    }
}

impl SignupRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        parse_json::<SignupBody>(body)?.try_into()
    }
}

/// `POST /customers/login` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    #[serde(default)]
    email: Field<String>,
    #[serde(default)]
    password: Field<String>,
    #[serde(default)]
    cart_id: Field<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoginRequest {
    pub email: CustomerEmail,
    /// As sent: only compared with the stored hash, never stored, so the
    /// new-password rule does not apply (older accounts may predate it).
    pub password: String,
    pub cart: CartToMerge,
}

/// The guest cart a login asks to merge into the customer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartToMerge {
    /// No `cart_id` (or `null`): `"cart": null` in the answer.
    Absent,
    Cart(CartId),
    /// A string that cannot be a cart id: no cart has it, so the login goes
    /// on and the merge answers `refused` / `cart_not_found`.
    Unknown,
}

impl TryFrom<LoginBody> for LoginRequest {
    type Error = ApiError;
    fn try_from(b: LoginBody) -> Result<Self, ApiError> {
        let email = email(b.email)?;
        let bad_password = || {
            ApiError::bad_request(
                "invalid_password",
                format!("password is required: a string of 1-{MAX_CHARS} characters"),
            )
        };
        let password = b.password.required(bad_password)?;
        if password.is_empty() || password.chars().count() > MAX_CHARS {
            return Err(bad_password());
        }
        let not_a_string = || ApiError::bad_request("invalid_cart_id", "cart_id must be a string");
        let cart = match b.cart_id.optional(not_a_string)? {
            None => CartToMerge::Absent,
            Some(id) => CartId::parse(&id).map_or(CartToMerge::Unknown, CartToMerge::Cart),
        };
        Ok(LoginRequest {
            email,
            password,
            cart,
        })
    }
}

impl LoginRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        parse_json::<LoginBody>(body)?.try_into()
    }
}

/// `PATCH /customers/me` as sent: only the fields to change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default)]
    name: Field<String>,
    #[serde(default)]
    addresses: Field<Value>,
}

/// `None` leaves the field as it is (`null` too); `addresses: []` empties
/// the list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRequest {
    pub name: Option<Name>,
    pub addresses: Option<Addresses>,
}

impl TryFrom<PatchBody> for PatchRequest {
    type Error = ApiError;
    fn try_from(b: PatchBody) -> Result<Self, ApiError> {
        let name = b
            .name
            .optional(|| invalid_name("name must be a string"))?
            .map(|n| Name::parse(&n))
            .transpose()?;
        let addresses = match b.addresses {
            Field::Missing => None,
            Field::Valid(v) => Some(Addresses::parse(&v)?),
            Field::Invalid(why) => return Err(crate::address::invalid_address(&why)),
        };
        Ok(PatchRequest { name, addresses })
    }
}

impl PatchRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        parse_json::<PatchBody>(body)?.try_into()
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.addresses.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T: std::fmt::Debug>(r: Result<T, ApiError>) -> (u16, &'static str) {
        let e = r.unwrap_err();
        (e.status, e.code)
    }

    #[test]
    fn signup_bodies() {
        let s = SignupRequest::parse(
            br#"{"email":" Ada@Example.com","password":"zebra-lamp-42","name":" Ada "}"#,
        )
        .unwrap();
        assert_eq!(s.email.as_str(), "ada@example.com");
        assert_eq!(s.password.as_str(), "zebra-lamp-42");
        assert_eq!(s.name.as_str(), "Ada");
        for (body, want) in [
            (
                r#"{"password":"zebra-lamp-42","name":"A"}"#,
                "invalid_email",
            ),
            (
                r#"{"email":"ada","password":"zebra-lamp-42","name":"A"}"#,
                "invalid_email",
            ),
            (
                r#"{"email":"a@b.co","password":"short","name":"A"}"#,
                "invalid_password",
            ),
            (
                r#"{"email":"a@b.co","password":12345678,"name":"A"}"#,
                "invalid_password",
            ),
            (r#"{"email":"a@b.co","name":"A"}"#, "invalid_password"),
            (
                r#"{"email":"a@b.co","password":"Password1","name":"A"}"#,
                "common_password",
            ),
            (
                r#"{"email":"a@b.co","password":"zebra-lamp-42","name":" "}"#,
                "invalid_name",
            ),
            (
                r#"{"email":"a@b.co","password":"zebra-lamp-42"}"#,
                "invalid_name",
            ),
            (
                r#"{"email":"a@b.co","password":"zebra-lamp-42","name":"A","x":1}"#,
                "unknown_field",
            ),
            ("[]", "invalid_json"),
        ] {
            assert_eq!(
                code(SignupRequest::parse(body.as_bytes())),
                (400, want),
                "{body}"
            );
        }
    }

    #[test]
    fn login_bodies() {
        let id = "0123456789abcdef0123456789abcdef";
        let l = LoginRequest::parse(
            format!(r#"{{"email":"Ada@Example.com","password":"password","cart_id":"{id}"}}"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(l.email.as_str(), "ada@example.com");
        assert_eq!(
            l.password, "password",
            "the new-password rule does not apply"
        );
        assert_eq!(l.cart, CartToMerge::Cart(CartId::parse(id).unwrap()));
        let l =
            LoginRequest::parse(br#"{"email":"a@b.co","password":"x","cart_id":null}"#).unwrap();
        assert_eq!(l.cart, CartToMerge::Absent);
        let l =
            LoginRequest::parse(br#"{"email":"a@b.co","password":"x","cart_id":"nope"}"#).unwrap();
        assert_eq!(l.cart, CartToMerge::Unknown);
        let long = format!(r#"{{"email":"a@b.co","password":"{}"}}"#, "x".repeat(257));
        for (body, want) in [
            (r#"{"email":"a@b.co","password":""}"#, "invalid_password"),
            (r#"{"email":"a@b.co"}"#, "invalid_password"),
            (long.as_str(), "invalid_password"),
            (r#"{"email":"a@b","password":"x"}"#, "invalid_email"),
            (
                r#"{"email":"a@b.co","password":"x","cart_id":5}"#,
                "invalid_cart_id",
            ),
            (
                r#"{"email":"a@b.co","password":"x","remember":true}"#,
                "unknown_field",
            ),
        ] {
            assert_eq!(
                code(LoginRequest::parse(body.as_bytes())),
                (400, want),
                "{body}"
            );
        }
    }

    #[test]
    fn patch_bodies() {
        let p = PatchRequest::parse(br#"{}"#).unwrap();
        assert!(p.is_empty());
        let p = PatchRequest::parse(br#"{"name":null,"addresses":[]}"#).unwrap();
        assert_eq!((p.name, p.addresses.map(|a| a.len())), (None, Some(0)));
        let p = PatchRequest::parse(br#"{"name":" Ada "}"#).unwrap();
        assert_eq!(p.name.unwrap().as_str(), "Ada");
        for (body, want) in [
            (r#"{"name":5}"#, "invalid_name"),
            (r#"{"name":""}"#, "invalid_name"),
            (r#"{"addresses":{}}"#, "invalid_address"),
            (r#"{"addresses":[{"line1":"x"}]}"#, "invalid_address"),
            (r#"{"email":"a@b.co"}"#, "unknown_field"),
        ] {
            assert_eq!(
                code(PatchRequest::parse(body.as_bytes())),
                (400, want),
                "{body}"
            );
        }
    }
}

//! The bodies of the routes that take an emailed link or ask for one:
//! `POST /customers/verify`, `/customers/password-reset` and
//! `/customers/password-reset/confirm` (the serde structs are `...Json`,
//! the parsed forms `...Request`, as in `request`, which re-exports them).

use platform::body::{parse_json, Field};
use platform::ApiError;
use serde::Deserialize;

use crate::link_token::invalid_token;
use crate::password::Password;
use crate::profile::CustomerEmail;
use crate::request::{email, new_password};

fn token(field: Field<String>) -> Result<String, ApiError> {
    field.required(invalid_token)
}

/// `POST /customers/verify`: `{token}`; a missing or non-string token is
/// 400 `invalid_token` like a bad one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    token: Field<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    pub token: String,
}

impl VerifyRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let b: TokenBody = parse_json(body)?;
        Ok(VerifyRequest {
            token: token(b.token)?,
        })
    }
}

/// `POST /customers/password-reset`: `{email}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    #[serde(default)]
    email: Field<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetRequest {
    pub email: CustomerEmail,
}

impl ResetRequest {
    /// A malformed address is 400 `invalid_email` (it cannot name an
    /// account, so refusing it tells nothing); any address is then 202.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let b: ResetBody = parse_json(body)?;
        Ok(ResetRequest {
            email: email(b.email)?,
        })
    }
}

/// `POST /customers/password-reset/confirm`: `{token, password}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetConfirmBody {
    #[serde(default)]
    token: Field<String>,
    #[serde(default)]
    password: Field<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetConfirmRequest {
    pub token: String,
    pub password: Password,
}

impl ResetConfirmRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let b: ResetConfirmBody = parse_json(body)?;
        Ok(ResetConfirmRequest {
            token: token(b.token)?,
            password: new_password(b.password)?,
        })
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
    fn token_and_reset_bodies() {
        assert_eq!(
            VerifyRequest::parse(br#"{"token":"l1.a.b"}"#)
                .unwrap()
                .token,
            "l1.a.b"
        );
        for body in [r#"{}"#, r#"{"token":7}"#] {
            assert_eq!(
                code(VerifyRequest::parse(body.as_bytes())),
                (400, "invalid_token")
            );
        }
        assert_eq!(
            ResetRequest::parse(br#"{"email":"Ada@Example.com"}"#)
                .unwrap()
                .email
                .as_str(),
            "ada@example.com"
        );
        assert_eq!(
            code(ResetRequest::parse(br#"{"email":"x"}"#)),
            (400, "invalid_email")
        );
        let c = ResetConfirmRequest::parse(br#"{"token":"l1.a.b","password":"zebra-lamp-42"}"#)
            .unwrap();
        assert_eq!(
            (c.token.as_str(), c.password.as_str()),
            ("l1.a.b", "zebra-lamp-42")
        );
        for (body, want) in [
            (r#"{"password":"zebra-lamp-42"}"#, "invalid_token"),
            (
                r#"{"token":"l1.a.b","password":"qwertyuiop"}"#,
                "common_password",
            ),
            (r#"{"token":"l1.a.b"}"#, "invalid_password"),
        ] {
            assert_eq!(
                code(ResetConfirmRequest::parse(body.as_bytes())),
                (400, want),
                "{body}"
            );
        }
    }
}

//! The one error type. Every failure a client can see is an `ApiError`, and this
//! file alone decides its HTTP status and its JSON body
//! `{"error":{"code","message"}}`.

use std::fmt;

/// The result of anything that can fail with an answer for the client.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// Stable, machine-readable, snake_case. Clients branch on this.
    pub code: &'static str,
    /// For humans; may change between releases.
    pub message: String,
    /// Extra machine-readable fields merged into the `error` object, e.g.
    /// `{"available": 3}` on an out-of-stock answer.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds a machine-readable field next to `code` and `message`.
    pub fn with_detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details
            .get_or_insert_with(Default::default)
            .insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(403, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(404, code, message)
    }

    /// The resource is in a state that forbids this (out of stock, already
    /// checked out). Retrying the same request will not help.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    /// `If-Match` named a version that is no longer current.
    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(412, "precondition_failed", message)
    }

    /// Well-formed, but the rules say no (under age, outside delivery hours,
    /// an idempotency key reused with another body).
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(422, code, message)
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("method {method} is not allowed on this path"),
        )
    }

    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("request body exceeds {limit_bytes} bytes"),
        )
    }

    /// A function worker behind the edge could not be reached.
    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(502, code, message)
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(503, code, message)
    }

    /// A bug or an unexpected failure on our side. The message is logged, not
    /// shown: clients get a generic text.
    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::new(500, "internal", format!("internal error: {detail}"))
    }

    pub fn to_json(&self) -> String {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.clone().into());
        if let Some(details) = &self.details {
            for (k, v) in details {
                error.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        serde_json::json!({ "error": error }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// A failure of the Workers runtime (a binding, a body read, storage) is ours,
/// not the client's. The hardening issue narrows this (KV and storage errors
/// become 503s that say to retry).
#[cfg(feature = "worker")]
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal(e)
    }
}

/// A KV failure (the hardening issue turns these into 503s that say to retry).
#[cfg(feature = "worker")]
impl From<worker::KvError> for ApiError {
    fn from(e: worker::KvError) -> Self {
        ApiError::internal(e)
    }
}

/// How a database failure reaches the client. Lost or refused connections and
/// the errors PostgreSQL itself says to retry are 503; anything else is a bug
/// of ours (500). The hardening issue refines this (data errors, timeouts).
#[cfg(feature = "worker")]
impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code().map(|c| c.code()) {
            None if e.is_closed() => database_unavailable(),
            Some(code) if sqlstate_is_retryable(code) => database_unavailable(),
            _ => {
                worker::console_error!("query failed: {}", describe_db_error(&e));
                ApiError::internal("query failed")
            }
        }
    }
}

/// A database error as it may be logged. PostgreSQL's DETAIL repeats row
/// values (`Key (email)=(ada@example.com) already exists`) and the messages of
/// class 22 (data exceptions) quote the input, either of which can be a
/// shopper's email, address or cart token: those are left out. What remains
/// (the SQLSTATE, the object it concerns, the message otherwise) is enough to
/// find the statement.
#[cfg(feature = "worker")]
pub fn describe_db_error(e: &tokio_postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        // Not from the server (a closed connection, a protocol error): no data in it.
        return e.to_string();
    };
    let code = db.code().code();
    let mut text = format!("SQLSTATE {code}");
    for (what, value) in [
        ("table", db.table()),
        ("column", db.column()),
        ("constraint", db.constraint()),
    ] {
        if let Some(v) = value {
            text.push_str(&format!(" {what}={v}"));
        }
    }
    if !code.starts_with("22") {
        text.push_str(&format!(": {}", db.message()));
    }
    text
}

/// 08xxx: connection exceptions; 57P01-57P03: the server is shutting down or
/// starting; 40001/40P01: serialization failure and deadlock, which
/// PostgreSQL documents as safe to retry.
pub fn sqlstate_is_retryable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01")
}

pub fn database_unavailable() -> ApiError {
    ApiError::unavailable(
        "database_unavailable",
        "the database is unavailable, retry shortly",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_has_code_and_message() {
        let e = ApiError::bad_request("invalid_limit", "limit must be \"1..=100\"");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "invalid_limit");
        assert_eq!(v["error"]["message"], "limit must be \"1..=100\"");
        assert_eq!(e.status, 400);
    }

    #[test]
    fn details_sit_beside_code_and_message_without_replacing_them() {
        let e = ApiError::conflict("out_of_stock", "only 3 left")
            .with_detail("available", 3)
            .with_detail("code", "ignored");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error"]["available"], 3);
        assert_eq!(v["error"]["code"], "out_of_stock");
        assert_eq!(e.status, 409);
    }

    #[test]
    fn retryable_sqlstates() {
        for code in ["08006", "08001", "57P01", "40001", "40P01"] {
            assert!(sqlstate_is_retryable(code), "{code}");
        }
        for code in ["23505", "22008", "42P01", "P0001"] {
            assert!(!sqlstate_is_retryable(code), "{code}");
        }
    }

    #[test]
    fn statuses_follow_the_constructor() {
        assert_eq!(ApiError::not_found("x", "").status, 404);
        assert_eq!(ApiError::payload_too_large(10).status, 413);
        assert_eq!(ApiError::bad_gateway("x", "").status, 502);
        assert_eq!(ApiError::unavailable("x", "").status, 503);
        assert_eq!(ApiError::internal("boom").status, 500);
    }
}

//! The one error type. Every failure a client can see is an `ApiError`, and this
//! file alone decides its HTTP status and its JSON body
//! `{"error":{"code","message"}}`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// Stable, machine-readable, snake_case. Clients branch on this.
    pub code: &'static str,
    /// For humans; may change between releases.
    pub message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
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
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

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
    fn statuses_follow_the_constructor() {
        assert_eq!(ApiError::not_found("x", "").status, 404);
        assert_eq!(ApiError::payload_too_large(10).status, 413);
        assert_eq!(ApiError::bad_gateway("x", "").status, 502);
        assert_eq!(ApiError::unavailable("x", "").status, 503);
        assert_eq!(ApiError::internal("boom").status, 500);
    }
}

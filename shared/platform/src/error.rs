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
    /// For the logs only, never sent: what went wrong inside (500s).
    pub internal_detail: Option<String>,
    /// Seconds the client should wait before retrying (429, 503): sent as
    /// `Retry-After`.
    pub retry_after_secs: Option<u32>,
    /// The methods the path does answer (405): sent as `Allow`.
    pub allow: Option<&'static str>,
}

/// How long a client waits before retrying a failure of ours that a retry
/// can fix (the database failing over, a cart object moving).
pub const RETRY_AFTER_SECS: u32 = 2;

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            internal_detail: None,
            retry_after_secs: None,
            allow: None,
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

    /// 401: the route needs a bearer token and none came.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
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

    /// 405, naming the methods the path answers (`Allow`, RFC 9110).
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            405,
            "method_not_allowed",
            format!("this method is not allowed on this path (allowed: {allow})"),
        );
        e.allow = Some(allow);
        e
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

    /// A failure of ours that a retry can fix: 503 with `Retry-After`.
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Self::new(503, code, message);
        e.retry_after_secs = Some(RETRY_AFTER_SECS);
        e
    }

    /// `415 unsupported_media_type`: a state-changing request must be JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        )
    }

    /// A client over a rate limit or a cap that frees itself with time.
    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<String>,
        retry_after_secs: u32,
    ) -> Self {
        let mut e = Self::new(429, code, message);
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// A bug or an unexpected failure on our side. `detail` goes to the logs
    /// with the request id; the client gets the code, a generic message and
    /// the request id, never the detail.
    pub fn internal(detail: impl fmt::Display) -> Self {
        let mut e = Self::new(
            500,
            "internal",
            "internal error; quote the request_id when reporting it",
        );
        e.internal_detail = Some(detail.to_string());
        e
    }

    pub fn to_json(&self) -> String {
        self.body(None)
    }

    /// The JSON body, naming the request when its id is known.
    pub fn body(&self, request_id: Option<&str>) -> String {
        let mut error = serde_json::Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.clone().into());
        if let Some(id) = request_id {
            error.insert("request_id".into(), id.into());
        }
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
/// not the client's; the detail is logged, not sent.
#[cfg(feature = "worker")]
impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::internal(e)
    }
}

/// KV failed (a timeout, a limit): retrying soon usually works.
#[cfg(feature = "worker")]
impl From<worker::KvError> for ApiError {
    fn from(e: worker::KvError) -> Self {
        let mut err = ApiError::unavailable(
            "storage_unavailable",
            "storage is unavailable, retry shortly",
        );
        err.internal_detail = Some(format!("kv: {e}"));
        err
    }
}

/// How a database failure reaches the client (see `DbFailure`).
#[cfg(feature = "worker")]
impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        let failure = match e.code() {
            Some(code) => classify_sqlstate(code.code()),
            None => DbFailure::Connection, // closed, I/O, protocol: not the query's fault
        };
        let mut err = match failure {
            DbFailure::Connection | DbFailure::Retryable => database_unavailable(),
            DbFailure::BadInput => ApiError::bad_request(
                "invalid_input",
                "a value in the request is malformed or out of range",
            ),
            DbFailure::Bug => ApiError::internal("query failed"),
        };
        err.internal_detail = Some(format!("query failed: {}", describe_db_error(&e)));
        err
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

/// What a database error means for the client and for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFailure {
    /// The connection is gone or the server is going away (08xxx, 57P01-03;
    /// PgBouncer reports its pool timeouts as 08P01): 503, and a replica
    /// failing this way is skipped for a while.
    Connection,
    /// The statement may well succeed if run again: serialization failure and
    /// deadlock (40001, 40P01), a read-only server after a failover (25006),
    /// our statement or lock timeout (57014, 55P03), too many connections or
    /// out of resources (53xxx). 503 with `Retry-After`; routing unchanged.
    Retryable,
    /// The client's value did not fit (class 22, data exceptions): 400.
    BadInput,
    /// Anything else is a bug of ours: 500, logged.
    Bug,
}

pub fn classify_sqlstate(code: &str) -> DbFailure {
    if code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03") {
        DbFailure::Connection
    } else if code.starts_with("53")
        || matches!(code, "40001" | "40P01" | "25006" | "57014" | "55P03")
    {
        DbFailure::Retryable
    } else if code.starts_with("22") {
        DbFailure::BadInput
    } else {
        DbFailure::Bug
    }
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
    fn sqlstates_are_classified() {
        for code in ["08006", "08001", "08P01", "57P01", "57P03"] {
            assert_eq!(classify_sqlstate(code), DbFailure::Connection, "{code}");
        }
        for code in ["40001", "40P01", "25006", "57014", "55P03", "53300"] {
            assert_eq!(classify_sqlstate(code), DbFailure::Retryable, "{code}");
        }
        for code in ["22008", "22003", "22P02", "22007"] {
            assert_eq!(classify_sqlstate(code), DbFailure::BadInput, "{code}");
        }
        for code in ["23505", "42P01", "42501", "P0001", "XX000"] {
            assert_eq!(classify_sqlstate(code), DbFailure::Bug, "{code}");
        }
    }

    #[test]
    fn internal_errors_keep_their_detail_out_of_the_body() {
        let e = ApiError::internal("secret row value");
        let body = e.body(Some("req-9"));
        assert!(!body.contains("secret row value"), "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "internal");
        assert_eq!(v["error"]["request_id"], "req-9");
        assert_eq!(e.internal_detail.as_deref(), Some("secret row value"));
    }

    #[test]
    fn retryable_failures_say_when_to_retry() {
        assert_eq!(
            ApiError::unavailable("x", "").retry_after_secs,
            Some(RETRY_AFTER_SECS)
        );
        assert_eq!(
            ApiError::too_many_requests("rate_limited", "", 10).retry_after_secs,
            Some(10)
        );
        assert_eq!(
            ApiError::too_many_requests("rate_limited", "", 10).status,
            429
        );
        assert_eq!(ApiError::bad_request("x", "").retry_after_secs, None);
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

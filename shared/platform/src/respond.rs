//! Building `worker::Response`s: JSON bodies, the one mapping from `ApiError`
//! to an HTTP response, and header setting.

use worker::{Headers, Response};

use crate::log::Log;
use crate::ApiError;

pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
    let mut resp = Response::builder().with_status(status).fixed(body.into());
    set_header(
        resp.headers_mut(),
        "content-type",
        "application/json; charset=utf-8",
    );
    resp
}

/// A JSON answer that no cache may keep (carts, orders: per shopper).
pub fn private_json(status: u16, body: impl Into<Vec<u8>>) -> Response {
    let mut resp = json(status, body);
    set_header(resp.headers_mut(), "cache-control", "no-store");
    resp
}

/// The one mapping from `ApiError` to an answer: the JSON body naming the
/// request, `Retry-After` when a retry can help, and a log line with the
/// internal detail for our own failures (the detail is never sent).
pub fn error(e: &ApiError, log: &Log) -> Response {
    if e.status >= 500 || e.internal_detail.is_some() {
        let fields = serde_json::json!({
            "status": e.status,
            "code": e.code,
            "detail": e.internal_detail.as_deref().unwrap_or(&e.message),
        });
        if e.status >= 500 && e.status != 503 {
            log.error("request_failed", fields);
        } else {
            log.warn("request_failed", fields);
        }
    }
    let mut resp = private_json(e.status, e.body(Some(log.request_id())));
    if let Some(allow) = e.allow {
        set_header(resp.headers_mut(), "allow", allow);
    }
    if let Some(secs) = e.retry_after_secs {
        set_header(resp.headers_mut(), "retry-after", &secs.to_string());
    }
    set_header(
        resp.headers_mut(),
        crate::request_id::HEADER,
        log.request_id(),
    );
    resp
}

/// Sets a header. It can fail only for an invalid name or value, or on
/// immutable headers (a `fetch` answer); every caller passes constant names
/// and values it built on headers it owns, so the error is not reachable.
pub fn set_header(headers: &mut Headers, name: &str, value: &str) {
    let _ = headers.set(name, value);
}

/// Removes a header, with `set_header`'s reasoning.
pub fn remove_header(headers: &mut Headers, name: &str) {
    let _ = headers.delete(name);
}

/// Adds a header value (`set-cookie`, `vary`), with `set_header`'s reasoning.
pub fn append_header(headers: &mut Headers, name: &str, value: &str) {
    let _ = headers.append(name, value);
}

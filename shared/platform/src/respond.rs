//! Building `worker::Response`s: JSON bodies, the one mapping from `ApiError`
//! to an HTTP response, and header setting.

use worker::{Headers, Response};

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

pub fn error(e: &ApiError) -> Response {
    if e.status >= 500 {
        worker::console_error!("{e}");
    }
    private_json(e.status, e.to_json())
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

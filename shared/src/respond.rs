//! Building `worker::Response`s: JSON bodies and the one mapping from
//! `ApiError` to an HTTP response.

use worker::Response;

use crate::ApiError;

pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Response {
    let resp = Response::builder().with_status(status).fixed(body.into());
    let _ = resp
        .headers()
        .set("content-type", "application/json; charset=utf-8");
    resp
}

pub fn error(e: &ApiError) -> Response {
    if e.status >= 500 {
        worker::console_error!("{e}");
    }
    let resp = json(e.status, e.to_json());
    let _ = resp.headers().set("cache-control", "no-store");
    resp
}

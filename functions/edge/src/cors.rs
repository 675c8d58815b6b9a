//! Cross-origin requests from the storefronts in `ALLOWED_ORIGINS`.

use platform::respond::set_header;
use platform::ApiError;
use worker::{Request, Response};

pub const EXPOSED_HEADERS: &str = "etag, x-request-id, x-cache, x-db, x-db-statements, x-db-lsn";
const ALLOWED_HEADERS: &str =
    "content-type, idempotency-key, if-match, if-none-match, x-request-id, x-db-lsn";

pub fn preflight(req: &Request, cors_allowed: bool) -> std::result::Result<Response, ApiError> {
    if !cors_allowed {
        let origin = req
            .headers()
            .get("origin")
            .ok()
            .flatten()
            .unwrap_or_default();
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            format!("origin {origin:?} may not call this API"),
        ));
    }
    let mut resp = Response::builder().with_status(204).empty();
    let h = resp.headers_mut();
    set_header(
        h,
        "access-control-allow-methods",
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    );
    set_header(h, "access-control-allow-headers", ALLOWED_HEADERS);
    set_header(h, "access-control-max-age", "600");
    Ok(resp)
}

//! `GET /openapi.json`: the public API's OpenAPI 3.1 contract.
//!
//! The document is kept by hand in `functions/edge/openapi.json` (a generator
//! such as utoipa would cost the workers far more wasm than the ~10 KB the
//! text adds gzipped) and compiled in here. `scripts/check-openapi` keeps its
//! paths equal to the routes the workers match; `scripts/contract` runs
//! schemathesis against a running stack with it.

use platform::respond::{self, set_header};
use platform::ApiError;
use worker::{Method, Response};

pub const PATH: &str = "/openapi.json";

const DOCUMENT: &str = include_str!("../openapi.json");

/// The document changes only with a deploy; five minutes of caching keeps a
/// fresh deploy's contract visible soon.
const CACHE_CONTROL: &str = "public, max-age=300";

pub fn answer(method: &Method) -> Result<Response, ApiError> {
    match method {
        Method::Get | Method::Head => {
            let mut resp = respond::json(200, DOCUMENT);
            set_header(resp.headers_mut(), "cache-control", CACHE_CONTROL);
            Ok(resp)
        }
        _ => Err(ApiError::method_not_allowed("GET, HEAD")),
    }
}

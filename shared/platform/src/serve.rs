//! The worker skeleton. Every function's `#[event(fetch)]` is one call to
//! [`serve`], which does what every request needs the same way everywhere:
//! it opens the request's `Db` (with the client's read-your-writes position),
//! runs the worker's router, turns an `ApiError` into its JSON answer, and
//! reports `x-db` / `x-db-statements` (and `x-db-lsn` after a write).
//!
//! A router is an `async fn(&mut Call) -> Result<Response>` holding one
//! `match (method, segments(&path).as_slice())` over `(Method, [&str])`
//! patterns: the one routing style of this repository.

use worker::{Env, Method, Request, Response};

use crate::db::Db;
use crate::{respond, ApiError, Result};

/// One request as a router sees it.
pub struct Call {
    pub req: Request,
    pub env: Env,
    pub db: Db,
}

/// A path's segments: `/cart/abc/items` is `["cart", "abc", "items"]` (a
/// trailing `/` is ignored).
pub fn segments(path: &str) -> Vec<&str> {
    path.trim_end_matches('/').split('/').skip(1).collect()
}

impl Call {
    /// A request header, if present and readable.
    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// The whole body; a body that cannot be read is the client's (400).
    pub async fn body(&mut self) -> Result<Vec<u8>> {
        self.req.bytes().await.map_err(|_| {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        })
    }

    /// The body parsed into `T` (see `platform::body`).
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T> {
        crate::body::parse_json(&self.body().await?)
    }
}

/// Runs `router` for one request with the shared sequence around it.
pub async fn serve(
    req: Request,
    env: Env,
    router: impl AsyncFnOnce(&mut Call) -> Result<Response>,
) -> worker::Result<Response> {
    let db = match Db::for_request(&env, &req) {
        Ok(db) => db,
        Err(e) => return Ok(respond::error(&e)),
    };
    let mut call = Call { req, env, db };
    let mut resp = match router(&mut call).await {
        Ok(resp) => resp,
        Err(e) => respond::error(&e),
    };
    call.db.report(resp.headers_mut());
    #[cfg(feature = "dev")]
    crate::respond::set_header(resp.headers_mut(), DEV_BUILD_HEADER, "true");
    Ok(resp)
}

/// Marks every answer of a dev build (see the `dev` feature in Cargo.toml).
#[cfg(feature = "dev")]
pub const DEV_BUILD_HEADER: &str = "x-edgeshop-dev-build";

/// The answer for a path no route matched: 405 when `known` says another
/// method would have matched it, else 404.
pub fn no_route(method: &Method, path: &str, known: bool) -> ApiError {
    if known {
        ApiError::method_not_allowed(method.as_ref())
    } else {
        ApiError::not_found("not_found", format!("no route for {path}"))
    }
}

//! The worker skeleton. Every function's `#[event(fetch)]` is one call to
//! [`serve`], which does what every request needs the same way everywhere:
//! it takes the request id (`x-request-id`, set by the edge) for its logs and
//! answer, opens the request's `Db` (with the client's read-your-writes position),
//! runs the worker's router, turns an `ApiError` into its JSON answer, and
//! reports `x-db` / `x-db-statements` (and `x-db-lsn` after a write).
//!
//! A router is an `async fn(&mut Call) -> Result<Response>` holding one
//! `match (method, segments(&path).as_slice())` over `(Method, [&str])`
//! patterns: the one routing style of this repository.

use worker::{Env, Method, Request, Response};

use crate::db::Db;
use crate::log::Log;
use crate::{request_id, respond, ApiError, Result};

/// One request as a router sees it.
pub struct Call {
    pub req: Request,
    pub env: Env,
    pub db: Db,
    pub log: Log,
}

/// A path's segments: `/cart/abc/items` is `["cart", "abc", "items"]` (a
/// trailing `/` is ignored).
pub fn segments(path: &str) -> Vec<&str> {
    path.trim_end_matches('/').split('/').skip(1).collect()
}

/// The request's method as routers must see it. workers-rs 0.8.7 reads any
/// method it does not know (QUERY, PROPFIND, ...) as GET, which would answer
/// it as a read; such a method becomes REPORT here, which no route of ours
/// accepts (and which `fetch` can still forward, unlike CONNECT or TRACE),
/// so it gets the path's 405 with `Allow`.
pub fn routing_method(req: &Request) -> Method {
    let raw = req.inner().method();
    let parsed = Method::from(raw.clone());
    if parsed.as_ref().eq_ignore_ascii_case(&raw) {
        parsed
    } else {
        Method::Report
    }
}

impl Call {
    /// The method to route on (`routing_method`).
    pub fn method(&self) -> Method {
        routing_method(&self.req)
    }

    /// Dev routes only (they run jobs on demand): a whole-number query
    /// parameter such as `?min_age_secs=0`. Parsing the URL links the `url`
    /// crate's tables, which released builds never carry.
    #[cfg(feature = "dev")]
    pub fn dev_query_number(&self, name: &str) -> Option<u32> {
        self.req
            .url()
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
    }

    /// A request header, if present and readable.
    pub fn header(&self, name: &str) -> Option<String> {
        self.req.headers().get(name).ok().flatten()
    }

    /// The client's address as Cloudflare gives it (`CF-Connecting-IP`, which
    /// Cloudflare sets and clients cannot; the edge passes it on).
    pub fn client_ip(&self) -> Option<String> {
        self.header("cf-connecting-ip")
    }

    /// The whole body, which must be declared JSON (415 otherwise, see
    /// `require_json_body`); a body that cannot be read is the client's (400).
    pub async fn body(&mut self) -> Result<Vec<u8>> {
        require_json_body(&self.req)?;
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
    let id = request_id::of(&req);
    let log = Log::new(&id);
    let db = Db::for_request(&env, &req, log.clone());
    let mut call = Call { req, env, db, log };
    let mut resp = match router(&mut call).await {
        Ok(resp) => resp,
        Err(e) => respond::error(&e, &call.log),
    };
    drain_unread_body(&mut call.req).await;
    call.db.report(resp.headers_mut());
    respond::set_header(resp.headers_mut(), request_id::HEADER, &id);
    #[cfg(feature = "dev")]
    crate::respond::set_header(resp.headers_mut(), DEV_BUILD_HEADER, "true");
    Ok(resp)
}

/// A body no route read (a 405, a 415, a refusal before the body) is read to
/// its end before the answer leaves: wrangler 4.86's workerd restarts when a
/// request body is abandoned half-read (see the edge's forward.rs), taking
/// every request in flight with it. The edge caps bodies at 64 KiB.
async fn drain_unread_body(req: &mut Request) {
    if matches!(
        routing_method(req),
        Method::Get | Method::Head | Method::Options
    ) || req.inner().body_used()
    {
        return;
    }
    let _ = req.bytes().await;
}

/// A POST, PUT or PATCH whose route reads a body must declare it JSON
/// (`application/json`, parameters allowed), else 415 `unsupported_media_type`.
/// This is the CSRF rule: a cross-site HTML form can only send form encodings
/// or text/plain, and any other content type needs a CORS preflight, which
/// only the allowed origins pass. A state-changing route without a body calls
/// this itself. (A wrong method is still 405: routing comes first.)
pub fn require_json_body(req: &Request) -> Result<()> {
    if !matches!(req.method(), Method::Post | Method::Put | Method::Patch) {
        return Ok(());
    }
    let content_type = req
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if crate::http::is_json_content_type(&content_type) {
        Ok(())
    } else {
        Err(ApiError::unsupported_media_type())
    }
}

/// Marks every answer of a dev build (see the `dev` feature in Cargo.toml).
#[cfg(feature = "dev")]
pub const DEV_BUILD_HEADER: &str = "x-edgeshop-dev-build";

/// The answer for a path no route matched: 405 with `Allow` when the path
/// answers other methods (`allow`), else 404.
pub fn no_route(path: &str, allow: Option<&'static str>) -> ApiError {
    match allow {
        Some(allow) => ApiError::method_not_allowed(allow),
        None => ApiError::not_found("not_found", format!("no route for {path}")),
    }
}

//! The entry worker: every public request lands here first. It plays the CDN
//! and load balancer: request ids, CORS, the body-size limit, the catalog edge
//! cache, and routing to the function workers over service bindings.

use std::cell::RefCell;

use futures_util::StreamExt;
use shared::db_route::{min_lsn_from, LSN_HEADER};
use shared::edge::{self, CachedResponse, MemoryCache, INTERNAL_HEADER, JOBS, MAX_BODY_BYTES};
use shared::http::if_none_match_matches;
use shared::{respond, ApiError};
use worker::{
    event, Cache, Context, Date, Env, Headers, Method, Request, RequestInit, Response, Result,
    ScheduleContext, ScheduledEvent, Url,
};

const KV_BINDING: &str = "CATALOG_KV";
/// Bump this KV key (any new value) to invalidate every cached catalog answer.
pub const CATALOG_VERSION_KEY: &str = "catalog_version";
/// How long an isolate trusts its copy of the catalog version. An invalidation
/// is seen by every isolate within this plus KV's own propagation (up to ~60 s
/// across Cloudflare locations; immediate locally).
const VERSION_TTL_MS: f64 = 1_000.0;

/// An oversized body without Content-Length is read to its end and discarded
/// before the 413: abandoning a half-read request body restarts workerd under
/// wrangler 4.86 (seen here), taking every in-flight request with it. Cloudflare
/// itself refuses bodies over 100 MiB, which bounds the draining.
const MAX_DRAINED_BYTES: usize = 100 * 1024 * 1024;

const EXPOSED_HEADERS: &str = "etag, x-request-id, x-cache, x-db, x-db-statements, x-db-lsn";
const ALLOWED_HEADERS: &str =
    "content-type, idempotency-key, if-match, if-none-match, x-request-id, x-db-lsn";

thread_local! {
    static MEMORY: RefCell<MemoryCache> = RefCell::new(MemoryCache::default());
    static CATALOG_VERSION: RefCell<Option<(String, f64)>> = const { RefCell::new(None) };
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let request_id = request_id(&req);
    let origin = req.headers().get("origin").ok().flatten();
    let allowed_origins = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let cors_origin = origin.filter(|o| edge::origin_allowed(&allowed_origins, o));

    let resp = match handle(req, &env, &ctx, &request_id, cors_origin.is_some()).await {
        Ok(resp) => resp,
        Err(e) => respond::error(&e),
    };
    // Every response here has headers we may change: the ones we build, and
    // the functions' (made mutable in `call_function`).
    let headers = resp.headers();
    let _ = headers.set("x-request-id", &request_id);
    // Answers the edge gives itself (health, 404, 413, CORS) ran no SQL.
    if !headers.has("x-db-statements").unwrap_or(true) {
        let _ = headers.set("x-db-statements", "0");
    }
    if let Some(origin) = cors_origin {
        let _ = headers.set("access-control-allow-origin", &origin);
        let _ = headers.set("access-control-allow-credentials", "true");
        let _ = headers.set("access-control-expose-headers", EXPOSED_HEADERS);
        let _ = headers.append("vary", "Origin");
    }
    Ok(resp)
}

/// The cron (top-level wrangler.toml): runs every job in `edge::JOBS` on its
/// function. A failed job is logged and runs again at the next tick.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    for job in JOBS {
        let headers = Headers::new();
        let _ = headers.set(INTERNAL_HEADER, &event.cron());
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_headers(headers);
        let outcome =
            match Request::new_with_init(&format!("https://edge.internal{}", job.path), &init) {
                Ok(req) => match call_function(&env, job.binding, req).await {
                    Ok(mut resp) => Ok((resp.status_code(), resp.text().await.unwrap_or_default())),
                    Err(e) => Err(e.to_string()),
                },
                Err(e) => Err(e.to_string()),
            };
        match outcome {
            Ok((200, body)) => worker::console_log!("job {}: {body}", job.name),
            Ok((status, body)) => {
                worker::console_error!("job {} failed: {status} {body}", job.name)
            }
            Err(e) => worker::console_error!("job {} failed: {e}", job.name),
        }
    }
}

async fn handle(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    request_id: &str,
    cors_allowed: bool,
) -> std::result::Result<Response, ApiError> {
    let path = req.path();
    if req.method() == Method::Options {
        return preflight(&req, cors_allowed);
    }
    if path == "/healthz" {
        return Ok(respond::json(200, r#"{"status":"ok"}"#));
    }
    let Some(binding) = edge::binding_for(&path) else {
        return Err(ApiError::not_found(
            "not_found",
            format!("no route for {path}"),
        ));
    };

    let has_body = !matches!(req.method(), Method::Get | Method::Head);
    let body = if has_body {
        Some(read_capped_body(&mut req).await?)
    } else {
        None
    };

    let url = req.url().map_err(ApiError::internal)?;
    let cacheable = req.method() == Method::Get
        && edge::is_cacheable_path(&path)
        && !edge::bypasses_cache(url.query())
        && !carries_lsn(&req)?;
    if cacheable {
        return cached_catalog(&req, &url, env, ctx, binding, request_id).await;
    }
    let forwarded = forward_request(&req, &url, request_id, body, false)?;
    let resp = call_function(env, binding, forwarded).await?;
    if edge::is_cacheable_path(&path) {
        let _ = resp.headers().set("x-cache", "BYPASS");
    }
    Ok(resp)
}

/// A read that must see the client's own write skips the cache: the cached
/// copy may be older than that write.
fn carries_lsn(req: &Request) -> std::result::Result<bool, ApiError> {
    let header = req.headers().get(LSN_HEADER).ok().flatten();
    let cookie = req.headers().get("cookie").ok().flatten();
    Ok(min_lsn_from(header.as_deref(), cookie.as_deref())?.is_some())
}

/// Catalog GETs: isolate memory first, then the Cache API, then the catalog
/// function. Only that last step costs a hop and SQL.
async fn cached_catalog(
    req: &Request,
    url: &Url,
    env: &Env,
    ctx: &Context,
    binding: &str,
    request_id: &str,
) -> std::result::Result<Response, ApiError> {
    let version = catalog_version(env).await;
    let origin = url.origin().ascii_serialization();
    let key = edge::cache_key(&origin, &version, url.path(), url.query());
    let if_none_match = req.headers().get("if-none-match").ok().flatten();
    let now = Date::now().as_millis() as f64;

    if let Some(hit) = MEMORY.with_borrow_mut(|m| m.get(&version, &key, now)) {
        return Ok(conditional(
            from_memory(&hit, "HIT"),
            if_none_match.as_deref(),
        ));
    }

    let cache = Cache::default();
    if let Ok(Some(mut hit)) = cache.get(key.as_str(), false).await {
        if let Some(entry) = to_memory(&mut hit, now).await {
            let resp = from_memory(&entry, "HIT");
            MEMORY.with_borrow_mut(|m| m.insert(&version, key, entry));
            return Ok(conditional(resp, if_none_match.as_deref()));
        }
    }

    let forwarded = forward_request(req, url, request_id, None, true)?;
    let mut resp = call_function(env, binding, forwarded).await?;
    if resp.status_code() != 200 {
        let _ = resp.headers().set("x-cache", "MISS");
        return Ok(resp);
    }
    let Some(entry) = to_memory(&mut resp, now).await else {
        return Err(ApiError::bad_gateway(
            "function_unreachable",
            "the catalog answer could not be read",
        ));
    };
    let served = from_memory(&entry, "MISS");
    for h in ["x-db", "x-db-statements"] {
        if let Some(v) = resp.headers().get(h).ok().flatten() {
            let _ = served.headers().set(h, &v);
        }
    }
    if entry.expires_at_ms > now {
        let stored = from_memory(&entry, "HIT");
        let cache_key = key.clone();
        ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(cache_key.as_str(), stored).await {
                worker::console_warn!("cache put failed: {e}");
            }
        });
        MEMORY.with_borrow_mut(|m| m.insert(&version, key, entry));
    }
    Ok(conditional(served, if_none_match.as_deref()))
}

/// Reads a 200 catalog answer into a memory-cache entry, expiring with its
/// max-age. `None` if the body cannot be read.
async fn to_memory(resp: &mut Response, now_ms: f64) -> Option<CachedResponse> {
    let header = |name: &str| resp.headers().get(name).ok().flatten().unwrap_or_default();
    let (etag, cache_control, content_type) = (
        header("etag"),
        header("cache-control"),
        header("content-type"),
    );
    let body = resp.bytes().await.ok()?;
    let max_age = edge::shared_max_age(&cache_control).unwrap_or(0);
    Some(CachedResponse {
        body,
        etag,
        cache_control,
        content_type,
        expires_at_ms: now_ms + f64::from(max_age) * 1000.0,
    })
}

fn from_memory(entry: &CachedResponse, cache_status: &str) -> Response {
    let resp = Response::builder()
        .with_status(200)
        .fixed(entry.body.clone());
    let h = resp.headers();
    let _ = h.set("content-type", &entry.content_type);
    let _ = h.set("etag", &entry.etag);
    let _ = h.set("cache-control", &entry.cache_control);
    let _ = h.set("x-cache", cache_status);
    if cache_status == "HIT" {
        let _ = h.set("x-db-statements", "0");
    }
    resp
}

/// Answers `If-None-Match` against the response's ETag with a bodiless 304.
fn conditional(resp: Response, if_none_match: Option<&str>) -> Response {
    let etag = resp.headers().get("etag").ok().flatten();
    match (etag, if_none_match) {
        (Some(etag), Some(inm))
            if resp.status_code() == 200 && if_none_match_matches(inm, &etag) =>
        {
            let headers = copy_headers(resp.headers());
            let _ = headers.delete("content-type");
            let _ = headers.delete("content-length");
            Response::builder()
                .with_status(304)
                .with_headers(headers)
                .empty()
        }
        _ => resp,
    }
}

async fn catalog_version(env: &Env) -> String {
    let now = Date::now().as_millis() as f64;
    let cached = CATALOG_VERSION.with_borrow(|v| v.clone());
    if let Some((version, fetched_at)) = &cached {
        if now - fetched_at < VERSION_TTL_MS {
            return version.clone();
        }
    }
    let fresh = match env.kv(KV_BINDING) {
        Ok(kv) => kv.get(CATALOG_VERSION_KEY).text().await.ok(),
        Err(_) => None,
    };
    // Missing key: version "0". KV error: keep what we had rather than
    // dropping every cached answer.
    let version = match (fresh, cached) {
        (Some(v), _) => v.unwrap_or_else(|| "0".into()),
        (None, Some((old, _))) => old,
        (None, None) => "0".into(),
    };
    CATALOG_VERSION.set(Some((version.clone(), now)));
    version
}

async fn call_function(
    env: &Env,
    binding: &str,
    req: Request,
) -> std::result::Result<Response, ApiError> {
    let fetcher = env.service(binding).map_err(|_| {
        ApiError::unavailable(
            "function_unavailable",
            format!("the {} function is not deployed", binding.to_lowercase()),
        )
    })?;
    let resp = fetcher.fetch_request(req).await.map_err(|e| {
        worker::console_error!("{binding} unreachable: {e}");
        ApiError::bad_gateway(
            "function_unreachable",
            format!("the {} function did not answer", binding.to_lowercase()),
        )
    })?;
    Ok(mutable(resp))
}

/// The request the function sees: same method, URL and headers, plus our
/// request id. For a cache fill the validators are dropped so the function
/// sends the full body we store.
fn forward_request(
    req: &Request,
    url: &Url,
    request_id: &str,
    body: Option<worker::wasm_bindgen::JsValue>,
    for_cache_fill: bool,
) -> std::result::Result<Request, ApiError> {
    let headers = copy_headers(req.headers());
    // Only the edge's own jobs may claim to be internal.
    let _ = headers.delete(INTERNAL_HEADER);
    let _ = headers.set("x-request-id", request_id);
    if for_cache_fill {
        let _ = headers.delete("if-none-match");
        let _ = headers.delete("if-modified-since");
    }
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_body(body);
    Request::new_with_init(url.as_str(), &init).map_err(ApiError::internal)
}

fn js_sys_bytes(bytes: &[u8]) -> worker::wasm_bindgen::JsValue {
    worker::js_sys::Uint8Array::from(bytes).into()
}

/// The body to forward, refused with 413 beyond 64 KiB whether or not the
/// client sent a Content-Length. A declared length within the limit is
/// forwarded as the stream it is (HTTP framing stops it at that length), with
/// no copy through the edge; a chunked upload is counted as it streams in.
async fn read_capped_body(
    req: &mut Request,
) -> std::result::Result<worker::wasm_bindgen::JsValue, ApiError> {
    let too_large = || ApiError::payload_too_large(MAX_BODY_BYTES);
    if let Some(len) = req.headers().get("content-length").ok().flatten() {
        if len
            .trim()
            .parse::<u64>()
            .map_or(true, |n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        return Ok(req
            .inner()
            .body()
            .map_or(worker::wasm_bindgen::JsValue::NULL, Into::into));
    }
    let Ok(mut stream) = req.stream() else {
        return Ok(worker::wasm_bindgen::JsValue::NULL); // no body at all
    };
    let mut body = Vec::new();
    let mut overflow = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        })?;
        if overflow > 0 || body.len() + chunk.len() > MAX_BODY_BYTES {
            // Read on to the end (see MAX_DRAINED_BYTES).
            overflow += chunk.len();
            if overflow > MAX_DRAINED_BYTES {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if overflow > 0 {
        return Err(too_large());
    }
    Ok(js_sys_bytes(&body))
}

fn preflight(req: &Request, cors_allowed: bool) -> std::result::Result<Response, ApiError> {
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
    let resp = Response::builder().with_status(204).empty();
    let h = resp.headers();
    let _ = h.set(
        "access-control-allow-methods",
        "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    );
    let _ = h.set("access-control-allow-headers", ALLOWED_HEADERS);
    let _ = h.set("access-control-max-age", "600");
    Ok(resp)
}

fn request_id(req: &Request) -> String {
    if let Some(id) = req.headers().get("x-request-id").ok().flatten() {
        if edge::accept_request_id(&id) {
            return id;
        }
    }
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Unreachable on Workers (crypto.getRandomValues); ids are for tracing, not security.
        bytes = (Date::now().as_millis() as u128).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn copy_headers(from: &Headers) -> Headers {
    let to = Headers::new();
    for (k, v) in from.entries() {
        let _ = to.append(&k, &v);
    }
    to
}

/// Responses from `fetch` and the cache have immutable headers; this makes a
/// copy whose headers we may change. The body is moved, not copied.
fn mutable(resp: Response) -> Response {
    let status = resp.status_code();
    let headers = copy_headers(resp.headers());
    let (_, body) = resp.into_parts();
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body)
}

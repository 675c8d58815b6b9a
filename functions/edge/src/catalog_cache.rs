//! The catalog's edge cache: isolate memory first, then the Cache API, then
//! the catalog function. Only that last step costs a hop and SQL. Keys carry
//! the catalog version (KV `catalog_version`), so one bump orphans them all.

use std::cell::RefCell;

use platform::http::if_none_match_matches;
use platform::respond::{remove_header, set_header};
use platform::ApiError;
use worker::{Cache, Context, Date, Env, Method, Request, Response, Url};

use crate::cache_rules::{self, CachedResponse, MemoryCache};
use crate::config::CATALOG_KV;
use crate::forward::{call_function, copy_headers, forward_request};

/// Bump this KV key (any new value) to invalidate every cached catalog answer.
pub const CATALOG_VERSION_KEY: &str = "catalog_version";
/// How long an isolate trusts its copy of the catalog version. An invalidation
/// is seen by every isolate within this plus KV's own propagation (up to ~60 s
/// across Cloudflare locations; immediate locally).
const VERSION_TTL_MS: f64 = 1_000.0;

thread_local! {
    static MEMORY: RefCell<MemoryCache> = RefCell::new(MemoryCache::default());
    static CATALOG_VERSION: RefCell<Option<(String, f64)>> = const { RefCell::new(None) };
}

/// Catalog GETs: isolate memory first, then the Cache API, then the catalog
/// function. Only that last step costs a hop and SQL.
pub async fn cached_catalog(
    req: &Request,
    url: &Url,
    env: &Env,
    ctx: &Context,
    binding: &str,
    request_id: &str,
) -> std::result::Result<Response, ApiError> {
    let version = catalog_version(env).await;
    let origin = url.origin().ascii_serialization();
    let key = cache_rules::cache_key(&origin, &version, url.path(), url.query());
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

    let forwarded = forward_request(req, Method::Get, url, request_id, None, true)?;
    let mut resp = call_function(env, binding, forwarded).await?;
    if resp.status_code() != 200 {
        set_header(resp.headers_mut(), "x-cache", "MISS");
        return Ok(resp);
    }
    let Some(entry) = to_memory(&mut resp, now).await else {
        return Err(ApiError::bad_gateway(
            "function_unreachable",
            "the catalog answer could not be read",
        ));
    };
    let mut served = from_memory(&entry, "MISS");
    for h in ["x-db", "x-db-statements"] {
        if let Some(v) = resp.headers().get(h).ok().flatten() {
            set_header(served.headers_mut(), h, &v);
        }
    }
    if entry.expires_at_ms > now {
        let stored = from_memory(&entry, "HIT");
        let cache_key = key.clone();
        let log = platform::Log::new(request_id);
        ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(cache_key.as_str(), stored).await {
                log.warn(
                    "cache_put_failed",
                    serde_json::json!({"detail": e.to_string()}),
                );
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
    let max_age = cache_rules::shared_max_age(&cache_control).unwrap_or(0);
    Some(CachedResponse {
        body,
        etag,
        cache_control,
        content_type,
        expires_at_ms: now_ms + f64::from(max_age) * 1000.0,
    })
}

fn from_memory(entry: &CachedResponse, cache_status: &str) -> Response {
    let mut resp = Response::builder()
        .with_status(200)
        .fixed(entry.body.clone());
    let h = resp.headers_mut();
    set_header(h, "content-type", &entry.content_type);
    set_header(h, "etag", &entry.etag);
    set_header(h, "cache-control", &entry.cache_control);
    set_header(h, "x-cache", cache_status);
    if cache_status == "HIT" {
        set_header(h, "x-db-statements", "0");
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
            let mut headers = copy_headers(resp.headers());
            remove_header(&mut headers, "content-type");
            remove_header(&mut headers, "content-length");
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
    let fresh = match env.kv(CATALOG_KV) {
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

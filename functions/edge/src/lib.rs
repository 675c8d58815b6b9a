//! The entry worker: every public request lands here first. It plays the CDN
//! and load balancer: request ids, CORS, the body-size limit, the catalog edge
//! cache (catalog_cache.rs), and routing to the function workers over service
//! bindings (routes.rs, forward.rs).
//!
//! Bindings: one service binding per function (routes.rs), CATALOG_KV (the
//! catalog version), ALLOWED_ORIGINS (config.rs).

use platform::db::min_lsn_of;
use platform::respond::{self, append_header, set_header};
use platform::serve::routing_method;
use platform::{request_id, secrets, ApiError, Log};
use worker::{event, Context, Env, Method, Request, Response, Result};

mod cache_rules;
mod catalog_cache;
mod config;
mod cors;
mod forward;
mod openapi;
mod rate_limits;
mod routes;
mod trust;

use config::Config;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let request_id = request_id::of(&req);
    let config = Config::from_env(&env);
    let origin = req.headers().get("origin").ok().flatten();
    let cors_origin = origin.filter(|o| trust::origin_allowed(&config.allowed_origins, o));

    let mut resp = match handle(req, &env, &ctx, &request_id, cors_origin.is_some()).await {
        Ok(resp) => resp,
        Err(e) => respond::error(&e, &Log::new(&request_id)),
    };
    // Every response here has headers we may change: the ones we build, and
    // the functions' (made mutable in `forward::call_function`).
    let headers = resp.headers_mut();
    set_header(headers, "x-request-id", &request_id);
    // Answers the edge gives itself (health, 404, 413, CORS) ran no SQL.
    if !headers.has("x-db-statements").unwrap_or(true) {
        set_header(headers, "x-db-statements", "0");
    }
    if let Some(origin) = cors_origin {
        set_header(headers, "access-control-allow-origin", &origin);
        set_header(headers, "access-control-allow-credentials", "true");
        set_header(
            headers,
            "access-control-expose-headers",
            cors::EXPOSED_HEADERS,
        );
        append_header(headers, "vary", "Origin");
    }
    Ok(resp)
}

async fn handle(
    mut req: Request,
    env: &Env,
    ctx: &Context,
    request_id: &str,
    cors_allowed: bool,
) -> std::result::Result<Response, ApiError> {
    let path = req.path();
    let method = routing_method(&req);
    if method == Method::Options {
        return cors::preflight(&req, cors_allowed);
    }
    if path == "/healthz" {
        return match method {
            Method::Get | Method::Head => Ok(respond::json(200, r#"{"status":"ok"}"#)),
            _ => Err(ApiError::method_not_allowed("GET, HEAD")),
        };
    }
    if path == openapi::PATH {
        return openapi::answer(&method);
    }
    let Some(binding) = routes::binding_for(&path) else {
        return Err(ApiError::not_found(
            "not_found",
            format!("no route for {path}"),
        ));
    };

    let cookie = req.headers().get("cookie").ok().flatten();
    if trust::is_cookie_session_write(&method, cookie.as_deref()) && !cors_allowed {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "a change made with the session cookie must come from the shop's own pages (Origin)",
        ));
    }

    if let Some(class) = rate_limits::class_for(&method, &path) {
        let client = req
            .headers()
            .get("cf-connecting-ip")
            .ok()
            .flatten()
            .unwrap_or_else(|| "unknown".into());
        rate_limits::check(env, &Log::new(request_id), class, &client).await?;
    }

    let has_body = !matches!(method, Method::Get | Method::Head);
    let body = if has_body {
        Some(forward::read_capped_body(&mut req).await?)
    } else {
        None
    };

    let url = req.url()?;
    let cacheable = method == Method::Get
        && routes::is_cacheable_path(&path)
        && !cache_rules::honours_cache_buster(url.query())
        && !carries_lsn(&req, env);
    if cacheable {
        return catalog_cache::cached_catalog(&req, &url, env, ctx, binding, request_id).await;
    }
    let forwarded = forward::forward_request(&req, method, &url, request_id, body, false)?;
    let mut resp = forward::call_function(env, binding, forwarded).await?;
    if routes::is_cacheable_path(&path) {
        set_header(resp.headers_mut(), "x-cache", "BYPASS");
    }
    Ok(resp)
}

/// A read that must see the client's own write skips the cache: the cached
/// copy may be older than that write. Only positions we signed count.
fn carries_lsn(req: &Request, env: &Env) -> bool {
    min_lsn_of(req, || secrets::get(env, secrets::LSN_TOKEN)).is_some()
}

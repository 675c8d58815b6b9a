//! Passing a request to the function worker that owns it, over its service
//! binding, with the body-size limit.

use futures_util::StreamExt;
use platform::respond::{append_header, remove_header, set_header};
use platform::ApiError;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Url};

use crate::routes::MAX_BODY_BYTES;

/// An oversized body without Content-Length is read to its end and discarded
/// before the 413: abandoning a half-read request body restarts workerd under
/// wrangler 4.86 (seen here), taking every in-flight request with it. Cloudflare
/// itself refuses bodies over 100 MiB, which bounds the draining.
const MAX_DRAINED_BYTES: usize = 100 * 1024 * 1024;

pub async fn call_function(
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
        let mut err = ApiError::bad_gateway(
            "function_unreachable",
            format!("the {} function did not answer", binding.to_lowercase()),
        );
        err.internal_detail = Some(format!("{binding} unreachable: {e}"));
        err
    })?;
    Ok(mutable(resp))
}

/// The request the function sees: `method` (the edge's routing method, read
/// once per request), the same URL and headers, plus our request id. For a cache fill the validators are dropped so the function
/// sends the full body we store. Outside dev builds, `x-test-*` headers (test
/// hooks such as `x-test-now`) never pass: a deployed function must not even
/// see them.
pub fn forward_request(
    req: &Request,
    method: Method,
    url: &Url,
    request_id: &str,
    body: Option<worker::wasm_bindgen::JsValue>,
    for_cache_fill: bool,
) -> std::result::Result<Request, ApiError> {
    let mut headers = copy_headers(req.headers());
    #[cfg(not(feature = "dev"))]
    strip_test_headers(&mut headers);
    set_header(&mut headers, "x-request-id", request_id);
    if for_cache_fill {
        remove_header(&mut headers, "if-none-match");
        remove_header(&mut headers, "if-modified-since");
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(headers)
        .with_body(body);
    Ok(Request::new_with_init(url.as_str(), &init)?)
}

#[cfg(not(feature = "dev"))]
fn strip_test_headers(headers: &mut Headers) {
    let names: Vec<String> = headers
        .keys()
        .filter(|name| crate::cache_rules::is_test_header(name))
        .collect();
    for name in names {
        remove_header(headers, &name);
    }
}

fn js_sys_bytes(bytes: &[u8]) -> worker::wasm_bindgen::JsValue {
    worker::js_sys::Uint8Array::from(bytes).into()
}

/// The body to forward, refused with 413 beyond 64 KiB whether or not the
/// client sent a Content-Length. A declared length within the limit is
/// forwarded as the stream it is (HTTP framing stops it at that length), with
/// no copy through the edge; a chunked upload is counted as it streams in.
pub async fn read_capped_body(
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

pub fn copy_headers(from: &Headers) -> Headers {
    let mut to = Headers::new();
    for (k, v) in from.entries() {
        append_header(&mut to, &k, &v);
    }
    to
}

/// Responses from `fetch` and the cache have immutable headers; this makes a
/// copy whose headers we may change. The body is moved, not copied.
pub fn mutable(resp: Response) -> Response {
    let status = resp.status_code();
    let headers = copy_headers(resp.headers());
    let (_, body) = resp.into_parts();
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body)
}

//! Talking to a cart's Durable Object, the one writer of that cart. The cart
//! function and checkout both go through here, so the wire format between
//! them and the object lives in one place (`CartRequest` in, the cart's JSON
//! or an `ApiError` body out).

use worker::{Env, Method, Request, RequestInit, Response};

use platform::{request_id, ApiError, Log};

use crate::CartRequest;

/// The Durable Object namespace binding (class `CartObject` in functions/cart).
pub const BINDING: &str = "CART_OBJECTS";

/// Sends one command to the cart's object and returns its answer as is. The
/// request id goes along, so the object's log lines join the request's.
pub async fn send(env: &Env, log: &Log, request: &CartRequest) -> Result<Response, ApiError> {
    send_to(env, log, request, "/", &[]).await
}

/// `send` to another path of the object, with extra headers: the cart
/// worker's dev-build hooks (`/__dev/alarm`, `x-test-fault`) use it.
pub async fn send_to(
    env: &Env,
    log: &Log,
    request: &CartRequest,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Response, ApiError> {
    let unavailable = |what: &str| {
        let mut e = ApiError::unavailable(
            "cart_unavailable",
            "the cart service is unavailable, retry shortly",
        );
        e.internal_detail = Some(format!("cart object {what}"));
        e
    };
    let namespace = env
        .durable_object(BINDING)
        .map_err(|e| unavailable(&format!("binding missing: {e}")))?;
    let stub = namespace
        .id_from_name(request.cart_id.as_str())
        .and_then(|object| object.get_stub())
        .map_err(|e| unavailable(&format!("stub: {e}")))?;
    let body = serde_json::to_string(request).map_err(ApiError::internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let mut req = Request::new_with_init(&format!("https://cart-object{path}"), &init)?;
    let req_headers = req.headers_mut()?;
    platform::respond::set_header(req_headers, request_id::HEADER, log.request_id());
    for (name, value) in headers {
        platform::respond::set_header(req_headers, name, value);
    }
    stub.fetch_with_request(req)
        .await
        .map_err(|e| unavailable(&format!("unreachable: {e}")))
}

//! Talking to a cart's Durable Object, the one writer of that cart. The cart
//! function, checkout and the customers worker all go through here, so the
//! wire format between them and the object lives in one place:
//! `CartRequest` in (its `caller` the signed-in customer, `None` for a
//! guest: a saved cart answers its owner only, 404 `cart_not_found` to
//! anyone else); out, the cart's JSON view, for `Merge` `{"cart","merge"}`,
//! or an `ApiError` body (`object_answer` writes and reads them).
//!
//! `send` returns the object's answer as is (the cart worker passes it on);
//! `get`, `adopt` and `merge` read it (the customers worker's login).

use worker::{Env, Method, Request, RequestInit, Response};

use platform::{request_id, ApiError, Log};

use crate::object_answer::{read_cart, read_merge};
use crate::{Cart, CartCommand, CartId, CartRequest, MergeOutcome, MERGED};

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

/// The cart as `caller` may see it (`None`: a guest): `404 cart_not_found`
/// for a saved cart of another customer, as for a cart that does not exist.
/// Read back from the view (`Cart::from_view`): no email, for reading only.
pub async fn get(
    env: &Env,
    log: &Log,
    cart_id: &CartId,
    caller: Option<&str>,
) -> Result<Cart, ApiError> {
    let request = CartRequest {
        cart_id: cart_id.clone(),
        command: CartCommand::Get,
        if_match: None,
        caller: caller.map(str::to_string),
    };
    let (status, body) = exchange(env, log, &request).await?;
    read_cart(status, &body)
}

/// Makes the guest cart `cart_id` `customer`'s saved cart
/// (`CartCommand::Adopt`), and answers it. Already theirs: no change.
/// `404 cart_not_found` when another customer owns it or it does not exist;
/// `409 cart_checked_out` / `checkout_in_progress` when it cannot change.
pub async fn adopt(
    env: &Env,
    log: &Log,
    cart_id: &CartId,
    customer: &str,
) -> Result<Cart, ApiError> {
    let request = CartRequest {
        cart_id: cart_id.clone(),
        command: CartCommand::Adopt {
            customer: customer.to_string(),
        },
        if_match: None,
        caller: Some(customer.to_string()),
    };
    let (status, body) = exchange(env, log, &request).await?;
    read_cart(status, &body)
}

/// Merges `guest`'s lines into `customer`'s saved cart `saved_cart_id`
/// (`CartCommand::Merge`, the rule in `Cart::merge`), and answers the saved
/// cart and what the merge did. A refusal (another region or store, the
/// saved cart checked out) is `Ok` with `status` "refused" and the cart
/// unchanged. `404 cart_not_found` when the saved cart is gone or not this
/// customer's; `409 checkout_in_progress` while a checkout holds it.
///
/// The caller decides what a guest cart may give (a checked-out guest cart
/// has nothing to give; the guest cart itself is left as it is). `guest`
/// being the saved cart itself merges nothing (it would double it).
pub async fn merge(
    env: &Env,
    log: &Log,
    saved_cart_id: &CartId,
    customer: &str,
    guest: &Cart,
) -> Result<(Cart, MergeOutcome), ApiError> {
    if &guest.id == saved_cart_id {
        let cart = get(env, log, saved_cart_id, Some(customer)).await?;
        let nothing = MergeOutcome {
            status: MERGED,
            reason: None,
            capped: Vec::new(),
        };
        return Ok((cart, nothing));
    }
    let request = CartRequest {
        cart_id: saved_cart_id.clone(),
        command: CartCommand::merge_of(guest),
        if_match: None,
        caller: Some(customer.to_string()),
    };
    let (status, body) = exchange(env, log, &request).await?;
    read_merge(status, &body)
}

/// `send`, and the answer's status and body.
async fn exchange(env: &Env, log: &Log, request: &CartRequest) -> Result<(u16, String), ApiError> {
    let mut answer = send(env, log, request).await?;
    let status = answer.status_code();
    let body = answer.text().await?;
    Ok((status, body))
}

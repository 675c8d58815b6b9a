//! `POST /checkout`: the cart from its Durable Object, the region's rules in
//! Rust (`checkout::prepare`), then one statement on the primary that writes
//! the order, its lines and reservations and claims the key, or nothing. A
//! retry with the same key returns the stored answer.

use cart::object_client;
use cart::{cart_not_found, Cart, CartCommand, CartRequest};
use checkout::queries;
use checkout::{
    CheckoutReply, CheckoutRequest, IdempotencyKey, PlaceOrderInput, PlaceOrderOutcome, Requester,
    StoredCheckout,
};
use chrono::{DateTime, Utc};
use platform::respond::{self, set_header};
use platform::secrets;
use platform::serve::Call;
use platform::{ApiError, Result};
use regions::Regions;
use worker::{Date, Response};

use crate::config::Config;

pub async fn place(call: &mut Call) -> Result<Response> {
    let key = IdempotencyKey::from_header(call.header("idempotency-key").as_deref())?;
    let request = CheckoutRequest::parse(&call.body().await?)?;
    let now = clock(call)?;

    let reply = match prepare(call, &request, &key, now).await {
        Ok(input) => {
            let outcome: Vec<PlaceOrderOutcome> =
                call.db.write(&queries::place_order(&input)).await?;
            outcome
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::internal("place_order returned nothing"))?
                .into_reply()?
        }
        // A retry of a checkout that already succeeded can fail the rules now
        // (its cart is checked out, the clock moved past its window): the
        // stored answer wins over the new refusal.
        Err(refusal) if refusal.status < 500 => stored_answer(call, &request, &key, now)
            .await?
            .ok_or(refusal)?,
        Err(e) => return Err(e),
    };
    if let Some(order_id) = reply.order_id {
        close_cart(call, &request, order_id).await;
    }
    Ok(answer(&reply))
}

/// Everything before the database: the cart, the region, its rules.
async fn prepare(
    call: &Call,
    request: &CheckoutRequest,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<PlaceOrderInput> {
    let region = Regions::builtin().get(&request.region)?;
    let idempotency_secret = secrets::required(&call.env, secrets::IDEMPOTENCY)?;
    let client_ip_hash = match call.client_ip() {
        Some(ip) => Some(checkout::client_ip_hash(
            &secrets::required(&call.env, secrets::CLIENT_IP)?,
            &ip,
        )),
        None => None,
    };
    let cart = load_cart(call, request).await?;
    let config = Config::from_env(&call.env);
    let requester = Requester {
        idempotency_secret: &idempotency_secret,
        client_ip_hash: client_ip_hash.as_deref(),
    };
    checkout::prepare(
        request,
        key,
        &cart,
        region,
        now,
        &config.settings,
        requester,
    )
}

/// The stored answer for a request the rules refused before the database,
/// if it is a retry of a checkout that went through (same cart, key and
/// fingerprint); 422 if the key was used for another request on this cart;
/// `None` if the key is unknown (or expired) or the request cannot be
/// fingerprinted (an unknown region, a failed age check), so the caller
/// answers with the refusal.
async fn stored_answer(
    call: &Call,
    request: &CheckoutRequest,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
) -> Result<Option<CheckoutReply>> {
    let Ok(region) = Regions::builtin().get(&request.region) else {
        return Ok(None);
    };
    let secret = secrets::required(&call.env, secrets::IDEMPOTENCY)?;
    let Ok(fingerprint) = checkout::retry_fingerprint(request, region, now, &secret) else {
        return Ok(None);
    };
    let stored: Vec<StoredCheckout> = call
        .db
        .read_primary(&queries::stored_checkout(&request.cart_id, key))
        .await?;
    stored
        .into_iter()
        .next()
        .map(|s| s.replay(&fingerprint, &request.legacy_fingerprint))
        .transpose()
}

async fn load_cart(call: &Call, request: &CheckoutRequest) -> Result<Cart> {
    let get = CartRequest {
        cart_id: request.cart_id.clone(),
        command: CartCommand::Snapshot,
        if_match: None,
    };
    let mut resp = object_client::send(&call.env, &call.log, &get).await?;
    let status = resp.status_code();
    let text = resp.text().await?;
    if status == 404 {
        return Err(cart_not_found());
    }
    if status != 200 {
        call.log
            .error("cart_unreadable", serde_json::json!({"status": status}));
        return Err(ApiError::unavailable(
            "cart_unavailable",
            "the cart could not be read, retry shortly",
        ));
    }
    Cart::from_view(&text)
}

/// The order exists; the cart stops changing. The database already refuses a
/// second order for this cart, so a failure here is logged, not fatal. The
/// log names the order: a cart id is the guest's key to the cart.
async fn close_cart(call: &Call, request: &CheckoutRequest, order_id: i64) {
    let close = CartRequest {
        cart_id: request.cart_id.clone(),
        command: CartCommand::MarkCheckedOut { order_id },
        if_match: None,
    };
    match object_client::send(&call.env, &call.log, &close).await {
        Ok(resp) if resp.status_code() == 200 => {}
        Ok(resp) => call.log.warn(
            "cart_close_failed",
            serde_json::json!({"order": order_id, "status": resp.status_code()}),
        ),
        Err(e) => call.log.warn(
            "cart_close_failed",
            serde_json::json!({"order": order_id, "code": e.code}),
        ),
    }
}

fn answer(reply: &CheckoutReply) -> Response {
    let mut resp = respond::private_json(reply.status, reply.body.clone());
    if reply.replayed {
        set_header(resp.headers_mut(), "idempotent-replayed", "true");
    }
    resp
}

/// The region rules' clock: the real time, or in dev builds only (cargo
/// feature `dev`) the `x-test-now` header, so tests can stand at 07:59 local
/// time. A deployed build has no such header.
fn clock(call: &Call) -> Result<DateTime<Utc>> {
    #[cfg(feature = "dev")]
    if let Some(at) = call.header("x-test-now") {
        return DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::bad_request("invalid_test_clock", "x-test-now must be RFC 3339")
            });
    }
    #[cfg(not(feature = "dev"))]
    let _ = call;
    DateTime::from_timestamp_millis(Date::now().as_millis() as i64)
        .ok_or_else(|| ApiError::internal("clock out of range"))
}

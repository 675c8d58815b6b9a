//! `POST /checkout`: the cart from its Durable Object, the region's rules in
//! Rust (`checkout::prepare`), then one statement on the primary that writes
//! the order, its lines and reservations and claims the key, or nothing. A
//! retry with the same key returns the stored answer.
//!
//! A signed-in shopper (`customers::auth::caller`: the session cookie or
//! `Authorization: Bearer s1.…`) checks out as themselves: the order is
//! linked to the account, earns points, and may redeem some
//! (`redeem_points`, which needs the session: 401 without). Their cart
//! object is asked with `caller` set, so a cart another customer owns is
//! 404 here as everywhere.

use cart::object_client;
use cart::{cart_not_found, Cart, CartCommand, CartRequest, OrderRef};
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
    // A session that is sent but bad (expired, revoked, forged) is 401,
    // never a guest checkout in its place.
    let caller = customers::auth::caller(call).await?.map(|c| c.customer);
    let customer = caller.as_deref();
    checkout::points::require_session(request.redeem_points, customer)?;
    let who = Who {
        request: &request,
        key: &key,
        customer,
    };

    // The cart's version once its object froze it for this key (begin_checkout).
    let mut frozen_at = None;
    let reply = match prepare(call, &who, now, &mut frozen_at).await {
        Ok(input) => {
            // A failure here leaves the outcome unknown: the cart stays
            // frozen until a retry with this key ends it, or the lease expires.
            let outcome: Vec<PlaceOrderOutcome> =
                call.db.write(&queries::place_order(&input)).await?;
            let outcome = outcome
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::internal("place_order returned nothing"))?;
            match outcome.into_reply() {
                Ok(reply) => reply,
                Err(refusal) => return Err(abort_checkout(call, &who, frozen_at, refusal).await),
            }
        }
        // A retry of a checkout that already succeeded can fail the rules now
        // (its cart is checked out, the clock moved past its window): the
        // stored answer wins over the new refusal.
        Err(refusal) if refusal.status < 500 => {
            match stored_answer(call, &who, now).await {
                Ok(Some(reply)) => reply,
                // Nothing was placed by this request: the cart thaws.
                Ok(None) => return Err(abort_checkout(call, &who, frozen_at, refusal).await),
                Err(e) => return Err(abort_checkout(call, &who, frozen_at, e).await),
            }
        }
        Err(e) => return Err(e),
    };
    let mut reply = reply;
    if let Some(order_id) = reply.order_id.clone() {
        close_cart(call, &who, order_id.clone(), frozen_at).await;
        reply.body = crate::payment::add_to_answer(call, &request, &order_id, &reply.body).await?;
    }
    Ok(answer(&reply))
}

/// One checkout request: what was asked, under which key, by whom.
struct Who<'a> {
    request: &'a CheckoutRequest,
    key: &'a IdempotencyKey,
    /// The session's customer (`cus_…`), `None` for a guest.
    customer: Option<&'a str>,
}

impl Who<'_> {
    /// A command for this checkout's cart, asked as this caller.
    fn cart_request(&self, command: CartCommand, if_match: Option<String>) -> CartRequest {
        CartRequest {
            cart_id: self.request.cart_id.clone(),
            command,
            if_match,
            caller: self.customer.map(str::to_string),
        }
    }
}

/// Everything before the database: the cart, the region, its rules.
async fn prepare(
    call: &Call,
    who: &Who<'_>,
    now: DateTime<Utc>,
    frozen_at: &mut Option<u64>,
) -> Result<PlaceOrderInput> {
    let (request, key) = (who.request, who.key);
    let region = Regions::builtin().get(&request.region)?;
    if let Some(provider) = request.payment_provider {
        if !region.payment_providers.iter().any(|p| p == provider.as_str()) {
            return Err(ApiError::unprocessable(
                "payment_provider_not_offered",
                format!("{} is not offered in {}", provider.as_str(), region.code.as_str()),
            ));
        }
    }
    let idempotency_secret = secrets::required(&call.env, secrets::IDEMPOTENCY)?;
    let client_ip_hash = match call.client_ip() {
        Some(ip) => Some(checkout::client_ip_hash(
            &secrets::required(&call.env, secrets::CLIENT_IP)?,
            &ip,
        )),
        None => None,
    };
    let cart = begin_checkout(call, who).await?;
    *frozen_at = Some(cart.version);
    let config = Config::from_env(&call.env, &call.log);
    let requester = Requester {
        idempotency_secret: &idempotency_secret,
        client_ip_hash: client_ip_hash.as_deref(),
        customer: who.customer,
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
async fn stored_answer(call: &Call, who: &Who<'_>, now: DateTime<Utc>) -> Result<Option<CheckoutReply>> {
    let (request, key) = (who.request, who.key);
    let Ok(region) = Regions::builtin().get(&request.region) else {
        return Ok(None);
    };
    let secret = secrets::required(&call.env, secrets::IDEMPOTENCY)?;
    let Ok(fingerprint) = checkout::retry_fingerprint(request, region, now, who.customer, &secret)
    else {
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

// The cart's side of a checkout (cart::object_rules): `begin_checkout`
// freezes the cart for this Idempotency-Key (a lease; the same key re-enters
// it), then either `close_cart` (the order exists) or `abort_checkout` (it
// was refused). An add in another tab meanwhile gets 409 checkout_in_progress,
// so it is either in the order or refused, never silently dropped.

/// The cart as stored, frozen for this checkout. `409 checkout_in_progress`
/// while another key's checkout holds it.
async fn begin_checkout(call: &Call, who: &Who<'_>) -> Result<Cart> {
    let begin = who.cart_request(
        CartCommand::BeginCheckout {
            key: who.key.as_str().to_string(),
        },
        None,
    );
    let mut resp = object_client::send(&call.env, &call.log, &begin).await?;
    let status = resp.status_code();
    let text = resp.text().await?;
    match status {
        200 => Cart::from_view(&text),
        404 => Err(cart_not_found()),
        409 => Err(ApiError::conflict(
            "checkout_in_progress",
            "another checkout of this cart is in progress; retry shortly",
        )),
        _ => {
            call.log
                .error("cart_unreadable", serde_json::json!({"status": status}));
            Err(ApiError::unavailable(
                "cart_unavailable",
                "the cart could not be read, retry shortly",
            ))
        }
    }
}

/// No order: the cart thaws if this checkout froze it (the object ignores
/// another key's abort). Best effort: the lease expires by itself anyway.
/// Returns the refusal to answer.
async fn abort_checkout(
    call: &Call,
    who: &Who<'_>,
    frozen_at: Option<u64>,
    refusal: ApiError,
) -> ApiError {
    if frozen_at.is_none() {
        return refusal;
    }
    let abort = who.cart_request(
        CartCommand::AbortCheckout {
            key: who.key.as_str().to_string(),
        },
        None,
    );
    match object_client::send(&call.env, &call.log, &abort).await {
        Ok(resp) if resp.status_code() == 200 || resp.status_code() == 404 => {}
        Ok(resp) => call.log.warn(
            "cart_abort_failed",
            serde_json::json!({"status": resp.status_code()}),
        ),
        Err(e) => call
            .log
            .warn("cart_abort_failed", serde_json::json!({"code": e.code})),
    }
    refusal
}

/// The order exists; the cart stops changing, at the version the order was
/// made from (`If-Match`): a cart that changed since (its lease expired) is
/// not closed as if the order held it. The database already refuses a second
/// order for this cart, so a failure here is logged, not fatal. The log
/// names the order: a cart id is the guest's key to the cart.
async fn close_cart(call: &Call, who: &Who<'_>, order_id: String, frozen_at: Option<u64>) {
    let close = who.cart_request(
        CartCommand::MarkCheckedOut {
            order_id: OrderRef::Text(order_id.clone()),
        },
        frozen_at.map(|version| format!("\"{version}\"")),
    );
    match object_client::send(&call.env, &call.log, &close).await {
        Ok(resp) if resp.status_code() == 200 => {}
        Ok(resp) if resp.status_code() == 412 => call.log.error(
            "cart_changed_during_checkout",
            serde_json::json!({"order": order_id, "version": frozen_at}),
        ),
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

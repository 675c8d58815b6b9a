//! The checkout function.
//!
//!   POST /checkout  (Idempotency-Key required)
//!     {cart_id, email, shipping_address{...}, region, date_of_birth?,
//!      delivery: "asap" | {window_start}}
//!     -> 201 {order_id, status: "pending_payment", totals, delivery,
//!             reservation_expires_at, ...}
//!
//!   POST /checkout/jobs/release-expired-reservations  (the edge's cron only)
//!
//! A checkout is: the cart from its Durable Object, the region's rules in
//! Rust (shared::checkout::prepare), then one statement on the primary that
//! writes the order, its lines and reservations and claims the key, or
//! nothing. A retry with the same key returns the stored answer.

use chrono::{DateTime, Utc};
use shared::cart::{Cart, CartCommand, CartRequest};
use shared::checkout::{self, CheckoutRequest, IdempotencyKey, PlacedOrder};
use shared::db::Db;
use shared::edge::INTERNAL_HEADER;
use shared::regions::Regions;
use shared::{cart_object, respond, ApiError};
use worker::{event, Context, Date, Env, Method, Request, Response, Result};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let db = match Db::for_request(&env, &req) {
        Ok(db) => db,
        Err(e) => return Ok(respond::error(&e)),
    };
    let mut resp = match route(&mut req, &env, &db).await {
        Ok(resp) => resp,
        Err(e) => respond::error(&e),
    };
    db.report(resp.headers_mut());
    Ok(resp)
}

async fn route(
    req: &mut Request,
    env: &Env,
    db: &Db<'_>,
) -> std::result::Result<Response, ApiError> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Post, "/checkout") => place(req, env, db).await,
        (Method::Post, "/checkout/jobs/release-expired-reservations") if is_internal(req) => {
            release_expired(db).await
        }
        (_, "/checkout") => Err(ApiError::method_not_allowed(req.method().as_ref())),
        _ => Err(ApiError::not_found(
            "not_found",
            format!("no route for {path}"),
        )),
    }
}

async fn place(
    req: &mut Request,
    env: &Env,
    db: &Db<'_>,
) -> std::result::Result<Response, ApiError> {
    let key = IdempotencyKey::parse(
        req.headers()
            .get("idempotency-key")
            .ok()
            .flatten()
            .as_deref(),
    )?;
    let body = req.bytes().await.map_err(|_| {
        ApiError::bad_request("unreadable_body", "the request body could not be read")
    })?;
    let request = CheckoutRequest::parse(&body)?;
    let now = clock(req, env)?;

    let placed = match prepare(&request, &key, env, now).await {
        Ok(input) => {
            let rows = db.write(&checkout::place_order(&input)).await?;
            let answer = rows
                .first()
                .and_then(|r| r[0].as_deref())
                .ok_or_else(|| ApiError::internal("place_order returned nothing"))?;
            checkout::read_outcome(answer)?
        }
        // A retry of a checkout that already succeeded can fail the rules now
        // (its cart is checked out, the clock moved past its window): the
        // stored answer wins over the new refusal.
        Err(refusal) if refusal.status < 500 => {
            let rows = db.read_primary(&checkout::stored_response(&key)).await?;
            match checkout::replay(rows.first().map(Vec::as_slice), &request)? {
                Some(stored) => stored,
                None => return Err(refusal),
            }
        }
        Err(e) => return Err(e),
    };
    if let Some(order_id) = placed.order_id {
        close_cart(env, &request, order_id).await;
    }
    Ok(answer(&placed))
}

/// Everything before the database: the cart, the region, its rules.
async fn prepare(
    request: &CheckoutRequest,
    key: &IdempotencyKey,
    env: &Env,
    now: DateTime<Utc>,
) -> std::result::Result<serde_json::Value, ApiError> {
    let region = Regions::builtin().get(&request.region)?;
    let cart = load_cart(env, request).await?;
    let setting = env.var("RESERVATION_MINUTES").ok().map(|v| v.to_string());
    let minutes = checkout::reservation_minutes(setting.as_deref()).unwrap_or_else(|e| {
        worker::console_error!("{e}; using {}", checkout::DEFAULT_RESERVATION_MINUTES);
        checkout::DEFAULT_RESERVATION_MINUTES
    });
    checkout::prepare(request, key, &cart, region, now, minutes)
}

async fn load_cart(env: &Env, request: &CheckoutRequest) -> std::result::Result<Cart, ApiError> {
    let get = CartRequest {
        cart_id: request.cart_id.clone(),
        command: CartCommand::Snapshot,
        if_match: None,
    };
    let mut resp = cart_object::send(env, &get).await?;
    let status = resp.status_code();
    let text = resp.text().await.map_err(ApiError::internal)?;
    if status == 404 {
        return Err(shared::cart::cart_not_found());
    }
    if status != 200 {
        worker::console_error!("cart object answered {status}: {text}");
        return Err(ApiError::unavailable(
            "cart_unavailable",
            "the cart could not be read, retry shortly",
        ));
    }
    Cart::from_view(&text)
}

/// The order exists; the cart stops changing. The database already refuses a
/// second order for this cart, so a failure here is logged, not fatal.
async fn close_cart(env: &Env, request: &CheckoutRequest, order_id: i64) {
    let close = CartRequest {
        cart_id: request.cart_id.clone(),
        command: CartCommand::MarkCheckedOut { order_id },
        if_match: None,
    };
    match cart_object::send(env, &close).await {
        Ok(resp) if resp.status_code() == 200 => {}
        Ok(resp) => {
            worker::console_warn!("closing cart {}: {}", request.cart_id, resp.status_code())
        }
        Err(e) => worker::console_warn!("closing cart {}: {e}", request.cart_id),
    }
}

fn answer(placed: &PlacedOrder) -> Response {
    let mut resp = respond::json(placed.status, placed.body.clone());
    let headers = resp.headers_mut();
    let _ = headers.set("cache-control", "no-store");
    if placed.replayed {
        let _ = headers.set("idempotent-replayed", "true");
    }
    resp
}

/// The region rules' clock: the real time, or, where the local dev config
/// allows it (`TEST_CLOCK=enabled` in .dev.vars, never deployed), the
/// `x-test-now` header, so tests can stand at 07:59 local time.
fn clock(req: &Request, env: &Env) -> std::result::Result<DateTime<Utc>, ApiError> {
    let test_clock = env
        .var("TEST_CLOCK")
        .map(|v| v.to_string())
        .unwrap_or_default()
        == "enabled";
    if test_clock {
        if let Some(at) = req.headers().get("x-test-now").ok().flatten() {
            return DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::bad_request("invalid_test_clock", "x-test-now must be RFC 3339")
                });
        }
    }
    DateTime::from_timestamp_millis(Date::now().as_millis() as i64)
        .ok_or_else(|| ApiError::internal("clock out of range"))
}

/// Only the edge can send this header: it removes it from every public request.
fn is_internal(req: &Request) -> bool {
    req.headers().get(INTERNAL_HEADER).ok().flatten().is_some()
}

async fn release_expired(db: &Db<'_>) -> std::result::Result<Response, ApiError> {
    // A backlog (the cron was down, a burst of abandoned checkouts) is worked
    // off in batches within one run rather than one batch a minute.
    let mut released = 0u64;
    for _ in 0..checkout::RELEASE_MAX_BATCHES_PER_RUN {
        let rows = db.write(&checkout::release_expired()).await?;
        let batch: u64 = rows
            .first()
            .and_then(|r| r[0].as_deref())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        released += batch;
        if batch < checkout::RELEASE_BATCH {
            break;
        }
    }
    worker::console_log!("released {released} expired reservations");
    Ok(respond::json(200, format!("{{\"released\":{released}}}")))
}

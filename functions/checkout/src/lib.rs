//! The checkout worker.
//!
//!   POST /checkout  (Idempotency-Key required)
//!     {cart_id, email, shipping_address{...}, region, date_of_birth?,
//!      delivery: "asap" | {window_start}}
//!      payment_provider?: "stripe" | "paypal", redeem_points?: 1..=10000000}
//!     Session (optional): cookie `session` or `Authorization: Bearer s1.…`;
//!     signed in, the order is the customer's and earns points; redeeming
//!     needs it (401 unauthenticated), 409 insufficient_points, 422
//!     redeem_exceeds_total (points pay at most total − 0.50).
//!     -> 201 {order_id: "ord_...", order_token, status: "pending_payment", totals
//!             (+ points_discount), points_redeemed?, points_discount?,
//!             delivery, reservation_expires_at, payment?: {provider, payment_id,
//!             client_secret | approval_url}, ...}
//!
//! Events: a cron (every minute, wrangler.toml) releases expired stock
//! reservations and deletes idempotency keys older than 24 hours. Dev builds
//! only (cargo feature `dev`, which scripts/dev uses and scripts/deploy never
//! does): `POST /checkout/__dev/scheduled` runs those same jobs on demand,
//! because local tests cannot fire a cron of a worker that is not the first
//! in `wrangler dev`.
//!
//! Bindings: DB / DB_REPLICA, CART_OBJECTS (the cart worker's objects),
//! ORDERS (the orders worker, which creates payments),
//! RESERVATION_MINUTES, MAX_UNITS_PER_SKU, MAX_PENDING_ORDERS_PER_EMAIL,
//! MAX_PENDING_ORDERS_PER_CLIENT (config.rs), SESSIONS (KV, session
//! revocations: customers::auth); secrets IDEMPOTENCY_SECRET,
//! CLIENT_IP_SECRET, ORDER_TOKEN_SECRET (platform::secrets) and
//! SESSION_SECRET.

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod config;
mod jobs;
mod payment;
mod place;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Post, ["checkout"]) => place::place(call).await,
        #[cfg(feature = "dev")]
        (Method::Post, ["checkout", "__dev", "scheduled"]) => jobs::answer(&call.db).await,
        (_, ["checkout"]) => Err(no_route(&path, Some("POST"))),
        (_, _) => Err(no_route(&path, None)),
    }
}

/// Checkout's own cron: give back the stock of expired reservations.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    jobs::run_scheduled(&env, &event.cron()).await;
}

//! The orders worker: what a shopper and staff do with an order after
//! checkout. For now, its payment and refunds.
//!
//!   GET  /orders/{id}                    Authorization: Bearer <order token>,
//!        or the owner's session (cookie `session` / Bearer s1.…)
//!        -> 200 {order_id, status, total, currency, points_redeemed,
//!                points_discount, needs_review, ...}
//!   POST /orders/{id}/payment            Authorization: Bearer <order token>
//!        (or the owner's session), Idempotency-Key;
//!        {"provider": "stripe" | "paypal"}
//!        -> 201 {order_id, provider, payment_id, client_secret | approval_url}
//!   POST /admin/orders/{id}/refunds      Authorization: Bearer <ADMIN_TOKEN>,
//!        Idempotency-Key; {"amount"?: "12.34", "reason": "..."}
//!        -> 201 {refund_id, status, amount, currency, order_status, ...}
//!
//! The order token is what checkout answered (`payments::order_token`).
//! `/internal/*` (internal.rs) serves the webhooks worker only.
//!   POST /admin/orders/{id}/cancel       Authorization: Bearer <ADMIN_TOKEN>;
//!        {"reason": "..."} -> 200 {order_id, status: "cancelled", from, refunds, ...}
//!   POST /admin/orders/{id}/fulfill      Authorization: Bearer <ADMIN_TOKEN>
//!        -> 202 {order_id, fulfillment: "queued"} (manual stores; retry after a failure)
//!
//! Events: a cron (every minute) sends refunds the provider has not accepted
//! yet, and relays the outbox (messages to the fulfillment and alerts queues
//! whose writers did not send them). Dev builds also answer
//! `POST /orders/__dev/scheduled` (the refunds) and `POST /orders/__dev/relay`
//! (the relay; `?min_age_secs=0` takes every unsent row).
//!
//! Bindings: DB / DB_REPLICA, PAYMENT_TOKENS (KV), SESSIONS (KV, session
//! revocations: customers::auth), vars STRIPE_API_BASE, PAYPAL_API_BASE,
//! SHOP_ORIGIN; secrets ORDER_TOKEN_SECRET, SESSION_SECRET, ADMIN_TOKEN,
//! STRIPE_SECRET_KEY, PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET.

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod access;
mod admin_view;
mod cancel;
mod fulfill;
mod dashboard;
mod internal;
mod pay;
mod refund;
mod relay;
mod status;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Get | Method::Head, ["orders", id]) => status::show(call, id).await,
        (Method::Get | Method::Head, ["admin", "orders", id]) => admin_view::show(call, id).await,
        (Method::Get | Method::Head, ["admin", "stores", store_id, "orders"]) => {
            dashboard::list(call, store_id).await
        }
        (Method::Post, ["orders", id, "payment"]) => pay::create(call, id).await,
        (Method::Post, ["admin", "orders", id, "refunds"]) => refund::create(call, id).await,
        (Method::Post, ["admin", "orders", id, "cancel"]) => cancel::create(call, id).await,
        (Method::Post, ["admin", "orders", id, "fulfill"]) => fulfill::create(call, id).await,
        (Method::Post, ["internal", "capture"]) => internal::capture(call).await,
        (Method::Post, ["internal", "refunds"]) => internal::refunds(call).await,
        #[cfg(feature = "dev")]
        (Method::Post, ["orders", "__dev", "scheduled"]) => refund::run_job(call).await,
        #[cfg(feature = "dev")]
        (Method::Post, ["orders", "__dev", "relay"]) => relay::run_job(call).await,
        (_, ["orders", _]) => Err(no_route(&path, Some("GET, HEAD"))),
        (_, ["admin", "orders", _] | ["admin", "stores", _, "orders"]) => {
            Err(no_route(&path, Some("GET, HEAD")))
        }
        (_, ["orders", _, "payment"] | ["admin", "orders", _, "refunds" | "cancel" | "fulfill"]) => {
            Err(no_route(&path, Some("POST")))
        }
        (_, _) => Err(no_route(&path, None)),
    }
}

/// Sends the refunds the provider has not accepted yet (a provider that was
/// down, a worker that died between the request and the call), and the
/// outbox messages their writers did not send (relay.rs).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    refund::send_due(&env).await;
    relay::run(&env).await;
}

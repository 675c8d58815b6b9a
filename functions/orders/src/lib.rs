//! The orders worker: what a shopper and staff do with an order after
//! checkout. For now, its payment and refunds.
//!
//!   GET  /orders/{id}                    Authorization: Bearer <order token>
//!        -> 200 {order_id, status, total, currency, needs_review}
//!   POST /orders/{id}/payment            Authorization: Bearer <order token>,
//!        Idempotency-Key; {"provider": "stripe" | "paypal"}
//!        -> 201 {order_id, provider, payment_id, client_secret | approval_url}
//!   POST /admin/orders/{id}/refunds      Authorization: Bearer <ADMIN_TOKEN>,
//!        Idempotency-Key; {"amount"?: "12.34", "reason": "..."}
//!        -> 201 {refund_id, status, amount, currency, order_status, ...}
//!
//! The order token is what checkout answered (`payments::order_token`).
//! `/internal/*` (internal.rs) serves the webhooks worker only.
//! Events: a cron (every minute) sends refunds the provider has not accepted
//! yet. Dev builds also answer `POST /orders/__dev/scheduled` (the same job).
//!
//! Bindings: DB / DB_REPLICA, PAYMENT_TOKENS (KV), vars STRIPE_API_BASE,
//! PAYPAL_API_BASE, SHOP_ORIGIN; secrets ORDER_TOKEN_SECRET, ADMIN_TOKEN,
//! STRIPE_SECRET_KEY, PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET.

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod access;
mod internal;
mod pay;
mod refund;
mod status;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Get | Method::Head, ["orders", id]) => status::show(call, id).await,
        (Method::Post, ["orders", id, "payment"]) => pay::create(call, id).await,
        (Method::Post, ["admin", "orders", id, "refunds"]) => refund::create(call, id).await,
        (Method::Post, ["internal", "capture"]) => internal::capture(call).await,
        (Method::Post, ["internal", "refunds"]) => internal::refunds(call).await,
        #[cfg(feature = "dev")]
        (Method::Post, ["orders", "__dev", "scheduled"]) => refund::run_job(call).await,
        (_, ["orders", _]) => Err(no_route(&path, Some("GET, HEAD"))),
        (_, ["orders", _, "payment"] | ["admin", "orders", _, "refunds"]) => {
            Err(no_route(&path, Some("POST")))
        }
        (_, _) => Err(no_route(&path, None)),
    }
}

/// Sends the refunds the provider has not accepted yet (a provider that was
/// down, a worker that died between the request and the call).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    refund::send_due(&env).await;
}

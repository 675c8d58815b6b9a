//! The webhooks worker: the payment providers tell us what happened.
//!
//!   POST /webhooks/stripe   Stripe-Signature verified (HMAC-SHA256, 300 s)
//!   POST /webhooks/paypal   PAYPAL-TRANSMISSION-* verified offline (RSA-SHA256
//!                           with the certificate at PAYPAL-CERT-URL, from an
//!                           allow-listed origin only)
//!
//! Each verified event is applied exactly once (`payments::process`): 200
//! when it is stored (or was before, or is a type we do not handle), 400 and
//! nothing changed when the signature or the event is bad, 503 with
//! Retry-After when we could not store it, so the provider delivers it again.
//!
//! What needs a gateway (PayPal's capture, the refunds an event asks for) is
//! asked of the orders worker (actions.rs), which owns the gateways.
//!
//! Bindings: DB (the primary), ORDERS (the orders worker), PAYMENT_TOKENS
//! (KV: PayPal's signing certificates), vars PAYPAL_CERT_ORIGINS,
//! STRIPE_WEBHOOK_PREVIOUS_UNTIL; secrets STRIPE_WEBHOOK_SECRET (and
//! _PREVIOUS while rotating), PAYPAL_WEBHOOK_ID.

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response};

mod actions;
mod answer;
mod paypal;
mod stripe;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Post, ["webhooks", "stripe"]) => stripe::receive(call).await,
        (Method::Post, ["webhooks", "paypal"]) => paypal::receive(call).await,
        (_, ["webhooks", "stripe" | "paypal"]) => Err(no_route(&path, Some("POST"))),
        (_, _) => Err(no_route(&path, None)),
    }
}

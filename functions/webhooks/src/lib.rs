//! The webhooks worker: the payment providers tell us what happened.
//!
//!   POST /webhooks/stripe   Stripe-Signature verified (HMAC-SHA256, 300 s)
//!   POST /webhooks/paypal   PAYPAL-TRANSMISSION-* verified offline (RSA-SHA256
//!                           with the certificate at PAYPAL-CERT-URL, from an
//!                           allow-listed origin only)
//!   POST /webhooks/carrier  X-Carrier-Signature verified (HMAC-SHA256 with
//!                           CARRIER_WEBHOOK_SECRET, 300 s): a delivery
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
//! STRIPE_WEBHOOK_PREVIOUS_UNTIL; FULFILLMENT_QUEUE (a paid order's
//! message, sent after the commit); secrets STRIPE_WEBHOOK_SECRET (and
//! _PREVIOUS while rotating), PAYPAL_WEBHOOK_ID, CARRIER_WEBHOOK_SECRET.

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response};

mod actions;
mod answer;
mod carrier;
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
        (Method::Post, ["webhooks", "carrier"]) => carrier::receive(call).await,
        (_, ["webhooks", "stripe" | "paypal" | "carrier"]) => Err(no_route(&path, Some("POST"))),
        (_, _) => Err(no_route(&path, None)),
    }
}

//! The alerts worker: stock levels and what goes out when something needs a
//! person (staff or shopper).
//!
//!   POST /admin/inventory/adjustments   Authorization: Bearer <ADMIN_TOKEN>
//!        {"adjustments": [{sku, warehouse, delta | set_on_hand, reason, external_ref}]}
//!        -> 200 {"results": [...]} (each applied, replayed or refused)
//!   GET  /admin/inventory?sku=…         on hand, reserved, available per warehouse
//!
//! Queue `edgeshop-alerts` (consume.rs): low-stock alerts and failed
//! fulfillments are posted to the staff's webhook (Slack-compatible JSON,
//! ALERT_WEBHOOK_URL) and recorded; abandoned-cart messages become recovery
//! emails (EMAIL_API_BASE) with a signed restore link; back-in-stock
//! messages become an email to the shopper who wishlisted the SKU
//! (back_in_stock.rs), recorded once in `alerts`.
//! Cron (recovery.rs): queues one recovery message per abandoned cart. Dev
//! builds also answer `POST /admin/inventory/__dev/scheduled` (the same job).

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, MessageBatch, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod back_in_stock;
mod consume;
mod inventory;
mod recovery;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Post, ["admin", "inventory", "adjustments"]) => inventory::adjust(call).await,
        (Method::Get | Method::Head, ["admin", "inventory"]) => inventory::levels(call).await,
        #[cfg(feature = "dev")]
        (Method::Post, ["admin", "inventory", "__dev", "scheduled"]) => recovery::run_job(call).await,
        (_, ["admin", "inventory", "adjustments"]) => Err(no_route(&path, Some("POST"))),
        (_, ["admin", "inventory"]) => Err(no_route(&path, Some("GET, HEAD"))),
        (_, _) => Err(no_route(&path, None)),
    }
}

/// Every message is decided on its own and the handler always returns
/// `Ok(())`: an `Err` from a Rust queue handler aborts the module and
/// redelivers the whole batch.
#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    consume::batch(batch, &env).await;
    Ok(())
}

/// Queues the recovery of carts idle past the configured time.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    recovery::scan(&env).await;
}

//! Orders after checkout: the order state machine and its history, the
//! outbox that feeds the queues, fulfillment (shipments through a carrier),
//! the carrier's delivery webhook, and the store's views of its orders.
//!
//! Pure and natively tested. The `worker` feature adds the Workers glue
//! (sending outbox messages to Cloudflare Queues, the carrier over `fetch`);
//! the database side is SQL (`sql/*.sql`).

pub mod alerts;
pub mod cancel;
pub mod carrier_webhook;
pub mod dashboard;
pub mod fulfillment;
pub mod machine;
pub mod outbox;
pub mod shipping;
pub mod status;
pub mod view;

#[cfg(feature = "worker")]
pub mod queue;

pub use machine::{next, IllegalTransition, OrderEvent};
pub use status::OrderStatus;

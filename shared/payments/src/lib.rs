//! Payments: one gateway trait with a Stripe and a PayPal implementation,
//! the providers' webhook signatures, their events in one shape, and the
//! order's payment lifecycle (which event does what to which order).
//!
//! Pure and natively tested. The `worker` feature adds the Workers glue
//! (outbound HTTP, the token cache in KV); the database side is SQL
//! (`sql/*.sql`), called by the orders and webhooks workers.

pub mod apply;
pub mod events;
pub mod gateway;
pub mod lifecycle;
pub mod order_token;
pub mod paypal;
pub mod paypal_signature;
pub mod provider;
pub mod queries;
pub mod retry;
pub mod signature;
pub mod signing_certificate;
pub mod stripe;
pub mod stripe_signature;

#[cfg(feature = "worker")]
pub mod fetch;
#[cfg(feature = "worker")]
pub mod outbound;
#[cfg(feature = "worker")]
pub mod paypal_webcrypto;
#[cfg(feature = "worker")]
pub mod process;

pub use gateway::{
    gateway_for, Captured, CreatedPayment, Gateway, GatewayConfig, GatewayError, HttpCall,
    HttpMethod, HttpReply, NewPayment, NextStep, PayPalConfig, RefundOutcome, RefundRequest,
    RefundState, StripeConfig, TokenCache, Transport, TransportError,
};
pub use lifecycle::{decide, Decision, EventKind, Facts, OrderStatus};
pub use provider::Provider;
pub use retry::{RetryPolicy, Retrying};

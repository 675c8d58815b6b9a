//! The order state machine: the one place that knows which status may follow
//! which, and why.
//!
//! ```text
//! pending_payment ──paid──> paid ──start_fulfillment──> fulfilling ──ship──> shipped ──deliver──> delivered
//!       │                   │  └─refund─> partially_refunded ─refund─> refunded
//!       │                   │                    └──start_fulfillment──> fulfilling
//!       └──expire/cancel──> cancelled <──cancel── (paid, partially_refunded, fulfilling)
//!                           cancelled ──late_payment──> paid   (money came after expiry; stock taken again)
//! ```
//!
//! `payment_failed` and `needs_review` are not states: as the payments
//! issue defined them, a failed attempt leaves the order `pending_payment`
//! (the shopper may retry until the reservation expires), and review is a
//! flag (`orders.review_reason`) on whatever state the order is in.
//!
//! Refunds after shipping (returns) do not change the status: the refund is
//! on the payment. The SQL that moves orders (stored functions) checks every
//! change against `sql/order_transitions.sql`, which a test below keeps equal
//! to this table.

use serde::{Deserialize, Serialize};

use crate::status::OrderStatus;

/// Something that happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderEvent {
    /// The provider captured the order's total.
    PaymentSucceeded,
    /// The money came after the reservation expired, and the stock could be
    /// taken again.
    LatePayment,
    /// The reservation expired unpaid (the checkout cron).
    ReservationExpired,
    /// Staff (or, later, the shopper) cancelled the order.
    Cancel,
    /// The fulfillment consumer took the order.
    StartFulfillment,
    /// The carrier booked the shipment: it has a tracking number.
    Ship,
    /// The carrier says it arrived.
    Deliver,
    /// Part of the payment was refunded (before shipping).
    PartialRefund,
    /// All of the payment was refunded (before shipping).
    FullRefund,
}

impl OrderEvent {
    pub const ALL: [OrderEvent; 9] = [
        OrderEvent::PaymentSucceeded,
        OrderEvent::LatePayment,
        OrderEvent::ReservationExpired,
        OrderEvent::Cancel,
        OrderEvent::StartFulfillment,
        OrderEvent::Ship,
        OrderEvent::Deliver,
        OrderEvent::PartialRefund,
        OrderEvent::FullRefund,
    ];

    /// The history's `cause` (snake_case).
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderEvent::PaymentSucceeded => "payment_succeeded",
            OrderEvent::LatePayment => "late_payment",
            OrderEvent::ReservationExpired => "reservation_expired",
            OrderEvent::Cancel => "cancel",
            OrderEvent::StartFulfillment => "start_fulfillment",
            OrderEvent::Ship => "ship",
            OrderEvent::Deliver => "deliver",
            OrderEvent::PartialRefund => "partial_refund",
            OrderEvent::FullRefund => "full_refund",
        }
    }
}

/// An event the order's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

impl std::fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an order that is {} cannot take {}",
            self.from.as_str(),
            self.event.as_str()
        )
    }
}

/// The rule: the status `event` moves an order in status `from` to.
pub fn next(from: OrderStatus, event: OrderEvent) -> Result<OrderStatus, IllegalTransition> {
    use OrderEvent as E;
    use OrderStatus::*;
    let to = match (from, event) {
        (PendingPayment, E::PaymentSucceeded) => Paid,
        (Cancelled, E::LatePayment) => Paid,
        (PendingPayment, E::ReservationExpired) => Cancelled,
        (PendingPayment | Paid | PartiallyRefunded | Fulfilling, E::Cancel) => Cancelled,
        (Paid | PartiallyRefunded, E::StartFulfillment) => Fulfilling,
        (Fulfilling, E::Ship) => Shipped,
        (Shipped, E::Deliver) => Delivered,
        (Paid | PartiallyRefunded, E::PartialRefund) => PartiallyRefunded,
        (Paid | PartiallyRefunded, E::FullRefund) => Refunded,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

/// The statuses `event` may happen in (what a SQL statement that carries
/// the event out accepts as the order's current status).
pub fn sources(event: OrderEvent) -> Vec<OrderStatus> {
    OrderStatus::ALL
        .into_iter()
        .filter(|from| next(*from, event).is_ok())
        .collect()
}

/// Every (from, to) pair some event allows, status changes only: what the
/// database's guard (`order_transition_allowed`) must accept.
pub fn allowed_changes() -> Vec<(OrderStatus, OrderStatus)> {
    let mut pairs = Vec::new();
    for from in OrderStatus::ALL {
        for event in OrderEvent::ALL {
            if let Ok(to) = next(from, event) {
                if to != from && !pairs.contains(&(from, to)) {
                    pairs.push((from, to));
                }
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests;

//! The fulfillment consumer's rules: what to do with a message for an order
//! in a given state, how long to wait before the next try, and its SQL
//! (`sql/fulfillment.sql`).
//!
//! A message is delivered at least once. The order row says whether it was
//! handled: a shipment exists (ack), the order is not to be shipped (ack),
//! or it is `fulfilling` and needs a label (book it, with the order's
//! idempotency key at the carrier).
//!
//! An order cancelled while its label was being booked must not keep a paid
//! label: the label is voided at the carrier, whichever delivery learns of it
//! (the one that booked it, or a retry that finds a label booked by a try
//! whose answer was lost).

use platform::{ApiError, FromRow, Row, Statement};
use serde::Deserialize;

use crate::machine::{sources, OrderEvent};
use crate::outbox::OutboxMessage;
use crate::shipping::{BookedShipment, ShipTo, ShipmentRequest};
use crate::status::OrderStatus;

/// `fulfillment_start`'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Facts {
    pub found: bool,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub public_id: Option<String>,
    /// Deliveries of this order's message so far, this one included.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub ship_to: Option<serde_json::Value>,
    #[serde(default)]
    pub items: u32,
    #[serde(default)]
    pub shipment: Option<ShipmentFacts>,
}

/// The order's shipment, as far as the consumer cares.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShipmentFacts {
    pub label_id: String,
    /// Booked for an order that will not ship, and not voided yet.
    pub void_pending: bool,
}

/// What the consumer does with the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Call the carrier.
    Carrier(CarrierWork),
    /// Nothing to do (already shipped, or not an order to ship): ack.
    Done(&'static str),
    /// It can never succeed: record the failure now, alert, ack.
    Fail(String),
}

/// What the carrier is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum CarrierWork {
    /// Book a label.
    Book(ShipmentRequest),
    /// The order will not ship, but has a label: void it.
    Void { public_id: String, label_id: String },
    /// The order was cancelled after an earlier delivery asked for its
    /// label; that try may have booked one and lost the answer. Look it up
    /// (by the order's public id) and void it if it exists.
    VoidIfBooked { public_id: String },
}

pub fn plan(facts: &Facts) -> Step {
    if !facts.found {
        return Step::Done("unknown_order");
    }
    let Some(public_id) = facts.public_id.clone() else {
        return Step::Fail("the order has no public id".into());
    };
    match &facts.shipment {
        Some(s) if s.void_pending => {
            return Step::Carrier(CarrierWork::Void {
                public_id,
                label_id: s.label_id.clone(),
            })
        }
        Some(_) => return Step::Done("already_shipped"),
        None => {}
    }
    let status = facts.status.as_deref().and_then(OrderStatus::parse);
    // Not the first delivery: the last one may have booked the label.
    let may_be_booked = facts.attempts > 1;
    if status == Some(OrderStatus::Cancelled) && may_be_booked {
        return Step::Carrier(CarrierWork::VoidIfBooked { public_id });
    }
    if status != Some(OrderStatus::Fulfilling) {
        // Cancelled, refunded, or not paid: there is nothing to ship.
        return Step::Done("not_fulfillable");
    }
    let ship_to = facts
        .ship_to
        .clone()
        .and_then(|v| serde_json::from_value::<ShipTo>(v).ok());
    match ship_to {
        Some(ship_to) => Step::Carrier(CarrierWork::Book(ShipmentRequest {
            public_id,
            ship_to,
            items: facts.items,
            may_be_booked,
        })),
        None => Step::Fail("the order has no usable shipping address".into()),
    }
}

/// The wait before delivery number `attempts + 1`: `base` doubled for each
/// delivery so far, at most 15 minutes (the carrier is down, not slow).
pub fn retry_delay_secs(attempts: u32, base_secs: u32) -> u32 {
    const MAX: u32 = 15 * 60;
    let doublings = attempts.saturating_sub(1).min(16);
    base_secs.max(1).saturating_mul(1 << doublings).min(MAX)
}

/// Locks the order, counts the delivery, moves a paid order to
/// `fulfilling` (the machine's sources of `start_fulfillment`). One row: `Facts`.
pub fn start(order_id: i64) -> Statement {
    let startable: Vec<&str> = sources(OrderEvent::StartFulfillment)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let mut s = Statement::new();
    let o = s.bind(order_id.to_string());
    let from = s.bind(format!("{{{}}}", startable.join(",")));
    s.push_sql(&format!(
        "SELECT fulfillment_start({o}::bigint, {from}::text[])::text AS outcome"
    ));
    s
}

/// Staff release an order to the carrier (or retry after a failure): the
/// statuses allowed are where `start_fulfillment` may happen, and
/// `fulfilling` (a failed one). One row: `Outcome<Requested>`.
pub fn request(public_id: &str) -> Statement {
    let mut allowed: Vec<&str> = sources(OrderEvent::StartFulfillment)
        .iter()
        .map(|s| s.as_str())
        .collect();
    allowed.push(OrderStatus::Fulfilling.as_str());
    let mut s = Statement::new();
    let id = s.bind(public_id);
    let allowed = s.bind(format!("{{{}}}", allowed.join(",")));
    s.push_sql(&format!(
        "SELECT request_fulfillment({id}, {allowed}::text[])::text AS outcome"
    ));
    s
}

/// `request_fulfillment`'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requested {
    Queued { outbox: Vec<OutboxMessage> },
    Refused { status: u16, code: String, message: String },
}

/// The label is booked: store it, ship the order.
pub fn record_shipment(order_id: i64, shipment: &BookedShipment) -> Statement {
    let mut s = Statement::new();
    let o = s.bind(order_id.to_string());
    let p = s.bind(serde_json::to_string(shipment).expect("plain data serializes"));
    s.push_sql(&format!(
        "SELECT record_shipment({o}::bigint, {p}::jsonb)::text AS outcome"
    ));
    s
}

/// The carrier voided the label of an order that will not ship.
/// One row: `Outcome<Voided>`.
pub fn record_label_voided(order_id: i64) -> Statement {
    let mut s = Statement::new();
    let o = s.bind(order_id.to_string());
    s.push_sql(&format!("SELECT record_label_voided({o}::bigint)::text AS outcome"));
    s
}

/// `record_label_voided`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Voided {
    pub voided: bool,
}

/// The message is dead: record why on the order, queue one alert.
pub fn record_failure(order_id: i64, error: &str) -> Statement {
    let mut s = Statement::new();
    let o = s.bind(order_id.to_string());
    let e = s.bind(error);
    s.push_sql(&format!(
        "SELECT record_fulfillment_failure({o}::bigint, {e})::text AS outcome"
    ));
    s
}

/// The carrier delivered the parcel with this tracking number.
pub fn record_delivery(tracking_number: &str, occurred_at: Option<&str>) -> Statement {
    let mut s = Statement::new();
    let t = s.bind(tracking_number);
    let at = match occurred_at {
        Some(at) => s.bind(at),
        None => s.bind_null(),
    };
    s.push_sql(&format!(
        "SELECT record_delivery({t}, {at}::timestamptz)::text AS outcome"
    ));
    s
}

/// `record_delivery`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivery {
    pub outcome: String,
}

/// `record_shipment`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Recorded {
    pub recorded: bool,
    pub status: String,
}

/// `record_fulfillment_failure`'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FailureRecorded {
    pub recorded: bool,
    pub outbox: Vec<OutboxMessage>,
}

/// A one-column `outcome` row holding JSON.
pub struct Outcome<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRow for Outcome<T> {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("outcome")?)
            .map(Outcome)
            .map_err(|e| ApiError::internal(format!("orders SQL answered: {e}")))
    }
}

#[cfg(test)]
mod tests;

//! Booking a shipment with a carrier: one trait, and a ShipStation API v2
//! (ShipEngine) style adapter. Like the payment gateways, the adapter builds
//! `HttpCall`s and reads `HttpReply`s; a `Transport` sends them (`fetch` in a
//! Worker, a scripted one in the tests below).
//!
//! Idempotency: ShipStation has no idempotency key, but `external_shipment_id`
//! (our order's public id) is unique per account and labels can be found by
//! it (`GET /v2/labels/external_shipment_id/{id}`). So a delivery that may
//! follow a booked label (any retry: the last try may have booked and lost
//! the answer) looks the label up first, and a booking refused because the
//! id is taken looks it up too: one label per order, whatever was lost. The
//! `shipments` table's unique `order_id` is the last line of defence. The
//! `Idempotency-Key` header is sent as well, for carriers that honour one.
//!
//! Voiding (`PUT /v2/labels/{label_id}/void`): a label booked for an order
//! cancelled meanwhile is voided, and the carrier refunds it. The answer is
//! 200 with `approved` true or false; a label voided already (a retried
//! void) counts as voided.

use async_trait::async_trait;
use platform::outbound::{HttpCall, HttpMethod, HttpReply, Transport, TransportError};
use serde::{Deserialize, Serialize};

/// What the carrier needs to know (from `orders.shipping_address`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShipTo {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRequest {
    /// The order's public id: the carrier's idempotency key and reference.
    pub public_id: String,
    pub ship_to: ShipTo,
    /// Items in the parcel (the weight estimate: 16 oz each).
    pub items: u32,
    /// An earlier delivery may have booked the label: look it up first.
    pub may_be_booked: bool,
}

/// A booked label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedShipment {
    pub carrier: String,
    pub service: String,
    pub tracking_number: String,
    pub label_id: String,
    pub label_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarrierError {
    /// No answer, a timeout, 429 or 5xx: try again later (same key).
    Unavailable(String),
    /// The carrier refused the request (4xx): trying again changes nothing.
    Rejected { status: u16, message: String },
}

impl CarrierError {
    pub fn detail(&self) -> String {
        match self {
            CarrierError::Unavailable(d) => format!("carrier unavailable: {d}"),
            CarrierError::Rejected { status, message } => {
                format!("carrier refused the shipment ({status}): {message}")
            }
        }
    }
}

#[async_trait(?Send)]
pub trait ShippingProvider {
    async fn book(&self, request: &ShipmentRequest) -> Result<BookedShipment, CarrierError>;
    /// The label booked for this order (its public id), if any.
    async fn find(&self, public_id: &str) -> Result<Option<BookedShipment>, CarrierError>;
    /// Voids a label (the carrier refunds it).
    async fn void(&self, public_id: &str, label_id: &str) -> Result<(), CarrierError>;
}

/// Where we ship from and how (config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierConfig {
    /// e.g. `https://api.shipengine.com` (locally, the fake).
    pub api_base: String,
    pub api_key: String,
    pub service_code: String,
}

pub struct ShipEngine<'a, T: Transport> {
    pub config: &'a CarrierConfig,
    pub transport: &'a T,
}

impl<T: Transport> ShipEngine<'_, T> {
    /// The label booked for this order, if any.
    pub fn lookup_call(&self, public_id: &str) -> HttpCall {
        HttpCall {
            method: HttpMethod::Get,
            url: format!(
                "{}/v2/labels/external_shipment_id/{}",
                self.config.api_base.trim_end_matches('/'),
                public_id
            ),
            headers: vec![("API-Key".into(), self.config.api_key.clone())],
            body: None,
        }
    }

    /// Voids the label. The Idempotency-Key names the order, as the
    /// booking's does (a carrier that honours keys sees one void).
    pub fn void_call(&self, public_id: &str, label_id: &str) -> HttpCall {
        HttpCall {
            method: HttpMethod::Put,
            url: format!(
                "{}/v2/labels/{}/void",
                self.config.api_base.trim_end_matches('/'),
                label_id
            ),
            headers: vec![
                ("API-Key".into(), self.config.api_key.clone()),
                ("Idempotency-Key".into(), format!("order-{public_id}-void")),
            ],
            body: None,
        }
    }

    pub fn call(&self, r: &ShipmentRequest) -> HttpCall {
        let body = serde_json::json!({
            "external_shipment_id": r.public_id,
            "shipment": {
                "service_code": self.config.service_code,
                "ship_to": {
                    "name": r.ship_to.name,
                    "address_line1": r.ship_to.line1,
                    "address_line2": r.ship_to.line2,
                    "city_locality": r.ship_to.city,
                    "state_province": r.ship_to.state,
                    "postal_code": r.ship_to.postal_code,
                    "country_code": r.ship_to.country,
                },
                "packages": [{"weight": {"value": 16 * r.items.max(1), "unit": "ounce"}}],
            },
        });
        HttpCall {
            method: HttpMethod::Post,
            url: format!("{}/v2/labels", self.config.api_base.trim_end_matches('/')),
            headers: vec![
                ("API-Key".into(), self.config.api_key.clone()),
                ("Content-Type".into(), "application/json".into()),
                ("Idempotency-Key".into(), format!("order-{}", r.public_id)),
            ],
            body: Some(body.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct LabelReply {
    label_id: String,
    tracking_number: String,
    carrier_code: String,
    service_code: String,
    label_download: Option<LabelDownload>,
}

#[derive(Deserialize)]
struct LabelDownload {
    href: Option<String>,
}

/// ShipEngine's error body: `{"errors": [{"message": ...}]}`.
#[derive(Deserialize)]
struct ErrorReply {
    errors: Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    message: String,
}

/// The void's answer: `{"approved", "message", "reason_code"}`.
#[derive(Deserialize)]
struct VoidReply {
    approved: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason_code: Option<String>,
}

/// The void's answer read: voided (now or before), or an error.
pub fn read_void(reply: Result<HttpReply, TransportError>) -> Result<(), CarrierError> {
    let reply = reply.map_err(unavailable)?;
    match reply.status {
        200..=299 => {
            let answer: VoidReply = serde_json::from_str(&reply.body)
                .map_err(|e| CarrierError::Unavailable(format!("unreadable void answer: {e}")))?;
            if answer.approved || answer.reason_code.as_deref() == Some("label_already_voided") {
                Ok(())
            } else {
                Err(CarrierError::Rejected {
                    status: reply.status,
                    message: format!(
                        "void not approved ({}): {}",
                        answer.reason_code.as_deref().unwrap_or("unspecified"),
                        answer.message
                    ),
                })
            }
        }
        _ => read_error(reply),
    }
}

fn unavailable(e: TransportError) -> CarrierError {
    CarrierError::Unavailable(match e {
        TransportError::Network(d) => d,
        TransportError::Timeout => "timed out".into(),
    })
}

/// A reply that is not a success: try again (429, 5xx) or refused (4xx).
fn read_error<T>(reply: HttpReply) -> Result<T, CarrierError> {
    match reply.status {
        429 | 500..=599 => Err(CarrierError::Unavailable(format!("HTTP {}", reply.status))),
        status => Err(CarrierError::Rejected {
            status,
            message: serde_json::from_str::<ErrorReply>(&reply.body)
                .ok()
                .and_then(|e| e.errors.into_iter().next())
                .map(|e| e.message)
                .unwrap_or_else(|| format!("HTTP {status}")),
        }),
    }
}

/// The lookup's answer: the label, none (404), or an error.
pub fn read_lookup(
    reply: Result<HttpReply, TransportError>,
) -> Result<Option<BookedShipment>, CarrierError> {
    match reply {
        Ok(r) if r.status == 404 => Ok(None),
        other => read_reply(other).map(Some),
    }
}

/// The carrier's answer, read.
pub fn read_reply(reply: Result<HttpReply, TransportError>) -> Result<BookedShipment, CarrierError> {
    let reply = reply.map_err(unavailable)?;
    match reply.status {
        200..=299 => {
            let label: LabelReply = serde_json::from_str(&reply.body).map_err(|e| {
                // A 2xx we cannot read: retrying gets the same label back
                // (idempotency key), which we may read after a fix.
                CarrierError::Unavailable(format!("unreadable label: {e}"))
            })?;
            Ok(BookedShipment {
                carrier: label.carrier_code,
                service: label.service_code,
                tracking_number: label.tracking_number,
                label_id: label.label_id,
                label_url: label.label_download.and_then(|d| d.href),
            })
        }
        _ => read_error(reply),
    }
}

#[async_trait(?Send)]
impl<T: Transport> ShippingProvider for ShipEngine<'_, T> {
    async fn book(&self, request: &ShipmentRequest) -> Result<BookedShipment, CarrierError> {
        if request.may_be_booked {
            if let Some(label) = self.find(&request.public_id).await? {
                return Ok(label);
            }
        }
        match read_reply(self.transport.send(&self.call(request)).await) {
            // Refused: perhaps because this order's label exists (the id is
            // unique per account), booked by a delivery running alongside.
            Err(refused @ CarrierError::Rejected { status: 400 | 409, .. }) => {
                self.find(&request.public_id).await?.ok_or(refused)
            }
            other => other,
        }
    }

    async fn find(&self, public_id: &str) -> Result<Option<BookedShipment>, CarrierError> {
        read_lookup(self.transport.send(&self.lookup_call(public_id)).await)
    }

    async fn void(&self, public_id: &str, label_id: &str) -> Result<(), CarrierError> {
        read_void(self.transport.send(&self.void_call(public_id, label_id)).await)
    }
}

#[cfg(test)]
mod tests;

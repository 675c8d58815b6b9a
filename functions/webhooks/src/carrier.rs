//! `POST /webhooks/carrier`: the carrier says a parcel arrived. Verified
//! (`orders::carrier_webhook`), then one statement marks the order
//! delivered, once: a repeat answers `duplicate`.

use orders::carrier_webhook::{self, DeliveryEvent};
use orders::fulfillment::{self, Delivery, Outcome};
use platform::serve::Call;
use platform::{respond, secrets, ApiError, Result};
use serde_json::json;
use worker::{Date, Response};

pub async fn receive(call: &mut Call) -> Result<Response> {
    let body = call.body().await?;
    let secret = secrets::required(&call.env, secrets::CARRIER_WEBHOOK)?;
    let now = (Date::now().as_millis() / 1000) as i64;
    carrier_webhook::verify(
        call.header("x-carrier-timestamp").as_deref(),
        call.header("x-carrier-signature").as_deref(),
        &body,
        &secret,
        now,
    )
    .map_err(|e| e.to_api_error())?;
    let event = DeliveryEvent::parse(&body)?;
    if event.kind != "shipment.delivered" {
        call.log.info("carrier_event_ignored", json!({"type": event.kind, "event": event.event_id}));
        return Ok(answer(&event, "ignored"));
    }
    let outcome = call
        .db
        .write::<Outcome<Delivery>>(&fulfillment::record_delivery(
            &event.tracking_number,
            event.occurred_at.as_deref(),
        ))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("record_delivery returned nothing"))?
        .0
        .outcome;
    if outcome == "unknown_tracking_number" || outcome == "not_shipped" {
        // Stored nowhere, answered 200: the carrier retrying would not help.
        call.log.error("carrier_event_unmatched", json!({"event": event.event_id, "outcome": outcome}));
    } else {
        call.log.info("carrier_event", json!({"event": event.event_id, "outcome": outcome}));
    }
    Ok(answer(&event, &outcome))
}

fn answer(event: &DeliveryEvent, outcome: &str) -> Response {
    respond::private_json(
        200,
        json!({"received": true, "event_id": event.event_id, "outcome": outcome}).to_string(),
    )
}

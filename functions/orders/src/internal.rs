//! Routes for the other workers only (the webhooks worker, over its
//! service binding), under `/internal/`: the edge routes no such prefix,
//! and the orders worker has no public route of its own, so nothing outside
//! reaches them. They are what applying an event needs from the gateways,
//! which live here and not in the webhooks worker's wasm.
//!
//!   POST /internal/capture  {"provider", "payment_ref"}
//!        -> 200 {"capture_id", "amount", "currency", "completed"} | 204 (no capture needed)
//!        | the gateway's error (409 for PayPal's ORDER_ALREADY_CAPTURED)
//!   POST /internal/refunds  {"refund_ids": [..]} -> 200 {"sent": n}

use payments::gateway::GatewayError;
use payments::outbound::Outbound;
use payments::process::PaymentActions;
use payments::queries::RefundsDue;
use payments::Provider;
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Result};
use serde::Deserialize;
use serde_json::json;
use worker::Response;

#[derive(Deserialize)]
struct CaptureBody {
    provider: String,
    payment_ref: String,
}

#[derive(Deserialize)]
struct RefundsBody {
    refund_ids: Vec<i64>,
}

pub async fn capture(call: &mut Call) -> Result<Response> {
    let body: CaptureBody = call.json().await?;
    let provider = Provider::parse(&body.provider)?;
    let outbound = Outbound {
        env: &call.env,
        db: &call.db,
        log: &call.log,
    };
    match outbound.capture(provider, &body.payment_ref).await {
        Ok(Some(c)) => Ok(respond::private_json(
            200,
            json!({"capture_id": c.capture_id, "amount": c.amount.amount.to_string(),
                   "currency": c.amount.currency.as_str(), "completed": c.completed})
            .to_string(),
        )),
        Ok(None) => Ok(respond::private_json(204, Vec::new())),
        Err(GatewayError::Rejected { code, message, .. }) if code == "ORDER_ALREADY_CAPTURED" => {
            Err(ApiError::conflict("already_captured", message))
        }
        Err(e) => Err(e.to_api_error(provider)),
    }
}

pub async fn refunds(call: &mut Call) -> Result<Response> {
    let body: RefundsBody = call.json().await?;
    let outbound = Outbound {
        env: &call.env,
        db: &call.db,
        log: &call.log,
    };
    let sent = outbound
        .send_refunds(RefundsDue::Ids(&body.refund_ids))
        .await;
    Ok(respond::private_json(
        200,
        json!({"sent": sent.len()}).to_string(),
    ))
}

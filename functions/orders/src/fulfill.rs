//! `POST /admin/orders/{id}/fulfill`: staff send a paid order to the
//! carrier: a store with manual fulfillment releases its orders this way,
//! and any store retries one whose fulfillment failed (the dead-letter
//! queue recorded it; the address or the carrier was fixed). The message
//! goes through the outbox like the automatic one.

use orders::fulfillment::{self, Outcome, Requested};
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Result};
use serde_json::json;
use worker::Response;

use crate::access;

pub async fn create(call: &mut Call, id: &str) -> Result<Response> {
    access::require_admin(call)?;
    let public_id = access::order_id(id)?;
    let answer = call
        .db
        .write::<Outcome<Requested>>(&fulfillment::request(&public_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("request_fulfillment returned nothing"))?
        .0;
    match answer {
        Requested::Refused { status: 404, .. } => Err(access::not_found()),
        Requested::Refused { code, message, .. } if code == "not_fulfillable" => {
            Err(ApiError::conflict("not_fulfillable", message))
        }
        Requested::Refused { status, code, .. } => Err(ApiError::internal(format!(
            "request_fulfillment refused with {status} {code}"
        ))),
        Requested::Queued { outbox } => {
            orders::queue::send_and_mark(&call.env, &call.db, &call.log, &outbox).await;
            Ok(respond::private_json(
                202,
                json!({"order_id": public_id, "fulfillment": "queued"}).to_string(),
            ))
        }
    }
}

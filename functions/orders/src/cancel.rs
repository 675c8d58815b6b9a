//! `POST /admin/orders/{id}/cancel` {"reason": "..."}: staff cancel an order
//! that has not shipped. Its stock goes back (released if only reserved,
//! restocked if it was paid) and the money taken is refunded through the
//! refund path (key `cancel`, so a repeat asks for no second refund).
//! Cancelling a cancelled order answers 200 and changes nothing.

use orders::cancel::{self, Cancelled};
use payments::outbound::Outbound;
use payments::process::Outcome;
use payments::queries::RefundsDue;
use platform::body::{from_object, json_object, Field};
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Result};
use serde::Deserialize;
use serde_json::json;
use worker::Response;

use crate::access;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: Field<String>,
}

pub async fn create(call: &mut Call, id: &str) -> Result<Response> {
    access::require_admin(call)?;
    let public_id = access::order_id(id)?;
    let body: CancelBody = from_object(json_object(&call.body().await?)?)?;
    let reason = body
        .reason
        .required(|| ApiError::bad_request("reason_required", "say why the order is cancelled"))?;
    if reason.trim().is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_reason",
            "reason must be 1-500 characters of text",
        ));
    }
    let answer = call
        .db
        .write::<Outcome<Cancelled>>(&cancel::cancel(&public_id, reason.trim()))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("cancel_order returned nothing"))?
        .0;
    match answer {
        Cancelled::Refused { status: 404, .. } => Err(access::not_found()),
        Cancelled::Refused { code, message, .. } if code == "not_cancellable" => {
            Err(ApiError::conflict("not_cancellable", message))
        }
        Cancelled::Refused { status, code, .. } => Err(ApiError::internal(format!(
            "cancel_order refused with {status} {code}"
        ))),
        Cancelled::Already(_) => Ok(respond::private_json(
            200,
            json!({"order_id": public_id, "status": "cancelled", "already_cancelled": true}).to_string(),
        )),
        Cancelled::Cancelled { from, refunds_due } => {
            // Committed with the cancellation; the provider now (a refund it
            // does not take now stays `requested` and the cron sends it).
            let refunds = if refunds_due.is_empty() {
                Vec::new()
            } else {
                Outbound {
                    env: &call.env,
                    db: &call.db,
                    log: &call.log,
                }
                .send_refunds(RefundsDue::Ids(&refunds_due))
                .await
            };
            call.log.info(
                "order_cancelled",
                json!({"order": public_id, "from": from, "refunds": refunds_due.len()}),
            );
            Ok(respond::private_json(
                200,
                json!({"order_id": public_id, "status": "cancelled", "from": from,
                       "already_cancelled": false,
                       "refunds": refunds.iter().map(|r| json!({"refund_id": r.refund_id, "status": r.status, "amount": r.amount, "currency": r.currency})).collect::<Vec<_>>(),
                       "refunds_requested": refunds_due.len()})
                .to_string(),
            ))
        }
    }
}

//! `POST /admin/orders/{id}/refunds`: a full or partial refund through the
//! order's gateway. The database accepts it only within what was captured
//! (`request_refund`: the order row, then the payment row, locked; a CHECK
//! on the payment), then the provider is called with the key `refund-<id>`.
//! A provider that cannot be reached leaves the refund `requested`; the cron
//! sends it again.

use payments::apply::RefundRecord;
use payments::outbound::Outbound;
use payments::process::Outcome;
use payments::queries::{self, RefundsDue};
use platform::body::{from_object, json_object, Field};
use platform::db::Db;
use platform::money::Amount;
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Log, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Response};

use crate::access;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    #[serde(default)]
    amount: Field<String>,
    #[serde(default)]
    reason: Field<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Requested {
    Requested(RefundRecord),
    Replayed(RefundRecord),
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

pub async fn create(call: &mut Call, id: &str) -> Result<Response> {
    access::require_admin(call)?;
    let public_id = access::order_id(id)?;
    let key = access::idempotency_key(call)?;
    let body: RefundBody = from_object(json_object(&call.body().await?)?)?;
    let amount = body
        .amount
        .optional(|| {
            ApiError::bad_request(
                "invalid_amount",
                "amount must be a decimal string such as \"12.34\"",
            )
        })?
        .map(|a| Amount::parse(&a))
        .transpose()?;
    if amount.is_some_and(|a| a.decimal().is_zero()) {
        return Err(ApiError::bad_request(
            "invalid_amount",
            "a refund must be more than 0",
        ));
    }
    let reason = body
        .reason
        .required(|| ApiError::bad_request("reason_required", "say why the order is refunded"))?;
    if reason.trim().is_empty()
        || reason.chars().count() > 500
        || reason.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "invalid_reason",
            "reason must be 1-500 characters of text",
        ));
    }

    let input = json!({
        "order_id": public_id,
        "amount": amount.map(|a| a.to_string()),
        "reason": reason.trim(),
        "idempotency_key": key.as_str(),
    });
    let rows: Vec<Outcome<Requested>> = call.db.write(&queries::request_refund(&input)).await?;
    let requested = rows
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("request_refund returned nothing"))?
        .0;
    let refund = match requested {
        Requested::Refused {
            status,
            code,
            message,
        } => return Err(refusal(status, &code, message)),
        Requested::Replayed(r) => return Ok(answer(200, &r)),
        Requested::Requested(r) => r,
    };
    let work = Outbound {
        env: &call.env,
        db: &call.db,
        log: &call.log,
    };
    // The refund exists; if the provider cannot be reached now, the cron
    // sends it again (202: accepted, not settled).
    match work.send_refund(&refund).await {
        Ok(done) => Ok(answer(
            if done.status == "requested" { 202 } else { 201 },
            &done,
        )),
        Err(e) => {
            call.log.warn(
                "refund_record_failed",
                json!({"refund": refund.refund_id, "code": e.code}),
            );
            Ok(answer(202, &refund))
        }
    }
}

fn refusal(status: u16, code: &str, message: String) -> ApiError {
    match (status, code) {
        (404, _) => access::not_found(),
        (_, "order_not_paid") => ApiError::conflict("order_not_paid", message),
        (_, "nothing_to_refund") => ApiError::conflict("nothing_to_refund", message),
        (_, "refund_exceeds_captured") => ApiError::conflict("refund_exceeds_captured", message),
        _ => ApiError::internal(format!("request_refund refused with {status} {code}")),
    }
}

fn answer(status: u16, refund: &RefundRecord) -> Response {
    let body: Value = serde_json::to_value(refund).unwrap_or_default();
    respond::private_json(status, body.to_string())
}

/// Seconds a refund waits `requested` before the cron sends it again: the
/// request that asked for it may still be talking to the provider.
const RETRY_AFTER_SECS: u32 = 60;

/// The cron: refunds still `requested` a minute after their last try.
pub async fn send_due(env: &Env) {
    let log = Log::new(&platform::request_id::new_id());
    let db = Db::new(env, log.clone());
    let work = Outbound {
        env,
        db: &db,
        log: &log,
    };
    let sent = work
        .send_refunds(RefundsDue::Waiting {
            min_age_secs: RETRY_AFTER_SECS,
        })
        .await;
    if !sent.is_empty() {
        log.info("refunds_sent", json!({"count": sent.len()}));
    }
}

/// Dev builds: the cron's job on demand. `?min_age_secs=0` sends every
/// waiting refund at once (tests do not wait a minute).
#[cfg(feature = "dev")]
pub async fn run_job(call: &mut Call) -> Result<Response> {
    let min_age_secs = call.dev_query_number("min_age_secs").unwrap_or(RETRY_AFTER_SECS);
    let work = Outbound {
        env: &call.env,
        db: &call.db,
        log: &call.log,
    };
    let sent = work
        .send_refunds(RefundsDue::Waiting { min_age_secs })
        .await;
    Ok(respond::private_json(
        200,
        json!({"refunds_sent": sent.len()}).to_string(),
    ))
}

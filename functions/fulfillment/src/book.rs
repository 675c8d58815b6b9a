//! One fulfillment message: book the order's shipment, exactly once.
//!
//! Statement 1 locks the order, counts the delivery and moves it to
//! `fulfilling`; the carrier is asked for a label with the order's
//! idempotency key; statement 2 stores the label and ships the order. A
//! message delivered twice finds the shipment (or the carrier answers the
//! same label), so one shipment is ever booked.

use orders::fulfillment::{self, Facts, FailureRecorded, Outcome, Recorded, Step};
use orders::shipping::{CarrierConfig, CarrierError, ShipEngine, ShippingProvider};
use platform::db::Db;
use platform::outbound_fetch::FetchTransport;
use platform::{secrets, Log};
use serde_json::json;
use worker::{Env, MessageExt, QueueRetryOptionsBuilder, RawMessage};

/// Per carrier call, unless CARRIER_TIMEOUT_MS says otherwise. A label
/// takes a second or two; past this the carrier is in trouble and the next
/// delivery (which looks the label up first) is the better bet.
const CARRIER_TIMEOUT_MS: u64 = 15_000;

pub async fn handle(message: &RawMessage, env: &Env) {
    let log = Log::new(&platform::request_id::new_id());
    let Some(body) = crate::read_message(message, &log) else {
        return;
    };
    let db = Db::new(env, log.clone());
    let fields = json!({"message": message.id(), "order_id": body.order_id, "outbox_id": body.outbox_id});

    let facts: Facts = match db.write::<Outcome<Facts>>(&fulfillment::start(body.order_id)).await {
        Ok(mut rows) if !rows.is_empty() => rows.remove(0).0,
        Ok(_) | Err(_) => {
            log.warn("fulfillment_db_unavailable", fields);
            message.retry_with_options(&delay(env, 1));
            return;
        }
    };
    let request = match fulfillment::plan(&facts) {
        Step::Done(why) => {
            log.info("fulfillment_skipped", json!({"order_id": body.order_id, "why": why}));
            message.ack();
            return;
        }
        Step::Fail(why) => {
            settle_failure(env, &db, &log, message, body.order_id, &why, facts.attempts).await;
            return;
        }
        Step::Book(request) => request,
    };

    let Some(config) = carrier_config(env) else {
        log.error("carrier_not_configured", fields);
        message.retry_with_options(&delay(env, facts.attempts));
        return;
    };
    let timeout_ms = env
        .var("CARRIER_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(CARRIER_TIMEOUT_MS);
    let transport = FetchTransport { timeout_ms };
    let carrier = ShipEngine {
        config: &config,
        transport: &transport,
    };
    match carrier.book(&request).await {
        Ok(label) => {
            match db
                .write::<Outcome<Recorded>>(&fulfillment::record_shipment(body.order_id, &label))
                .await
            {
                Ok(rows) => {
                    let status = rows.first().map(|r| r.0.status.clone());
                    if status.as_deref() != Some("shipped") {
                        // Cancelled while the label was booked: a person voids it.
                        log.error(
                            "label_booked_for_unshippable_order",
                            json!({"order_id": body.order_id, "status": status, "carrier": label.carrier}),
                        );
                    } else {
                        log.info(
                            "order_shipped",
                            json!({"order_id": body.order_id, "carrier": label.carrier,
                                   "attempts": facts.attempts}),
                        );
                    }
                    message.ack();
                }
                Err(_) => {
                    // The next delivery gets the same label back (idempotency key).
                    log.warn("fulfillment_db_unavailable", fields);
                    message.retry_with_options(&delay(env, facts.attempts));
                }
            }
        }
        Err(CarrierError::Unavailable(detail)) => {
            log.warn(
                "carrier_unavailable",
                json!({"order_id": body.order_id, "attempts": facts.attempts, "detail": detail}),
            );
            message.retry_with_options(&delay(env, facts.attempts));
        }
        Err(refused @ CarrierError::Rejected { .. }) => {
            let why = refused.detail();
            settle_failure(env, &db, &log, message, body.order_id, &why, facts.attempts).await;
        }
    }
}

/// Records a failure that retrying cannot fix, and sends its alert.
/// `false` when the database could not record it.
pub async fn record_failure(env: &Env, db: &Db, log: &Log, order_id: i64, why: &str) -> bool {
    log.error("fulfillment_failed", json!({"order_id": order_id, "error": why}));
    match db
        .write::<Outcome<FailureRecorded>>(&fulfillment::record_failure(order_id, why))
        .await
    {
        Ok(rows) => {
            if let Some(Outcome(recorded)) = rows.into_iter().next() {
                orders::queue::send_and_mark(env, db, log, &recorded.outbox).await;
            }
            true
        }
        Err(e) => {
            log.error(
                "fulfillment_failure_not_recorded",
                json!({"order_id": order_id, "detail": e.internal_detail}),
            );
            false
        }
    }
}

/// A failure retrying cannot fix: recorded and acked, or retried if the
/// database could not record it.
async fn settle_failure(
    env: &Env,
    db: &Db,
    log: &Log,
    message: &RawMessage,
    order_id: i64,
    why: &str,
    attempts: u32,
) {
    if record_failure(env, db, log, order_id, why).await {
        message.ack();
    } else {
        message.retry_with_options(&delay(env, attempts));
    }
}

fn delay(env: &Env, attempts: u32) -> worker::QueueRetryOptions {
    let base = env
        .var("FULFILLMENT_RETRY_BASE_SECS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(30);
    QueueRetryOptionsBuilder::new()
        .with_delay_seconds(fulfillment::retry_delay_secs(attempts, base))
        .build()
}

fn carrier_config(env: &Env) -> Option<CarrierConfig> {
    Some(CarrierConfig {
        api_base: env.var("CARRIER_API_BASE").ok()?.to_string(),
        service_code: env.var("CARRIER_SERVICE_CODE").ok()?.to_string(),
        api_key: secrets::get_credential(env, secrets::CARRIER_API_KEY)?,
    })
}

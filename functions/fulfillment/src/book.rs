//! One fulfillment message: book the order's shipment, exactly once.
//!
//! Statement 1 locks the order, counts the delivery and moves it to
//! `fulfilling`; the carrier is asked for a label with the order's
//! idempotency key; statement 2 stores the label and ships the order. A
//! message delivered twice finds the shipment (or the carrier answers the
//! same label), so one shipment is ever booked.
//!
//! An order cancelled while its label was booked does not keep the label:
//! statement 2 marks the shipment to be voided, the carrier voids it, and
//! statement 3 records that. A void that fails is retried like a booking;
//! one the carrier refuses is recorded on the order for a person, with an
//! alert.

use orders::fulfillment::{self, CarrierWork, Facts, FailureRecorded, Outcome, Recorded, Step, Voided};
use orders::shipping::{BookedShipment, CarrierConfig, CarrierError, ShipEngine, ShippingProvider};
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
    let delivery = Delivery {
        env,
        db: &db,
        log: &log,
        message,
        order_id: body.order_id,
        attempts: facts.attempts,
    };
    let work = match fulfillment::plan(&facts) {
        Step::Done(why) => {
            log.info("fulfillment_skipped", json!({"order_id": body.order_id, "why": why}));
            message.ack();
            return;
        }
        Step::Fail(why) => return delivery.failed(&why).await,
        Step::Carrier(work) => work,
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
    match work {
        CarrierWork::Book(request) => match carrier.book(&request).await {
            Ok(label) => delivery.record(&carrier, &request.public_id, &label).await,
            Err(e) => delivery.carrier_failed(e).await,
        },
        CarrierWork::VoidIfBooked { public_id } => match carrier.find(&public_id).await {
            Ok(Some(label)) => delivery.record(&carrier, &public_id, &label).await,
            Ok(None) => {
                log.info("fulfillment_skipped", json!({"order_id": body.order_id, "why": "cancelled_no_label"}));
                message.ack();
            }
            Err(e) => delivery.carrier_failed(e).await,
        },
        CarrierWork::Void { public_id, label_id } => delivery.void(&carrier, &public_id, &label_id).await,
    }
}

/// One delivery of an order's message, and how it settles.
struct Delivery<'a> {
    env: &'a Env,
    db: &'a Db,
    log: &'a Log,
    message: &'a RawMessage,
    order_id: i64,
    attempts: u32,
}

impl Delivery<'_> {
    /// Stores the label; ships the order, or voids the label of an order
    /// cancelled meanwhile.
    async fn record(&self, carrier: &impl ShippingProvider, public_id: &str, label: &BookedShipment) {
        let recorded = self
            .db
            .write::<Outcome<Recorded>>(&fulfillment::record_shipment(self.order_id, label))
            .await;
        match recorded.map(|rows| rows.into_iter().next().map(|r| r.0.status)) {
            Ok(Some(status)) if status == "shipped" => {
                self.log.info(
                    "order_shipped",
                    json!({"order_id": self.order_id, "carrier": label.carrier, "attempts": self.attempts}),
                );
                self.message.ack();
            }
            Ok(status) => {
                self.log.warn(
                    "label_booked_for_unshippable_order",
                    json!({"order_id": self.order_id, "status": status, "label_id": label.label_id}),
                );
                self.void(carrier, public_id, &label.label_id).await;
            }
            Err(_) => {
                // The next delivery gets the same label back (idempotency key).
                self.log.warn("fulfillment_db_unavailable", json!({"order_id": self.order_id}));
                self.retry();
            }
        }
    }

    async fn void(&self, carrier: &impl ShippingProvider, public_id: &str, label_id: &str) {
        match carrier.void(public_id, label_id).await {
            Ok(()) => {
                let voided = self
                    .db
                    .write::<Outcome<Voided>>(&fulfillment::record_label_voided(self.order_id))
                    .await;
                if voided.is_ok() {
                    self.log.info("label_voided", json!({"order_id": self.order_id, "label_id": label_id}));
                    self.message.ack();
                } else {
                    // The next delivery voids again: the carrier answers "already voided".
                    self.log.warn("fulfillment_db_unavailable", json!({"order_id": self.order_id}));
                    self.retry();
                }
            }
            Err(CarrierError::Rejected { status, message }) => {
                let why = format!("the carrier refused to void the label ({status}): {message}");
                self.failed(&why).await
            }
            Err(down) => self.carrier_failed(down).await,
        }
    }

    /// Down or slow: again later. Refused: a person must look.
    async fn carrier_failed(&self, error: CarrierError) {
        match error {
            CarrierError::Unavailable(detail) => {
                self.log.warn(
                    "carrier_unavailable",
                    json!({"order_id": self.order_id, "attempts": self.attempts, "detail": detail}),
                );
                self.retry();
            }
            refused @ CarrierError::Rejected { .. } => self.failed(&refused.detail()).await,
        }
    }

    /// A failure retrying cannot fix: recorded and acked, or retried if the
    /// database could not record it.
    async fn failed(&self, why: &str) {
        if record_failure(self.env, self.db, self.log, self.order_id, why).await {
            self.message.ack();
        } else {
            self.retry();
        }
    }

    fn retry(&self) {
        self.message.retry_with_options(&delay(self.env, self.attempts));
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

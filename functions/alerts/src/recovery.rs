//! Abandoned carts.
//!
//! The cron (`scan`): carts with an email attached longer ago than
//! CART_IDLE_SECS and not yet queued (the `cart_recovery` index in
//! PostgreSQL) are read from the cart worker: one checked out (or gone) is
//! closed; one still open and idle that long is claimed, and its message
//! written to the outbox, in one statement, then sent to the alerts queue.
//! A claim happens once per cart, so a cart is never queued twice, however
//! often the cron runs.
//!
//! The consumer (`send_email`): the recovery email with a signed restore
//! link (`cart::recovery`, CART_RESTORE_SECRET), through the email provider;
//! a redelivered message for a cart already mailed sends nothing, and one
//! delivered while another mails the cart waits (`platform::send_claim`).

use crate::consume::{failed_send, unless_claimed, Settle};
use cart::queries::{self, CartRecoveryClosed, CartRecoveryEmailed, DueCartRecovery, RecoveryContact};
use cart::recovery::{recovery_email, restore_token};
use cart::CartId;
use orders::outbox::OutboxMessage;
use platform::db::Db;
use platform::email::{self, Email, EmailConfig, EmailError};
use platform::outbound::Transport;
use platform::outbound_fetch::FetchTransport;
use platform::{secrets, Log, Row};
use serde_json::json;
use worker::{Date, Env};

/// Carts looked at per run.
const SCAN_BATCH: u32 = 100;
const DEFAULT_IDLE_SECS: u32 = 4 * 3600;
const DEFAULT_RESTORE_TTL_SECS: i64 = 7 * 24 * 3600;

pub async fn scan(env: &Env) {
    let log = Log::new(&platform::request_id::new_id());
    let idle = var(env, "CART_IDLE_SECS").unwrap_or(DEFAULT_IDLE_SECS as i64) as u32;
    run(env, &Db::new(env, log.clone()), &log, idle).await;
}

/// Answers how many carts were queued and closed.
async fn run(env: &Env, db: &Db, log: &Log, idle_secs: u32) -> (usize, usize) {
    let due: Vec<DueCartRecovery> =
        match db.read_primary(&queries::due_cart_recoveries(idle_secs, SCAN_BATCH)).await {
            Ok(rows) => rows,
            Err(e) => {
                log.error("cart_recovery_scan_failed", json!({"detail": e.internal_detail}));
                return (0, 0);
            }
        };
    let now = (Date::now().as_millis() / 1000) as i64;
    let (mut queued, mut closed) = (0, 0);
    for cart in due {
        match cart_state(env, &cart.cart_id).await {
            CartState::Unknown => continue, // the cart worker did not answer: next run
            CartState::Closed => {
                // Counted only by the run that closed it (another may have).
                let rows = db
                    .write::<CartRecoveryClosed>(&queries::close_cart_recovery(&cart.cart_id))
                    .await;
                if rows.is_ok_and(|r| r.first().is_some_and(|c| c.closed)) {
                    closed += 1;
                }
            }
            CartState::Open { updated_at } if now - updated_at < idle_secs as i64 => {}
            CartState::Open { .. } => {
                let claimed = db.write::<ClaimedOutbox>(&queries::claim_cart_recovery(&cart.cart_id)).await;
                if let Ok(Some(ClaimedOutbox(messages))) = claimed.map(|r| r.into_iter().next()) {
                    queued += messages.len();
                    orders::queue::send_and_mark(env, db, log, &messages).await;
                }
            }
        }
    }
    if queued + closed > 0 {
        log.info("cart_recovery_scan", json!({"queued": queued, "closed": closed}));
    }
    (queued, closed)
}

enum CartState {
    Open { updated_at: i64 },
    Closed,
    Unknown,
}

/// The cart as its worker has it (the Durable Object is the truth).
async fn cart_state(env: &Env, id: &CartId) -> CartState {
    let Ok(cart) = env.service("CART") else {
        return CartState::Unknown;
    };
    let Ok(mut resp) = cart.fetch(format!("https://cart/cart/{}", id.as_str()), None).await else {
        return CartState::Unknown;
    };
    match resp.status_code() {
        404 => return CartState::Closed,
        200 => {}
        _ => return CartState::Unknown,
    }
    let Ok(view) = resp.json::<serde_json::Value>().await else {
        return CartState::Unknown;
    };
    match (view["status"].as_str(), view["updated_at"].as_i64()) {
        (Some("open"), Some(updated_at)) => CartState::Open { updated_at },
        (Some(_), _) => CartState::Closed,
        _ => CartState::Unknown,
    }
}

/// `claim_cart_recovery`'s `outbox` column.
struct ClaimedOutbox(Vec<OutboxMessage>);

impl platform::FromRow for ClaimedOutbox {
    fn from_row(row: &Row) -> platform::Result<Self> {
        serde_json::from_str(row.required("outbox")?)
            .map(ClaimedOutbox)
            .map_err(|e| platform::ApiError::internal(format!("claim_cart_recovery answered: {e}")))
    }
}

/// The consumer's side.
pub async fn send_email(env: &Env, log: &Log, cart_id: &str) -> Settle {
    let Ok(cart_id) = CartId::parse(cart_id) else {
        log.error("cart_recovery_bad_id", json!({}));
        return Settle::Ack;
    };
    let (Some(key), Some(config)) = (secrets::get(env, secrets::CART_RESTORE), EmailConfig::from_env(env)) else {
        log.error("cart_recovery_not_configured", json!({}));
        return Settle::Retry;
    };
    let db = Db::new(env, log.clone());
    let contact: Option<RecoveryContact> = match db.write(&queries::claim_recovery_email(&cart_id)).await {
        Ok(rows) => rows.into_iter().next(),
        Err(_) => return Settle::Retry,
    };
    let Some(contact) = contact else {
        return Settle::Ack; // no such cart
    };
    if let Some(done) = unless_claimed(contact.claim, log, &json!({"notice": "cart_recovery"})) {
        return done;
    }
    let ttl = var(env, "CART_RESTORE_TTL_SECS").unwrap_or(DEFAULT_RESTORE_TTL_SECS);
    let expires = (Date::now().as_millis() / 1000) as i64 + ttl;
    let origin = env.var("SHOP_ORIGIN").map(|v| v.to_string()).unwrap_or_default();
    let url = format!(
        "{}/cart/restore?token={}",
        origin.trim_end_matches('/'),
        restore_token(&key, &cart_id, expires)
    );
    let (subject, text) = recovery_email(&url, &contact.store_name, None);
    let message = Email {
        to: contact.email.as_str().to_string(),
        subject,
        text,
        tag: "cart_recovery".into(),
    };
    let transport = FetchTransport {
        timeout_ms: crate::consume::CALL_TIMEOUT_MS,
    };
    match email::read_reply(transport.send(&email::send_call(&config, &message)).await) {
        Ok(()) => {
            if db.write::<CartRecoveryEmailed>(&queries::mark_recovery_emailed(&cart_id)).await.is_err() {
                log.warn("cart_recovery_mark_failed", json!({}));
            }
            log.info("cart_recovery_emailed", json!({}));
            Settle::Ack
        }
        Err(EmailError::Unavailable(detail)) => {
            log.warn("cart_recovery_email_unavailable", json!({"detail": detail}));
            failed_send(&db, log, &queries::release_recovery_email(&cart_id)).await
        }
        Err(EmailError::Rejected(status)) => {
            // Retrying would be refused again: logged for a person. The
            // claim lapses with its lease; a redelivery would try once more.
            log.error("cart_recovery_email_rejected", json!({"status": status}));
            Settle::Ack
        }
    }
}

fn var(env: &Env, name: &str) -> Option<i64> {
    env.var(name).ok()?.to_string().parse().ok()
}

/// Dev builds: the cron's job on demand; `?idle_secs=0` treats every cart
/// with an email as idle (tests do not wait four hours).
#[cfg(feature = "dev")]
pub async fn run_job(call: &mut platform::serve::Call) -> platform::Result<worker::Response> {
    let idle = call.dev_query_number("idle_secs").unwrap_or(DEFAULT_IDLE_SECS);
    let (queued, closed) = run(&call.env, &call.db, &call.log, idle).await;
    Ok(platform::respond::private_json(
        200,
        json!({"queued": queued, "closed": closed}).to_string(),
    ))
}

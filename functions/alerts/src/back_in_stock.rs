//! Back-in-stock emails: a SKU on a shopper's wishlist is available again
//! (shared/customers/sql/back_in_stock.sql queues one message per wishlist
//! row and restock, `AlertMessage::BackInStock`).
//!
//! One statement on the primary reads who to mail (a live, verified
//! account: its email and name) and the product's name, and records the
//! notice in `alerts` once per message (`back_in_stock:<outbox_id>`) and
//! claims it (`alert_claim`, `platform::send_claim`): the same deduplication
//! as staff alerts (orders::alerts::claim), and the same mark once sent
//! (orders::alerts::mark_posted). The recorded message names the
//! customer's id, never the email; nothing here logs the email either.
//!
//! No such customer (erased, unverified, unknown): acked and dropped. The
//! email provider down: retried, as the cart recovery mail is.

use crate::consume::{failed_send, unless_claimed, Settle};
use orders::alerts::{self, Posted};
use platform::send_claim::{SendClaim, LEASE_SECS};
use platform::db::Db;
use platform::email::{self, Email, EmailError};
use platform::outbound::Transport;
use platform::outbound_fetch::FetchTransport;
use platform::{ApiError, FromRow, Log, Row, Statement};
use serde_json::json;
use worker::Env;

/// What the statement answers: who to mail and what about.
struct Notice {
    email: String,
    name: Option<String>,
    /// `None` when the SKU's product is gone: the mail names the SKU.
    product: Option<String>,
    /// Whether this delivery sends it.
    claim: SendClaim,
}

impl FromRow for Notice {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(Notice {
            email: row.get("email")?,
            name: row.get_opt("full_name")?,
            product: row.get_opt("product_name")?,
            claim: SendClaim::from_row(row)?,
        })
    }
}

/// The alert's key: one notice per queued message.
fn dedupe_key(outbox_id: i64) -> String {
    format!("back_in_stock:{outbox_id}")
}

/// Reads the customer (only a live, verified one) and the product, and
/// records and claims the notice; one row, or none when there is no one to
/// mail.
fn claim(outbox_id: i64, customer_id: i64, sku: &str) -> Statement {
    let mut s = Statement::new();
    let customer = s.bind(customer_id.to_string());
    let sku_param = s.bind(sku);
    let key = s.bind(dedupe_key(outbox_id));
    let text = s.bind(format!(
        "SKU {sku} back in stock for customer {customer_id}"
    ));
    let lease = s.bind(LEASE_SECS.to_string());
    s.push_sql(&format!(
        "WITH who AS (\
             SELECT c.email, c.full_name, \
                    (SELECT p.name FROM variants v JOIN products p ON p.id = v.product_id \
                      WHERE v.sku = {sku_param}) AS product_name \
               FROM customers c \
              WHERE c.id = {customer}::bigint AND c.deleted_at IS NULL \
                AND c.email_verified_at IS NOT NULL AND c.email IS NOT NULL) \
         SELECT who.email, who.full_name, who.product_name, \
                alert_claim({key}, 'back_in_stock', NULL, {text}, {lease}::int) AS claim \
           FROM who"
    ));
    s
}

/// The mail: subject "<product> is back in stock", a text naming the SKU
/// with a link to it. Control characters (a newline in a product name)
/// never reach the subject.
fn compose(origin: &str, sku: &str, product: Option<&str>, name: Option<&str>) -> (String, String) {
    let product: String = product
        .filter(|p| !p.trim().is_empty())
        .unwrap_or(sku)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let product = product.trim();
    let link = format!(
        "{}/products?sku={}",
        origin.trim_end_matches('/'),
        platform::http::percent_encode(sku)
    );
    let greeting = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("Hi {n},"),
        None => "Hi,".to_string(),
    };
    let subject = format!("{product} is back in stock");
    let text = format!(
        "{greeting}\n\n{product} (SKU {sku}), on your wishlist, is back in stock.\n\n\
         See it here: {link}\n\n\
         You get this email because the item is on your wishlist; remove it \
         from the wishlist to stop these emails.\n"
    );
    (subject, text)
}

/// The consumer's side.
pub async fn send_email(env: &Env, log: &Log, outbox_id: i64, customer_id: i64, sku: &str) -> Settle {
    let fields = json!({"alert": dedupe_key(outbox_id), "customer": customer_id, "sku": sku});
    let Some(config) = platform::email::EmailConfig::from_env(env) else {
        log.error("back_in_stock_not_configured", fields);
        return Settle::Retry;
    };
    let db = Db::new(env, log.clone());
    let notice: Option<Notice> = match db.write(&claim(outbox_id, customer_id, sku)).await {
        Ok(rows) => rows.into_iter().next(),
        Err(e) => {
            log.warn(
                "back_in_stock_not_recorded",
                json!({"alert": dedupe_key(outbox_id), "detail": e.internal_detail}),
            );
            return Settle::Retry;
        }
    };
    let Some(notice) = notice else {
        // Erased, not verified, or unknown: no one to tell.
        log.info("back_in_stock_no_customer", fields);
        return Settle::Ack;
    };
    if let Some(done) = unless_claimed(notice.claim, log, &fields) {
        return done;
    }
    let origin = env
        .var("SHOP_ORIGIN")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let (subject, text) = compose(
        &origin,
        sku,
        notice.product.as_deref(),
        notice.name.as_deref(),
    );
    let message = Email {
        to: notice.email,
        subject,
        text,
        tag: "back_in_stock".into(),
    };
    let transport = FetchTransport {
        timeout_ms: crate::consume::CALL_TIMEOUT_MS,
    };
    match email::read_reply(transport.send(&email::send_call(&config, &message)).await) {
        Ok(()) => {
            if let Err(e) = db
                .write::<Posted>(&alerts::mark_posted(&dedupe_key(outbox_id)))
                .await
            {
                // Sent, not marked: a redelivery would mail again. Acked anyway.
                log.warn(
                    "back_in_stock_mark_failed",
                    json!({"alert": dedupe_key(outbox_id), "detail": e.internal_detail}),
                );
            }
            log.info("back_in_stock_emailed", fields);
            Settle::Ack
        }
        Err(EmailError::Unavailable(detail)) => {
            log.warn(
                "back_in_stock_email_unavailable",
                json!({"alert": dedupe_key(outbox_id), "detail": detail}),
            );
            failed_send(&db, log, &alerts::release(&dedupe_key(outbox_id))).await
        }
        Err(EmailError::Rejected(status)) => {
            // Retrying would be refused again: logged for a person.
            log.error(
                "back_in_stock_email_rejected",
                json!({"alert": dedupe_key(outbox_id), "status": status}),
            );
            Settle::Ack
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statement_binds_everything_and_keys_on_the_outbox_id() {
        let s = claim(40, 12, "TEE-S'; DROP TABLE alerts; --");
        assert!(!s.sql.contains("DROP"), "{}", s.sql);
        assert_eq!(
            s.params,
            vec![
                Some("12".to_string()),
                Some("TEE-S'; DROP TABLE alerts; --".to_string()),
                Some("back_in_stock:40".to_string()),
                Some("SKU TEE-S'; DROP TABLE alerts; -- back in stock for customer 12".to_string()),
                Some(LEASE_SECS.to_string()),
            ]
        );
        assert!(
            s.sql.contains("deleted_at IS NULL") && s.sql.contains("email_verified_at IS NOT NULL")
        );
        assert!(s.sql.contains("alert_claim("));
    }

    #[test]
    fn the_mail_names_the_product_and_links_the_sku() {
        let (subject, text) = compose(
            "https://shop.test/",
            "TEE-S",
            Some("Tee\r\nBcc: x"),
            Some("Ada"),
        );
        assert_eq!(subject, "Tee  Bcc: x is back in stock");
        assert!(text.starts_with("Hi Ada,"), "{text}");
        assert!(text.contains("SKU TEE-S"), "{text}");
        assert!(
            text.contains("https://shop.test/products?sku=TEE-S\n"),
            "{text}"
        );
        let (subject, text) = compose("", "A B", None, None);
        assert_eq!(subject, "A B is back in stock");
        assert!(
            text.starts_with("Hi,") && text.contains("/products?sku=A%20B"),
            "{text}"
        );
    }
}

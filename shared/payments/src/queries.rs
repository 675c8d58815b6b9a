//! The payments SQL. The stored functions live in `../sql/` and are
//! replaced on every `scripts/db migrate`.

use platform::Statement;

use crate::apply::EventApplication;
use crate::events::ProviderEvent;

/// The order an event is about: by the payment we recorded for it (the
/// provider's ids), else by the order id the event carries. One row or none
/// (`EventContext`).
pub fn event_context(event: &ProviderEvent) -> Statement {
    let mut s = Statement::new();
    let provider = s.bind(event.provider.as_str());
    let payment = bind_opt(&mut s, event.payment_ref.as_deref());
    let capture = bind_opt(&mut s, event.capture_ref.as_deref());
    let order = bind_opt(&mut s, event.order_id.as_deref());
    s.push_sql(&format!(
        "SELECT o.id::text AS order_id, o.public_id, o.status, o.total::text AS total, o.currency, \
                paid.provider_payment_id AS paid_by_ref \
           FROM orders o LEFT JOIN payments paid ON paid.id = o.paid_by \
          WHERE o.id = coalesce(\
                  (SELECT order_id FROM payments WHERE provider = {provider} \
                      AND (provider_payment_id = {payment} OR capture_id = {capture}) LIMIT 1), \
                  (SELECT id FROM orders WHERE public_id = {order}))"
    ));
    s
}

/// The event and its effect, in one transaction (`Applied`).
pub fn apply_payment_event(application: &EventApplication) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(serde_json::to_string(application).expect("plain data serializes"));
    s.push_sql(&format!(
        "SELECT apply_payment_event({p}::jsonb)::text AS outcome"
    ));
    s
}

/// A payment the provider created for an order (idempotent on the provider's id).
pub fn record_payment_created(
    order_id: i64,
    provider: &str,
    provider_payment_id: &str,
    amount: &str,
    currency: &str,
) -> Statement {
    let mut s = Statement::new();
    let o = s.bind(order_id.to_string());
    let p = s.bind(provider);
    let id = s.bind(provider_payment_id);
    let a = s.bind(amount);
    let c = s.bind(currency);
    s.push_sql(&format!(
        "INSERT INTO payments (order_id, provider, provider_payment_id, amount, currency) \
         VALUES ({o}::bigint, {p}, {id}, {a}::numeric, {c}) \
         ON CONFLICT (provider, provider_payment_id) DO NOTHING \
         RETURNING 'recorded' AS outcome"
    ));
    s
}

/// An order a shopper wants to pay, with what paying it needs (`PayableOrder`).
pub fn payable_order(public_id: &str) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(public_id);
    s.push_sql(&format!(
        "SELECT o.id::text AS order_id, o.public_id, o.status, o.total::text AS total, o.currency, \
                (o.reservation_expires_at > now())::text AS reservation_open, \
                array_to_string(r.payment_providers, ',') AS providers \
           FROM orders o LEFT JOIN regions r ON r.code = o.region_code \
          WHERE o.public_id = {id}"
    ));
    s
}

/// Ask for a refund (`request_refund`, sql/refunds.sql). One row, `outcome`.
pub fn request_refund(input: &serde_json::Value) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(input.to_string());
    s.push_sql(&format!(
        "SELECT request_refund({p}::jsonb)::text AS outcome"
    ));
    s
}

/// The provider's answer to a refund call. One row, `outcome` (a refund record).
pub fn record_refund_result(input: &serde_json::Value) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(input.to_string());
    s.push_sql(&format!(
        "SELECT record_refund_result({p}::jsonb)::text AS outcome"
    ));
    s
}

/// Which refunds to send to their providers.
#[derive(Debug, Clone, Copy)]
pub enum RefundsDue<'a> {
    /// These, just asked for (if still `requested`).
    Ids(&'a [i64]),
    /// Every refund still `requested` this many seconds after its last try
    /// (the cron's sweep; at most 50 per run, oldest first).
    Waiting { min_age_secs: u32 },
}

/// The refunds to send, as `refund_json` records.
pub fn refunds_to_send(due: RefundsDue) -> Statement {
    let mut s = Statement::new();
    match due {
        RefundsDue::Ids(ids) => {
            let list = s.bind(ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            s.push_sql(&format!(
                "SELECT refund_json(id)::text AS outcome FROM refunds \
                  WHERE id = ANY (string_to_array({list}, ',')::bigint[]) AND status = 'requested'"
            ));
        }
        RefundsDue::Waiting { min_age_secs } => {
            let age = s.bind(min_age_secs.to_string());
            s.push_sql(&format!(
                "SELECT refund_json(id)::text AS outcome FROM refunds \
                  WHERE status = 'requested' AND updated_at <= now() - make_interval(secs => {age}::int) \
                  ORDER BY updated_at LIMIT 50"
            ));
        }
    }
    s
}

fn bind_opt(s: &mut Statement, value: Option<&str>) -> String {
    match value {
        Some(v) => s.bind(v),
        None => s.bind_null(),
    }
}

//! The cart's SQL: one statement per use, rows read by column name.

use platform::send_claim::{SendClaim, LEASE_SECS};
use platform::{ApiError, FromRow, Row, Statement};

use crate::{CartId, Email, Sku};

/// Current name, price and store availability of some SKUs: one statement,
/// read into `PricedSku`. Availability is `store_sellable_stock`
/// (shared/catalog/sql/sellable_stock.sql), the one definition.
pub fn pricing(store_id: i64, skus: &[Sku]) -> Statement {
    let mut s = Statement::new();
    // SKUs are [A-Z0-9-] only (Sku::parse), so the array literal needs no quoting.
    let list = format!(
        "{{{}}}",
        skus.iter().map(Sku::as_str).collect::<Vec<_>>().join(",")
    );
    let skus_param = s.bind(list);
    let store = s.bind(store_id.to_string());
    s.push_sql(&format!(
        "SELECT v.sku, \
                p.name || coalesce(' (' || (SELECT string_agg(o.value, ', ' ORDER BY o.key) \
                                              FROM jsonb_each_text(v.options) o) || ')', '') AS name, \
                v.price::text AS price, v.currency::text AS currency, \
                coalesce((SELECT sum(st.available) FROM store_sellable_stock({store}::bigint) st \
                           WHERE st.variant_id = v.id), 0)::text AS available \
           FROM variants v JOIN products p ON p.id = v.product_id \
          WHERE v.sku = ANY ({skus_param}::text[])"
    ));
    s
}

/// The region a store sells in; no row when there is no such store.
pub fn store_region(store_id: i64) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(store_id.to_string());
    s.push_sql(&format!(
        "SELECT region_code FROM stores WHERE id = {id}::bigint"
    ));
    s
}

/// `store_region`'s row.
pub struct StoreRegion {
    pub region_code: String,
}

impl FromRow for StoreRegion {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(StoreRegion {
            region_code: row.get("region_code")?,
        })
    }
}

// Abandoned-cart recovery: the index `cart_recovery` (migrations/0007,
// section 7), one row per cart a shopper gave an email for. The functions
// are in shared/cart/sql/cart_recovery.sql. `cart_id` and `email` are
// personal columns the replica's role may not read (scripts/privileges.sql):
// every statement below runs on the primary (`Db::write`, or
// `Db::read_primary` for `due_cart_recoveries`).

/// Records (or updates) that `cart_id` has an email: `attached_at = now()`,
/// and on a second call the new email and time, keeping `queued_at` and
/// `closed_at` (a cart already messaged is not messaged again). One
/// statement, no rows back. The cart worker runs it (`Db::write`) after the
/// cart's object accepted `AttachEmail`.
pub fn attach_cart_email(cart_id: &CartId, store_id: i64, email: &Email) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    let store = s.bind(store_id.to_string());
    let email = s.bind(email.as_str());
    s.push_sql(&format!(
        "INSERT INTO cart_recovery (cart_id, store_id, email, attached_at) \
         VALUES ({id}::text, {store}::bigint, {email}::text, now()) \
         ON CONFLICT (cart_id) DO UPDATE \
            SET email = EXCLUDED.email, attached_at = EXCLUDED.attached_at"
    ));
    s
}

/// The carts to message: an email attached more than `idle_secs` ago, not
/// yet queued, not closed; oldest first, at most `max` (the partial index
/// `cart_recovery_due`). Rows: `DueCartRecovery`. Only a candidate list:
/// `claim_cart_recovery` decides, per cart, who sends. Run on the primary
/// (`Db::read_primary`: the replica's role may not read `cart_id`).
pub fn due_cart_recoveries(idle_secs: u32, max: u32) -> Statement {
    let mut s = Statement::new();
    let idle = s.bind(idle_secs.to_string());
    let max = s.bind(max.to_string());
    s.push_sql(&format!(
        "SELECT cart_id, store_id::text AS store_id \
           FROM due_cart_recoveries(make_interval(secs => {idle}::int), {max}::int)"
    ));
    s
}

/// The exactly-once claim, with its message: sets `queued_at` if it is
/// still unset and the row is not closed, and writes the recovery message to
/// the outbox in the same transaction. The one row's `outbox` column is the
/// JSON array of outbox messages to send after the commit (one for the
/// caller that claimed, none for anyone else). Run with `Db::write`.
pub fn claim_cart_recovery(cart_id: &CartId) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    s.push_sql(&format!(
        "SELECT claim_cart_recovery({id}::text)::text AS outbox"
    ));
    s
}

/// Whom to mail about `cart_id`, and the claim to mail them
/// (`RecoveryContact`; no row: no such cart). Run with `Db::write`.
pub fn claim_recovery_email(cart_id: &CartId) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    let lease = s.bind(LEASE_SECS.to_string());
    s.push_sql(&format!(
        "SELECT email, store_name, claim FROM cart_recovery_claim({id}::text, {lease}::int)"
    ));
    s
}

/// The send failed: the next delivery may claim it at once
/// (`platform::send_claim::Released`). Run with `Db::write`.
pub fn release_recovery_email(cart_id: &CartId) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    s.push_sql(&format!(
        "SELECT cart_recovery_release({id}::text)::text AS released"
    ));
    s
}

/// The provider accepted the recovery email (`CartRecoveryEmailed`).
pub fn mark_recovery_emailed(cart_id: &CartId) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    s.push_sql(&format!(
        "SELECT cart_recovery_emailed({id}::text)::text AS emailed"
    ));
    s
}

/// The cart was checked out (or is gone): no message for it. Sets
/// `closed_at` once; the row (`CartRecoveryClosed`) says whether this call
/// closed it. No row for the cart is fine (`closed` is false). Run with
/// `Db::write`.
pub fn close_cart_recovery(cart_id: &CartId) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(cart_id.as_str());
    s.push_sql(&format!(
        "SELECT close_cart_recovery({id}::text)::text AS closed"
    ));
    s
}

/// A row of `due_cart_recoveries`.
#[derive(Debug, Clone, PartialEq)]
pub struct DueCartRecovery {
    pub cart_id: CartId,
    pub store_id: i64,
}

impl FromRow for DueCartRecovery {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(DueCartRecovery {
            cart_id: row.get("cart_id")?,
            store_id: row.get("store_id")?,
        })
    }
}

/// A row of `claim_recovery_email`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryContact {
    pub email: Email,
    pub store_name: String,
    /// Whether this delivery mails them.
    pub claim: SendClaim,
}

impl FromRow for RecoveryContact {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(RecoveryContact {
            email: row.get("email")?,
            store_name: row.get("store_name")?,
            claim: SendClaim::from_row(row)?,
        })
    }
}

/// `mark_recovery_emailed`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartRecoveryEmailed(pub bool);

impl FromRow for CartRecoveryEmailed {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(CartRecoveryEmailed(row.flag("emailed")?))
    }
}

/// `close_cart_recovery`'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartRecoveryClosed {
    /// This call closed an open row.
    pub closed: bool,
}

impl FromRow for CartRecoveryClosed {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(CartRecoveryClosed {
            closed: row.flag("closed")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn pricing_is_one_statement_with_bound_parameters() {
        let s = pricing(2, &[sku("A-1"), sku("B-2")]);
        assert_eq!(s.params, vec![Some("{A-1,B-2}".into()), Some("2".into())]);
        assert!(!s.sql.contains("A-1"));
    }

    #[test]
    fn recovery_statements_bind_every_value() {
        let id = CartId::from_random([1; 16]);
        let email = Email::parse("ada@example.com").unwrap();
        let s = attach_cart_email(&id, 7, &email);
        assert_eq!(
            s.params,
            vec![
                Some(id.to_string()),
                Some("7".into()),
                Some("ada@example.com".into())
            ]
        );
        assert!(!s.sql.contains("ada@") && !s.sql.contains(id.as_str()));
        assert!(s.sql.contains("ON CONFLICT (cart_id) DO UPDATE"));
        assert!(!s.sql.contains("queued_at") && !s.sql.contains("closed_at"));

        let s = due_cart_recoveries(3600, 50);
        assert_eq!(s.params, vec![Some("3600".into()), Some("50".into())]);
        for s in [
            claim_cart_recovery(&id),
            close_cart_recovery(&id),
            release_recovery_email(&id),
            mark_recovery_emailed(&id),
        ] {
            assert_eq!(s.params, vec![Some(id.to_string())]);
            assert!(!s.sql.contains(id.as_str()));
        }
        let s = claim_recovery_email(&id);
        assert_eq!(s.params, vec![Some(id.to_string()), Some(LEASE_SECS.to_string())]);
    }

    #[test]
    fn recovery_rows_are_read_by_name() {
        let id = CartId::from_random([2; 16]);
        let row = Row::from_pairs(&[
            ("cart_id", Some(id.as_str())),
            ("email", Some("ada@example.com")),
            ("store_id", Some("3")),
        ]);
        let contact = Row::from_pairs(&[
            ("email", Some("ada@example.com")),
            ("store_name", Some("SF")),
            ("claim", Some("busy")),
        ]);
        let contact = RecoveryContact::from_row(&contact).unwrap();
        assert_eq!(contact.email.as_str(), "ada@example.com");
        assert_eq!(contact.claim, SendClaim::Busy);
        assert_eq!(
            DueCartRecovery::from_row(&row).unwrap(),
            DueCartRecovery {
                cart_id: id,
                store_id: 3
            }
        );
        let closed = Row::from_pairs(&[("closed", Some("true"))]);
        assert!(CartRecoveryClosed::from_row(&closed).unwrap().closed);
    }
}

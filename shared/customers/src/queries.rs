//! The SQL of the customers routes, one statement each (the functions they
//! call live in `../sql/`). Rows are read by column name (`rows.rs`), every
//! column as text (the driver reads them so): numbers are cast here.
//!
//! Where each runs: anything with personal data (email, name, password
//! hash, addresses, the saved cart) is on the primary: the replica's role
//! may not read those columns (scripts/privileges.sql). The order history,
//! the one hot read, is served by the replica with read-your-writes
//! (`Db::read`); the wishlist and points are read from the primary, so they
//! show a change of a moment ago to a client that carries no token.

use platform::Statement;

/// The profile's columns (`rows::Profile`), for statements on `customers c`.
const PROFILE: &str = "c.public_id, c.email, c.full_name, \
     (c.email_verified_at IS NOT NULL)::text AS email_verified, c.addresses::text AS addresses, \
     c.points_balance::text AS points_balance, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at";

/// Signup: a new account, or a second signup of an email nobody verified
/// yet, which takes the new password and name (the first signer proved
/// nothing). No row when the email belongs to a verified account.
/// Columns: public_id, created ('t' for a new row), password_hash.
pub fn signup(email: &str, name: &str, password_hash: &str) -> Statement {
    let mut s = Statement::new();
    let (e, n, h) = (s.bind(email), s.bind(name), s.bind(password_hash));
    s.push_sql(&format!(
        "INSERT INTO customers AS c (email, full_name, password_hash)
         VALUES ({e}, {n}, {h})
         ON CONFLICT (email) WHERE email IS NOT NULL DO UPDATE
            SET full_name = EXCLUDED.full_name, password_hash = EXCLUDED.password_hash,
                updated_at = now()
          WHERE c.email_verified_at IS NULL AND c.deleted_at IS NULL
         RETURNING c.public_id, (c.xmax = 0)::text AS created, c.password_hash"
    ));
    s
}

/// The account a login, a reset request or a resent link is about.
/// Columns: the profile's, password_hash, cart_id (`rows::Account`).
pub fn account_by_email(email: &str) -> Statement {
    let mut s = Statement::new();
    let e = s.bind(email);
    s.push_sql(&format!(
        "SELECT {PROFILE}, c.password_hash, c.cart_id
           FROM customers c WHERE c.email = {e} AND c.deleted_at IS NULL"
    ));
    s
}

/// The same, by the session's customer.
pub fn account_by_id(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!(
        "SELECT {PROFILE}, c.password_hash, c.cart_id
           FROM customers c WHERE c.public_id = {c} AND c.deleted_at IS NULL"
    ));
    s
}

/// `POST /customers/verify`: one row, `json` (NULL: no such link target).
pub fn verify(customer: &str, email: &str, fingerprint: &str) -> Statement {
    let mut s = Statement::new();
    let (c, e, f) = (s.bind(customer), s.bind(email), s.bind(fingerprint));
    s.push_sql(&format!(
        "SELECT customer_verify({c}, {e}, {f})::text AS json"
    ));
    s
}

/// `POST /customers/password-reset/confirm`: the new hash, only while the
/// link's fingerprint still matches the old one (so the link works once).
/// Confirming proves the email, so it verifies it too. Column: public_id.
pub fn reset_password(customer: &str, fingerprint: &str, new_hash: &str) -> Statement {
    let mut s = Statement::new();
    let (c, f, h) = (s.bind(customer), s.bind(fingerprint), s.bind(new_hash));
    s.push_sql(&format!(
        "UPDATE customers
            SET password_hash = {h}, email_verified_at = COALESCE(email_verified_at, now()),
                updated_at = now()
          WHERE public_id = {c} AND deleted_at IS NULL
            AND password_fingerprint(password_hash) = {f}
      RETURNING public_id"
    ));
    s
}

/// `GET /customers/me`.
pub fn profile(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!(
        "SELECT {PROFILE} FROM customers c WHERE c.public_id = {c} AND c.deleted_at IS NULL"
    ));
    s
}

/// `PATCH /customers/me`: only the fields given change.
pub fn update_profile(customer: &str, name: Option<&str>, addresses: Option<&str>) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    let n = match name {
        Some(n) => s.bind(n),
        None => s.bind_null(),
    };
    let a = match addresses {
        Some(a) => s.bind(a),
        None => s.bind_null(),
    };
    s.push_sql(&format!(
        "UPDATE customers c
            SET full_name = COALESCE({n}, c.full_name),
                addresses = COALESCE({a}::jsonb, c.addresses), updated_at = now()
          WHERE c.public_id = {c} AND c.deleted_at IS NULL
      RETURNING {PROFILE}"
    ));
    s
}

/// Keeps the saved cart's id (login's merge, `GET /customers/me/cart`).
pub fn set_saved_cart(customer: &str, cart_id: &str) -> Statement {
    let mut s = Statement::new();
    let (c, k) = (s.bind(customer), s.bind(cart_id));
    s.push_sql(&format!(
        "UPDATE customers SET cart_id = {k}, updated_at = now()
          WHERE public_id = {c} AND deleted_at IS NULL RETURNING cart_id"
    ));
    s
}

/// `DELETE /customers/me`: one row, `json` ({"erased"} or {"refused"}).
pub fn erase(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!("SELECT customer_erase({c})::text AS json"));
    s
}

/// `GET /customers/me/export`: one row, `json` (NULL: no account).
pub fn export(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!("SELECT customer_export({c})::text AS json"));
    s
}

/// `GET /customers/me/orders`: newest first, keyset on (created_at, id):
/// `after` is the last row of the previous page. Fetches `limit + 1` rows
/// to know whether a next page exists. For the replica.
pub fn orders_page(customer: &str, after: Option<(&str, &str)>, limit: u32) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    let keyset = match after {
        Some((micros, id)) => {
            let (m, i) = (s.bind(micros), s.bind(id));
            format!(
                "AND (o.created_at, o.id) < (to_timestamp({m}::numeric / 1000000), {i}::bigint)"
            )
        }
        None => String::new(),
    };
    let n = s.bind((limit + 1).to_string());
    s.push_sql(&format!(
        "SELECT o.public_id, o.status, o.currency, o.subtotal::text AS subtotal, o.tax::text AS tax,
                o.points_discount::text AS points_discount, o.total::text AS total,
                o.points_redeemed::text AS points_redeemed,
                to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at,
                (extract(epoch FROM o.created_at) * 1000000)::bigint::text AS created_micros, o.id::text AS id,
                (SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id)::text AS item_count
           FROM orders o
          WHERE o.customer_id = (SELECT id FROM customers WHERE public_id = {c})
            {keyset}
          ORDER BY o.created_at DESC, o.id DESC
          LIMIT {n}::int"
    ));
    s
}

/// `POST /customers/me/wishlist`: adds the SKU unless the list is full.
/// The customer row is locked, so two adds at 499 cannot both pass.
/// One row: sku_exists, added, present ('t'/'f'), count (before).
pub fn wishlist_add(customer: &str, sku: &str, max_items: usize) -> Statement {
    let mut s = Statement::new();
    let (c, k, m) = (s.bind(customer), s.bind(sku), s.bind(max_items.to_string()));
    s.push_sql(&format!(
        "WITH c AS (SELECT id FROM customers WHERE public_id = {c} AND deleted_at IS NULL FOR NO KEY UPDATE),
              v AS (SELECT sku FROM variants WHERE sku = {k}),
              n AS (SELECT count(*) AS n FROM wishlist_items w JOIN c ON w.customer_id = c.id),
              ins AS (INSERT INTO wishlist_items (customer_id, sku)
                      SELECT c.id, v.sku FROM c, v, n WHERE n.n < {m}::int
                      ON CONFLICT DO NOTHING RETURNING sku)
         SELECT EXISTS (SELECT 1 FROM v)::text AS sku_exists,
                EXISTS (SELECT 1 FROM ins)::text AS added,
                EXISTS (SELECT 1 FROM wishlist_items w JOIN c ON w.customer_id = c.id
                         WHERE w.sku = {k})::text AS present,
                (SELECT n FROM n)::text AS count"
    ));
    s
}

/// `DELETE /customers/me/wishlist/{sku}`.
pub fn wishlist_remove(customer: &str, sku: &str) -> Statement {
    let mut s = Statement::new();
    let (c, k) = (s.bind(customer), s.bind(sku));
    s.push_sql(&format!(
        "DELETE FROM wishlist_items
          WHERE customer_id = (SELECT id FROM customers WHERE public_id = {c}) AND sku = {k}
      RETURNING sku"
    ));
    s
}

/// `GET /customers/me/wishlist`: oldest first. Columns: sku, added_at.
pub fn wishlist(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!(
        "SELECT w.sku, to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS added_at
           FROM wishlist_items w
          WHERE w.customer_id = (SELECT id FROM customers WHERE public_id = {c})
          ORDER BY w.created_at, w.sku"
    ));
    s
}

/// `GET /customers/me/points`: one row, `json`:
/// {"balance", "ledger": [{"kind", "points", "order_id", "created_at"}]}
/// (the newest 100 entries).
pub fn points(customer: &str) -> Statement {
    let mut s = Statement::new();
    let c = s.bind(customer);
    s.push_sql(&format!(
        "SELECT json_build_object('balance', c.points_balance, 'ledger', COALESCE((
                  SELECT json_agg(json_build_object(
                           'kind', g.kind, 'points', g.points,
                           'order_id', (SELECT o.public_id FROM orders o WHERE o.id = g.order_id),
                           'created_at', to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))
                           ORDER BY g.id DESC)
                    FROM (SELECT * FROM loyalty_ledger WHERE customer_id = c.id
                           ORDER BY id DESC LIMIT 100) g), '[]'))::text AS json
           FROM customers c WHERE c.public_id = {c} AND c.deleted_at IS NULL"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_never_spliced() {
        let evil = "'; DROP TABLE customers; --";
        for stmt in [
            signup(evil, evil, evil),
            account_by_email(evil),
            profile(evil),
            update_profile(evil, Some(evil), Some(evil)),
            wishlist_add(evil, evil, 500),
            orders_page(evil, Some((evil, evil)), 20),
        ] {
            assert!(!stmt.sql.contains(evil), "{}", stmt.sql);
            assert!(stmt.params.iter().any(|p| p.as_deref() == Some(evil)));
        }
    }

    #[test]
    fn the_page_asks_one_row_more_than_it_shows() {
        let stmt = orders_page("cus_x", None, 20);
        assert_eq!(stmt.params.last().cloned().flatten().as_deref(), Some("21"));
        assert!(!stmt.sql.contains("(o.created_at, o.id) <"));
    }
}

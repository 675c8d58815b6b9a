//! One order as its routes show it: the shopper's view (`GET /orders/{id}`)
//! and staff's (`GET /admin/orders/{id}`). Each is one statement calling a
//! stored function (`sql/order_view.sql`) that builds the whole JSON, so a
//! view costs one round trip and the worker passes the text through.
//!
//! Where each may run:
//!
//! * `order_view` reads no personal column and no provider secret, so the
//!   replica's role (`shop_reader`, which cannot read `email`,
//!   `shipping_address`, ...) may run it: the shopper's route reads it with
//!   `Db::read`. The tests below hold the function to that, with the list of
//!   personal columns taken from `scripts/privileges.sql`.
//! * `order_admin_view` adds the email and shipping address for staff; only
//!   the primary's role may read them, so the admin route uses
//!   `Db::read_primary` (on the replica the function fails with 42501 instead
//!   of leaking: it has no `SECURITY DEFINER`).
//!
//! Both statements also answer `customer_public_id` (`cus_…`, or NULL for a
//! guest's order), outside the JSON: the shopper's route lets the owner's
//! session in with it, and never shows it.

use platform::{ApiError, FromRow, Row, Statement};

/// `GET /orders/{id}` → one row, `view`: the order's JSON, or NULL when no
/// order has this public id; and `customer_public_id`.
pub fn order_view(public_id: &str) -> Statement {
    call("order_view", public_id)
}

/// `GET /admin/orders/{id}` → one row, `view`: the shopper's view plus
/// `staff`, or NULL; and `customer_public_id`. Primary only (see the
/// module's notes).
pub fn order_admin_view(public_id: &str) -> Statement {
    call("order_admin_view", public_id)
}

fn call(function: &str, public_id: &str) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(public_id);
    s.push_sql(&format!(
        "SELECT {function}({p})::text AS view, \
                order_customer_public_id({p})::text AS customer_public_id"
    ));
    s
}

/// Whose order this is, alone (a route that needs no view, such as paying):
/// one row, `customer_public_id`, NULL for a guest's order or no order.
/// Replica-safe.
pub fn order_owner(public_id: &str) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(public_id);
    s.push_sql(&format!(
        "SELECT order_customer_public_id({p})::text AS customer_public_id"
    ));
    s
}

/// The one row a view statement returns: `None` when no order has the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderViewRow {
    pub view: Option<String>,
    /// The owner's `cus_…` id; `None` for a guest's order. Never in `view`.
    pub customer_public_id: Option<String>,
}

impl FromRow for OrderViewRow {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(OrderViewRow {
            view: row.get_opt("view")?,
            customer_public_id: row.get_opt("customer_public_id")?,
        })
    }
}

impl OrderViewRow {
    /// The view's JSON from a statement's rows, `None` for an unknown order.
    pub fn found(rows: Vec<OrderViewRow>) -> Option<String> {
        Self::first(rows).map(|r| r.0)
    }

    /// The view's JSON and the owner's id, `None` for an unknown order.
    pub fn first(rows: Vec<OrderViewRow>) -> Option<(String, Option<String>)> {
        let row = rows.into_iter().next()?;
        Some((row.view?, row.customer_public_id))
    }
}

/// A row of `order_owner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderOwner {
    pub customer_public_id: Option<String>,
}

impl FromRow for OrderOwner {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(OrderOwner {
            customer_public_id: row.get_opt("customer_public_id")?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const VIEW_SQL: &str = include_str!("../sql/order_view.sql");
    const PRIVILEGES_SQL: &str = include_str!("../../../scripts/privileges.sql");

    /// The columns the replica's role may not read, as scripts/privileges.sql
    /// lists them (`pii_columns text[] := ARRAY[...]`).
    pub(crate) fn personal_columns() -> Vec<String> {
        let start = PRIVILEGES_SQL
            .find("pii_columns text[] := ARRAY[")
            .expect("privileges.sql lists pii_columns");
        let rest = &PRIVILEGES_SQL[start + "pii_columns text[] := ARRAY[".len()..];
        let list = &rest[..rest.find(']').expect("the list's end")];
        let columns: Vec<String> = list
            .split(',')
            .map(|c| c.trim().trim_matches('\'').to_string())
            .collect();
        assert!(columns.iter().any(|c| c == "email"), "{columns:?}");
        assert!(
            columns.iter().any(|c| c == "shipping_address"),
            "{columns:?}"
        );
        columns
    }

    /// The identifiers of some SQL text (words of letters, digits and `_`),
    /// with `--` comments left out.
    pub(crate) fn words(sql: &str) -> Vec<String> {
        sql.lines()
            .map(|l| l.split("--").next().unwrap())
            .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    }

    /// The body of `CREATE OR REPLACE FUNCTION <name>(` up to its `$$;`.
    fn function_body(name: &str) -> &'static str {
        let head = format!("CREATE OR REPLACE FUNCTION {name}(");
        let start = VIEW_SQL.find(&head).unwrap_or_else(|| panic!("no {head}"));
        let len = VIEW_SQL[start..].find("$$;").expect("the body's end");
        &VIEW_SQL[start..start + len]
    }

    #[test]
    fn the_id_is_bound_never_spliced() {
        let hostile = "ord_x'); DROP TABLE orders; --";
        for stmt in [
            order_view(hostile),
            order_admin_view(hostile),
            order_owner(hostile),
        ] {
            assert!(!stmt.sql.contains("DROP"), "{}", stmt.sql);
            assert_eq!(stmt.params, vec![Some(hostile.to_string())]);
        }
        assert_eq!(
            order_view("ord_a").sql,
            "SELECT order_view($1)::text AS view, \
                    order_customer_public_id($1)::text AS customer_public_id"
        );
        assert_eq!(
            order_admin_view("ord_a").sql,
            "SELECT order_admin_view($1)::text AS view, \
                    order_customer_public_id($1)::text AS customer_public_id"
        );
        assert_eq!(
            order_owner("ord_a").sql,
            "SELECT order_customer_public_id($1)::text AS customer_public_id"
        );
    }

    #[test]
    fn a_null_view_is_an_unknown_order() {
        let json = "{\"order_id\":\"ord_a\"}";
        let found = Row::from_pairs(&[("view", Some(json)), ("customer_public_id", None)]);
        let owned = Row::from_pairs(&[("view", Some(json)), ("customer_public_id", Some("cus_a"))]);
        let missing = Row::from_pairs(&[("view", None), ("customer_public_id", None)]);
        let rows = |r: &Row| vec![OrderViewRow::from_row(r).unwrap()];
        assert_eq!(OrderViewRow::found(rows(&found)).as_deref(), Some(json));
        assert_eq!(
            OrderViewRow::first(rows(&found)),
            Some((json.to_string(), None))
        );
        assert_eq!(
            OrderViewRow::first(rows(&owned)),
            Some((json.to_string(), Some("cus_a".to_string())))
        );
        assert_eq!(OrderViewRow::found(rows(&missing)), None);
        assert_eq!(OrderViewRow::first(rows(&missing)), None);
        assert_eq!(OrderViewRow::found(Vec::new()), None);
        let owner = Row::from_pairs(&[("customer_public_id", Some("cus_a"))]);
        assert_eq!(
            OrderOwner::from_row(&owner)
                .unwrap()
                .customer_public_id
                .as_deref(),
            Some("cus_a")
        );
    }

    /// The owner's id decides who may read the order; it is never shown.
    #[test]
    fn the_owner_is_read_beside_the_view_never_in_it() {
        let shopper = function_body("order_view");
        assert!(!shopper.contains("customer_public_id") && !shopper.contains("customers"));
        let admin = function_body("order_admin_view");
        assert!(!admin.contains("customers"));
        // The owner lookup reads no personal column either (the replica runs it).
        let owner = words(function_body("order_customer_public_id"));
        for column in personal_columns() {
            assert!(
                !owner.contains(&column),
                "order_customer_public_id reads {column}"
            );
        }
        // Points show in the shopper's view.
        assert!(shopper.contains("'points_redeemed', o.points_redeemed"));
        assert!(shopper.contains("'points_discount', o.points_discount::text"));
    }

    /// The shopper's view runs on the replica as shop_reader: a personal
    /// column in it would fail there (42501, a 500), and a provider's ids or
    /// secrets have no place in a shopper's answer.
    #[test]
    fn the_shoppers_view_reads_no_personal_column_and_no_provider_id() {
        let body = words(function_body("order_view"));
        for column in personal_columns() {
            assert!(!body.contains(&column), "order_view reads {column}");
        }
        for secret in [
            "provider_payment_id",
            "capture_id",
            "client_secret",
            "label_url",
        ] {
            assert!(
                !body.contains(&secret.to_string()),
                "order_view shows {secret}"
            );
        }
        // Staff's view has what the shopper's lacks, read on the primary only.
        let admin = words(function_body("order_admin_view"));
        assert!(admin.contains(&"email".to_string()));
        assert!(admin.contains(&"shipping_address".to_string()));
    }

    /// Functions run with their caller's privileges unless SECURITY DEFINER:
    /// that is what keeps the replica role's column grants in force inside
    /// them. Every definition is re-runnable (scripts/db migrate).
    #[test]
    fn the_functions_run_as_their_caller_and_are_rerunnable() {
        let code: String = VIEW_SQL
            .lines()
            .map(|l| l.split("--").next().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let upper = code.to_ascii_uppercase();
        assert!(!upper.contains("SECURITY"), "no SECURITY DEFINER");
        let creates = upper.matches("CREATE ").count();
        let replaces = upper.matches("CREATE OR REPLACE FUNCTION ").count();
        assert_eq!(
            creates, replaces,
            "every CREATE is CREATE OR REPLACE FUNCTION"
        );
        for f in [
            "order_time_text",
            "order_view",
            "order_customer_public_id",
            "order_admin_view",
        ] {
            function_body(f);
        }
    }
}

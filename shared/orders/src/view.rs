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

use platform::{ApiError, FromRow, Row, Statement};

/// `GET /orders/{id}` → one row, `view`: the order's JSON, or NULL when no
/// order has this public id.
pub fn order_view(public_id: &str) -> Statement {
    call("order_view", public_id)
}

/// `GET /admin/orders/{id}` → one row, `view`: the shopper's view plus
/// `staff`, or NULL. Primary only (see the module's notes).
pub fn order_admin_view(public_id: &str) -> Statement {
    call("order_admin_view", public_id)
}

fn call(function: &str, public_id: &str) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(public_id);
    s.push_sql(&format!("SELECT {function}({p})::text AS view"));
    s
}

/// The one row a view statement returns: `None` when no order has the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderViewRow {
    pub view: Option<String>,
}

impl FromRow for OrderViewRow {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(OrderViewRow {
            view: row.get_opt("view")?,
        })
    }
}

impl OrderViewRow {
    /// The view's JSON from a statement's rows, `None` for an unknown order.
    pub fn found(rows: Vec<OrderViewRow>) -> Option<String> {
        rows.into_iter().next().and_then(|r| r.view)
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
        for stmt in [order_view(hostile), order_admin_view(hostile)] {
            assert!(!stmt.sql.contains("DROP"), "{}", stmt.sql);
            assert_eq!(stmt.params, vec![Some(hostile.to_string())]);
        }
        assert_eq!(
            order_view("ord_a").sql,
            "SELECT order_view($1)::text AS view"
        );
        assert_eq!(
            order_admin_view("ord_a").sql,
            "SELECT order_admin_view($1)::text AS view"
        );
    }

    #[test]
    fn a_null_view_is_an_unknown_order() {
        let found = Row::from_pairs(&[("view", Some("{\"order_id\":\"ord_a\"}"))]);
        let missing = Row::from_pairs(&[("view", None)]);
        let rows = |r: &Row| vec![OrderViewRow::from_row(r).unwrap()];
        assert_eq!(
            OrderViewRow::found(rows(&found)).as_deref(),
            Some("{\"order_id\":\"ord_a\"}")
        );
        assert_eq!(OrderViewRow::found(rows(&missing)), None);
        assert_eq!(OrderViewRow::found(Vec::new()), None);
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
        for f in ["order_time_text", "order_view", "order_admin_view"] {
            function_body(f);
        }
    }
}

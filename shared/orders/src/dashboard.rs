//! A store's orders for staff, by status, newest first:
//! `GET /admin/stores/{store_id}/orders?status=…&limit=…&cursor=…`.
//!
//! Keyset paging on `(created_at DESC, id DESC)`, the order of the index
//! `orders_store_status_created_id (store_id, status, created_at DESC, id DESC)`
//! (migrations/0007): a page is one range of that index, read with an Index
//! Scan whose condition includes the keyset (`(created_at, id) < (…)`), with
//! no OFFSET and no sort, so page 1000 costs what page 1 does and an order
//! placed meanwhile neither repeats nor hides one. `created_at` alone is not
//! unique (a bulk import, a seed): the id breaks ties.
//!
//! The statement runs on the replica (`Db::read`): it reads no personal
//! column (a test holds it to scripts/privileges.sql's list). `public_id` is
//! `NOT NULL` with a default (migrations/0005 filled it for every order that
//! existed then, and the default gives every later one its own), so every
//! row has an `order_id`.
//!
//! The cursor follows the catalog's (shared/catalog/src/cursor.rs): opaque
//! base64url of a version, the sort key exactly as the statement prints it
//! and the id, checked strictly on the way back in so a crafted token is a
//! `400 invalid_cursor`, never a database error. The catalog's type is tied
//! to its sorts and keeps its checks private, so this one is its own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::status::OrderStatus;
use platform::keyset::{is_id, is_utc_timestamp};
use platform::{ApiError, FromRow, Row, Statement};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// The query of the dashboard route, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardQuery {
    pub status: OrderStatus,
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

/// The position after the last order a page showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `created_at` exactly as the statement prints it
    /// (`order_time_text`: `2026-01-31T09:15:00.123456Z`).
    pub created_at: String,
    /// `orders.id`, the tie-breaker.
    pub id: i64,
}

/// Not the catalog's `v1`, so neither accepts the other's cursors.
const VERSION: &str = "o1";
const MAX_CURSOR_CHARS: usize = 200;

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{VERSION}|{}|{}", self.created_at, self.id))
    }

    pub fn decode(token: &str) -> Result<Self, ApiError> {
        let invalid =
            || ApiError::bad_request("invalid_cursor", "cursor is not one this API issued");
        if token.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let mut parts = text.split('|');
        let (Some(VERSION), Some(created_at), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if !is_utc_timestamp(created_at) || !is_id(id) {
            return Err(invalid());
        }
        Ok(Cursor {
            created_at: created_at.to_string(),
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

fn invalid(name: &str, why: &str) -> ApiError {
    ApiError::bad_request("invalid_parameter", format!("{name}: {why}"))
}

/// What `status` accepts: `pending` (the dashboard's word for
/// `pending_payment`) and every status as the database spells it.
pub fn allowed_statuses() -> Vec<&'static str> {
    std::iter::once("pending")
        .chain(OrderStatus::ALL.iter().map(OrderStatus::as_str))
        .collect()
}

fn invalid_status(given: Option<&str>) -> ApiError {
    let allowed = allowed_statuses();
    let message = match given {
        None => format!("status is required: one of {}", allowed.join(", ")),
        Some(_) => format!("status must be one of {}", allowed.join(", ")),
    };
    ApiError::unprocessable("invalid_status", message).with_detail("allowed", allowed)
}

impl DashboardQuery {
    /// `status` (required; `422 invalid_status` with the `allowed` values
    /// when missing or unknown), `limit` (1 to 100, default 50), `cursor`
    /// (`400 invalid_cursor`). Any other parameter, or one given twice, is
    /// `400 invalid_parameter`, but for `_`-prefixed ones (cache-busters),
    /// which are ignored, as the catalog ignores them.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut status = None;
        let mut limit = None;
        let mut cursor = None;
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            let name = name.as_str();
            if name.starts_with('_') {
                continue;
            }
            if seen.contains(&name) {
                return Err(invalid(name, "given more than once"));
            }
            seen.push(name);
            match name {
                "status" => {
                    status = Some(
                        OrderStatus::parse_filter(value)
                            .ok_or_else(|| invalid_status(Some(value)))?,
                    )
                }
                "limit" => {
                    limit = Some(
                        value
                            .parse::<u32>()
                            .ok()
                            .filter(|n| (1..=MAX_LIMIT).contains(n))
                            .ok_or_else(|| invalid(name, "must be an integer from 1 to 100"))?,
                    )
                }
                "cursor" => cursor = Some(Cursor::decode(value)?),
                other => return Err(invalid(other, "unknown parameter")),
            }
        }
        Ok(DashboardQuery {
            status: status.ok_or_else(|| invalid_status(None))?,
            limit: limit.unwrap_or(DEFAULT_LIMIT),
            cursor,
        })
    }
}

/// The path's store id: a positive `bigint` in one spelling (digits, no
/// leading zero), else `404 store_not_found`, as a malformed order id is a
/// 404. A well-formed id of no store is not looked up: its page is empty.
pub fn parse_store_id(segment: &str) -> Result<i64, ApiError> {
    if is_id(segment) {
        if let Ok(id) = segment.parse() {
            return Ok(id);
        }
    }
    Err(ApiError::not_found(
        "store_not_found",
        "no store has this id",
    ))
}

/// One page: a plain SELECT that the planner serves with an Index Scan on
/// `orders_store_status_created_id` (store and status equal, then the
/// keyset), reading `limit + 1` rows so the page knows whether another
/// follows. Columns: those of [`OrderSummary`].
pub fn page(store_id: i64, query: &DashboardQuery) -> Statement {
    let mut s = Statement::new();
    let store = s.bind(store_id.to_string());
    let status = s.bind(query.status.as_str());
    let keyset = match &query.cursor {
        Some(c) => {
            let at = s.bind(c.created_at.as_str());
            let id = s.bind(c.id.to_string());
            format!("\n   AND (o.created_at, o.id) < ({at}::timestamptz, {id}::bigint)")
        }
        None => String::new(),
    };
    s.push_sql(&format!(
        "SELECT o.id::text AS id, o.public_id AS order_id, o.status, o.total::text AS total,
       o.currency::text AS currency, order_time_text(o.created_at) AS created_at,
       order_time_text(o.updated_at) AS updated_at
  FROM orders o
 WHERE o.store_id = {store}::bigint AND o.status = {status}::text{keyset}
 ORDER BY o.created_at DESC, o.id DESC
 LIMIT {fetch}",
        fetch = query.limit + 1,
    ));
    s
}

/// One order of the list as the answer shows it; `id` makes the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSummary {
    #[serde(skip)]
    pub id: i64,
    pub order_id: String,
    pub status: String,
    pub total: String,
    pub currency: String,
    pub created_at: String,
    pub updated_at: String,
}

impl FromRow for OrderSummary {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(OrderSummary {
            id: row.get("id")?,
            order_id: row.get("order_id")?,
            status: row.get("status")?,
            total: row.get("total")?,
            currency: row.get("currency")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

/// The answer: `{"orders": [...], "next_cursor": string | null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    pub orders: Vec<OrderSummary>,
    pub next_cursor: Option<String>,
}

impl Page {
    /// The page from the statement's `limit + 1` rows: the first `limit`,
    /// and a cursor after the last of them when a row was left over.
    pub fn from_rows(mut rows: Vec<OrderSummary>, limit: u32) -> Page {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => Some(
                Cursor {
                    created_at: last.created_at.clone(),
                    id: last.id,
                }
                .encode(),
            ),
            _ => None,
        };
        Page {
            orders: rows,
            next_cursor,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a page serialises")
    }
}

#[cfg(test)]
mod tests;

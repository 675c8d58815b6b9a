//! `GET /admin/stores/{store_id}/orders?status=…&limit=…&cursor=…` (staff,
//! the admin token): a store's orders in one status, newest first, a page
//! at a time. Parameters, the statement and the cursor live in
//! shared/orders/src/dashboard.rs.
//!
//! Read from the REPLICA (`Db::read`): one index range, no personal column.
//! A well-formed store id that no store has is an empty list (the statement
//! reads the orders' index only); a malformed one is `404 store_not_found`.

use orders::dashboard::{self, DashboardQuery, OrderSummary, Page};
use platform::respond;
use platform::serve::Call;
use platform::Result;
use worker::Response;

use crate::access;

pub async fn list(call: &mut Call, store_id: &str) -> Result<Response> {
    // The token first: without it every answer is 401 or 403.
    access::require_admin(call)?;
    let store_id = dashboard::parse_store_id(store_id)?;
    let pairs = platform::http::query_pairs(&call.req.inner().url());
    let query = DashboardQuery::parse(&pairs)?;
    let rows: Vec<OrderSummary> = call.db.read(&dashboard::page(store_id, &query)).await?;
    let page = Page::from_rows(rows, query.limit);
    Ok(respond::private_json(200, page.to_json()))
}

//! `GET /admin/orders/{id}` (staff, the admin token): the shopper's view of
//! the order plus `staff`: the internal id, store, region, email and
//! shipping address, the review flag, fulfillment's attempts and last
//! error, and the order's alerts; built by the stored function
//! `order_admin_view` (shared/orders/sql/order_view.sql) in one statement.
//!
//! Read from the PRIMARY (`Db::read_primary`): the email and the shipping
//! address are personal data, which the replica's role (`shop_reader`) may
//! not read (scripts/privileges.sql); staff also see a change the moment it
//! commits.

use orders::view::{self, OrderViewRow};
use platform::respond;
use platform::serve::Call;
use platform::Result;
use worker::Response;

use crate::access;

pub async fn show(call: &mut Call, id: &str) -> Result<Response> {
    // The token first: without it every answer is 401 or 403.
    access::require_admin(call)?;
    let public_id = access::order_id(id)?;
    let rows: Vec<OrderViewRow> = call
        .db
        .read_primary(&view::order_admin_view(&public_id))
        .await?;
    let body = OrderViewRow::found(rows).ok_or_else(access::not_found)?;
    Ok(respond::private_json(200, body))
}

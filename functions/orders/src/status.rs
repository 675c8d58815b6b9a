//! `GET /orders/{id}`: the order's state, for the guest holding its token.

use platform::respond;
use platform::serve::Call;
use platform::{FromRow, Result, Row, Statement};
use serde_json::json;
use worker::Response;

use crate::access;

struct OrderState {
    status: String,
    total: String,
    currency: String,
    needs_review: bool,
}

impl FromRow for OrderState {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(OrderState {
            status: row.get("status")?,
            total: row.get("total")?,
            currency: row.get::<String>("currency")?.trim().to_string(),
            needs_review: row.text("needs_review")? == Some("true"),
        })
    }
}

pub async fn show(call: &mut Call, id: &str) -> Result<Response> {
    let public_id = access::order_id(id)?;
    access::require_order_token(call, &public_id)?;
    let mut s = Statement::new();
    let p = s.bind(public_id.as_str());
    s.push_sql(&format!(
        "SELECT status, total::text AS total, currency, (review_reason IS NOT NULL)::text AS needs_review \
           FROM orders WHERE public_id = {p}"
    ));
    // The primary: a payment just applied by a webhook must show at once.
    let order: OrderState = call
        .db
        .read_primary(&s)
        .await?
        .into_iter()
        .next()
        .ok_or_else(access::not_found)?;
    Ok(respond::private_json(
        200,
        json!({
            "order_id": public_id,
            "status": order.status,
            "total": order.total,
            "currency": order.currency,
            "needs_review": order.needs_review,
        })
        .to_string(),
    ))
}

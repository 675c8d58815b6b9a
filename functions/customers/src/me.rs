//! The signed-in shopper's own account: profile, erasure, export, order
//! history, points. Every route starts from the session's customer; no
//! route takes a customer id, so there is no other customer to name.

use customers::auth::{self, require_caller};
use customers::history::{HistoryCursor, HistoryParams};
use customers::request::PatchRequest;
use customers::queries;
use customers::rows::{JsonColumn, OrderSummary, Profile};
use customers::session;
use platform::http::query_pairs;
use platform::respond::{self, set_header};
use platform::serve::Call;
use platform::{ApiError, Result};
use serde_json::{json, Value};
use worker::Response;

pub fn account_gone() -> ApiError {
    // The session outlived its account (erased in another tab): as if signed out.
    auth::unauthenticated()
}

/// `GET /customers/me`: personal data, so from the primary.
pub async fn profile(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let profile: Option<Profile> = call.db.read_primary(&queries::profile(&caller.customer)).await?.into_iter().next();
    let profile = profile.ok_or_else(account_gone)?;
    Ok(respond::private_json(200, profile.to_json().to_string()))
}

/// `PATCH /customers/me {name?, addresses?}`.
pub async fn update(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let patch = PatchRequest::parse(&call.body().await?)?;
    let addresses = patch.addresses.as_ref().map(|a| a.to_json().to_string());
    let profile: Option<Profile> = call
        .db
        .write(&queries::update_profile(&caller.customer, patch.name.as_ref().map(|n| n.as_str()), addresses.as_deref()))
        .await?
        .into_iter()
        .next();
    let profile = profile.ok_or_else(account_gone)?;
    Ok(respond::private_json(200, profile.to_json().to_string()))
}

/// `DELETE /customers/me`: erased in one transaction (customer_erase), then
/// every session revoked and this one's cookie cleared.
pub async fn erase(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let outcome: Option<JsonColumn> = call.db.write(&queries::erase(&caller.customer)).await?.into_iter().next();
    let outcome = outcome.and_then(|o| o.0).unwrap_or(Value::Null);
    match outcome.get("refused").and_then(Value::as_str) {
        None if outcome.get("erased").is_some() => {}
        Some("orders_in_progress") => {
            return Err(ApiError::conflict(
                "orders_in_progress",
                "an order is still on its way; the account can be deleted once it is delivered or cancelled",
            ))
        }
        Some(_) => return Err(account_gone()),
        None => return Err(ApiError::internal("customer_erase answered nothing")),
    }
    auth::revoke_all(&call.env, &caller.customer).await?;
    call.log.info("customer_erased", json!({}));
    let mut resp = respond::private_json(204, Vec::new());
    set_header(resp.headers_mut(), "set-cookie", &session::clear_cookie());
    Ok(resp)
}

/// `GET /customers/me/export`: everything we hold, as one document.
pub async fn export(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let export: Option<JsonColumn> = call.db.read_primary(&queries::export(&caller.customer)).await?.into_iter().next();
    let export = export.and_then(|e| e.0).ok_or_else(account_gone)?;
    let mut resp = respond::private_json(200, export.to_string());
    set_header(resp.headers_mut(), "content-disposition", "attachment; filename=\"customer-export.json\"");
    Ok(resp)
}

/// `GET /customers/me/orders?limit=&cursor=`: the replica, unless it has
/// not replayed this client's last write (read-your-writes): an order just
/// placed is listed.
pub async fn orders(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let url = call.req.inner().url();
    let params = HistoryParams::parse(&query_pairs(&url))?;
    let after = params.cursor.as_ref().map(|c| (c.created_micros.to_string(), c.id.to_string()));
    let rows: Vec<OrderSummary> = call
        .db
        .read(&queries::orders_page(
            &caller.customer,
            after.as_ref().map(|(m, i)| (m.as_str(), i.as_str())),
            params.limit,
        ))
        .await?;
    let more = rows.len() > params.limit as usize;
    let shown = &rows[..rows.len().min(params.limit as usize)];
    let next = match (more, shown.last()) {
        (true, Some(last)) => Some(HistoryCursor { created_micros: last.created_micros, id: last.id }.encode()),
        _ => None,
    };
    let body = json!({
        "orders": shown.iter().map(|o| o.json.clone()).collect::<Vec<_>>(),
        "next_cursor": next,
    });
    Ok(respond::private_json(200, body.to_string()))
}

/// `GET /customers/me/points`: the balance and the newest ledger entries.
pub async fn points(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    // The primary: the balance must show a checkout or payment of a moment
    // ago whoever made it (a webhook, another worker), token or not.
    let points: Option<JsonColumn> = call.db.read_primary(&queries::points(&caller.customer)).await?.into_iter().next();
    let points = points.and_then(|p| p.0).ok_or_else(account_gone)?;
    Ok(respond::private_json(200, points.to_string()))
}

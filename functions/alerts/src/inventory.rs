//! Staff's stock routes (docs/inventory.md):
//!
//!   POST /admin/inventory/adjustments   a batch from a POS or a warehouse
//!        system, applied in one statement (`apply_inventory_adjustments`):
//!        200 {"results": [...]}, one per adjustment in input order, each
//!        applied, refused or replayed;
//!   GET  /admin/inventory?sku=…         on hand, reserved, available and
//!        the low-stock threshold per warehouse, from the replica.
//!
//! Each route: the admin token first, then the request parsed into the
//! inventory crate's types, one statement, the answer.

use inventory::queries;
use inventory::{parse_levels_query, AdjustmentBatch, AdjustmentOutcome};
use platform::admin::require_admin;
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Result};
use worker::Response;

pub async fn adjust(call: &mut Call) -> Result<Response> {
    require_admin(call)?;
    let batch = AdjustmentBatch::parse(&call.body().await?)?;
    let outcome: AdjustmentOutcome = call
        .db
        .write(&queries::apply_adjustments(&batch))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("apply_inventory_adjustments returned no row"))?;
    outcome.check(&batch)?;
    Ok(respond::private_json(200, outcome.to_json()))
}

pub async fn levels(call: &mut Call) -> Result<Response> {
    require_admin(call)?;
    let pairs = platform::http::query_pairs(&call.req.inner().url());
    let sku = parse_levels_query(&pairs)?;
    let levels: String = call
        .db
        .read(&queries::levels(&sku))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::not_found("sku_not_found", format!("no variant has the SKU {sku}"))
        })?;
    Ok(respond::private_json(200, levels))
}

//! `GET/POST /customers/me/wishlist`, `DELETE /customers/me/wishlist/{sku}`.
//! Adding is idempotent (one row per SKU) and capped at 500 items, in one
//! statement that locks the customer row (two adds at 499 cannot both pass).

use cart::Sku;
use customers::auth::require_caller;
use customers::queries;
use customers::rows::{wishlist_json, WishlistAdd, WishlistItem};
use customers::wishlist::{self, MAX_WISHLIST_ITEMS};
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, Result};
use worker::Response;

pub async fn list(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    // The primary: a shopper reads the list right after changing it, often
    // without a read-your-writes token (apps), and it is read rarely.
    let items: Vec<WishlistItem> = call.db.read_primary(&queries::wishlist(&caller.customer)).await?;
    Ok(respond::private_json(200, wishlist_json(&items).to_string()))
}

/// 201 when added, 200 when it was there already; the list either way.
pub async fn add(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let sku = wishlist::parse_add(&call.body().await?)?;
    let added: Option<WishlistAdd> = call
        .db
        .write(&queries::wishlist_add(&caller.customer, sku.as_str(), MAX_WISHLIST_ITEMS))
        .await?
        .into_iter()
        .next();
    let added = added.ok_or_else(crate::me::account_gone)?;
    let status = match added {
        WishlistAdd { sku_exists: false, .. } => {
            return Err(ApiError::not_found("sku_not_found", format!("no product has SKU {sku}")))
        }
        WishlistAdd { added: true, .. } => 201,
        WishlistAdd { present: true, .. } => 200,
        WishlistAdd { .. } => {
            return Err(ApiError::conflict(
                "wishlist_full",
                format!("a wishlist holds at most {MAX_WISHLIST_ITEMS} items; remove one first"),
            ))
        }
    };
    // The list as it is now, from the primary that just changed it.
    let items: Vec<WishlistItem> = call.db.read_primary(&queries::wishlist(&caller.customer)).await?;
    Ok(respond::private_json(status, wishlist_json(&items).to_string()))
}

/// 204 whether or not it was there (a retried DELETE is no error).
pub async fn remove(call: &mut Call, sku: &str) -> Result<Response> {
    let caller = require_caller(call).await?;
    let sku = Sku::parse(sku)?;
    let _: Vec<String> = call.db.write(&queries::wishlist_remove(&caller.customer, sku.as_str())).await?;
    Ok(respond::private_json(204, Vec::new()))
}

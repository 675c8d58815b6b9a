//! The saved cart: the customer's one cart, on every device. At login the
//! guest cart this device holds joins it (the rule: docs/customers.md,
//! "Saved carts"; the merge itself is `cart::merge`, applied by the saved
//! cart's Durable Object):
//!
//! * no saved cart, or it is gone or checked out: the guest cart becomes the
//!   saved cart (`adopted`);
//! * otherwise the guest lines are merged into the saved cart (`merged`, or
//!   `refused` with a reason when region or store differ).
//!
//! A merge that fails (the cart service down, the guest cart unknown) never
//! fails the login: the answer says what happened to the cart.

use cart::object_client;
use cart::{Cart, CartId, CartStatus};
use customers::auth::require_caller;
use customers::queries;
use customers::request::CartToMerge;
use customers::rows::Account;
use platform::respond;
use platform::serve::Call;
use platform::Result;
use serde_json::{json, Value};
use worker::Response;

/// `GET /customers/me/cart`: `{"cart_id"}`, or 404 when there is none.
pub async fn get(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let account: Option<Account> = call.db.read_primary(&queries::account_by_id(&caller.customer)).await?.into_iter().next();
    let account = account.ok_or_else(crate::me::account_gone)?;
    let cart_id = account.cart_id.ok_or_else(cart::cart_not_found)?;
    Ok(respond::private_json(200, json!({"cart_id": cart_id}).to_string()))
}

/// Login's `cart`: null without a `cart_id`, else what became of it.
pub async fn merge_at_login(call: &Call, account: &Account, guest: &CartToMerge) -> Value {
    let guest_id = match guest {
        CartToMerge::Absent => return Value::Null,
        CartToMerge::Unknown => return outcome(None, "refused", Some("cart_not_found"), &[]),
        CartToMerge::Cart(id) => id,
    };
    match merge(call, account, guest_id).await {
        Ok(answer) => answer,
        Err(e) if e.status == 404 => outcome(None, "refused", Some("cart_not_found"), &[]),
        Err(e) if e.code == "checkout_in_progress" => outcome(None, "refused", Some("checkout_in_progress"), &[]),
        Err(e) if e.status == 409 => outcome(None, "refused", Some("checked_out"), &[]),
        Err(e) => {
            call.log.warn("cart_merge_failed", json!({"code": e.code, "detail": e.internal_detail}));
            outcome(None, "refused", Some("cart_unavailable"), &[])
        }
    }
}

async fn merge(call: &Call, account: &Account, guest_id: &CartId) -> Result<Value> {
    let customer = account.public_id();
    // The guest cart as a guest sees it (a cart owned by someone else is 404).
    let guest = object_client::get(&call.env, &call.log, guest_id, Some(customer)).await?;
    if guest.status == CartStatus::CheckedOut {
        return Ok(outcome(None, "refused", Some("checked_out"), &[]));
    }
    if let Some(saved) = saved_cart(call, account).await {
        if saved.id != guest.id {
            let (cart, merged) = object_client::merge(&call.env, &call.log, &saved.id, customer, &guest).await?;
            let capped: Vec<String> = merged.capped.iter().map(|s| s.as_str().to_string()).collect();
            return Ok(outcome(Some(cart.id.as_str()), merged.status, merged.reason, &capped));
        }
    }
    let cart = object_client::adopt(&call.env, &call.log, &guest.id, customer).await?;
    let _: Vec<String> = call.db.write(&queries::set_saved_cart(customer, cart.id.as_str())).await?;
    Ok(outcome(Some(cart.id.as_str()), "adopted", None, &[]))
}

/// The saved cart, if it still exists and is open.
async fn saved_cart(call: &Call, account: &Account) -> Option<Cart> {
    let id = CartId::parse(account.cart_id.as_deref()?).ok()?;
    let cart = object_client::get(&call.env, &call.log, &id, Some(account.public_id())).await.ok()?;
    (cart.status == CartStatus::Open).then_some(cart)
}

fn outcome(cart_id: Option<&str>, status: &str, reason: Option<&str>, capped: &[String]) -> Value {
    let mut v = json!({"cart_id": cart_id, "status": status, "capped": capped});
    if let Some(r) = reason {
        v["reason"] = json!(r);
    }
    v
}


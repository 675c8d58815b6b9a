//! What the cart routes do beyond parsing: open a cart, or pass a command to
//! the cart's object.

use cart::object_client;
use cart::queries::{self, StoreRegion};
use cart::request::NewCart;
use cart::{CartCommand, CartId, CartRequest};
use platform::respond::{self, set_header};
use platform::serve::Call;
use platform::{ApiError, Result};
use regions::Regions;
use worker::Response;

/// `POST /cart`: the store must exist and be in the region asked for. Its
/// one statement runs here; the object it creates runs none.
pub async fn create(call: &mut Call, new_cart: NewCart) -> Result<Response> {
    let region = Regions::builtin().get(&new_cart.region)?;
    let store_id = new_cart.store_id;
    let rows: Vec<StoreRegion> = call.db.read(&queries::store_region(store_id)).await?;
    let store_region = rows
        .into_iter()
        .next()
        .map(|r| r.region_code)
        .ok_or_else(|| {
            ApiError::unprocessable("unknown_store", format!("no store has id {store_id}"))
        })?;
    if store_region != new_cart.region.as_str() {
        return Err(ApiError::unprocessable(
            "region_mismatch",
            format!(
                "store {store_id} sells in {store_region}, not {}",
                new_cart.region
            ),
        ));
    }

    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    let id = CartId::from_random(random);
    let request = CartRequest {
        cart_id: id.clone(),
        command: CartCommand::Create {
            store_id,
            region: new_cart.region,
            currency: region.currency,
        },
        if_match: None,
    };
    let mut answer = object_client::send(&call.env, &call.log, &request).await?;
    let status = answer.status_code();
    let etag = answer
        .headers()
        .get("etag")
        .ok()
        .flatten()
        .unwrap_or_default();
    let body = answer.text().await?;
    let mut resp = respond::private_json(status, body);
    set_header(resp.headers_mut(), "etag", &etag);
    set_header(resp.headers_mut(), "location", &format!("/cart/{id}"));
    Ok(resp)
}

/// Any other cart route: the object's answer, as it is.
pub async fn send(call: &Call, id: CartId, command: CartCommand) -> Result<Response> {
    let request = CartRequest {
        cart_id: id,
        command,
        if_match: call.header("if-match"),
    };
    let headers = crate::dev::object_headers(call);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    object_client::send_to(&call.env, &call.log, &request, "/", &headers).await
}

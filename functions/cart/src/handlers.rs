//! What the cart routes do beyond parsing: open a cart, attach an email,
//! follow a restore link, or pass a command to the cart's object. Every
//! request to the object names its caller (the session's customer, `None`
//! for a guest): a saved cart answers its owner only (`cart::owner`).

use cart::object_client;
use cart::queries::{self, StoreRegion};
use cart::recovery::{token_param, verify_restore_token};
use cart::request::NewCart;
use cart::{cart_not_found, Cart, CartCommand, CartId, CartRequest, Email};
use platform::respond::{self, set_header};
use platform::serve::Call;
use platform::{secrets, ApiError, Result};
use regions::Regions;
use worker::{Date, Response};

/// The signed-in customer's public id (`cus_...`), `None` for a guest; a
/// session that is there but not valid (forged, expired, revoked) is 401.
pub async fn caller(call: &Call) -> Result<Option<String>> {
    Ok(customers::auth::caller(call).await?.map(|c| c.customer))
}

/// `POST /cart`: the store must exist and be in the region asked for. Its
/// one statement runs here; the object it creates runs none. Opened with a
/// session, the cart is the customer's saved cart from the start.
pub async fn create(call: &mut Call, new_cart: NewCart) -> Result<Response> {
    let caller = caller(call).await?;
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
        caller,
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
        caller: caller(call).await?,
    };
    let headers = crate::dev::object_headers(call);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    object_client::send_to(&call.env, &call.log, &request, "/", &headers).await
}

/// `PATCH /cart/{id} {"email"}`: the object attaches the email (an open
/// cart only; If-Match, version and ETag as for any change), then this
/// request records the cart in the recovery index (`cart_recovery`, one
/// statement on the primary) and answers the cart.
///
/// The object's change and the index write are not one transaction: when
/// the database fails after the object accepted, the cart has its email but
/// the answer is 503 `database_unavailable` with `Retry-After`. That is
/// safe because attaching an email is idempotent: the same email again is
/// no change to the cart (200 whatever `If-Match` says; see
/// `CartCommand::AttachEmail`) and the upsert runs again, so the client's
/// retry completes the index.
pub async fn attach_email(call: &Call, id: CartId, email: Email) -> Result<Response> {
    let command = CartCommand::AttachEmail {
        email: email.clone(),
    };
    let mut answer = send(call, id.clone(), command).await?;
    let status = answer.status_code();
    if status != 200 {
        return Ok(answer); // refused (404, 409, 412, 503...): nothing to index
    }
    let etag = answer
        .headers()
        .get("etag")
        .ok()
        .flatten()
        .unwrap_or_default();
    let body = answer.text().await?;
    let store_id = Cart::from_view(&body)?.store_id;
    call.db
        .write::<String>(&queries::attach_cart_email(&id, store_id, &email))
        .await?;
    let mut resp = respond::private_json(status, body);
    set_header(resp.headers_mut(), "etag", &etag);
    Ok(resp)
}

/// `GET /cart/restore?token=...`: the cart a restore link names, exactly
/// as `GET /cart/{id}` answers it. A missing, malformed, tampered or
/// expired token and a cart that is gone all get the same 404, so the
/// answer never says which; so does a saved cart's link followed by anyone
/// but its owner's session (a forwarded email opens nothing).
pub async fn restore(call: &Call) -> Result<Response> {
    // The raw URL, not `Request::url()`: parsing it with the `url` crate
    // would add ~90 KB (gzipped) to this worker's wasm.
    let url = call.req.inner().url();
    let key = secrets::required(&call.env, secrets::CART_RESTORE)?;
    let now = Date::now().as_millis() as i64 / 1000;
    let id = token_param(&url)
        .and_then(|t| verify_restore_token(&key, t, now))
        .ok_or_else(restore_not_found)?;
    let mut answer = send(call, id, CartCommand::Get).await?;
    if answer.status_code() == 404 {
        let _ = answer.text().await; // the object's own 404, replaced
        return Err(restore_not_found());
    }
    Ok(answer)
}

/// The one answer for every restore link that does not open a cart.
fn restore_not_found() -> ApiError {
    let mut e = cart_not_found();
    e.message = "no cart for this link: it may have expired".into();
    e
}

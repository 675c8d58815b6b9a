//! The cart worker.
//!
//!   POST   /cart                     {store_id, region}  -> 201, the new cart
//!   GET    /cart/{id}
//!   PATCH  /cart/{id}                {email}             (for the abandoned-cart message)
//!   GET    /cart/restore?token=...                       (a restore link: the cart, or 404)
//!   POST   /cart/{id}/items          {sku, quantity}     (adds to the line)
//!   PATCH  /cart/{id}/items/{sku}    {quantity}          (0 removes the line)
//!   DELETE /cart/{id}/items/{sku}
//!
//! Dev builds only (cargo feature `dev`): `POST /cart/__dev/{id}/alarm`,
//! `/evict` and `/command`, and the `x-test-fault` header (dev.rs).
//!
//! Every answer is the cart with server-side totals and an `ETag` (its
//! version); a change with a stale `If-Match` gets 412. A session (cookie
//! `session` or `Authorization: Bearer s1....`, `customers::auth`) makes
//! `POST /cart` open the customer's saved cart; a saved cart answers every
//! route (restore links too) to its owner's session only, 404
//! `cart_not_found` to anyone else; a bad session is 401. Each cart is held by
//! its own Durable Object (`CartObject`, object.rs), which applies the
//! commands one at a time; KV is where carts rest.
//!
//! Bindings (config.rs): CART_OBJECTS (the objects), CARTS (KV), and
//! DB / DB_REPLICA (platform::db); secrets LSN_TOKEN_SECRET and
//! CART_RESTORE_SECRET (restore links, `cart::recovery`); for sessions the
//! KV SESSIONS and the secret SESSION_SECRET (`customers::auth`).

use cart::request::{
    AddItem, AddItemBody, AttachEmailBody, CreateCartBody, NewCart, SetQuantityBody,
};
use cart::{CartCommand, CartId, Email, Sku};
use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response};

mod config;
mod dev;
mod handlers;
mod object;
mod storage;

pub use object::CartObject;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    let (id, command) = match (call.method(), segments(&path).as_slice()) {
        #[cfg(feature = "dev")]
        (Method::Post, ["cart", "__dev", id, action]) => {
            return dev::route(call, CartId::parse(id)?, action).await;
        }
        (Method::Post, ["cart"]) => {
            let new_cart = NewCart::try_from(call.json::<CreateCartBody>().await?)?;
            return handlers::create(call, new_cart).await;
        }
        // Before `["cart", id]`: "restore" is no cart id.
        (Method::Get | Method::Head, ["cart", "restore"]) => {
            return handlers::restore(call).await;
        }
        (_, ["cart", "restore"]) => return Err(no_route(&path, Some("GET, HEAD"))),
        (Method::Get | Method::Head, ["cart", id]) => (CartId::parse(id)?, CartCommand::Get),
        (Method::Patch, ["cart", id]) => {
            let id = CartId::parse(id)?;
            let email = Email::try_from(call.json::<AttachEmailBody>().await?)?;
            return handlers::attach_email(call, id, email).await;
        }
        (Method::Post, ["cart", id, "items"]) => {
            let id = CartId::parse(id)?;
            let AddItem { sku, quantity } = call.json::<AddItemBody>().await?.try_into()?;
            (id, CartCommand::Add { sku, quantity })
        }
        (Method::Patch, ["cart", id, "items", sku]) => {
            let (id, sku) = (CartId::parse(id)?, Sku::parse(sku)?);
            let quantity = u32::try_from(call.json::<SetQuantityBody>().await?)?;
            (id, CartCommand::Set { sku, quantity })
        }
        (Method::Delete, ["cart", id, "items", sku]) => {
            let (id, sku) = (CartId::parse(id)?, Sku::parse(sku)?);
            (id, CartCommand::Remove { sku })
        }
        (_, ["cart"] | ["cart", _, "items"]) => return Err(no_route(&path, Some("POST"))),
        (_, ["cart", _]) => return Err(no_route(&path, Some("GET, HEAD, PATCH"))),
        (_, ["cart", _, "items", _]) => return Err(no_route(&path, Some("PATCH, DELETE"))),
        (_, _) => return Err(no_route(&path, None)),
    };
    handlers::send(call, id, command).await
}

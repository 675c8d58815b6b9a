//! The customers worker: accounts, sessions and what a signed-in shopper
//! owns. Routes (docs/api.md has the bodies and answers):
//!
//!   POST   /customers/signup                   {email, password, name} -> 202, always the same
//!   POST   /customers/verify                   {token}   the emailed link: verifies, claims guest orders
//!   POST   /customers/login                    {email, password, cart_id?} -> session cookie + token
//!   POST   /customers/logout                   revokes the session
//!   POST   /customers/password-reset           {email} -> 202, always the same
//!   POST   /customers/password-reset/confirm   {token, password}
//!   GET    /customers/me      PATCH /customers/me {name?, addresses?}      DELETE /customers/me
//!   GET    /customers/me/export
//!   POST   /customers/me/verify-email          a fresh verify link (to claim later guest orders)
//!   GET    /customers/me/orders?limit=&cursor= newest first, replica + read-your-writes
//!   GET    /customers/me/wishlist   POST /customers/me/wishlist {sku}   DELETE /customers/me/wishlist/{sku}
//!   GET    /customers/me/points
//!   GET    /customers/me/cart                  the saved cart's id
//!
//! Sessions: `customers::auth` (cookie or bearer, HMAC-signed, revocable in
//! KV). Failed logins: the `LoginThrottle` Durable Object (throttle.rs).
//! Bindings: DB, DB_REPLICA, SESSIONS (KV), LOGIN_THROTTLE, CART_OBJECTS
//! (the cart worker's objects, for the login's cart merge).

use platform::serve::{no_route, segments, serve, Call};
use platform::Result;
use worker::{event, Context, Env, Method, Request, Response};

mod accounts;
mod login;
mod mail;
mod me;
mod saved_cart;
mod throttle;
mod wishlist;

pub use throttle::LoginThrottle;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    serve(req, env, route).await
}

async fn route(call: &mut Call) -> Result<Response> {
    let path = call.req.path();
    match (call.method(), segments(&path).as_slice()) {
        (Method::Post, ["customers", "signup"]) => accounts::signup(call).await,
        (Method::Post, ["customers", "verify"]) => accounts::verify(call).await,
        (Method::Post, ["customers", "login"]) => login::login(call).await,
        (Method::Post, ["customers", "logout"]) => login::logout(call).await,
        (Method::Post, ["customers", "password-reset"]) => accounts::request_reset(call).await,
        (Method::Post, ["customers", "password-reset", "confirm"]) => accounts::confirm_reset(call).await,
        (Method::Get | Method::Head, ["customers", "me"]) => me::profile(call).await,
        (Method::Patch, ["customers", "me"]) => me::update(call).await,
        (Method::Delete, ["customers", "me"]) => me::erase(call).await,
        (Method::Get | Method::Head, ["customers", "me", "export"]) => me::export(call).await,
        (Method::Post, ["customers", "me", "verify-email"]) => accounts::resend_verify(call).await,
        (Method::Get | Method::Head, ["customers", "me", "orders"]) => me::orders(call).await,
        (Method::Get | Method::Head, ["customers", "me", "points"]) => me::points(call).await,
        (Method::Get | Method::Head, ["customers", "me", "cart"]) => saved_cart::get(call).await,
        (Method::Get | Method::Head, ["customers", "me", "wishlist"]) => wishlist::list(call).await,
        (Method::Post, ["customers", "me", "wishlist"]) => wishlist::add(call).await,
        (Method::Delete, ["customers", "me", "wishlist", sku]) => {
            let sku = sku.to_string();
            wishlist::remove(call, &sku).await
        }
        (_, ["customers", "signup" | "verify" | "login" | "logout" | "password-reset"])
        | (_, ["customers", "password-reset", "confirm"])
        | (_, ["customers", "me", "verify-email"]) => Err(no_route(&path, Some("POST"))),
        (_, ["customers", "me"]) => Err(no_route(&path, Some("GET, HEAD, PATCH, DELETE"))),
        (_, ["customers", "me", "export" | "orders" | "points" | "cart"]) => {
            Err(no_route(&path, Some("GET, HEAD")))
        }
        (_, ["customers", "me", "wishlist"]) => Err(no_route(&path, Some("GET, HEAD, POST"))),
        (_, ["customers", "me", "wishlist", _]) => Err(no_route(&path, Some("DELETE"))),
        (_, _) => Err(no_route(&path, None)),
    }
}

//! `POST /customers/login` and `POST /customers/logout`.
//!
//! A login costs the same whether or not the email has an account: an
//! unknown email is checked against a dummy hash with the same parameters
//! (`password::verify_or_dummy`), and every refusal is the same 401
//! `invalid_credentials`, unverified accounts included. Failed attempts are
//! limited per email and per client address (throttle.rs); over the limit
//! the answer is 429 with Retry-After and no password is checked.

use customers::auth::{self, now_secs, signing_key};
use customers::password;
use customers::request::LoginRequest;
use customers::queries;
use customers::rows::Account;
use customers::session::{self, SESSION_TTL_SECS};
use platform::crypto::hex;
use platform::respond::{self, append_header};
use platform::serve::Call;
use platform::Result;
use serde_json::json;
use sha2::{Digest, Sha256};
use worker::Response;

use crate::throttle::{self, Keys};

/// The throttle's window (`LOGIN_WINDOW_SECS`; `customers::throttle`).
fn window_ms(call: &Call) -> i64 {
    let var = call.env.var("LOGIN_WINDOW_SECS").ok().map(|v| v.to_string());
    customers::throttle::window_ms(var.as_deref())
}

pub async fn login(call: &mut Call) -> Result<Response> {
    let body = LoginRequest::parse(&call.body().await?)?;
    let window = window_ms(call);
    let keys = Keys {
        // Hashed: object names are visible to whoever operates the account.
        email: format!("email:{}", hex(&Sha256::digest(body.email.as_str().as_bytes()))),
        client: call.client_ip().map(|ip| format!("ip:{ip}")),
    };
    throttle::check(&call.env, &keys, window).await?;

    let account: Option<Account> = call
        .db
        .read_primary(&queries::account_by_email(body.email.as_str()))
        .await?
        .into_iter()
        .next();
    let matches = password::verify_or_dummy(&body.password, account.as_ref().map(|a| a.password_hash.as_str()));
    let account = match account {
        Some(a) if matches && a.profile.email_verified => a,
        _ => {
            throttle::failed(&call.env, &keys, window).await?;
            call.log.info("login_failed", json!({}));
            return Err(customers::invalid_credentials());
        }
    };
    throttle::succeeded(&call.env, &keys, window).await?;

    let now = now_secs();
    let (token, issued) = session::issue(&signing_key(&call.env)?, account.public_id(), now, session::new_session_id()?);
    let cart = crate::saved_cart::merge_at_login(call, &account, &body.cart).await;
    call.log.info("login", json!({}));
    let answer = json!({
        "customer": account.profile.to_json(),
        "token": token,
        "expires_at": rfc3339(issued.expires_at),
        "cart": cart,
    });
    let mut resp = respond::private_json(200, answer.to_string());
    append_header(resp.headers_mut(), "set-cookie", &session::set_cookie(&token, SESSION_TTL_SECS));
    Ok(resp)
}

/// Revokes this session (until it would have expired) and clears the cookie.
pub async fn logout(call: &mut Call) -> Result<Response> {
    let caller = auth::require_caller(call).await?;
    auth::revoke(&call.env, &caller).await?;
    let mut resp = respond::private_json(204, Vec::new());
    append_header(resp.headers_mut(), "set-cookie", &session::clear_cookie());
    Ok(resp)
}

/// `2026-12-10T07:00:00Z`. JavaScript's Date writes it (with milliseconds,
/// always .000 here): no calendar code of ours or chrono's in this worker,
/// which is near its wasm budget.
fn rfc3339(unix: i64) -> String {
    let millis = wasm_bindgen::JsValue::from_f64(unix as f64 * 1000.0);
    let iso: String = worker::js_sys::Date::new(&millis).to_iso_string().into();
    iso.replace(".000Z", "Z")
}

//! Signup, the emailed links (verify, reset), and resending a verify link.
//!
//! Signup never says whether an email is taken: both ways it hashes the
//! password, runs one statement, sends one email and answers the same 202.
//! The mail tells the address's owner what happened (a verify link for a
//! new account, a note when the account exists). An account signs in only
//! once its email is verified, so signing up with someone else's address
//! gets a stranger nothing; a second signup of an unverified address
//! replaces its password and kills the earlier link (links are bound to the
//! password hash), so a stranger who signed up first cannot have the owner
//! verify the stranger's password.

use customers::auth::{self, now_secs, require_caller, signing_key, VerifyingKeys};
use customers::link_token::{self, invalid_token, password_fingerprint, LinkPurpose, LinkToken, VERIFY_TTL_SECS};
use customers::password;
use customers::request::{ResetConfirmRequest, ResetRequest, SignupRequest, VerifyRequest};
use customers::queries;
use customers::rows::{Account, JsonColumn, SignedUp};
use platform::respond;
use platform::serve::Call;
use platform::Result;
use serde_json::{json, Value};
use worker::Response;

use crate::mail::{self, Mail};

/// `POST /customers/signup`: 202 `{"status": "verification_sent"}`, always.
pub async fn signup(call: &mut Call) -> Result<Response> {
    let body = SignupRequest::parse(&call.body().await?)?;
    let hash = password::hash(&body.password)?;
    let row: Option<SignedUp> = call
        .db
        .write(&queries::signup(body.email.as_str(), body.name.as_str(), &hash))
        .await?
        .into_iter()
        .next();
    match row {
        Some(account) => {
            let token = verify_link(call, &account.public_id, body.email.as_str(), &account.password_hash)?;
            mail::send(call, body.email.as_str(), Mail::Verify { token: &token }).await?;
        }
        None => mail::send(call, body.email.as_str(), Mail::AlreadyRegistered).await?,
    }
    Ok(respond::private_json(202, json!({"status": "verification_sent"}).to_string()))
}

/// A verify link for the account as it is now (bound to its password hash).
fn verify_link(call: &Call, customer: &str, email: &str, phc: &str) -> Result<String> {
    let link = LinkToken {
        purpose: LinkPurpose::Verify,
        customer: customer.to_string(),
        email: email.to_string(),
        expires_at: now_secs() + VERIFY_TTL_SECS,
        fingerprint: password_fingerprint(phc),
    };
    Ok(link_token::issue(&signing_key(&call.env)?, &link))
}

fn open_link(call: &Call, token: &str, purpose: LinkPurpose) -> Result<LinkToken> {
    let now = now_secs();
    let keys = VerifyingKeys::of(&call.env)?;
    link_token::verify(token, &keys.at(now), purpose, now).map_err(|_| invalid_token())
}

/// `POST /customers/verify {token}`: the email is the shopper's; guest
/// orders placed with it join the account.
pub async fn verify(call: &mut Call) -> Result<Response> {
    let body = VerifyRequest::parse(&call.body().await?)?;
    let link = open_link(call, &body.token, LinkPurpose::Verify)?;
    let outcome: Option<JsonColumn> = call
        .db
        .write(&queries::verify(&link.customer, &link.email, &link.fingerprint))
        .await?
        .into_iter()
        .next();
    let outcome = outcome.and_then(|o| o.0).ok_or_else(invalid_token)?;
    let claimed = outcome.get("claimed_orders").and_then(Value::as_i64).unwrap_or(0);
    call.log.info("customer_verified", json!({"claimed_orders": claimed}));
    Ok(respond::private_json(200, json!({"verified": true, "claimed_orders": claimed}).to_string()))
}

/// `POST /customers/me/verify-email`: a fresh link to the account's email
/// (to claim guest orders placed since, or when the first link expired).
pub async fn resend_verify(call: &mut Call) -> Result<Response> {
    let caller = require_caller(call).await?;
    let account: Option<Account> = call.db.read_primary(&queries::account_by_id(&caller.customer)).await?.into_iter().next();
    let account = account.ok_or_else(crate::me::account_gone)?;
    let token = verify_link(call, account.public_id(), account.email(), &account.password_hash)?;
    mail::send(call, account.email(), Mail::Verify { token: &token }).await?;
    Ok(respond::private_json(202, json!({"status": "verification_sent"}).to_string()))
}

/// `POST /customers/password-reset {email}`: 202 `{"status": "reset_sent"}`
/// whether or not an account has the email; only an account gets a mail.
pub async fn request_reset(call: &mut Call) -> Result<Response> {
    let body = ResetRequest::parse(&call.body().await?)?;
    let account: Option<Account> = call.db.read_primary(&queries::account_by_email(body.email.as_str())).await?.into_iter().next();
    if let Some(account) = account {
        let link = LinkToken::reset_password(account.public_id(), account.email(), &account.password_hash, now_secs());
        let token = link_token::issue(&signing_key(&call.env)?, &link);
        mail::send(call, account.email(), Mail::Reset { token: &token }).await?;
    }
    Ok(respond::private_json(202, json!({"status": "reset_sent"}).to_string()))
}

/// `POST /customers/password-reset/confirm {token, password}`: the new
/// password, once per link; it proves the email too; every session of the
/// account ends.
pub async fn confirm_reset(call: &mut Call) -> Result<Response> {
    let body = ResetConfirmRequest::parse(&call.body().await?)?;
    let link = open_link(call, &body.token, LinkPurpose::Reset)?;
    let hash = password::hash(&body.password)?;
    let changed: Vec<String> = call
        .db
        .write(&queries::reset_password(&link.customer, &link.fingerprint, &hash))
        .await?;
    if changed.is_empty() {
        return Err(invalid_token());
    }
    auth::revoke_all(&call.env, &link.customer).await?;
    call.log.info("password_reset", json!({}));
    Ok(respond::private_json(200, json!({"reset": true}).to_string()))
}

//! `POST /webhooks/stripe`: the signature over the raw bytes first, then
//! the event.

use payments::events;
use payments::stripe_signature;
use platform::secrets;
use platform::serve::Call;
use platform::{ApiError, Result};
use worker::{Date, Response};

/// Stripe's own libraries accept events signed up to 300 s ago.
const TOLERANCE_SECS: i64 = 300;

pub async fn receive(call: &mut Call) -> Result<Response> {
    let header = call.header("stripe-signature");
    let body = call.body().await?;
    let current = secrets::get_credential(&call.env, secrets::STRIPE_WEBHOOK)
        .ok_or_else(|| ApiError::internal("STRIPE_WEBHOOK_SECRET is not set"))?;
    let now = (Date::now().as_millis() / 1000) as i64;
    // During a rotation, the previous secret is accepted until the var says.
    let previous = previous_secret(call, now);
    let mut keys: Vec<&[u8]> = vec![current.as_bytes()];
    if let Some(p) = &previous {
        keys.push(p.as_bytes());
    }
    stripe_signature::verify(header.as_deref(), &body, &keys, now, TOLERANCE_SECS)
        .map_err(|e| e.to_api_error())?;
    let event = events::parse_stripe(&body)?;
    crate::answer::apply(call, &event).await
}

/// `STRIPE_WEBHOOK_SECRET_PREVIOUS`, while `STRIPE_WEBHOOK_PREVIOUS_UNTIL`
/// (unix seconds) is in the future.
fn previous_secret(call: &Call, now: i64) -> Option<String> {
    let until: i64 = call
        .env
        .var("STRIPE_WEBHOOK_PREVIOUS_UNTIL")
        .ok()?
        .to_string()
        .trim()
        .parse()
        .ok()?;
    (now < until)
        .then(|| secrets::get_credential(&call.env, secrets::STRIPE_WEBHOOK_PREVIOUS))
        .flatten()
}

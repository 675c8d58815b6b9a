//! The idempotency fingerprint of a checkout, and the stored hash of the
//! client's address.
//!
//! The fingerprint is what a retry must match to get the stored answer. It
//! is kept for a day (`IDEMPOTENCY_KEY_TTL_HOURS`), so it must not let anyone
//! holding the table recover what the shopper sent: it is an HMAC-SHA256
//! under `IDEMPOTENCY_SECRET` of the parsed request in one canonical form
//! (cart, normalised email, address, region, delivery), where the birth date
//! is replaced by the outcome of the age check (the minimum age attested, or
//! "none"). So a retry formatted differently (whitespace, key order, an
//! email's domain in capitals) replays, and two birth dates that pass the
//! same check give the same fingerprint: the stored value says nothing about
//! the date.
//!
//! A signed-in checkout adds who checks out (the customer's public id) and
//! the points it redeems, as parts appended only when present: a guest's
//! fingerprint is what it always was, and the same key sent again by
//! another account, as a guest, or with another redemption is
//! `idempotency_key_reused`.

use chrono::{DateTime, Utc};
use platform::crypto::{hex, hmac_sha256, tag};
use platform::ApiError;
use regions::{DeliveryRequest, Region};

use crate::request::CheckoutRequest;

/// What the age check concluded: `Some(minimum age attested)`, or `None`
/// where the region checks no age.
pub type AgeResult = Option<u8>;

/// Hex HMAC-SHA256 under `secret` of the fields that make a checkout the
/// same checkout, in a fixed order, as HMAC parts (joined with 0x1f, which
/// none of them can hold: address fields refuse control characters, the
/// email is printable ASCII, the rest are ours). An absent `line2` is the
/// empty part, which a present one cannot be. `customer` (the session's
/// `cus_…` id) and `req.redeem_points` follow as tagged pairs when present,
/// so a guest's list keeps its 13 parts. No serde here: the wasm budget is
/// tight.
pub fn fingerprint(
    req: &CheckoutRequest,
    age: AgeResult,
    customer: Option<&str>,
    secret: &[u8],
) -> String {
    let a = &req.shipping_address;
    let delivery = match &req.delivery {
        DeliveryRequest::Asap => "asap".to_string(),
        DeliveryRequest::Window { start } => {
            format!(
                "{}.{:09}",
                start.timestamp(),
                start.timestamp_subsec_nanos()
            )
        }
    };
    let age = age.map_or_else(|| "none".to_string(), |a| format!("{a}+"));
    let redeem = req.redeem_points.map(|n| n.to_string());
    let mut parts: Vec<&str> = vec![
        "checkout-fingerprint-v1",
        req.cart_id.as_str(),
        &req.email,
        &a.name,
        &a.line1,
        a.line2.as_deref().unwrap_or(""),
        &a.city,
        &a.state,
        &a.postal_code,
        &a.country,
        req.region.as_str(),
        &delivery,
        &age,
    ];
    if let Some(customer) = customer {
        parts.extend(["customer", customer]);
    }
    if let Some(redeem) = redeem.as_deref() {
        parts.extend(["redeem_points", redeem]);
    }
    let parts: Vec<&[u8]> = parts.into_iter().map(str::as_bytes).collect();
    hex(&hmac_sha256(secret, &parts))
}

/// The fingerprint of a request that `prepare` refused, to compare with a
/// stored one (a retry of a checkout that went through can be refused now:
/// its cart is closed). Runs the region's age check itself; a request that
/// fails it cannot be a retry of one that passed, and gets that refusal.
/// `customer`: the session's customer, as given to `prepare`.
pub fn retry_fingerprint(
    req: &CheckoutRequest,
    region: &Region,
    now: DateTime<Utc>,
    customer: Option<&str>,
    secret: &[u8],
) -> Result<String, ApiError> {
    let age = region.verify_age(req.date_of_birth, now)?;
    Ok(fingerprint(
        req,
        age.map(|a| a.minimum_age),
        customer,
        secret,
    ))
}

/// The client's address as stored with an order (`orders.client_ip_hash`), to
/// count its pending orders: an HMAC under `CLIENT_IP_SECRET`, 128 bits in
/// hex, never the address itself.
pub fn client_ip_hash(secret: &[u8], ip: &str) -> String {
    tag(secret, &[b"client-ip", ip.trim().as_bytes()], 32)
}

//! `POST /checkout`: the `Idempotency-Key` header and the body, parsed into a
//! `CheckoutRequest` whose every field is a domain type.

use cart::CartId;
use chrono::{DateTime, NaiveDate, Utc};
use payments::Provider;
use platform::body::{from_object, json_object, Field};
use platform::ApiError;
use regions::{DeliveryRequest, RegionCode};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::address::{invalid_address, parse_email, AddressBody, ShippingAddress};
use crate::points::{invalid_redeem_points, MAX_REDEEM_POINTS};

/// The client's `Idempotency-Key`: one type for every route that takes one.
pub use platform::ids::IdempotencyKey;

/// The body as the client sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutBody {
    #[serde(default)]
    cart_id: Field<String>,
    #[serde(default)]
    email: Field<String>,
    #[serde(default)]
    shipping_address: Field<AddressBody>,
    #[serde(default)]
    region: Field<String>,
    #[serde(default)]
    date_of_birth: Field<String>,
    /// `"asap"` or `{"window_start": "<RFC 3339 date-time with offset>"}`.
    #[serde(default)]
    delivery: Field<Value>,
    /// `"stripe"` or `"paypal"`: create the payment with the order.
    #[serde(default)]
    payment_provider: Field<String>,
    /// Loyalty points to pay part of the order with (a signed-in shopper's).
    #[serde(default)]
    redeem_points: Field<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutRequest {
    pub cart_id: CartId,
    pub email: String,
    pub shipping_address: ShippingAddress,
    pub region: RegionCode,
    pub date_of_birth: Option<NaiveDate>,
    pub delivery: DeliveryRequest,
    /// The gateway to create the order's payment with, if the client wants
    /// it now (else it calls `POST /orders/{id}/payment` later). Not part of
    /// the fingerprint: the order does not depend on it, and a retry may
    /// choose another gateway.
    pub payment_provider: Option<Provider>,
    /// Points to redeem, 1..=`MAX_REDEEM_POINTS`: only with a session (401
    /// otherwise), at most the total less 0.50 (`crate::points`). Part of the
    /// fingerprint when present.
    pub redeem_points: Option<u32>,
    /// The fingerprint keys stored before migration 0005 have: sha256 of the
    /// body's canonical JSON (birth date included). Used only to replay those
    /// keys, never stored; they are all gone a day after that migration
    /// (`IDEMPOTENCY_KEY_TTL_HOURS`), and this can go with them. The
    /// fingerprint stored now is `checkout::fingerprint`, computed after the
    /// age check.
    pub legacy_fingerprint: String,
}

impl CheckoutRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let object = json_object(body)?;
        let legacy_fingerprint = legacy_fingerprint(&object);
        let body: CheckoutBody = from_object(object)?;
        let cart_id = body
            .cart_id
            .required(|| ApiError::bad_request("invalid_cart_id", "cart_id is required"))?;
        let region = body.region.required(|| {
            ApiError::bad_request("invalid_region", "region is required, e.g. US-CA")
        })?;
        let bad_dob =
            || ApiError::bad_request("invalid_date_of_birth", "date_of_birth must be YYYY-MM-DD");
        let date_of_birth = body
            .date_of_birth
            .optional(bad_dob)?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| bad_dob()))
            .transpose()?;
        let shipping_address = match body.shipping_address {
            Field::Valid(address) => ShippingAddress::try_from(address)?,
            Field::Missing => return Err(invalid_address("must be an object")),
            Field::Invalid(why) => return Err(invalid_address(&why)),
        };
        let payment_provider = body
            .payment_provider
            .optional(|| Provider::parse("").unwrap_err())?
            .map(|p| Provider::parse(&p))
            .transpose()?;
        let redeem_points = redeem_points(body.redeem_points)?;
        Ok(CheckoutRequest {
            payment_provider,
            redeem_points,
            cart_id: CartId::parse(&cart_id)?,
            region: RegionCode::parse(&region)?,
            email: parse_email(body.email)?,
            shipping_address,
            date_of_birth,
            delivery: delivery(body.delivery)?,
            legacy_fingerprint,
        })
    }
}

/// Anything but the two documented forms (other spellings, extra keys, a time
/// without offset) is 400 `invalid_delivery`: guessing would deliver at the
/// wrong hour.
fn delivery(field: Field<Value>) -> Result<DeliveryRequest, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_delivery",
            "delivery must be \"asap\" or {\"window_start\": \"<RFC 3339 date-time>\"}",
        )
    };
    match field.required(bad)? {
        Value::String(k) if k == "asap" => Ok(DeliveryRequest::Asap),
        Value::Object(w) if w.len() == 1 => w
            .get("window_start")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|start| DeliveryRequest::Window {
                start: start.with_timezone(&Utc),
            })
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// A JSON integer from 1 to `MAX_REDEEM_POINTS` (`null` is absent); anything
/// else is 400 `invalid_redeem_points`.
fn redeem_points(field: Field<u32>) -> Result<Option<u32>, ApiError> {
    let bad = || {
        invalid_redeem_points(format!(
            "redeem_points must be a whole number from 1 to {MAX_REDEEM_POINTS}"
        ))
    };
    match field.optional(bad)? {
        Some(n) if (1..=MAX_REDEEM_POINTS).contains(&n) => Ok(Some(n)),
        Some(_) => Err(bad()),
        None => Ok(None),
    }
}

/// serde_json's maps are sorted by key, so serialising gives canonical JSON.
fn legacy_fingerprint(body: &Map<String, Value>) -> String {
    let canonical = serde_json::to_string(body).unwrap_or_default();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

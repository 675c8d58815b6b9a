//! The checkout write as data: what `place_order` (sql/place_order.sql) gets,
//! what it answers, and the client's answer, which Rust alone builds.
//!
//! `place_order` stores a `PlacedOrder` (data, not an HTTP answer) with the
//! idempotency key; a retry with the same key gets that record back and
//! `CheckoutReply::from_placed` renders the same answer from it again.

use cart::{CartId, Sku};
use platform::money::Currency;
use platform::{ApiError, FromRow, Row};
use regions::RegionCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::address::ShippingAddress;
use crate::request::IdempotencyKey;

/// Everything `place_order` needs, serialized to its one jsonb parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceOrderInput {
    pub idempotency_key: IdempotencyKey,
    /// `checkout::fingerprint`: stored with the key.
    pub fingerprint: String,
    /// Only compared with keys stored before migration 0005; never stored.
    pub legacy_fingerprint: String,
    /// Hashed client address, stored with the order to count its pending ones.
    pub client_ip_hash: Option<String>,
    pub max_pending_orders_per_email: u32,
    pub max_pending_orders_per_client: u32,
    /// The region's sales tax rate and the currency's minor digits:
    /// `place_order` recomputes the tax with them and stores the rate.
    pub tax_rate: Decimal,
    pub minor_digits: u32,
    pub store_id: i64,
    pub email: String,
    pub shipping_address: ShippingAddress,
    /// The age check's attestation; the birth date itself is never sent.
    pub age: Option<AgeRecord>,
    pub reservation_minutes: u32,
    /// The signed-in shopper's part (`null` for a guest): the order is
    /// theirs, holds `redeem_points` (place_order checks the balance under
    /// the customer row's lock) and earns `points_to_earn` once paid.
    pub customer: Option<CustomerCheckout>,
    pub order: OrderSummary,
}

/// `PlaceOrderInput.customer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerCheckout {
    /// `customers.public_id` (`cus_…`), from the session.
    pub public_id: String,
    /// 0 when the shopper redeems nothing.
    pub redeem_points: u32,
    /// What those points pay: equal to `order.totals.points_discount`.
    pub points_discount: Decimal,
    pub points_to_earn: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgeRecord {
    pub minimum_age: u8,
    /// RFC 3339, UTC, whole seconds.
    pub verified_at: String,
}

/// The order as the shopper is told about it: the part of the answer known
/// before the database, stored with the key so a retry can be answered again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub cart_id: CartId,
    pub region: RegionCode,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    pub delivery: Delivery,
    pub age_verification: Option<AgeVerification>,
    /// Points paying part of the order (`totals.points_discount`); absent
    /// when none, so guests' records and answers are as they were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub points_redeemed: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Amounts carry exactly the currency's minor digits ("2.00"), so they
/// serialize as the API writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line_no: u32,
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    pub line_total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTotals {
    pub subtotal: Decimal,
    pub tax: Decimal,
    /// What redeemed points pay: `total = subtotal + tax − points_discount`.
    /// Absent when zero (every guest order, and records stored before it).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub points_discount: Decimal,
    pub total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub window_start: String,
    pub window_end: String,
    pub rescheduled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgeVerification {
    pub minimum_age: u8,
}

/// A placed order: what `place_order` stores with the key and returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedOrder {
    /// The row's bigint id: ours, never shown to clients.
    pub order_id: i64,
    /// `orders.public_id` (`ord_` + 26 base32 characters), the id clients
    /// see. Records stored before migration 0005 lack it; `place_order` and
    /// `queries::stored_checkout` add it from the order when they read one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_id: Option<String>,
    pub reservation_expires_at: String,
    pub summary: OrderSummary,
}

/// `place_order`'s answer: one of `{"placed": ...}`, `{"replayed": ...}`,
/// `{"refused": ...}` (serde's default, externally tagged: no buffering).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceOrderOutcome {
    /// Boxed: far larger than the other answers.
    Placed(Box<PlacedOrder>),
    /// The key was used before with the same body: its stored record.
    Replayed { status: u16, stored: Value },
    /// Nothing was written. `code` is one of the refusals below.
    Refused {
        code: String,
        #[serde(default)]
        details: Map<String, Value>,
    },
}

impl FromRow for PlaceOrderOutcome {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        serde_json::from_str(row.required("outcome")?)
            .map_err(|e| ApiError::internal(format!("place_order answered: {e}")))
    }
}

/// What the client gets back.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutReply {
    pub status: u16,
    pub replayed: bool,
    /// The order's public id (`ord_...`), which the cart's object records.
    pub order_id: Option<String>,
    pub body: String,
}

/// The answer's shape: the order id and state, then the summary's fields.
#[derive(Serialize)]
struct Answer<'a> {
    order_id: &'a str,
    status: &'static str,
    reservation_expires_at: &'a str,
    cart_id: &'a CartId,
    region: &'a RegionCode,
    currency: &'a Currency,
    lines: &'a [OrderLine],
    totals: &'a OrderTotals,
    delivery: &'a Delivery,
    age_verification: &'a Option<AgeVerification>,
    /// Shown when points paid part of the order.
    #[serde(skip_serializing_if = "Option::is_none")]
    points_redeemed: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    points_discount: Option<&'a Decimal>,
}

impl CheckoutReply {
    pub fn from_placed(
        placed: &PlacedOrder,
        status: u16,
        replayed: bool,
    ) -> Result<Self, ApiError> {
        let summary = &placed.summary;
        let public_id = placed.public_id.as_deref().ok_or_else(|| {
            ApiError::internal(format!("order {} has no public id", placed.order_id))
        })?;
        let answer = Answer {
            order_id: public_id,
            status: "pending_payment",
            reservation_expires_at: &placed.reservation_expires_at,
            cart_id: &summary.cart_id,
            region: &summary.region,
            currency: &summary.currency,
            lines: &summary.lines,
            totals: &summary.totals,
            delivery: &summary.delivery,
            age_verification: &summary.age_verification,
            points_redeemed: (summary.points_redeemed > 0).then_some(summary.points_redeemed),
            points_discount: Some(&summary.totals.points_discount).filter(|d| !d.is_zero()),
        };
        Ok(CheckoutReply {
            status,
            replayed,
            order_id: Some(public_id.to_string()),
            body: serde_json::to_string(&answer).expect("plain data serializes"),
        })
    }

    /// A stored record answered again. Keys stored before records were data
    /// held the whole answer: those are replayed as they are (the reader,
    /// `checkout_record()`, has put the public id in their `order_id`).
    pub fn from_stored(status: u16, stored: Value) -> Result<Self, ApiError> {
        if stored.get("summary").is_some() {
            let placed: PlacedOrder = serde_json::from_value(stored)
                .map_err(|e| ApiError::internal(format!("stored checkout: {e}")))?;
            return CheckoutReply::from_placed(&placed, status, true);
        }
        let Some(order_id) = stored.get("order_id").and_then(Value::as_str) else {
            return Err(ApiError::internal(
                "stored answer without a public order id",
            ));
        };
        Ok(CheckoutReply {
            status,
            replayed: true,
            order_id: Some(order_id.to_string()),
            body: stored.to_string(),
        })
    }
}

impl PlaceOrderOutcome {
    /// The client's answer, or the refusal as an `ApiError`. Rust alone picks
    /// each refusal's HTTP status.
    pub fn into_reply(self) -> Result<CheckoutReply, ApiError> {
        match self {
            PlaceOrderOutcome::Placed(placed) => CheckoutReply::from_placed(&placed, 201, false),
            PlaceOrderOutcome::Replayed { status, stored } => {
                CheckoutReply::from_stored(status, stored)
            }
            PlaceOrderOutcome::Refused { code, details } => Err(refusal(&code, details)),
        }
    }
}

pub fn key_reused() -> ApiError {
    ApiError::unprocessable(
        "idempotency_key_reused",
        "this Idempotency-Key was used with a different request body",
    )
}

/// `place_order`'s refusal codes as API errors: the stock or the prices
/// moved (409, re-read the cart), the balance holds fewer points than the
/// shopper redeems (409 `insufficient_points`, with `available`), the
/// signed-in account is gone (401 `unauthenticated`), the key was reused or
/// the shopper holds too many unpaid orders (422). `totals_mismatch` means
/// Rust sent totals that do not add up: our bug, a 500 whose details go to
/// the log only.
fn refusal(code: &str, details: Map<String, Value>) -> ApiError {
    let message = details
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut e = match code {
        "out_of_stock" => ApiError::conflict("out_of_stock", message),
        "price_changed" => ApiError::conflict("price_changed", message),
        "sku_unavailable" => ApiError::conflict("sku_unavailable", message),
        "cart_already_checked_out" => ApiError::conflict("cart_already_checked_out", message),
        "too_many_pending_orders" => ApiError::unprocessable("too_many_pending_orders", message),
        "insufficient_points" => ApiError::conflict("insufficient_points", message),
        "unauthenticated" => crate::points::unauthenticated(message),
        "idempotency_key_reused" => return key_reused(),
        other => {
            return ApiError::internal(format!(
                "place_order refused with {other:?}: {}",
                Value::Object(details)
            ))
        }
    };
    for (k, v) in details {
        if k != "message" {
            e = e.with_detail(&k, v);
        }
    }
    e
}

/// A key's stored row (`queries::stored_checkout`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckout {
    pub fingerprint: String,
    pub status: u16,
    pub response: String,
}

impl FromRow for StoredCheckout {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(StoredCheckout {
            fingerprint: row.get("fingerprint")?,
            status: row.get("status")?,
            response: row.get("response")?,
        })
    }
}

impl StoredCheckout {
    /// The stored answer for a retry of the same request (its fingerprint,
    /// or for a key stored before migration 0005 its legacy one); 422 for
    /// another request.
    pub fn replay(
        self,
        fingerprint: &str,
        legacy_fingerprint: &str,
    ) -> Result<CheckoutReply, ApiError> {
        if self.fingerprint != fingerprint && self.fingerprint != legacy_fingerprint {
            return Err(key_reused());
        }
        let stored: Value = serde_json::from_str(&self.response)
            .map_err(|e| ApiError::internal(format!("stored checkout: {e}")))?;
        CheckoutReply::from_stored(self.status, stored)
    }
}

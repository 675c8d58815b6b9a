//! Everything a checkout can decide without the database: the cart against
//! the request and the region's rules (tax, age, delivery hours). A request
//! refused here never reaches the primary and never writes anything.

use cart::{Cart, CartStatus};
use chrono::{DateTime, SecondsFormat, Utc};
use platform::ApiError;
use regions::Region;
use rust_decimal::Decimal;

use crate::fingerprint::fingerprint;
use crate::place_order::{
    AgeRecord, AgeVerification, CustomerCheckout, Delivery, OrderLine, OrderSummary, OrderTotals,
    PlaceOrderInput,
};
use crate::points;
use crate::request::{CheckoutRequest, IdempotencyKey};
use crate::settings::Settings;

/// Who is checking out, as far as checkout records it.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// `IDEMPOTENCY_SECRET`: keys the request's fingerprint.
    pub idempotency_secret: &'a [u8],
    /// `client_ip_hash(CLIENT_IP_SECRET, address)`, when the address is known.
    pub client_ip_hash: Option<&'a str>,
    /// The signed-in shopper's public id (`cus_…`, from the session), or
    /// `None` for a guest. A signed-in checkout links the order and earns
    /// points even when it redeems none.
    pub customer: Option<&'a str>,
}

/// The input of `place_order`, or the first rule that refuses, in this order:
/// a redemption without a session, region, cart state, empty cart, units per
/// SKU, address, age, delivery hours, then the redemption's amount (a whole
/// number of minor units, at most the total less 0.50).
pub fn prepare(
    req: &CheckoutRequest,
    key: &IdempotencyKey,
    cart: &Cart,
    region: &Region,
    now: DateTime<Utc>,
    settings: &Settings,
    requester: Requester<'_>,
) -> Result<PlaceOrderInput, ApiError> {
    points::require_session(req.redeem_points, requester.customer)?;
    if cart.region != req.region || region.code != req.region {
        return Err(ApiError::unprocessable(
            "region_mismatch",
            format!(
                "the cart was opened for {}, not {}",
                cart.region, req.region
            ),
        ));
    }
    if cart.status == CartStatus::CheckedOut {
        // A retry of the checkout that closed it gets its stored answer instead
        // (the caller looks the key up when a checkout is refused).
        return Err(ApiError::conflict(
            "cart_already_checked_out",
            "this cart has already been checked out",
        ));
    }
    if cart.lines.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_cart",
            "the cart has no lines",
        ));
    }
    // Units one order may hold back from everyone else while it waits for
    // payment (the cart allows more; the cap is checkout's, a setting).
    if let Some(line) = cart
        .lines
        .iter()
        .find(|l| l.quantity > settings.max_units_per_sku)
    {
        return Err(ApiError::unprocessable(
            "quantity_limit_exceeded",
            format!(
                "at most {} of one SKU per order; the cart has {} of {}",
                settings.max_units_per_sku, line.quantity, line.sku
            ),
        )
        .with_detail("sku", line.sku.as_str())
        .with_detail("max_quantity", settings.max_units_per_sku));
    }
    let addr = &req.shipping_address;
    if addr.country != req.region.country() || addr.state != req.region.subdivision() {
        return Err(ApiError::unprocessable(
            "address_outside_region",
            format!(
                "the shipping address is in {}-{}, the order is for {}",
                addr.country, addr.state, req.region
            ),
        ));
    }
    let age = region.verify_age(req.date_of_birth, now)?;
    let delivery = region.schedule_delivery(&req.delivery, now)?;
    let totals = cart.totals(region);
    let redeem_points = req.redeem_points.unwrap_or(0);
    let points_discount = match req.redeem_points {
        Some(n) => points::points_discount(n, region.loyalty, cart.currency)?,
        None => Decimal::ZERO,
    };
    points::check_within_total(points_discount, totals.subtotal, totals.tax, cart.currency)?;

    // Amounts with exactly the currency's minor digits, as the API writes them.
    let digits = cart.currency.minor_digits();
    let money = |d: Decimal| {
        let mut d = d;
        d.rescale(digits);
        d
    };
    let lines = cart
        .lines
        .iter()
        .zip(1..)
        .map(|(l, line_no)| OrderLine {
            line_no,
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price: money(l.unit_price),
            line_total: money(l.line_total()),
        })
        .collect();
    let order = OrderSummary {
        cart_id: cart.id.clone(),
        region: req.region.clone(),
        currency: cart.currency,
        lines,
        totals: OrderTotals {
            subtotal: money(totals.subtotal),
            tax: money(totals.tax),
            points_discount: money(points_discount),
            total: money(totals.subtotal + totals.tax - points_discount),
        },
        delivery: Delivery {
            window_start: rfc3339(delivery.window_start),
            window_end: rfc3339(delivery.window_end),
            rescheduled: delivery.rescheduled,
        },
        age_verification: age.map(|a| AgeVerification {
            minimum_age: a.minimum_age,
        }),
        points_redeemed: redeem_points,
    };
    let customer = requester.customer.map(|public_id| CustomerCheckout {
        public_id: public_id.to_string(),
        redeem_points,
        points_discount: money(points_discount),
        points_to_earn: points::points_to_earn(totals.subtotal, points_discount, region.loyalty),
    });
    Ok(PlaceOrderInput {
        idempotency_key: key.clone(),
        // After the age check: its outcome, not the birth date, is in it.
        fingerprint: fingerprint(
            req,
            age.map(|a| a.minimum_age),
            requester.customer,
            requester.idempotency_secret,
        ),
        legacy_fingerprint: req.legacy_fingerprint.clone(),
        client_ip_hash: requester.client_ip_hash.map(str::to_string),
        max_pending_orders_per_email: settings.max_pending_orders_per_email,
        max_pending_orders_per_client: settings.max_pending_orders_per_client,
        tax_rate: region.sales_tax,
        minor_digits: digits,
        store_id: cart.store_id,
        email: req.email.clone(),
        shipping_address: addr.clone(),
        age: age.map(|a| AgeRecord {
            minimum_age: a.minimum_age,
            verified_at: rfc3339(a.verified_at),
        }),
        reservation_minutes: settings.reservation_minutes,
        customer,
        order,
    })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

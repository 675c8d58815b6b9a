//! `POST /orders/{id}/payment`: a payment for an unpaid order, created at the
//! provider with an idempotency key derived from our ids, so a retried
//! request never creates a second one. Checkout calls this for the shopper's
//! first try; the shopper calls it again after a declined payment (Stripe:
//! the same PaymentIntent, to confirm with another card; PayPal: a new
//! PayPal order per Idempotency-Key). Opened by the order's token or by
//! the session of the customer whose order it is.

use orders::view::{self, OrderOwner};
use payments::outbound::Outbound;
use payments::{queries, NewPayment, NextStep, Provider};
use platform::body::{from_object, json_object, Field};
use platform::money::{Currency, Money};
use platform::respond;
use platform::serve::Call;
use platform::{ApiError, FromRow, Result, Row};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use std::str::FromStr;
use worker::Response;

use crate::access;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    #[serde(default)]
    provider: Field<String>,
}

/// Nothing to read back from a write.
struct Recorded;

impl FromRow for Recorded {
    fn from_row(_: &Row) -> Result<Self> {
        Ok(Recorded)
    }
}

/// An order and what paying for it needs (`queries::payable_order`).
struct PayableOrder {
    order_id: i64,
    public_id: String,
    status: String,
    total: Money,
    reservation_open: bool,
    providers: Vec<String>,
}

impl FromRow for PayableOrder {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(PayableOrder {
            order_id: row.get("order_id")?,
            public_id: row.get("public_id")?,
            status: row.get("status")?,
            total: Money {
                amount: Decimal::from_str(row.required("total")?)
                    .map_err(|e| ApiError::internal(format!("orders.total: {e}")))?,
                currency: Currency::parse(row.required("currency")?.trim())?,
            },
            reservation_open: row.text("reservation_open")? == Some("true"),
            providers: row
                .text("providers")?
                .unwrap_or("")
                .split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

pub async fn create(call: &mut Call, id: &str) -> Result<Response> {
    let public_id = access::order_id(id)?;
    // The order's token, or its owner's session (another customer's: 404).
    let access = access::shopper(call, &public_id).await?;
    if let access::Access::Session(_) = access {
        let owner: Option<OrderOwner> = call
            .db
            .read_primary(&view::order_owner(&public_id))
            .await?
            .into_iter()
            .next();
        access.require(owner.and_then(|o| o.customer_public_id).as_deref())?;
    }
    let key = access::idempotency_key(call)?;
    let body = json_object(&call.body().await?)?;
    let body: PaymentBody = from_object(body)?;
    let provider = Provider::parse(&body.provider.required(|| {
        ApiError::bad_request(
            "provider_required",
            "say which provider pays: \"stripe\" or \"paypal\"",
        )
    })?)?;

    let order: PayableOrder = call
        .db
        .read_primary(&queries::payable_order(&public_id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(access::not_found)?;
    if order.status != "pending_payment" {
        return Err(ApiError::conflict(
            "order_not_payable",
            format!(
                "the order is {}; only an order awaiting payment can be paid",
                order.status
            ),
        ));
    }
    if !order.reservation_open {
        return Err(ApiError::conflict(
            "order_not_payable",
            "the order's reservation has expired; check out again",
        ));
    }
    if !order.providers.iter().any(|p| p == provider.as_str()) {
        return Err(ApiError::unprocessable(
            "payment_provider_not_offered",
            format!("{} is not offered in the order's region", provider.as_str()),
        ));
    }

    let origin = call
        .env
        .var("SHOP_ORIGIN")
        .map(|v| v.to_string())
        .unwrap_or_default();
    let new_payment = NewPayment {
        order_id: order.public_id.clone(),
        amount: order.total,
        idempotency_key: provider_key(provider, &order.public_id, key.as_str()),
        return_url: format!("{origin}/orders/{}/paid", order.public_id),
        cancel_url: format!("{origin}/orders/{}/cancelled", order.public_id),
    };
    let work = Outbound {
        env: &call.env,
        db: &call.db,
        log: &call.log,
    };
    let kit = work.gateway_kit()?;
    let created = kit
        .gateway(provider)?
        .create_payment(&new_payment)
        .await
        .map_err(|e| e.to_api_error(provider))?;
    call.db
        .write::<Recorded>(&queries::record_payment_created(
            order.order_id,
            provider.as_str(),
            &created.provider_payment_id,
            &order.total.amount.to_string(),
            order.total.currency.as_str(),
        ))
        .await?;

    let mut answer = json!({
        "order_id": order.public_id,
        "provider": provider.as_str(),
        "payment_id": created.provider_payment_id,
        "amount": order.total.currency.format(order.total.amount),
        "currency": order.total.currency.as_str(),
    });
    match created.next_step {
        NextStep::ConfirmWithClientSecret(secret) => answer["client_secret"] = json!(secret),
        NextStep::ApproveAt(url) => answer["approval_url"] = json!(url),
    }
    Ok(respond::private_json(201, answer.to_string()))
}

/// The provider's idempotency key. Stripe: one PaymentIntent per order, so
/// every try (another card) confirms the same one. PayPal: an approval is
/// single use, so each of the client's keys gets its own PayPal order, and a
/// retry of one request gets the same one back.
fn provider_key(provider: Provider, public_id: &str, client_key: &str) -> String {
    match provider {
        Provider::Stripe => format!("pay-{public_id}"),
        Provider::PayPal => {
            let digest = platform::crypto::hex(&platform::crypto::hmac_sha256(
                b"paypal-request",
                &[public_id.as_bytes(), b"|", client_key.as_bytes()],
            ));
            format!("pay-{public_id}-{}", &digest[..16])
        }
    }
}

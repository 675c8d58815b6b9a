//! The order's payment, asked of the orders worker (which owns the
//! gateways) right after the order exists. The answer gets the order's
//! access token and, when the client chose a provider, what it needs to let
//! the shopper pay (Stripe's client_secret, PayPal's approval link).
//!
//! Safe to retry: the orders worker creates the payment under a key derived
//! from the order, so a retried checkout (same Idempotency-Key, a replayed
//! order) gets the same PaymentIntent or PayPal order back.

use checkout::CheckoutRequest;
use payments::order_token;
use platform::secrets;
use platform::serve::Call;
use platform::{ApiError, Result};
use serde_json::{json, Value};
use worker::{Headers, Method, Request, RequestInit};

/// The idempotency key checkout's own payment request uses: one per order.
const CHECKOUT_PAYMENT_KEY: &str = "checkout";

pub async fn add_to_answer(
    call: &Call,
    request: &CheckoutRequest,
    order_id: &str,
    body: &str,
) -> Result<String> {
    let mut answer: Value = serde_json::from_str(body)
        .map_err(|e| ApiError::internal(format!("checkout answer is not JSON: {e}")))?;
    let token = order_token::issue(&secrets::required(&call.env, secrets::ORDER_TOKEN)?, order_id);
    if let Some(provider) = request.payment_provider {
        answer["payment"] = create(call, order_id, &token, provider.as_str()).await?;
    }
    answer["order_token"] = json!(token);
    Ok(answer.to_string())
}

async fn create(call: &Call, order_id: &str, token: &str, provider: &str) -> Result<Value> {
    let headers = Headers::new();
    headers.set("authorization", &format!("Bearer {token}"))?;
    headers.set("idempotency-key", CHECKOUT_PAYMENT_KEY)?;
    headers.set("content-type", "application/json")?;
    headers.set(platform::request_id::HEADER, call.log.request_id())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(json!({ "provider": provider }).to_string().into()));
    let req = Request::new_with_init(&format!("https://orders/orders/{order_id}/payment"), &init)?;
    let mut resp = call.env.service("ORDERS")?.fetch_request(req).await?;
    let status = resp.status_code();
    let text = resp.text().await?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if status == 201 {
        return Ok(value);
    }
    // A replayed checkout whose order is no longer awaiting payment (paid,
    // or its reservation expired): the order is the answer; there is no
    // payment to make. Its state now: GET /orders/{id}.
    if status == 409 {
        return Ok(Value::Null);
    }
    let code = value["error"]["code"].as_str().unwrap_or("payment_unavailable").to_string();
    call.log.warn("payment_not_created", json!({"order": order_id, "status": status, "code": code}));
    // The order is placed and holds its stock either way: the same
    // Idempotency-Key returns it, and tries the payment again.
    Err(match status {
        502 => ApiError::bad_gateway(
            "payment_provider_rejected",
            format!("order {order_id} is placed, but the payment provider refused to create its payment; \
                     pay with POST /orders/{order_id}/payment"),
        ),
        422 => ApiError::unprocessable(
            "payment_provider_not_offered",
            format!("{provider} is not offered in this region; order {order_id} is placed, pay with another provider"),
        ),
        _ => ApiError::unavailable(
            "payment_unavailable",
            format!("order {order_id} is placed and holds its stock, but its payment could not be created; \
                     retry the checkout with the same Idempotency-Key"),
        ),
    })
}

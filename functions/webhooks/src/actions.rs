//! What applying an event needs from the gateways, asked of the orders
//! worker over the ORDERS service binding (its `/internal/` routes): the
//! gateways stay out of this worker's wasm.

use async_trait::async_trait;
use payments::gateway::{Captured, GatewayError};
use payments::process::PaymentActions;
use payments::Provider;
use platform::money::{Currency, Money};
use platform::Log;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use worker::{Env, Headers, Method, Request, RequestInit};

pub struct ViaOrdersWorker<'a> {
    pub env: &'a Env,
    pub log: &'a Log,
}

impl ViaOrdersWorker<'_> {
    async fn post(&self, path: &str, body: Value) -> Result<(u16, Value), String> {
        let headers = Headers::new();
        headers
            .set("content-type", "application/json")
            .map_err(|e| e.to_string())?;
        headers
            .set(platform::request_id::HEADER, self.log.request_id())
            .map_err(|e| e.to_string())?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.to_string().into()));
        let req = Request::new_with_init(&format!("https://orders{path}"), &init)
            .map_err(|e| e.to_string())?;
        let mut resp = self
            .env
            .service("ORDERS")
            .map_err(|e| e.to_string())?
            .fetch_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status_code();
        let text = resp.text().await.unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

#[async_trait(?Send)]
impl PaymentActions for ViaOrdersWorker<'_> {
    async fn capture(
        &self,
        provider: Provider,
        payment_ref: &str,
    ) -> Result<Option<Captured>, GatewayError> {
        let unavailable = |detail: String| GatewayError::Unavailable { detail };
        let (status, body) = self
            .post(
                "/internal/capture",
                json!({"provider": provider.as_str(), "payment_ref": payment_ref}),
            )
            .await
            .map_err(unavailable)?;
        match status {
            200 => {
                let amount = body["amount"]
                    .as_str()
                    .and_then(|a| Decimal::from_str(a).ok());
                let currency = body["currency"]
                    .as_str()
                    .and_then(|c| Currency::parse(c).ok());
                match (body["capture_id"].as_str(), amount, currency) {
                    (Some(id), Some(amount), Some(currency)) => Ok(Some(Captured {
                        capture_id: id.to_string(),
                        amount: Money { amount, currency },
                        completed: body["completed"] == true,
                    })),
                    _ => Err(GatewayError::Malformed {
                        detail: format!("capture answer {body}"),
                    }),
                }
            }
            204 => Ok(None),
            409 => Err(GatewayError::Rejected {
                status: 422,
                code: "ORDER_ALREADY_CAPTURED".into(),
                message: body["error"]["message"].as_str().unwrap_or("").into(),
            }),
            502 => Err(GatewayError::Rejected {
                status: 422,
                code: body["error"]["code"].as_str().unwrap_or("rejected").into(),
                message: body["error"]["message"].as_str().unwrap_or("").into(),
            }),
            _ => Err(unavailable(format!("orders worker answered {status}"))),
        }
    }

    async fn send_refunds(&self, refund_ids: &[i64]) {
        match self
            .post("/internal/refunds", json!({"refund_ids": refund_ids}))
            .await
        {
            Ok((200, _)) => {}
            Ok((status, _)) => self.log.warn(
                "refunds_not_sent",
                json!({"status": status, "refunds": refund_ids}),
            ),
            Err(e) => self.log.warn(
                "refunds_not_sent",
                json!({"detail": e, "refunds": refund_ids}),
            ),
        }
    }
}

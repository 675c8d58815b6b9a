//! The gateways at work from a Worker: building one from the environment
//! (config, retries with backoff, the token cache in KV), sending refunds
//! and recording the provider's answers. The orders worker uses this; the
//! webhooks worker reaches it through the orders worker.

use platform::db::Db;
use platform::{ApiError, Log};
use serde_json::json;
use worker::Env;

use crate::apply::RefundRecord;
use crate::fetch::{gateway_config, transport, FetchTransport, KvTokenCache, WorkerSleeper};
use crate::gateway::{
    gateway_for, Captured, GatewayConfig, GatewayError, RefundRequest, RefundState,
};
use crate::process::{Outcome, PaymentActions, TOKEN_CACHE_BINDING};
use crate::queries;
use crate::retry::Retrying;
use crate::{Gateway, Provider};

pub struct Outbound<'a> {
    pub env: &'a Env,
    pub db: &'a Db,
    pub log: &'a Log,
}

impl Outbound<'_> {
    /// Sends refunds to their providers and records each answer: the ones
    /// named, or every refund the provider has not accepted yet (the cron).
    /// Failures are logged; a refund left `requested` is sent again later.
    pub async fn send_refunds(&self, due: queries::RefundsDue<'_>) -> Vec<RefundRecord> {
        let due: Vec<RefundRecord> = match self
            .db
            .read_primary::<Outcome<RefundRecord>>(&queries::refunds_to_send(due))
            .await
        {
            Ok(rows) => rows.into_iter().map(|o| o.0).collect(),
            Err(e) => {
                self.log.warn("refunds_unread", json!({"code": e.code}));
                return Vec::new();
            }
        };
        let mut done = Vec::new();
        for refund in due {
            match self.send_refund(&refund).await {
                Ok(r) => done.push(r),
                Err(e) => self.log.warn(
                    "refund_not_sent",
                    json!({"refund": refund.refund_id, "code": e.code}),
                ),
            }
        }
        done
    }

    /// One refund: the provider call (idempotent under `refund-<id>`), then
    /// its answer recorded.
    pub async fn send_refund(&self, refund: &RefundRecord) -> Result<RefundRecord, ApiError> {
        let provider = Provider::parse(&refund.provider)?;
        let request = RefundRequest {
            provider_ref: refund.provider_ref.clone().ok_or_else(|| {
                ApiError::internal("refund of a payment without a provider reference")
            })?,
            amount: refund.money()?,
            refund_id: refund.refund_id.to_string(),
            idempotency_key: format!("refund-{}", refund.refund_id),
        };
        let kit = self.gateway_kit()?;
        let answer = kit.gateway(provider)?.refund(&request).await;
        let record = match &answer {
            Ok(outcome) => json!({
                "refund_id": refund.refund_id,
                "result": match outcome.state {
                    RefundState::Succeeded => "succeeded",
                    RefundState::Pending => "pending",
                    RefundState::Failed => "failed",
                },
                "provider_refund_id": outcome.provider_refund_id,
            }),
            Err(GatewayError::Rejected { code, message, .. }) => json!({
                "refund_id": refund.refund_id, "result": "failed",
                "error": format!("{code}: {message}"),
            }),
            Err(GatewayError::Unavailable { detail } | GatewayError::Malformed { detail }) => {
                json!({
                    "refund_id": refund.refund_id, "result": "unavailable", "error": detail,
                })
            }
        };
        if let Err(e) = &answer {
            self.log.warn(
                "refund_call_failed",
                json!({"refund": refund.refund_id, "provider": provider.as_str(), "error": format!("{e:?}")}),
            );
        }
        let rows: Vec<Outcome<RefundRecord>> = self
            .db
            .write(&queries::record_refund_result(&record))
            .await?;
        rows.into_iter()
            .next()
            .map(|o| o.0)
            .ok_or_else(|| ApiError::internal("record_refund_result returned nothing"))
    }

    /// What a gateway needs from this Worker: its config from the
    /// environment, retries with backoff, the token cache in KV.
    pub fn gateway_kit(&self) -> Result<GatewayKit, ApiError> {
        Ok(GatewayKit {
            config: gateway_config(self.env),
            transport: transport(),
            tokens: KvTokenCache {
                kv: self.env.kv(TOKEN_CACHE_BINDING)?,
            },
        })
    }
}

pub struct GatewayKit {
    config: GatewayConfig,
    transport: Retrying<FetchTransport, WorkerSleeper>,
    tokens: KvTokenCache,
}

impl GatewayKit {
    /// The provider's gateway; 503 if it is not configured.
    pub fn gateway(&self, provider: Provider) -> Result<Box<dyn Gateway + '_>, ApiError> {
        gateway_for(provider, &self.config, &self.transport, &self.tokens)
    }
}

#[async_trait::async_trait(?Send)]
impl PaymentActions for Outbound<'_> {
    async fn capture(
        &self,
        provider: Provider,
        payment_ref: &str,
    ) -> Result<Option<Captured>, GatewayError> {
        let kit = self
            .gateway_kit()
            .map_err(|e| GatewayError::Unavailable { detail: e.message })?;
        let gateway = kit
            .gateway(provider)
            .map_err(|e| GatewayError::Unavailable { detail: e.message })?;
        gateway
            .capture(payment_ref, &format!("capture-{payment_ref}"))
            .await
    }

    async fn send_refunds(&self, refund_ids: &[i64]) {
        Outbound::send_refunds(self, queries::RefundsDue::Ids(refund_ids)).await;
    }
}

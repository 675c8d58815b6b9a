//! `POST /webhooks/paypal`: verified offline, as PayPal's SDKs can: the
//! transmission's signature with the key of the certificate at
//! PAYPAL-CERT-URL, fetched only from an allow-listed origin and cached.

use payments::events;
use payments::paypal_signature::{self, PayPalHeaders};
use platform::secrets;
use platform::serve::Call;
use platform::{ApiError, Result};
use worker::{Date, Fetch, Method, Request, Response};

/// Transmissions older (or newer) than this are refused.
const TOLERANCE_SECS: i64 = 300;
/// Certificates are cached this long (KV, by URL).
const CERT_CACHE_SECS: u64 = 24 * 3600;

pub async fn receive(call: &mut Call) -> Result<Response> {
    let headers =
        PayPalHeaders::from_lookup(|name| call.header(name)).map_err(|e| e.to_api_error())?;
    let body = call.body().await?;
    let now = (Date::now().as_millis() / 1000) as i64;
    let origins = allowed_cert_origins(call);
    paypal_signature::check_cert_url(&headers.cert_url, &origins).map_err(|e| e.to_api_error())?;
    paypal_signature::check_fresh(&headers.transmission_time, now, TOLERANCE_SECS)
        .map_err(|e| e.to_api_error())?;
    let webhook_id = secrets::get_credential(&call.env, secrets::PAYPAL_WEBHOOK_ID)
        .ok_or_else(|| ApiError::internal("PAYPAL_WEBHOOK_ID is not set"))?;
    let message = paypal_signature::signed_message(
        &headers.transmission_id,
        &headers.transmission_time,
        &webhook_id,
        &body,
    );
    let cert = certificate(call, &headers.cert_url).await?;
    // WebCrypto does the RSA: a pure-Rust RSA would cost ~16 KB of wasm.
    payments::paypal_webcrypto::verify_rsa(
        &cert,
        message.as_bytes(),
        &headers.transmission_sig,
        now,
    )
    .await
    .map_err(|e| e.to_api_error())?;
    let event = events::parse_paypal(&body)?;
    crate::answer::apply(call, &event).await
}

/// `PAYPAL_CERT_ORIGINS`: comma-separated origins (production: PayPal's
/// own; local config adds the fake's).
fn allowed_cert_origins(call: &Call) -> Vec<String> {
    call.env
        .var("PAYPAL_CERT_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The PEM certificate at `url` (already checked against the allow-list),
/// from the KV cache or fetched once.
async fn certificate(call: &Call, url: &str) -> Result<String> {
    let kv = call.env.kv(payments::process::TOKEN_CACHE_BINDING)?;
    let key = format!(
        "paypal-cert:{}",
        &platform::crypto::hex(&sha256(url.as_bytes()))[..32]
    );
    if let Ok(Some(pem)) = kv.get(&key).text().await {
        return Ok(pem);
    }
    let unavailable = || {
        ApiError::unavailable(
            "certificate_unavailable",
            "the signing certificate could not be fetched; retry",
        )
    };
    // A Request from the string: parsing it in Rust (`Fetch::Url`) would
    // bring the url crate's IDNA tables, ~110 KB of wasm. check_cert_url
    // already allowed only plain http(s)://host[:port]/path.
    let req = Request::new(url, Method::Get).map_err(|_| unavailable())?;
    let mut resp = Fetch::Request(req)
        .send()
        .await
        .map_err(|_| unavailable())?;
    if resp.status_code() != 200 {
        return Err(unavailable());
    }
    let pem = resp.text().await.map_err(|_| unavailable())?;
    if pem.len() > 16 * 1024 || !pem.contains("BEGIN CERTIFICATE") {
        return Err(ApiError::bad_request(
            "signature_invalid",
            "the certificate URL does not serve a certificate",
        ));
    }
    if let Ok(put) = kv.put(&key, &pem) {
        let _ = put.expiration_ttl(CERT_CACHE_SECS).execute().await;
    }
    Ok(pem)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

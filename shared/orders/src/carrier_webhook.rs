//! The carrier's delivery webhook: `POST /webhooks/carrier`.
//!
//! Signed with a key we share with the carrier (CARRIER_WEBHOOK_SECRET):
//!
//! ```text
//! X-Carrier-Timestamp: <unix seconds>
//! X-Carrier-Signature: <hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
//! {"event_id": "...", "type": "shipment.delivered", "tracking_number": "...",
//!  "occurred_at": "2026-11-26T10:00:00Z"}
//! ```
//!
//! The signature is checked over the raw bytes before the body is read, in
//! constant time, and a timestamp more than 5 minutes from ours is refused
//! (a replayed capture of an old request).

use platform::crypto::{constant_time_eq, hex, hmac_sha256};
use platform::ApiError;
use serde::Deserialize;

pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierSignatureError {
    Missing,
    Malformed,
    Mismatch,
    Stale,
}

impl CarrierSignatureError {
    /// 400 with a code saying which; nothing is stored.
    pub fn to_api_error(self) -> ApiError {
        let (code, message) = match self {
            Self::Missing => ("signature_missing", "X-Carrier-Timestamp and X-Carrier-Signature are required"),
            Self::Malformed => ("signature_malformed", "the signature headers cannot be read"),
            Self::Mismatch => ("signature_mismatch", "the signature does not match the body"),
            Self::Stale => ("signature_stale", "the timestamp is too far from now"),
        };
        ApiError::bad_request(code, message)
    }
}

/// The signature a request with this timestamp and body must carry.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    hex(&hmac_sha256(secret, &[&message]))
}

pub fn verify(
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    secret: &[u8],
    now_unix: i64,
) -> Result<(), CarrierSignatureError> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(CarrierSignatureError::Missing);
    };
    let ts: i64 = ts
        .trim()
        .parse()
        .map_err(|_| CarrierSignatureError::Malformed)?;
    let sig = sig.trim();
    if sig.len() != 64 || !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CarrierSignatureError::Malformed);
    }
    if secret.is_empty()
        || !constant_time_eq(sign(secret, ts, body).as_bytes(), sig.to_ascii_lowercase().as_bytes())
    {
        return Err(CarrierSignatureError::Mismatch);
    }
    if (now_unix - ts).abs() > TOLERANCE_SECS {
        return Err(CarrierSignatureError::Stale);
    }
    Ok(())
}

/// A verified delivery event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeliveryEvent {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub tracking_number: String,
    pub occurred_at: Option<String>,
}

impl DeliveryEvent {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let event: DeliveryEvent = serde_json::from_slice(body).map_err(|_| {
            ApiError::bad_request("invalid_event", "the body is not a carrier event")
        })?;
        let sane = |s: &str| !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_graphic());
        if !sane(&event.event_id) || !sane(&event.tracking_number) {
            return Err(ApiError::bad_request(
                "invalid_event",
                "event_id and tracking_number must be 1..=100 printable characters",
            ));
        }
        if let Some(at) = &event.occurred_at {
            if chrono_like_rfc3339(at).is_none() {
                return Err(ApiError::bad_request("invalid_event", "occurred_at must be RFC 3339"));
            }
        }
        Ok(event)
    }
}

/// A cheap shape check (the database parses it for real): `YYYY-MM-DDTHH:MM:SS…`.
fn chrono_like_rfc3339(s: &str) -> Option<()> {
    let b = s.as_bytes();
    (b.len() >= 20
        && b.len() <= 35
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-:.+".contains(&c)))
    .then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"carrier-secret-0123456789abcdef0123456789";
    const BODY: &[u8] = br#"{"event_id":"ev_1","type":"shipment.delivered","tracking_number":"1Z9","occurred_at":"2026-11-26T10:00:00Z"}"#;

    fn check(ts: &str, sig: &str, body: &[u8], now: i64) -> Result<(), CarrierSignatureError> {
        verify(Some(ts), Some(sig), body, SECRET, now)
    }

    #[test]
    fn a_signed_request_passes() {
        let sig = sign(SECRET, 1000, BODY);
        assert_eq!(check("1000", &sig, BODY, 1000), Ok(()));
        assert_eq!(check("1000", &sig.to_uppercase(), BODY, 1299), Ok(()));
    }

    #[test]
    fn forged_tampered_and_stale_requests_fail() {
        let sig = sign(SECRET, 1000, BODY);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert_eq!(check("1000", &sig, &tampered, 1000), Err(CarrierSignatureError::Mismatch));
        assert_eq!(check("1001", &sig, BODY, 1000), Err(CarrierSignatureError::Mismatch));
        let other = sign(b"another-secret-another-secret-xxxx", 1000, BODY);
        assert_eq!(check("1000", &other, BODY, 1000), Err(CarrierSignatureError::Mismatch));
        assert_eq!(check("1000", &sig, BODY, 1301), Err(CarrierSignatureError::Stale));
        assert_eq!(check("1000", &sig, BODY, 699), Err(CarrierSignatureError::Stale));
        assert_eq!(check("x", &sig, BODY, 1000), Err(CarrierSignatureError::Malformed));
        assert_eq!(check("1000", "abc", BODY, 1000), Err(CarrierSignatureError::Malformed));
        assert_eq!(
            verify(None, Some(&sig), BODY, SECRET, 1000),
            Err(CarrierSignatureError::Missing)
        );
        assert_eq!(
            verify(Some("1000"), Some(&sig), BODY, b"", 1000),
            Err(CarrierSignatureError::Mismatch)
        );
    }

    #[test]
    fn events_are_read_and_checked() {
        let e = DeliveryEvent::parse(BODY).unwrap();
        assert_eq!(e.tracking_number, "1Z9");
        assert_eq!(e.kind, "shipment.delivered");
        for bad in [
            &br#"{"event_id":"","type":"shipment.delivered","tracking_number":"1"}"#[..],
            br#"{"event_id":"e","type":"shipment.delivered","tracking_number":"a b"}"#,
            br#"{"event_id":"e","type":"shipment.delivered","tracking_number":"1","occurred_at":"yesterday"}"#,
            br#"not json"#,
        ] {
            assert!(DeliveryEvent::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}

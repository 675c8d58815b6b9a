//! Why a webhook's signature was refused, for both providers. A refused
//! webhook is answered 400 (the provider retries it later, and a forger
//! learns nothing but the code); the messages name what was wrong with the
//! request, never a secret nor what the right signature would have been.

use platform::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature header (Stripe) or headers (PayPal) are absent.
    Missing,
    /// A header is present but not in the provider's format; the reason
    /// says which part (a fixed text: nothing from the request is echoed).
    Malformed(&'static str),
    /// Stripe: the header has no `v1` signature (only `v0`, the test-mode
    /// scheme we never accept, or none at all).
    NoV1,
    /// No signature matches the body under any of our secrets or the
    /// provider's certificate.
    Mismatch,
    /// The signed timestamp is further from now than the tolerance, in the
    /// past (a replay) or the future.
    Stale,
    /// PayPal: the certificate URL is not at one of the allowed origins.
    CertificateUrlNotAllowed,
    /// PayPal: `PAYPAL-AUTH-ALGO` is not `SHA256withRSA`.
    UnsupportedAlgorithm,
    /// PayPal: the certificate cannot be read, holds no usable RSA key, or
    /// is not valid now; the reason says which.
    CertificateInvalid(&'static str),
}

impl SignatureError {
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::Missing => "signature_missing",
            SignatureError::Malformed(_) => "signature_malformed",
            SignatureError::NoV1 | SignatureError::Mismatch => "signature_invalid",
            SignatureError::Stale => "signature_stale",
            SignatureError::CertificateUrlNotAllowed => "certificate_url_not_allowed",
            SignatureError::UnsupportedAlgorithm => "signature_algorithm_unsupported",
            SignatureError::CertificateInvalid(_) => "certificate_invalid",
        }
    }

    pub fn message(&self) -> String {
        match self {
            SignatureError::Missing => "the webhook signature header is missing".into(),
            SignatureError::Malformed(why) => {
                format!("the webhook signature header is malformed: {why}")
            }
            SignatureError::NoV1 => "the webhook signature header has no v1 signature".into(),
            SignatureError::Mismatch => "the webhook signature does not match the body".into(),
            SignatureError::Stale => {
                "the webhook's signed timestamp is outside the accepted window".into()
            }
            SignatureError::CertificateUrlNotAllowed => {
                "the webhook's certificate URL is not at an allowed origin".into()
            }
            SignatureError::UnsupportedAlgorithm => {
                "the webhook's signature algorithm is not SHA256withRSA".into()
            }
            SignatureError::CertificateInvalid(why) => {
                format!("the webhook's signing certificate is not usable: {why}")
            }
        }
    }

    /// 400 with the code above.
    pub fn to_api_error(&self) -> ApiError {
        ApiError::bad_request(self.code(), self.message())
    }
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for SignatureError {}

impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        e.to_api_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_a_400_with_its_code() {
        let all = [
            (SignatureError::Missing, "signature_missing"),
            (
                SignatureError::Malformed("t is not a number"),
                "signature_malformed",
            ),
            (SignatureError::NoV1, "signature_invalid"),
            (SignatureError::Mismatch, "signature_invalid"),
            (SignatureError::Stale, "signature_stale"),
            (
                SignatureError::CertificateUrlNotAllowed,
                "certificate_url_not_allowed",
            ),
            (
                SignatureError::UnsupportedAlgorithm,
                "signature_algorithm_unsupported",
            ),
            (
                SignatureError::CertificateInvalid("expired"),
                "certificate_invalid",
            ),
        ];
        for (e, code) in all {
            let api = e.to_api_error();
            assert_eq!(api.status, 400, "{e:?}");
            assert_eq!(api.code, code, "{e:?}");
            let v: serde_json::Value = serde_json::from_str(&api.to_json()).unwrap();
            assert_eq!(v["error"]["code"], code);
            assert!(!api.message.is_empty());
        }
    }
}

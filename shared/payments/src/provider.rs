//! The payment providers we speak to.

use platform::ApiError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    #[serde(rename = "paypal")]
    PayPal,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Stripe, Provider::PayPal];

    /// `"stripe"` or `"paypal"`, else 400 `invalid_payment_provider`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "stripe" => Ok(Provider::Stripe),
            "paypal" => Ok(Provider::PayPal),
            _ => Err(ApiError::bad_request(
                "invalid_payment_provider",
                "payment_provider must be \"stripe\" or \"paypal\"",
            )),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::PayPal => "paypal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_the_two_names() {
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()).unwrap(), p);
        }
        for bad in ["", "Stripe", "PAYPAL", "braintree", " stripe"] {
            assert_eq!(
                Provider::parse(bad).unwrap_err().code,
                "invalid_payment_provider"
            );
        }
    }
}

//! Money: `rust_decimal`, never floating point. Prices are stored as
//! `numeric(12,2)` with an ISO-4217 currency; gateways get minor units.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::ApiError;

/// The largest amount `numeric(12,2)` holds.
pub const MAX_AMOUNT: &str = "9999999999.99";

/// An ISO 4217 code such as `USD`. Stored and sent as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl TryFrom<String> for Currency {
    type Error = ApiError;
    fn try_from(s: String) -> Result<Self, ApiError> {
        Currency::parse(&s)
    }
}

impl FromStr for Currency {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        Currency::parse(s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

impl Currency {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bytes = s.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(ApiError::bad_request(
                "invalid_currency",
                "currency must be three capital letters, e.g. USD",
            ));
        }
        Ok(Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("built from ASCII")
    }

    /// An amount as the API writes it: a decimal string with exactly this
    /// currency's minor digits ("2.00", never "2" or "2.000").
    pub fn format(&self, amount: Decimal) -> String {
        let mut amount = amount;
        amount.rescale(self.minor_digits());
        amount.to_string()
    }

    /// Digits after the decimal point (ISO 4217). The few zero-decimal
    /// currencies we may sell in are listed; everything else has two.
    pub fn minor_digits(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" | "TWD" | "UGX" => 0,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount with at most two decimals that fits `numeric(12,2)`:
/// a price, a price filter, a total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_amount",
                format!(
                    "{s:?} is not an amount: use a plain decimal such as 19.99, 0 to {MAX_AMOUNT}"
                ),
            )
        };
        // Decimal::from_str also accepts forms like "1e5" or "_1"; amounts are plain digits.
        if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(invalid());
        }
        let value = Decimal::from_str(s).map_err(|_| invalid())?;
        if value.scale() > 2 || value > Decimal::from_str(MAX_AMOUNT).expect("constant") {
            return Err(invalid());
        }
        Ok(Amount(value))
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// `units` minor units of `currency` (cents of USD, yen of JPY): how
    /// Stripe writes amounts. Exact for every `i64`.
    pub fn from_minor_units(units: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(units, currency.minor_digits()),
            currency,
        }
    }

    /// A decimal string as PayPal writes amounts (`"12.34"`, `"500"` for
    /// JPY): plain digits with at most one '.' between digits, no more
    /// decimals than the currency has, 0 to [`MAX_AMOUNT`]. The result has
    /// exactly the currency's minor digits (`"12.5"` is 12.50).
    pub fn parse(value: &str, currency: Currency) -> Result<Money, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_amount",
                format!(
                    "{value:?} is not an amount in {currency}: use a plain decimal with at most {} decimals, 0 to {MAX_AMOUNT}",
                    currency.minor_digits()
                ),
            )
        };
        let plain_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (whole, fraction) = match value.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (value, None),
        };
        if !plain_digits(whole)
            || fraction
                .is_some_and(|f| !plain_digits(f) || f.len() > currency.minor_digits() as usize)
        {
            return Err(invalid());
        }
        let mut amount = Amount::parse(value).map_err(|_| invalid())?.decimal();
        amount.rescale(currency.minor_digits());
        Ok(Money { amount, currency })
    }

    /// Integer minor units (cents for USD), as payment gateways expect. Fails
    /// rather than rounds when the amount has more precision than the currency.
    pub fn to_minor_units(&self) -> Result<i64, ApiError> {
        let scaled = self.amount * Decimal::from(10i64.pow(self.currency.minor_digits()));
        if scaled.fract() != Decimal::ZERO {
            return Err(ApiError::internal(format!(
                "{} {} has sub-minor-unit precision",
                self.amount, self.currency
            )));
        }
        i64::try_from(scaled).map_err(|_| ApiError::internal("amount out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_the_currencys_minor_digits() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(usd.format(Decimal::from(2)), "2.00");
        assert_eq!(usd.format(Decimal::new(1950, 3)), "1.95");
        assert_eq!(jpy.format(Decimal::from(500)), "500");
    }

    #[test]
    fn amounts_are_plain_decimals_with_two_places_at_most() {
        assert_eq!(Amount::parse("19.99").unwrap().to_string(), "19.99");
        assert_eq!(Amount::parse("0").unwrap().to_string(), "0");
        assert_eq!(
            Amount::parse("9999999999.99").unwrap().to_string(),
            "9999999999.99"
        );
        for bad in [
            "",
            "-1",
            "1.999",
            "1e3",
            "abc",
            "10000000000",
            "1.2.3",
            " 1",
            "NaN",
            "+1",
        ] {
            assert_eq!(
                Amount::parse(bad).unwrap_err().code,
                "invalid_amount",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn currencies_are_three_capitals() {
        assert_eq!(Currency::parse("USD").unwrap().as_str(), "USD");
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("US").is_err());
    }

    #[test]
    fn money_comes_from_minor_units_exactly() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let m = Money::from_minor_units(1999, usd);
        assert_eq!(m.amount.to_string(), "19.99");
        assert_eq!(m.to_minor_units().unwrap(), 1999);
        assert_eq!(
            Money::from_minor_units(1000, usd).amount.to_string(),
            "10.00"
        );
        assert_eq!(Money::from_minor_units(0, usd).amount.to_string(), "0.00");
        assert_eq!(Money::from_minor_units(500, jpy).amount.to_string(), "500");
        for units in [i64::MIN, -1, 0, 1, 999_999_999_999, i64::MAX] {
            assert_eq!(
                Money::from_minor_units(units, usd)
                    .to_minor_units()
                    .unwrap(),
                units
            );
        }
    }

    #[test]
    fn money_parses_plain_decimals_in_its_currencys_digits() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let ok = |s: &str, c| Money::parse(s, c).unwrap().amount.to_string();
        assert_eq!(ok("12.34", usd), "12.34");
        assert_eq!(ok("12.5", usd), "12.50");
        assert_eq!(ok("12", usd), "12.00");
        assert_eq!(ok("0.00", usd), "0.00");
        assert_eq!(ok("9999999999.99", usd), "9999999999.99");
        assert_eq!(ok("500", jpy), "500");
        for (bad, c) in [
            ("", usd),
            (".5", usd),
            ("1.", usd),
            ("1.234", usd),
            ("1.2.3", usd),
            ("-1", usd),
            ("+1", usd),
            (" 1", usd),
            ("1e3", usd),
            ("1_000", usd),
            ("1,00", usd),
            ("NaN", usd),
            ("10000000000", usd),
            ("500.0", jpy),
            ("500.", jpy),
        ] {
            assert_eq!(
                Money::parse(bad, c).unwrap_err().code,
                "invalid_amount",
                "{bad:?} {c}"
            );
        }
    }

    #[test]
    fn minor_units_are_exact() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let m = |s: &str, c| Money {
            amount: Decimal::from_str(s).unwrap(),
            currency: c,
        };
        assert_eq!(m("19.99", usd).to_minor_units().unwrap(), 1999);
        assert_eq!(m("0.10", usd).to_minor_units().unwrap(), 10);
        assert_eq!(m("1500", jpy).to_minor_units().unwrap(), 1500);
        assert!(m("0.005", usd).to_minor_units().is_err());
        assert!(m("15.5", jpy).to_minor_units().is_err());
    }
}

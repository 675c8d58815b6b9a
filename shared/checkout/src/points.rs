//! Loyalty points at checkout: what redeeming pays, what the order will earn,
//! and who may redeem. The region's rates come from regions.toml
//! (`regions::LoyaltyRates`); the balance is the database's, checked by
//! `place_order` under the customer row's lock (`insufficient_points`).
//!
//! Points are a tender: they pay part of the total, tax stays on the full
//! price. So `total = subtotal + tax − points_discount`, the shopper pays at
//! least `MIN_CHARGE`, and earns on the goods they paid for with money:
//! `floor(subtotal − points_discount) × earn_per_unit`.

use platform::money::Currency;
use platform::ApiError;
use regions::LoyaltyRates;
use rust_decimal::Decimal;

/// The most points one checkout may redeem (the body's `redeem_points`).
pub const MAX_REDEEM_POINTS: u32 = 10_000_000;

/// What points may leave to pay at least: `points_discount <= subtotal +
/// tax − MIN_CHARGE` (0.50, a charge every gateway accepts).
pub fn min_charge() -> Decimal {
    Decimal::new(50, 2)
}

/// The most points one order may earn: `orders.points_to_earn` is an `int`.
const MAX_EARN: u64 = i32::MAX as u64;

/// 401 `unauthenticated` (`customers::session`'s, the one every session
/// check answers), saying why here.
pub fn unauthenticated(message: impl Into<String>) -> ApiError {
    let mut e = customers::session::unauthenticated();
    e.message = message.into();
    e
}

pub fn invalid_redeem_points(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_redeem_points", message)
}

/// Redeeming needs a session: 401 before the cart is even read.
pub fn require_session(redeem_points: Option<u32>, customer: Option<&str>) -> Result<(), ApiError> {
    if redeem_points.is_some() && customer.is_none() {
        return Err(unauthenticated(
            "sign in to redeem points: send the session cookie or Authorization: Bearer <session>",
        ));
    }
    Ok(())
}

/// `redeem_points` / `points_per_unit` in the currency, exactly: 400
/// `invalid_redeem_points` when that is not a whole number of the currency's
/// minor units (never rounded: the shopper would get more or less than
/// they asked for). Carries the currency's scale ("1.00").
pub fn points_discount(
    redeem_points: u32,
    rates: LoyaltyRates,
    currency: Currency,
) -> Result<Decimal, ApiError> {
    let digits = currency.minor_digits();
    let per_unit = u128::from(rates.points_per_unit.max(1));
    let scaled = u128::from(redeem_points) * 10u128.pow(digits);
    if !scaled.is_multiple_of(per_unit) {
        return Err(invalid_redeem_points(format!(
            "{redeem_points} points are not a whole amount of {currency}: {} points pay one {currency}, \
             redeem a multiple of {}",
            rates.points_per_unit,
            smallest_redeemable(rates, currency)
        )));
    }
    let minor = i64::try_from(scaled / per_unit).expect("at most 10^7 x 10^2");
    Ok(Decimal::new(minor, digits))
}

/// The fewest points that pay a whole minor unit (1 at 100 points per
/// dollar: a cent; 100 at 100 points per yen).
fn smallest_redeemable(rates: LoyaltyRates, currency: Currency) -> u64 {
    let per_unit = u64::from(rates.points_per_unit.max(1));
    let minor = 10u64.pow(currency.minor_digits());
    per_unit / gcd(per_unit, minor)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// 422 `redeem_exceeds_total` when the points would pay more than the
/// order's `subtotal + tax − MIN_CHARGE`. No points, no limit: an order
/// below 0.50 paid with money alone is fine.
pub fn check_within_total(
    discount: Decimal,
    subtotal: Decimal,
    tax: Decimal,
    currency: Currency,
) -> Result<(), ApiError> {
    let most = subtotal + tax - min_charge();
    if discount > Decimal::ZERO && discount > most {
        let most = currency.format(most.max(Decimal::ZERO));
        return Err(ApiError::unprocessable(
            "redeem_exceeds_total",
            format!(
                "points may pay at most the total less {}: {most} {currency} for this order",
                currency.format(min_charge())
            ),
        )
        .with_detail("max_points_discount", most));
    }
    Ok(())
}

/// `floor(subtotal − discount) × earn_per_unit`, 0 when the points paid for
/// more than the goods (part of the tax), at most `i32::MAX`.
pub fn points_to_earn(subtotal: Decimal, discount: Decimal, rates: LoyaltyRates) -> u32 {
    let paid = (subtotal - discount).floor();
    if paid <= Decimal::ZERO {
        return 0;
    }
    let units = u64::try_from(paid).unwrap_or(u64::MAX);
    let earned = units
        .saturating_mul(u64::from(rates.earn_per_unit))
        .min(MAX_EARN);
    u32::try_from(earned).expect("capped at i32::MAX")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }
    fn rates(earn: u32, points: u32) -> LoyaltyRates {
        LoyaltyRates {
            earn_per_unit: earn,
            points_per_unit: points,
        }
    }

    #[test]
    fn a_hundred_points_pay_a_dollar_exactly() {
        let r = LoyaltyRates::default();
        let usd = cur("USD");
        assert_eq!(points_discount(500, r, usd).unwrap().to_string(), "5.00");
        assert_eq!(points_discount(1, r, usd).unwrap().to_string(), "0.01");
        assert_eq!(points_discount(1234, r, usd).unwrap().to_string(), "12.34");
        assert_eq!(
            points_discount(MAX_REDEEM_POINTS, r, usd)
                .unwrap()
                .to_string(),
            "100000.00"
        );
    }

    #[test]
    fn a_fraction_of_a_minor_unit_is_refused_not_rounded() {
        let usd = cur("USD");
        let e = points_discount(5, rates(1, 1000), usd).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_redeem_points"));
        assert!(e.message.contains("multiple of 10"), "{}", e.message);
        assert_eq!(
            points_discount(10, rates(1, 1000), usd)
                .unwrap()
                .to_string(),
            "0.01"
        );
        // Zero-decimal currencies: 100 points a yen, whole yen only.
        let jpy = cur("JPY");
        assert_eq!(
            points_discount(300, rates(1, 100), jpy)
                .unwrap()
                .to_string(),
            "3"
        );
        let e = points_discount(150, rates(1, 100), jpy).unwrap_err();
        assert!(e.message.contains("multiple of 100"), "{}", e.message);
        // One point per unit: any number of points is whole.
        assert_eq!(
            points_discount(7, rates(1, 1), usd).unwrap().to_string(),
            "7.00"
        );
        assert_eq!(
            points_discount(3, rates(1, 3), usd).unwrap().to_string(),
            "1.00"
        );
        assert!(points_discount(1, rates(1, 3), usd).is_err());
    }

    #[test]
    fn points_leave_at_least_fifty_cents_to_pay() {
        let usd = cur("USD");
        // 10.00 + 0.73 tax: at most 10.23 in points.
        assert!(check_within_total(dec("10.23"), dec("10.00"), dec("0.73"), usd).is_ok());
        let e = check_within_total(dec("10.24"), dec("10.00"), dec("0.73"), usd).unwrap_err();
        assert_eq!((e.status, e.code), (422, "redeem_exceeds_total"));
        assert_eq!(e.details.unwrap()["max_points_discount"], "10.23");
        // An order under 0.50: no points at all.
        let e = check_within_total(dec("0.01"), dec("0.40"), dec("0.00"), usd).unwrap_err();
        assert_eq!(e.details.unwrap()["max_points_discount"], "0.00");
        assert!(check_within_total(Decimal::ZERO, dec("0.40"), dec("0.00"), usd).is_ok());
    }

    #[test]
    fn earning_is_on_the_goods_paid_with_money() {
        let r = LoyaltyRates::default();
        assert_eq!(points_to_earn(dec("20.50"), Decimal::ZERO, r), 20);
        assert_eq!(points_to_earn(dec("20.50"), dec("5.00"), r), 15);
        assert_eq!(points_to_earn(dec("20.50"), dec("0.51"), r), 19);
        assert_eq!(points_to_earn(dec("0.99"), Decimal::ZERO, r), 0);
        // Points paid for the goods and part of the tax: nothing earned.
        assert_eq!(points_to_earn(dec("10.00"), dec("10.20"), r), 0);
        assert_eq!(points_to_earn(dec("10.00"), dec("3.00"), rates(3, 100)), 21);
        // Never past the column's int.
        assert_eq!(
            points_to_earn(dec("9999999999.99"), Decimal::ZERO, rates(1_000_000, 1)),
            i32::MAX as u32
        );
    }

    #[test]
    fn only_a_session_may_redeem() {
        assert!(require_session(None, None).is_ok());
        assert!(require_session(None, Some("cus_x")).is_ok());
        assert!(require_session(Some(100), Some("cus_x")).is_ok());
        let e = require_session(Some(100), None).unwrap_err();
        assert_eq!((e.status, e.code), (401, "unauthenticated"));
    }
}

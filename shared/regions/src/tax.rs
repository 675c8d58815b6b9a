//! Sales tax.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::Region;

impl Region {
    /// Sales tax on an order subtotal.
    ///
    /// Computed once on the subtotal, not per line: rounding each line would
    /// drift from what the tax authority computes on the receipt total. The
    /// result is rounded half-up (away from zero) to the currency's minor
    /// units and always carries exactly that scale, so a zero rate gives
    /// `0.00` (USD) and JSON shows "0.00", not "0".
    ///
    /// Cannot overflow: the rate is below 1, so the tax is below the subtotal.
    pub fn tax_on(&self, subtotal: Decimal) -> Decimal {
        let digits = self.currency.minor_digits();
        let mut tax = (subtotal * self.sales_tax)
            .round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
        tax.rescale(digits);
        tax
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;

    #[test]
    fn tax_is_rounded_half_up_on_the_subtotal() {
        let ca = region("US-CA");
        // 2.00 × 0.0725 = 0.145: half-up gives 0.15 (banker's would give 0.14).
        assert_eq!(ca.tax_on(dec("2.00")).to_string(), "0.15");
        // 10.10 × 0.0725 = 0.73225 → 0.73.
        assert_eq!(ca.tax_on(dec("10.10")).to_string(), "0.73");
        // On the subtotal, not per line: 3 lines of 2.00 taxed separately
        // would be 3 × 0.15 = 0.45; the subtotal 6.00 gives 0.435 → 0.44.
        assert_eq!(ca.tax_on(dec("6.00")).to_string(), "0.44");
        // Largest numeric(12,2): 724999999.99927500 → 725000000.00.
        assert_eq!(
            ca.tax_on(dec(platform::money::MAX_AMOUNT)).to_string(),
            "725000000.00"
        );
        assert_eq!(region("US-CO").tax_on(dec("19.99")).to_string(), "0.58"); // 0.57971
        assert_eq!(ca.tax_on(dec("0")).to_string(), "0.00");
    }

    #[test]
    fn zero_rate_gives_zero_with_the_currency_scale() {
        let or = region("US-OR");
        let tax = or.tax_on(dec("123.45"));
        assert_eq!(tax, Decimal::ZERO);
        assert_eq!(tax.to_string(), "0.00");
        assert_eq!(serde_json::to_string(&tax).unwrap(), "\"0.00\"");
        assert_eq!(or.tax_on(dec("7")).to_string(), "0.00");
    }
}

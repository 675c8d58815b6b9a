//! The cart as the API shows it, and read back (checkout reads carts from
//! their object this way).

use platform::ApiError;
use regions::Region;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::Cart;

impl Cart {
    /// Reads back what `to_json` wrote (checkout reads carts this way from
    /// their object): the view holds every stored field under the same name,
    /// and the derived ones (totals, line totals) are ignored, never read.
    pub fn from_view(json: &str) -> Result<Cart, ApiError> {
        serde_json::from_str(json).map_err(|e| ApiError::internal(format!("unreadable cart: {e}")))
    }

    /// The cart as the API shows it; every amount a decimal string.
    pub fn to_json(&self, region: &Region) -> Value {
        let totals = self.totals(region);
        let money = |d: Decimal| self.currency.format(d);
        json!({
            "id": self.id,
            "store_id": self.store_id,
            "region": self.region,
            "currency": self.currency,
            "customer_id": self.customer_id,
            "status": self.status,
            "order_id": self.order_id,
            "version": self.version,
            "lines": self.lines.iter().map(|l| json!({
                "sku": l.sku,
                "name": l.name,
                "quantity": l.quantity,
                "unit_price": money(l.unit_price),
                "line_total": money(l.line_total()),
            })).collect::<Vec<_>>(),
            "subtotal": money(totals.subtotal),
            "tax": money(totals.tax),
            "total": money(totals.total),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use crate::Cart;

    #[test]
    fn totals_are_decimal_strings_with_tax_on_the_subtotal() {
        let mut c = cart();
        let p = [priced("A-1", "1.00", 50), priced("B-1", "0.45", 50)];
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 1,
            },
            &p,
        )
        .unwrap();
        c.apply(
            &CartCommand::Add {
                sku: sku("B-1"),
                quantity: 2,
            },
            &p,
        )
        .unwrap();
        // 1.00 + 0.90 = 1.90; 1.90 * 0.0725 = 0.13775 -> 0.14 (half-up at cents).
        let v = c.to_json(ca());
        assert_eq!(v["subtotal"], "1.90");
        assert_eq!(v["tax"], "0.14");
        assert_eq!(v["total"], "2.04");
        assert_eq!(v["lines"][1]["line_total"], "0.90");
        assert_eq!(v["lines"][1]["unit_price"], "0.45");
    }

    #[test]
    fn the_api_view_reads_back_as_the_same_cart() {
        let mut c = cart();
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 3,
            },
            &[priced("A-1", "1.10", 5)],
        )
        .unwrap();
        assert_eq!(Cart::from_view(&c.to_json(ca()).to_string()).unwrap(), c);
    }
}

//! The cart as the API shows it, and read back (checkout reads carts from
//! their object this way).

use platform::ApiError;
use regions::Region;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::Cart;

impl Cart {
    /// Reads back what `to_json` wrote (checkout reads carts this way from
    /// their object): the view holds every stored field under the same name
    /// but the email, and the derived ones (totals, line totals,
    /// `has_email`) are ignored, never read. A cart read back this way has
    /// no email: it is for reading, never for storing again.
    pub fn from_view(json: &str) -> Result<Cart, ApiError> {
        serde_json::from_str(json).map_err(|e| ApiError::internal(format!("unreadable cart: {e}")))
    }

    /// The cart as the API shows it; every amount a decimal string,
    /// `updated_at` in unix seconds. The email is personal data and stays
    /// out of it: `has_email` says whether there is one.
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
            "updated_at": self.updated_at,
            "has_email": self.email.is_some(),
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
        c.touch(1_800_000_000_999);
        assert_eq!(Cart::from_view(&c.to_json(ca()).to_string()).unwrap(), c);
    }

    #[test]
    fn the_view_says_has_email_and_never_shows_the_address() {
        let mut c = cart();
        assert_eq!(c.to_json(ca())["has_email"], false);
        let email = crate::Email::parse("Ada@Example.com").unwrap();
        c.apply(&CartCommand::AttachEmail { email }, &[]).unwrap();
        c.touch(1_800_000_000_500);
        let v = c.to_json(ca());
        assert_eq!(v["has_email"], true);
        assert_eq!(v["updated_at"], 1_800_000_000);
        assert!(!v.to_string().contains("example.com"), "{v}");
        assert!(v.get("email").is_none());
        // Read back, it is the same cart but for the email.
        let back = Cart::from_view(&v.to_string()).unwrap();
        assert_eq!(back.email, None);
        assert_eq!(
            Cart {
                email: c.email.clone(),
                ..back
            },
            c
        );
    }
}

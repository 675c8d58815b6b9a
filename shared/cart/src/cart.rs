//! The cart and the rules that change it: lines, limits, `If-Match`, and
//! totals. Pure: the Durable Object loads a `Cart`, prices it, applies a
//! `CartCommand` and stores the result.

use platform::money::Currency;
use platform::ApiError;
use regions::{Region, RegionCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    CartCommand, CartId, Email, MergeOutcome, OrderRef, PricedSku, Sku, MAX_LINES, MAX_QUANTITY,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartStatus {
    Open,
    /// Became an order; no longer changes.
    CheckedOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: u32,
    /// As last read from the database; refreshed on every cart answer.
    pub unit_price: Decimal,
}

impl CartLine {
    pub fn line_total(&self) -> Decimal {
        self.unit_price * Decimal::from(self.quantity)
    }
}

/// What the Durable Object stores, in its storage and in KV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub id: CartId,
    pub store_id: i64,
    pub region: RegionCode,
    pub currency: Currency,
    /// Set when a signed-in customer owns the cart (saved carts). Guests: None.
    pub customer_id: Option<String>,
    pub lines: Vec<CartLine>,
    /// Bumped by every change; the ETag, and what `If-Match` is checked against.
    pub version: u64,
    pub status: CartStatus,
    pub order_id: Option<OrderRef>,
    /// The shopper's email, for the abandoned-cart message (`AttachEmail`).
    /// Personal data: stored with the cart, never shown (the API view says
    /// `has_email`). Carts stored before it existed read back as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// When the cart last changed, in unix seconds (set by the object on
    /// every change it stores; `touch`). How long a cart has been idle; 0
    /// for carts stored before it existed.
    #[serde(default)]
    pub updated_at: i64,
}

impl Cart {
    pub fn new(id: CartId, store_id: i64, region: RegionCode, currency: Currency) -> Self {
        Cart {
            id,
            store_id,
            region,
            currency,
            customer_id: None,
            lines: Vec::new(),
            version: 1,
            status: CartStatus::Open,
            order_id: None,
            email: None,
            updated_at: 0,
        }
    }

    /// Records that the cart changed at `now_ms` (ms since the epoch):
    /// `updated_at` in whole seconds. The object calls it for every change
    /// it stores, creation included.
    pub fn touch(&mut self, now_ms: i64) {
        self.updated_at = now_ms.div_euclid(1000);
    }

    /// The quoted ETag for this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// `If-Match` holds when absent, `*`, or naming this version (weak or strong).
    pub fn check_if_match(&self, if_match: Option<&str>) -> Result<(), ApiError> {
        let Some(header) = if_match else {
            return Ok(());
        };
        let current = self.etag();
        let matches = header
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current);
        if matches {
            Ok(())
        } else {
            Err(ApiError::precondition_failed(format!(
                "the cart changed: it is at version {current}, not {header}"
            )))
        }
    }

    /// The SKUs to price for an answer: every line, plus the one being added
    /// (or a merge's, when it can happen: same region and store).
    pub fn skus_to_price(&self, cmd: &CartCommand) -> Vec<Sku> {
        let mut skus: Vec<Sku> = self.lines.iter().map(|l| l.sku.clone()).collect();
        let extra: Vec<&Sku> = match cmd {
            CartCommand::Merge {
                lines,
                region,
                store_id,
            } if region == &self.region && *store_id == self.store_id => {
                lines.iter().map(|l| &l.sku).collect()
            }
            _ => cmd.sku().into_iter().collect(),
        };
        for sku in extra {
            if !skus.contains(sku) {
                skus.push(sku.clone());
            }
        }
        skus
    }

    /// `apply`, and for a `Merge` what it did (the object answers it).
    pub fn execute(
        &mut self,
        cmd: &CartCommand,
        priced: &[PricedSku],
    ) -> Result<Option<MergeOutcome>, ApiError> {
        match cmd {
            CartCommand::Merge {
                lines,
                region,
                store_id,
            } => Ok(Some(self.merge(lines, region, *store_id, priced))),
            _ => self.apply(cmd, priced).map(|()| None),
        }
    }

    /// Takes the database's current names and prices for the lines it knows.
    /// A line whose SKU vanished keeps its last price; checkout refuses it.
    pub fn reprice(&mut self, priced: &[PricedSku]) {
        for line in &mut self.lines {
            if let Some(p) = priced.iter().find(|p| p.sku == line.sku) {
                line.name.clone_from(&p.name);
                line.unit_price = p.unit_price;
            }
        }
    }

    /// Applies one change. On error the cart is left as it was. `priced` must
    /// hold the command's SKU if it has one (`skus_to_price`). A `Merge`
    /// never fails (a refusal is its outcome: `execute` answers it).
    pub fn apply(&mut self, cmd: &CartCommand, priced: &[PricedSku]) -> Result<(), ApiError> {
        if let CartCommand::Merge {
            lines,
            region,
            store_id,
        } = cmd
        {
            self.merge(lines, region, *store_id, priced);
            return Ok(());
        }
        if let (CartCommand::MarkCheckedOut { order_id }, Some(done)) = (cmd, &self.order_id) {
            // Checkout may tell us twice (a retried checkout); the same order is no change.
            return if order_id == done {
                Ok(())
            } else {
                Err(ApiError::conflict(
                    "cart_checked_out",
                    "this cart already became another order",
                ))
            };
        }
        if cmd.changes_cart() && self.status == CartStatus::CheckedOut {
            return Err(ApiError::conflict(
                "cart_checked_out",
                "this cart has been checked out and can no longer change",
            ));
        }
        match cmd {
            CartCommand::Get
            | CartCommand::BeginCheckout { .. }
            | CartCommand::AbortCheckout { .. }
            | CartCommand::Create { .. } => return Ok(()),
            CartCommand::MarkCheckedOut { order_id } => {
                self.status = CartStatus::CheckedOut;
                self.order_id = Some(order_id.clone());
            }
            // The same email again is no change (a retried PATCH).
            CartCommand::AttachEmail { email } if self.email.as_ref() == Some(email) => {
                return Ok(())
            }
            CartCommand::AttachEmail { email } => self.email = Some(email.clone()),
            // Already this customer's: no change (a retried login).
            CartCommand::Adopt { customer } if self.customer_id.as_ref() == Some(customer) => {
                return Ok(())
            }
            // Another customer's cart is not there for this one (`owner`
            // refuses it first; this holds even without it).
            CartCommand::Adopt { .. } if self.customer_id.is_some() => {
                return Err(crate::cart_not_found())
            }
            CartCommand::Adopt { customer } => self.customer_id = Some(customer.clone()),
            CartCommand::Merge { .. } => return Ok(()), // above
            CartCommand::Remove { sku } => {
                let before = self.lines.len();
                self.lines.retain(|l| &l.sku != sku);
                if self.lines.len() == before {
                    return Err(line_not_found(sku));
                }
            }
            CartCommand::Add { sku, quantity } | CartCommand::Set { sku, quantity } => {
                let existing = self.lines.iter().position(|l| &l.sku == sku);
                let wanted = match (cmd, existing) {
                    (CartCommand::Add { .. }, Some(i)) => self.lines[i].quantity + quantity,
                    (CartCommand::Set { .. }, None) => return Err(line_not_found(sku)),
                    _ => *quantity,
                };
                if wanted == 0 {
                    self.lines.retain(|l| &l.sku != sku);
                } else {
                    let p = priced.iter().find(|p| &p.sku == sku).ok_or_else(|| {
                        ApiError::not_found("sku_not_found", format!("no product has SKU {sku}"))
                    })?;
                    self.check_line(p, wanted, existing.is_none())?;
                    match existing {
                        Some(i) => self.lines[i].quantity = wanted,
                        None => self.lines.push(CartLine {
                            sku: sku.clone(),
                            name: p.name.clone(),
                            quantity: wanted,
                            unit_price: p.unit_price,
                        }),
                    }
                }
            }
        }
        self.version += 1;
        Ok(())
    }

    fn check_line(&self, p: &PricedSku, wanted: u32, new_line: bool) -> Result<(), ApiError> {
        if p.currency != self.currency {
            return Err(ApiError::conflict(
                "currency_mismatch",
                format!(
                    "{} is sold in {}, this cart is in {}",
                    p.sku, p.currency, self.currency
                ),
            ));
        }
        if wanted > MAX_QUANTITY {
            return Err(ApiError::unprocessable(
                "quantity_limit",
                format!("at most {MAX_QUANTITY} of one SKU per cart"),
            )
            .with_detail("max_quantity", MAX_QUANTITY));
        }
        if new_line && self.lines.len() >= MAX_LINES {
            return Err(ApiError::unprocessable(
                "cart_full",
                format!("a cart holds at most {MAX_LINES} lines"),
            ));
        }
        if wanted > p.available {
            return Err(ApiError::conflict(
                "insufficient_stock",
                format!("only {} of {} available in this store", p.available, p.sku),
            )
            .with_detail("sku", p.sku.as_str())
            .with_detail("available", p.available));
        }
        Ok(())
    }

    pub fn totals(&self, region: &Region) -> Totals {
        let subtotal: Decimal = self.lines.iter().map(CartLine::line_total).sum();
        let tax = region.tax_on(subtotal);
        Totals {
            subtotal,
            tax,
            total: subtotal + tax,
        }
    }
}

fn line_not_found(sku: &Sku) -> ApiError {
    ApiError::not_found("line_not_found", format!("the cart has no line for {sku}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::MAX_LINES;

    #[test]
    fn adding_twice_sums_the_line_and_bumps_the_version() {
        let mut c = cart();
        let p = [priced("A-1", "2.50", 10)];
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 2,
            },
            &p,
        )
        .unwrap();
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 3,
            },
            &p,
        )
        .unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].quantity, 5);
        assert_eq!(c.version, 3);
    }

    #[test]
    fn more_than_available_is_a_409_with_the_count_and_changes_nothing() {
        let mut c = cart();
        let p = [priced("A-1", "2.50", 4)];
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 3,
            },
            &p,
        )
        .unwrap();
        let before = c.clone();
        let e = c
            .apply(
                &CartCommand::Add {
                    sku: sku("A-1"),
                    quantity: 2,
                },
                &p,
            )
            .unwrap_err();
        assert_eq!((e.status, e.code), (409, "insufficient_stock"));
        assert_eq!(e.details.unwrap()["available"], 4);
        assert_eq!(c, before);
    }

    #[test]
    fn limits_per_line_and_per_cart() {
        let mut c = cart();
        let p = [priced("A-1", "1.00", 1000)];
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 99,
            },
            &p,
        )
        .unwrap();
        let e = c
            .apply(
                &CartCommand::Add {
                    sku: sku("A-1"),
                    quantity: 1,
                },
                &p,
            )
            .unwrap_err();
        assert_eq!(e.code, "quantity_limit");

        let mut c = cart();
        let many: Vec<PricedSku> = (0..=MAX_LINES)
            .map(|i| priced(&format!("S-{i}"), "1.00", 5))
            .collect();
        for p in &many[..MAX_LINES] {
            c.apply(
                &CartCommand::Add {
                    sku: p.sku.clone(),
                    quantity: 1,
                },
                &many,
            )
            .unwrap();
        }
        let e = c
            .apply(
                &CartCommand::Add {
                    sku: many[MAX_LINES].sku.clone(),
                    quantity: 1,
                },
                &many,
            )
            .unwrap_err();
        assert_eq!(e.code, "cart_full");
        assert_eq!(c.lines.len(), MAX_LINES);
    }

    #[test]
    fn set_zero_and_remove_drop_the_line_unknown_lines_are_404() {
        let mut c = cart();
        let p = [priced("A-1", "1.00", 5), priced("B-1", "1.00", 5)];
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
                quantity: 1,
            },
            &p,
        )
        .unwrap();
        c.apply(
            &CartCommand::Set {
                sku: sku("A-1"),
                quantity: 0,
            },
            &p,
        )
        .unwrap();
        c.apply(&CartCommand::Remove { sku: sku("B-1") }, &p)
            .unwrap();
        assert!(c.lines.is_empty());
        let e = c
            .apply(&CartCommand::Remove { sku: sku("B-1") }, &p)
            .unwrap_err();
        assert_eq!((e.status, e.code), (404, "line_not_found"));
        let e = c
            .apply(
                &CartCommand::Set {
                    sku: sku("B-1"),
                    quantity: 2,
                },
                &p,
            )
            .unwrap_err();
        assert_eq!(e.status, 404);
    }

    #[test]
    fn an_unknown_sku_is_404() {
        let mut c = cart();
        let e = c
            .apply(
                &CartCommand::Add {
                    sku: sku("NOPE-1"),
                    quantity: 1,
                },
                &[],
            )
            .unwrap_err();
        assert_eq!((e.status, e.code), (404, "sku_not_found"));
    }

    #[test]
    fn a_checked_out_cart_no_longer_changes() {
        let mut c = cart();
        let p = [priced("A-1", "1.00", 5)];
        let order = |id: &str| CartCommand::MarkCheckedOut {
            order_id: id.into(),
        };
        c.apply(&order("ord_9"), &p).unwrap();
        let version = c.version;
        c.apply(&order("ord_9"), &p).unwrap();
        assert_eq!(c.version, version, "telling it twice changes nothing");
        assert_eq!(
            c.apply(&order("ord_10"), &p).unwrap_err().code,
            "cart_checked_out"
        );
        let e = c
            .apply(
                &CartCommand::Add {
                    sku: sku("A-1"),
                    quantity: 1,
                },
                &p,
            )
            .unwrap_err();
        assert_eq!((e.status, e.code), (409, "cart_checked_out"));
        assert!(c.apply(&CartCommand::Get, &p).is_ok());
    }

    #[test]
    fn an_email_is_a_change_of_an_open_cart_and_the_same_one_again_is_none() {
        let mut c = cart();
        let email = |s: &str| CartCommand::AttachEmail {
            email: crate::Email::parse(s).unwrap(),
        };
        c.apply(&email("ada@example.com"), &[]).unwrap();
        assert_eq!(c.version, 2);
        assert_eq!(c.email.as_ref().unwrap().as_str(), "ada@example.com");
        c.apply(&email("ADA@example.com "), &[]).unwrap();
        assert_eq!(c.version, 2, "the same email again changes nothing");
        c.apply(&email("bob@example.com"), &[]).unwrap();
        assert_eq!(c.version, 3);
        assert_eq!(c.email.as_ref().unwrap().as_str(), "bob@example.com");

        c.apply(&CartCommand::MarkCheckedOut { order_id: 1.into() }, &[])
            .unwrap();
        for again in ["bob@example.com", "eve@example.com"] {
            let e = c.apply(&email(again), &[]).unwrap_err();
            assert_eq!((e.status, e.code), (409, "cart_checked_out"), "{again}");
        }
    }

    #[test]
    fn touch_keeps_whole_seconds() {
        let mut c = cart();
        assert_eq!(c.updated_at, 0);
        c.touch(1_800_000_001_999);
        assert_eq!(c.updated_at, 1_800_000_001);
    }

    #[test]
    fn carts_stored_before_email_and_updated_at_still_load() {
        let mut old = serde_json::to_value(cart()).unwrap();
        let fields = old.as_object_mut().unwrap();
        fields.remove("email");
        fields.remove("updated_at");
        let c: Cart = serde_json::from_value(old).unwrap();
        assert_eq!((c.email, c.updated_at), (None, 0));
    }

    #[test]
    fn if_match_names_the_current_version() {
        let c = cart();
        assert!(c.check_if_match(None).is_ok());
        assert!(c.check_if_match(Some("\"1\"")).is_ok());
        assert!(c.check_if_match(Some("W/\"1\"")).is_ok());
        assert!(c.check_if_match(Some("*")).is_ok());
        assert_eq!(c.check_if_match(Some("\"0\"")).unwrap_err().status, 412);
    }

    #[test]
    fn reprice_takes_the_database_price() {
        let mut c = cart();
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 2,
            },
            &[priced("A-1", "1.00", 5)],
        )
        .unwrap();
        c.reprice(&[priced("A-1", "3.00", 5)]);
        assert_eq!(c.to_json(ca())["subtotal"], "6.00");
    }

    #[test]
    fn carts_round_trip_through_json_storage() {
        let mut c = cart();
        c.apply(
            &CartCommand::Add {
                sku: sku("A-1"),
                quantity: 2,
            },
            &[priced("A-1", "1.10", 5)],
        )
        .unwrap();
        c.apply(
            &CartCommand::AttachEmail {
                email: crate::Email::parse("ada@example.com").unwrap(),
            },
            &[],
        )
        .unwrap();
        c.touch(1_800_000_000_000);
        let stored = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Cart>(&stored).unwrap(), c);
    }
}

//! The cart: its identity, its lines and limits, the commands that change it,
//! and the totals a shopper sees. Pure: the cart function's Durable Object
//! loads a `Cart`, prices it with one SQL statement, applies a `CartCommand`
//! and stores the result.
//!
//! Prices are never taken from the client. Every cart answer re-prices its
//! lines from the database (`pricing`), and checkout checks those prices again
//! on the primary inside its transaction.

use std::collections::HashMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::money::Currency;
use crate::regions::Region;
use crate::sql::Statement;
use crate::ApiError;

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: u32 = 99;
/// Carts idle this long disappear from KV (`expiration_ttl`).
pub const CART_TTL_SECS: u64 = 30 * 24 * 60 * 60;

/// 128 random bits as 32 lowercase hex digits: unguessable, so the id alone
/// grants access to a guest cart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CartId(String);

impl CartId {
    pub fn from_random(bytes: [u8; 16]) -> Self {
        CartId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Anything that is not a well-formed id cannot name a cart: 404, the same
    /// answer as for a well-formed id nobody created.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(CartId(s.to_string()))
        } else {
            Err(cart_not_found())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CartId {
    type Error = ApiError;
    fn try_from(s: String) -> Result<Self, ApiError> {
        CartId::parse(&s)
    }
}

impl From<CartId> for String {
    fn from(id: CartId) -> String {
        id.0
    }
}

impl fmt::Display for CartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn cart_not_found() -> ApiError {
    ApiError::not_found("cart_not_found", "no cart has that id")
}

/// A stock-keeping unit as the catalog spells it (`P000123-2`): capitals,
/// digits and dashes, 3 to 64 long, the same rule as the `variants.sku` CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let b = s.as_bytes();
        let ok = (3..=64).contains(&b.len())
            && b[0].is_ascii_uppercase() | b[0].is_ascii_digit()
            && b.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-');
        if ok {
            Ok(Sku(s.to_string()))
        } else {
            Err(ApiError::bad_request(
                "invalid_sku",
                "sku must be 3-64 capital letters, digits or dashes, e.g. P000123-2",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = ApiError;
    fn try_from(s: String) -> Result<Self, ApiError> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How many of one SKU a request asks for. `allow_zero` is for PATCH, where 0
/// removes the line. JSON numbers only: "2", 2.5, -1 and 1e9 are refused.
pub fn parse_quantity(v: Option<&Value>, allow_zero: bool) -> Result<u32, ApiError> {
    let min = if allow_zero { 0 } else { 1 };
    v.and_then(Value::as_u64)
        .filter(|q| (min..=u64::from(MAX_QUANTITY)).contains(q))
        .map(|q| q as u32)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_quantity",
                format!("quantity must be a whole number from {min} to {MAX_QUANTITY}"),
            )
        })
}

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
    pub region: String,
    pub currency: String,
    /// Set when a signed-in customer owns the cart (saved carts). Guests: None.
    pub customer_id: Option<String>,
    pub lines: Vec<CartLine>,
    /// Bumped by every change; the ETag, and what `If-Match` is checked against.
    pub version: u64,
    pub status: CartStatus,
    pub order_id: Option<i64>,
}

/// A change to a cart. The cart function parses requests into these; the
/// Durable Object applies them one at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartCommand {
    Create {
        store_id: i64,
        region: String,
        currency: String,
    },
    Get,
    /// Checkout's read: the cart as stored, not re-priced. Checkout checks
    /// every price again on the primary, inside its transaction, so pricing
    /// here on the replica would be a wasted round trip.
    Snapshot,
    /// Adds to the line's quantity (creating the line).
    Add {
        sku: Sku,
        quantity: u32,
    },
    /// Sets the line's quantity; 0 removes it.
    Set {
        sku: Sku,
        quantity: u32,
    },
    Remove {
        sku: Sku,
    },
    /// Checkout's: the cart became `order_id`.
    MarkCheckedOut {
        order_id: i64,
    },
}

impl CartCommand {
    pub fn changes_cart(&self) -> bool {
        !matches!(self, CartCommand::Get | CartCommand::Snapshot)
    }

    /// Whether the answer re-prices the lines from the database first.
    pub fn reprices(&self) -> bool {
        matches!(
            self,
            CartCommand::Get | CartCommand::Add { .. } | CartCommand::Set { .. }
        )
    }

    /// Changes may be priced from `PriceCache`; a read of the cart always
    /// goes to the database (and refreshes the cache).
    pub fn may_use_cached_prices(&self) -> bool {
        matches!(self, CartCommand::Add { .. } | CartCommand::Set { .. })
    }

    /// The SKU whose stock and price this command needs beyond the cart's own lines.
    pub fn sku(&self) -> Option<&Sku> {
        match self {
            CartCommand::Add { sku, .. } | CartCommand::Set { sku, .. } => Some(sku),
            _ => None,
        }
    }
}

/// What the cart function and checkout send to a cart's Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartRequest {
    pub cart_id: CartId,
    pub command: CartCommand,
    /// The client's `If-Match`, checked against the version the object holds.
    pub if_match: Option<String>,
}

/// One SKU as the database knows it right now, for the cart's store.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedSku {
    pub sku: Sku,
    pub name: String,
    pub unit_price: Decimal,
    pub currency: String,
    /// on_hand - reserved, summed over the store's warehouses.
    pub available: u32,
}

impl Cart {
    pub fn new(id: CartId, store_id: i64, region: String, currency: String) -> Self {
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
        }
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

    /// The SKUs to price for an answer: every line, plus the one being added.
    pub fn skus_to_price(&self, cmd: &CartCommand) -> Vec<Sku> {
        let mut skus: Vec<Sku> = self.lines.iter().map(|l| l.sku.clone()).collect();
        if let Some(sku) = cmd.sku() {
            if !skus.contains(sku) {
                skus.push(sku.clone());
            }
        }
        skus
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
    /// hold the command's SKU if it has one (`skus_to_price`).
    pub fn apply(&mut self, cmd: &CartCommand, priced: &[PricedSku]) -> Result<(), ApiError> {
        if let (CartCommand::MarkCheckedOut { order_id }, Some(done)) = (cmd, self.order_id) {
            // Checkout may tell us twice (a retried checkout); the same order is no change.
            return if *order_id == done {
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
            CartCommand::Get | CartCommand::Snapshot | CartCommand::Create { .. } => return Ok(()),
            CartCommand::MarkCheckedOut { order_id } => {
                self.status = CartStatus::CheckedOut;
                self.order_id = Some(*order_id);
            }
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

    /// Reads back what `to_json` wrote (checkout reads carts this way from
    /// their object): the view holds every stored field under the same name,
    /// and the derived ones (totals, line totals) are ignored, never read.
    pub fn from_view(json: &str) -> Result<Cart, ApiError> {
        serde_json::from_str(json).map_err(|e| ApiError::internal(format!("unreadable cart: {e}")))
    }

    /// The cart as the API shows it; every amount a decimal string.
    pub fn to_json(&self, region: &Region) -> Value {
        let totals = self.totals(region);
        // The currency comes from the region config; "USD" only if a stored
        // cart somehow holds an invalid one (two decimals, as before).
        let currency = Currency::parse(&self.currency)
            .unwrap_or_else(|_| Currency::parse("USD").expect("constant"));
        let money = |d: Decimal| currency.format(d);
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

fn line_not_found(sku: &Sku) -> ApiError {
    ApiError::not_found("line_not_found", format!("the cart has no line for {sku}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// How long an add may use a price and stock count read by another request.
pub const PRICE_CACHE_TTL_MS: f64 = 2_000.0;
const PRICE_CACHE_MAX_ENTRIES: usize = 10_000;

/// Prices and stock counts read in the last `PRICE_CACHE_TTL_MS`, per store
/// and SKU. Why: every add needs its SKU's price and stock, and a popular SKU
/// is added to many carts each second; without this each add is a database
/// round trip. What it may cost: an add can see a price or a stock count up
/// to two seconds old. The catalog page the shopper clicked from is older
/// than that, a cart read (GET) always reads the database, and checkout
/// checks price and stock again on the primary under lock, so a stale answer
/// here can never sell what is not there or charge a price that is not current.
#[derive(Debug, Default)]
pub struct PriceCache {
    entries: HashMap<(i64, Sku), (PricedSku, f64)>,
}

impl PriceCache {
    /// The fresh answers for `skus` in `store_id`, and the SKUs to read.
    pub fn lookup(&self, store_id: i64, skus: &[Sku], now_ms: f64) -> (Vec<PricedSku>, Vec<Sku>) {
        let mut hits = Vec::new();
        let mut misses = Vec::new();
        for sku in skus {
            match self.entries.get(&(store_id, sku.clone())) {
                Some((priced, at)) if now_ms - at < PRICE_CACHE_TTL_MS => hits.push(priced.clone()),
                _ => misses.push(sku.clone()),
            }
        }
        (hits, misses)
    }

    pub fn remember(&mut self, store_id: i64, priced: &[PricedSku], now_ms: f64) {
        if self.entries.len() + priced.len() > PRICE_CACHE_MAX_ENTRIES {
            self.entries
                .retain(|_, (_, at)| now_ms - *at < PRICE_CACHE_TTL_MS);
            if self.entries.len() + priced.len() > PRICE_CACHE_MAX_ENTRIES {
                self.entries.clear();
            }
        }
        for p in priced {
            self.entries
                .insert((store_id, p.sku.clone()), (p.clone(), now_ms));
        }
    }
}

/// Current name, price and store availability of some SKUs: one statement.
/// Columns: sku, name, price, currency, available.
pub fn pricing(store_id: i64, skus: &[Sku]) -> Statement {
    let mut s = Statement::new();
    // SKUs are [A-Z0-9-] only (Sku::parse), so the array literal needs no quoting.
    let list = format!(
        "{{{}}}",
        skus.iter().map(Sku::as_str).collect::<Vec<_>>().join(",")
    );
    let skus_param = s.bind(list);
    let store = s.bind(store_id.to_string());
    s.push_sql(&format!(
        "SELECT v.sku, \
                p.name || coalesce(' (' || (SELECT string_agg(o.value, ', ' ORDER BY o.key) \
                                              FROM jsonb_each_text(v.options) o) || ')', ''), \
                v.price::text, v.currency::text, \
                coalesce((SELECT sum(il.on_hand - il.reserved) \
                            FROM inventory_levels il \
                            JOIN warehouses w ON w.id = il.warehouse_id \
                           WHERE il.variant_id = v.id AND w.store_id = {store}::bigint), 0)::text \
           FROM variants v JOIN products p ON p.id = v.product_id \
          WHERE v.sku = ANY ({skus_param}::text[])"
    ));
    s
}

/// Reads `pricing`'s rows.
pub fn priced_from_rows(rows: &[Vec<Option<String>>]) -> Result<Vec<PricedSku>, ApiError> {
    rows.iter()
        .map(|r| {
            let col = |i: usize| {
                r.get(i)
                    .and_then(|c| c.as_deref())
                    .ok_or_else(|| ApiError::internal("pricing row with a NULL column"))
            };
            Ok(PricedSku {
                sku: Sku::parse(col(0)?)?,
                name: col(1)?.to_string(),
                unit_price: col(2)?.parse().map_err(ApiError::internal)?,
                currency: col(3)?.to_string(),
                available: col(4)?.parse::<i64>().map_err(ApiError::internal)?.max(0) as u32,
            })
        })
        .collect()
}

/// The store a cart is opened for, with its region: one statement.
/// Columns: region_code (no row: no such store).
pub fn store_region(store_id: i64) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(store_id.to_string());
    s.push_sql(&format!(
        "SELECT region_code FROM stores WHERE id = {id}::bigint"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::{RegionCode, Regions};

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn priced(s: &str, price: &str, available: u32) -> PricedSku {
        PricedSku {
            sku: sku(s),
            name: format!("Item {s}"),
            unit_price: price.parse().unwrap(),
            currency: "USD".into(),
            available,
        }
    }

    fn cart() -> Cart {
        Cart::new(
            CartId::from_random([7; 16]),
            1,
            "US-CA".into(),
            "USD".into(),
        )
    }

    fn ca() -> &'static Region {
        Regions::builtin()
            .get(&RegionCode::parse("US-CA").unwrap())
            .unwrap()
    }

    #[test]
    fn ids_are_32_hex_digits_and_nothing_else_parses() {
        let id = CartId::from_random([0xab; 16]);
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(CartId::parse(id.as_str()).unwrap(), id);
        for bad in ["", "abc", &"A".repeat(32), &"g".repeat(32), &"a".repeat(33)] {
            assert_eq!(CartId::parse(bad).unwrap_err().status, 404);
        }
    }

    #[test]
    fn skus_follow_the_catalog_rule() {
        assert!(Sku::parse("P000123-2").is_ok());
        for bad in [
            "",
            "ab",
            "p000123-2",
            "-P1",
            "P 1",
            &"A".repeat(65),
            "P1;DROP",
        ] {
            assert_eq!(Sku::parse(bad).unwrap_err().code, "invalid_sku", "{bad}");
        }
    }

    #[test]
    fn quantities_are_whole_numbers_in_range() {
        assert_eq!(parse_quantity(Some(&json!(1)), false), Ok(1));
        assert_eq!(parse_quantity(Some(&json!(99)), false), Ok(99));
        assert_eq!(parse_quantity(Some(&json!(0)), true), Ok(0));
        for bad in [
            json!(0),
            json!(100),
            json!(-1),
            json!(2.5),
            json!("2"),
            json!(1e12),
        ] {
            assert_eq!(
                parse_quantity(Some(&bad), false).unwrap_err().code,
                "invalid_quantity",
                "{bad}"
            );
        }
        assert!(parse_quantity(None, false).is_err());
    }

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
        c.apply(&CartCommand::MarkCheckedOut { order_id: 9 }, &p)
            .unwrap();
        let version = c.version;
        c.apply(&CartCommand::MarkCheckedOut { order_id: 9 }, &p)
            .unwrap();
        assert_eq!(c.version, version, "telling it twice changes nothing");
        assert_eq!(
            c.apply(&CartCommand::MarkCheckedOut { order_id: 10 }, &p)
                .unwrap_err()
                .code,
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
    fn if_match_names_the_current_version() {
        let c = cart();
        assert!(c.check_if_match(None).is_ok());
        assert!(c.check_if_match(Some("\"1\"")).is_ok());
        assert!(c.check_if_match(Some("W/\"1\"")).is_ok());
        assert!(c.check_if_match(Some("*")).is_ok());
        assert_eq!(c.check_if_match(Some("\"0\"")).unwrap_err().status, 412);
    }

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
        let stored = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Cart>(&stored).unwrap(), c);
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

    #[test]
    fn the_price_cache_answers_per_store_for_two_seconds() {
        let mut cache = PriceCache::default();
        cache.remember(1, &[priced("A-1", "1.00", 5)], 1_000.0);
        let (hits, misses) = cache.lookup(1, &[sku("A-1"), sku("B-1")], 2_999.0);
        assert_eq!(hits, vec![priced("A-1", "1.00", 5)]);
        assert_eq!(misses, vec![sku("B-1")]);
        assert_eq!(
            cache.lookup(2, &[sku("A-1")], 1_500.0).1,
            vec![sku("A-1")],
            "other store"
        );
        assert_eq!(
            cache.lookup(1, &[sku("A-1")], 3_000.0).1,
            vec![sku("A-1")],
            "expired"
        );
        cache.remember(1, &[priced("A-1", "2.00", 4)], 3_000.0);
        assert_eq!(
            cache.lookup(1, &[sku("A-1")], 3_001.0).0[0].unit_price,
            "2.00".parse().unwrap()
        );
    }

    #[test]
    fn the_price_cache_stays_bounded() {
        let mut cache = PriceCache::default();
        let batch: Vec<PricedSku> = (0..1000)
            .map(|i| priced(&format!("S-{i}"), "1.00", 1))
            .collect();
        for store in 0..20 {
            cache.remember(store, &batch, 0.0);
            assert!(cache.entries.len() <= PRICE_CACHE_MAX_ENTRIES);
        }
        cache.remember(99, &batch[..1], 5_000.0);
        assert_eq!(cache.entries.len(), 1, "stale entries go first");
    }

    #[test]
    fn only_changes_may_use_cached_prices() {
        assert!(CartCommand::Add {
            sku: sku("A-1"),
            quantity: 1
        }
        .may_use_cached_prices());
        assert!(!CartCommand::Get.may_use_cached_prices());
    }

    #[test]
    fn pricing_is_one_statement_with_bound_parameters() {
        let s = pricing(2, &[sku("A-1"), sku("B-2")]);
        assert_eq!(s.params, vec![Some("{A-1,B-2}".into()), Some("2".into())]);
        assert!(!s.sql.contains("A-1"));
    }
}

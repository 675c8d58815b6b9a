//! Prices and stock of SKUs as the database has them, and the two-second
//! cache an add may use.

use std::collections::HashMap;

use platform::money::Currency;
use platform::{ApiError, FromRow, Row};
use rust_decimal::Decimal;

use crate::Sku;

/// One SKU as the database knows it right now, for the cart's store.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedSku {
    pub sku: Sku,
    pub name: String,
    pub unit_price: Decimal,
    pub currency: Currency,
    /// on_hand - reserved, summed over the store's warehouses.
    pub available: u32,
}

impl FromRow for PricedSku {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(PricedSku {
            sku: row.get("sku")?,
            name: row.get("name")?,
            unit_price: row.get("price")?,
            currency: row.get("currency")?,
            available: row.get::<i64>("available")?.clamp(0, i64::from(u32::MAX)) as u32,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

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
}

//! The cart's SQL: one statement per use, rows read by column name.

use platform::{ApiError, FromRow, Row, Statement};

use crate::Sku;

/// Current name, price and store availability of some SKUs: one statement,
/// read into `PricedSku`. Availability is `store_sellable_stock`
/// (shared/catalog/sql/sellable_stock.sql), the one definition.
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
                                              FROM jsonb_each_text(v.options) o) || ')', '') AS name, \
                v.price::text AS price, v.currency::text AS currency, \
                coalesce((SELECT sum(st.available) FROM store_sellable_stock({store}::bigint) st \
                           WHERE st.variant_id = v.id), 0)::text AS available \
           FROM variants v JOIN products p ON p.id = v.product_id \
          WHERE v.sku = ANY ({skus_param}::text[])"
    ));
    s
}

/// The region a store sells in; no row when there is no such store.
pub fn store_region(store_id: i64) -> Statement {
    let mut s = Statement::new();
    let id = s.bind(store_id.to_string());
    s.push_sql(&format!(
        "SELECT region_code FROM stores WHERE id = {id}::bigint"
    ));
    s
}

/// `store_region`'s row.
pub struct StoreRegion {
    pub region_code: String,
}

impl FromRow for StoreRegion {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(StoreRegion {
            region_code: row.get("region_code")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn pricing_is_one_statement_with_bound_parameters() {
        let s = pricing(2, &[sku("A-1"), sku("B-2")]);
        assert_eq!(s.params, vec![Some("{A-1,B-2}".into()), Some("2".into())]);
        assert!(!s.sql.contains("A-1"));
    }
}

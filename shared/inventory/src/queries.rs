//! The SQL of the inventory routes: one statement each. The stored function
//! and the trigger live in `../sql/` and are replaced on every
//! `scripts/db migrate`.

use platform::Statement;

use crate::adjustment::AdjustmentBatch;
use crate::ids::Sku;

/// `POST /admin/inventory/adjustments`: the whole batch in one statement,
/// one transaction (`apply_inventory_adjustments`, on the primary). One row;
/// read it as an `AdjustmentOutcome`.
pub fn apply_adjustments(batch: &AdjustmentBatch) -> Statement {
    let mut s = Statement::new();
    let p = s.bind(batch.to_sql_input().to_string());
    s.push_sql(&format!(
        "SELECT apply_inventory_adjustments({p}::jsonb)::text AS outcome"
    ));
    s
}

/// `GET /admin/inventory?sku=`: no row when no variant has the SKU, else
/// one row, one column (`levels`), the answer's JSON:
/// `{"sku", "warehouses": [{"warehouse", "on_hand", "reserved", "available",
/// "threshold", "threshold_source", "low_stock", "low_stock_alerted"}]}`,
/// warehouses by code; `[]` for a SKU stocked nowhere. Available is on hand
/// minus reserved, as `sellable_stock` defines it; the threshold is the
/// row's own, else `stock_settings`' default (null, and `low_stock` false,
/// only if that table has lost its row); `low_stock` is available below it.
/// For the replica (`Db::read`).
pub fn levels(sku: &Sku) -> Statement {
    let mut s = Statement::new();
    let sku = s.bind(sku.as_str());
    s.push_sql(&format!(
        "SELECT json_build_object('sku', v.sku, 'warehouses', COALESCE((
                  SELECT json_agg(json_build_object(
                           'warehouse', w.code,
                           'on_hand', il.on_hand,
                           'reserved', il.reserved,
                           'available', il.on_hand - il.reserved,
                           'threshold', t.threshold,
                           'threshold_source', CASE WHEN il.low_stock_threshold IS NULL
                                                    THEN 'default' ELSE 'own' END,
                           'low_stock', COALESCE(il.on_hand - il.reserved < t.threshold, false),
                           'low_stock_alerted', il.low_stock_alerted) ORDER BY w.code)
                    FROM inventory_levels il
                    JOIN warehouses w ON w.id = il.warehouse_id
                   CROSS JOIN LATERAL (
                         SELECT COALESCE(il.low_stock_threshold,
                                         (SELECT default_low_stock_threshold FROM stock_settings)) AS threshold) t
                   WHERE il.variant_id = v.id), '[]'))::text AS levels
           FROM variants v
          WHERE v.sku = {sku}"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_batch_travels_as_one_bound_jsonb_parameter() {
        let batch = AdjustmentBatch::parse(
            json!({"adjustments": [{"sku": "ABC-1", "warehouse": "w1", "delta": 2,
                                    "reason": "r'); DROP TABLE x; --", "external_ref": "e1"}]})
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let s = apply_adjustments(&batch);
        assert_eq!(
            s.sql,
            "SELECT apply_inventory_adjustments($1::jsonb)::text AS outcome"
        );
        let sent: serde_json::Value =
            serde_json::from_str(s.params[0].as_deref().unwrap()).unwrap();
        assert_eq!(sent, batch.to_sql_input());
        assert!(!s.sql.contains("DROP"));
    }

    #[test]
    fn levels_binds_the_sku() {
        let s = levels(&Sku::parse("P000123-2").unwrap());
        assert_eq!(s.params, vec![Some("P000123-2".to_string())]);
        assert!(s.sql.contains("WHERE v.sku = $1"), "{}", s.sql);
    }
}

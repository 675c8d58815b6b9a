-- "Available in this store", defined once: the units each warehouse of a
-- store can still sell (on hand minus reserved), per variant and warehouse.
-- With store NULL, every warehouse counts (the catalog without ?store=).
--
-- Used by the catalog (availability, in_stock), the cart (pricing) and
-- checkout (place_order). A LANGUAGE sql, STABLE, single-SELECT function is
-- inlined by the planner into the calling query like a view, so it costs
-- nothing over writing the join out; with a NULL store the planner drops the
-- warehouse filter entirely.
--
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE).
CREATE OR REPLACE FUNCTION sellable_stock(store bigint)
RETURNS TABLE (variant_id bigint, warehouse_id bigint, available int)
LANGUAGE sql STABLE AS $$
    SELECT il.variant_id, il.warehouse_id, il.on_hand - il.reserved
      FROM inventory_levels il
     WHERE store IS NULL
        OR il.warehouse_id IN (SELECT w.id FROM warehouses w WHERE w.store_id = store)
$$;

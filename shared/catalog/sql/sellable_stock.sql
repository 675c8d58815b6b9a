-- "Available", defined once. Used by the catalog (availability, in_stock),
-- the cart (pricing) and checkout (place_order, under its row locks).
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE: a change that
-- renames or retypes a column needs a DROP first).

-- What can be sold: on hand minus reserved, per variant and warehouse. A view
-- is stored parsed, so using it costs the planner next to nothing (measured:
-- within 5 µs of writing the expression out; docs/figures.md).
CREATE OR REPLACE VIEW sellable_stock AS
SELECT il.variant_id, il.warehouse_id, il.on_hand - il.reserved AS available
  FROM inventory_levels il;

-- What one store can sell: sellable_stock over the store's warehouses. The
-- planner inlines this LANGUAGE sql STABLE function into the calling query.
-- `= ANY (ARRAY(...))` looks the store's few warehouses up once per statement
-- and filters by them; a join or IN (...) lets the planner pick a join order
-- that was 4x slower for the catalog's in_stock filter (docs/figures.md).
CREATE OR REPLACE FUNCTION store_sellable_stock(store bigint)
RETURNS TABLE (variant_id bigint, warehouse_id bigint, available int)
LANGUAGE sql STABLE AS $$
    SELECT s.variant_id, s.warehouse_id, s.available
      FROM sellable_stock s
     WHERE s.warehouse_id = ANY (ARRAY(SELECT w.id FROM warehouses w WHERE w.store_id = store))
$$;

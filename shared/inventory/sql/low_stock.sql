-- Low-stock alerts: one message per crossing (docs/inventory.md).
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE FUNCTION, then
-- DROP TRIGGER IF EXISTS + CREATE TRIGGER). The columns are
-- inventory_levels.low_stock_threshold / low_stock_alerted and the table
-- stock_settings (migrations/0007_orders.sql, section 5); the message goes
-- through the outbox (shared/orders/sql/outbox.sql) to the alerts queue, in
-- the shape of `orders::outbox::AlertMessage::LowStock`:
--   {"kind": "low_stock", "sku", "warehouse" (its code), "available", "threshold"}
-- (outbox_enqueue adds "outbox_id").
--
-- Available is on hand minus reserved (as `sellable_stock` defines it); the
-- threshold is the row's own, else stock_settings.default_low_stock_threshold.
-- `low_stock_alerted` is a latch:
--   * available < threshold and the latch is open: close it and enqueue the
--     alert (the crossing);
--   * available < threshold and the latch is closed: nothing (still low,
--     already said);
--   * available >= threshold: open it again (re-armed; the next crossing
--     alerts again).
-- It runs on every UPDATE of on_hand or reserved, whoever makes it: a
-- checkout reserving (reserved up), an order paid (on_hand and reserved
-- both down: available unchanged, so no alert), a late payment taking stock
-- (on_hand down), a reservation released, expired or cancelled (reserved
-- down: may re-arm), stock put back, an adjustment.
-- An INSERT does not run it: a new row starts with the latch open, and its
-- first update decides.
--
-- Why exactly one alert per crossing, even with 20 checkouts at once: an
-- UPDATE takes the row's lock before its BEFORE ROW trigger runs, and in
-- READ COMMITTED an UPDATE that had to wait for the lock re-reads the row as
-- the transaction that held it committed it (checkout locks the rows FOR
-- UPDATE first anyway). So OLD is the latest committed version of the row,
-- read under its lock: the updates of one row run one at a time, and each
-- sees the latch as the one before it left it. The first update that takes
-- available below the threshold finds the latch open, closes it and
-- enqueues; every later one finds it closed. A transaction that rolls back
-- takes its latch change and its outbox row with it (they are one write).
CREATE OR REPLACE FUNCTION stock_levels_low_stock() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    available int := NEW.on_hand - NEW.reserved;
    threshold int := COALESCE(NEW.low_stock_threshold,
                              (SELECT s.default_low_stock_threshold FROM stock_settings s));
BEGIN
    IF threshold IS NULL THEN
        -- No settings row (the migration inserts it): no opinion on stock.
        RETURN NEW;
    END IF;
    IF available < threshold THEN
        IF NOT OLD.low_stock_alerted THEN
            NEW.low_stock_alerted := true;
            PERFORM outbox_enqueue('alerts', jsonb_build_object(
                'kind', 'low_stock',
                'sku', (SELECT v.sku FROM variants v WHERE v.id = NEW.variant_id),
                'warehouse', (SELECT w.code FROM warehouses w WHERE w.id = NEW.warehouse_id),
                'available', available,
                'threshold', threshold));
        END IF;
    ELSIF OLD.low_stock_alerted THEN
        NEW.low_stock_alerted := false;
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS stock_levels_low_stock ON inventory_levels;
CREATE TRIGGER stock_levels_low_stock
    BEFORE UPDATE OF on_hand, reserved ON inventory_levels
    FOR EACH ROW EXECUTE FUNCTION stock_levels_low_stock();

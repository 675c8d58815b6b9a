-- Back-in-stock notices (docs/customers.md, "Wishlist"). Applied on every
-- `scripts/db migrate`.
--
-- A SKU is back in stock when its available stock (on hand minus reserved,
-- summed over every warehouse) goes from none to some. The trigger runs on
-- the row whose update does that, whoever makes it: an adjustment or POS
-- sync, stock put back by a cancel, a reservation released or expired. For
-- each wishlist row of the SKU it stamps notified_at and queues one message
-- through the outbox to the alerts queue, in the shape of
-- `orders::outbox::AlertMessage::BackInStock`:
--   {"kind": "back_in_stock", "customer_id", "sku"} (+ "outbox_id")
-- The alerts consumer emails the shopper. So a shopper hears once per
-- restock: nothing while the SKU stays in stock, again after it sold out and
-- came back.
--
-- The WHEN clause keeps the cost off checkout's path: a reservation only
-- lowers availability, so the function never runs for it. Two warehouses
-- restocked at the same moment in two transactions each see the other still
-- empty and may both notify: the consumer deduplicates on the outbox id
-- only, so the shopper can get two mails then (rare; accepted).
CREATE OR REPLACE FUNCTION stock_levels_back_in_stock() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    restocked text;
    w         record;
BEGIN
    IF EXISTS (SELECT 1 FROM inventory_levels il
                WHERE il.variant_id = NEW.variant_id AND il.warehouse_id <> NEW.warehouse_id
                  AND il.on_hand - il.reserved > 0) THEN
        RETURN NULL; -- it was in stock elsewhere already
    END IF;
    SELECT v.sku INTO restocked FROM variants v WHERE v.id = NEW.variant_id;
    FOR w IN UPDATE wishlist_items SET notified_at = now()
              WHERE sku = restocked
          RETURNING customer_id
    LOOP
        PERFORM outbox_enqueue('alerts', jsonb_build_object(
            'kind', 'back_in_stock', 'customer_id', w.customer_id, 'sku', restocked));
    END LOOP;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS stock_levels_back_in_stock ON inventory_levels;
CREATE TRIGGER stock_levels_back_in_stock
    AFTER UPDATE OF on_hand, reserved ON inventory_levels
    FOR EACH ROW
    WHEN (OLD.on_hand - OLD.reserved <= 0 AND NEW.on_hand - NEW.reserved > 0)
    EXECUTE FUNCTION stock_levels_back_in_stock();

-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); first defined in
-- migrations/0003_checkout.sql, which stays as it was.
-- The scheduled job (checkout's cron): give back the stock of reservations
-- whose time ran out and cancel their orders if still unpaid. Returns how
-- many reservations it released.
--
-- Lock order, as in every path that touches orders and stock (checkout,
-- payment events, refunds): the order rows first (id order), then inventory
-- rows in (variant_id, warehouse_id) order. Orders another transaction holds
-- (a payment being applied right now, another run) are skipped and seen on
-- the next run. `batch` bounds the orders per statement.
CREATE OR REPLACE FUNCTION release_expired_reservations(batch int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    due_orders bigint[];
    expired    bigint[];
BEGIN
    -- The limit applies after the skip (LockRows runs below Limit), so a
    -- run always gets past orders another run holds; the subquery uses the
    -- partial index reservations_held_expiry.
    SELECT coalesce(array_agg(id), '{}') INTO due_orders
      FROM (SELECT o.id FROM orders o
             WHERE o.id IN (SELECT order_id FROM reservations
                             WHERE status = 'held' AND expires_at <= now())
             ORDER BY o.id
             LIMIT batch
               FOR UPDATE SKIP LOCKED) due;
    IF cardinality(due_orders) = 0 THEN
        RETURN 0;
    END IF;

    SELECT coalesce(array_agg(id), '{}') INTO expired
      FROM reservations
     WHERE order_id = ANY (due_orders) AND status = 'held' AND expires_at <= now();

    PERFORM 1 FROM inventory_levels il
     WHERE (il.variant_id, il.warehouse_id) IN
           (SELECT variant_id, warehouse_id FROM reservations WHERE id = ANY (expired))
     ORDER BY il.variant_id, il.warehouse_id
       FOR UPDATE;

    UPDATE inventory_levels il
       SET reserved = il.reserved - e.quantity
      FROM (SELECT variant_id, warehouse_id, sum(quantity)::int AS quantity
              FROM reservations WHERE id = ANY (expired) GROUP BY 1, 2) e
     WHERE il.variant_id = e.variant_id AND il.warehouse_id = e.warehouse_id;

    UPDATE reservations SET status = 'released', released_at = now()
     WHERE id = ANY (expired);

    WITH cancelled AS (
        UPDATE orders o SET status = 'cancelled', updated_at = now()
         WHERE o.id = ANY (due_orders) AND o.status = 'pending_payment'
     RETURNING o.id
    )
    INSERT INTO order_events (order_id, from_status, to_status, cause)
    SELECT id, 'pending_payment', 'cancelled', 'reservation_expired' FROM cancelled;

    RETURN cardinality(expired);
END $$;

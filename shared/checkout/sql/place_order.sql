-- The checkout write: one statement, one transaction, one round trip.
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); first defined in
-- migrations/0003_checkout.sql, which stays as it was.
--
-- Input: `PlaceOrderInput` (shared/checkout/src/place_order.rs) as jsonb:
--   {idempotency_key, fingerprint, store_id, email, shipping_address,
--    age: {minimum_age, verified_at} | null, reservation_minutes,
--    order: {cart_id, region, currency, lines: [{line_no, sku, name, quantity,
--            unit_price, line_total}], totals: {subtotal, tax, total},
--            delivery: {window_start, window_end, rescheduled}, age_verification}}
-- Output: `PlaceOrderOutcome`, data only; Rust builds the HTTP answer:
--   {"placed": {"order_id", "reservation_expires_at", "summary"}}
--   {"replayed": {"status", "stored": <what "placed" stored>}}
--   {"refused": {"code", "details": {"message", ...}}}
--
-- Everything happens in one transaction. A refusal raises SQLSTATE 'ES001'
-- (ours: "refused, roll back"), which rolls back every write of the block
-- and is returned as data.
-- Concurrency:
--   * the same idempotency key: the second INSERT waits on the key's unique
--     index until the first transaction ends, then replays its record;
--   * the same stock: inventory rows are locked (FOR UPDATE) in one global
--     order, variant then warehouse, so two checkouts never deadlock, and the
--     availability read after the lock is the truth until commit. No advisory
--     locks (Hyperdrive pools in transaction mode).
-- Stock is `store_sellable_stock(store)` (shared/catalog/sql/sellable_stock.sql).
CREATE OR REPLACE FUNCTION place_order(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    store        bigint := (p->>'store_id')::bigint;
    o            jsonb := p->'order';
    expires      timestamptz := date_trunc('second', now())
                                + make_interval(mins => (p->>'reservation_minutes')::int);
    stored       idempotency_keys%ROWTYPE;
    new_order    bigint;
    bad          record;
    pick         bigint;
    line         record;
    stock        record;
    remaining    int;
    take         int;
    placed       jsonb;
    err_detail   text;
BEGIN
    BEGIN
        -- 1. Claim the idempotency key, or replay what it already produced.
        INSERT INTO idempotency_keys (scope, key, fingerprint, status, response)
        VALUES ('checkout', p->>'idempotency_key', p->>'fingerprint', 0, '{}')
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO stored FROM idempotency_keys
             WHERE scope = 'checkout' AND key = p->>'idempotency_key';
            IF stored.fingerprint <> p->>'fingerprint' THEN
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'idempotency_key_reused',
                    DETAIL = '{"message": "this Idempotency-Key was used with a different request body"}';
            END IF;
            RETURN jsonb_build_object('replayed', jsonb_build_object(
                'status', stored.status, 'stored', stored.response));
        END IF;

        -- 2. Every line must still exist at the price the shopper was shown.
        SELECT l.sku, v.id AS variant_id, v.price, v.currency, l.unit_price INTO bad
          FROM jsonb_to_recordset(o->'lines') AS l(sku text, unit_price numeric)
          LEFT JOIN variants v ON v.sku = l.sku
         WHERE v.id IS NULL OR v.price <> l.unit_price OR v.currency <> o->>'currency'
         LIMIT 1;
        IF FOUND AND bad.variant_id IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'sku_unavailable',
                DETAIL = jsonb_build_object('message', format('%s is no longer sold', bad.sku),
                                            'sku', bad.sku)::text;
        ELSIF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'price_changed',
                DETAIL = jsonb_build_object(
                    'message', format('the price of %s changed from %s to %s; review the cart',
                                      bad.sku, bad.unit_price, bad.price),
                    'sku', bad.sku, 'price', bad.price::text)::text;
        END IF;

        -- 3. The order and its lines. orders.cart_id is unique: a cart that
        --    already became an order fails here (unique_violation below).
        INSERT INTO orders (store_id, status, currency, total, email, cart_id, region_code,
                            subtotal, tax, shipping_address, delivery_window_start,
                            delivery_window_end, age_verified_at, age_minimum,
                            reservation_expires_at)
        VALUES (store, 'pending_payment', o->>'currency', (o#>>'{totals,total}')::numeric,
                p->>'email', o->>'cart_id', o->>'region', (o#>>'{totals,subtotal}')::numeric,
                (o#>>'{totals,tax}')::numeric, p->'shipping_address',
                (o#>>'{delivery,window_start}')::timestamptz,
                (o#>>'{delivery,window_end}')::timestamptz,
                (p#>>'{age,verified_at}')::timestamptz, (p#>>'{age,minimum_age}')::smallint,
                expires)
        RETURNING id INTO new_order;

        INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, quantity,
                                 unit_price, line_total)
        SELECT new_order, l.line_no, v.id, v.sku, l.name, l.quantity, l.unit_price, l.line_total
          FROM jsonb_to_recordset(o->'lines')
               AS l(line_no int, sku text, name text, quantity int, unit_price numeric, line_total numeric)
          JOIN variants v ON v.sku = l.sku;

        INSERT INTO order_status_history (order_id, from_status, to_status, reason)
        VALUES (new_order, NULL, 'pending_payment', 'checkout');

        -- 4. Lock the store's stock of every line, in the global lock order.
        PERFORM 1
           FROM inventory_levels il
          WHERE (il.variant_id, il.warehouse_id) IN
                (SELECT st.variant_id, st.warehouse_id
                   FROM store_sellable_stock(store) st
                   JOIN order_lines ol ON ol.variant_id = st.variant_id AND ol.order_id = new_order)
          ORDER BY il.variant_id, il.warehouse_id
            FOR UPDATE;

        -- 5. Whole lines first, from as few warehouses as possible: repeatedly
        --    take the warehouse that can fill the most still-open lines entirely
        --    (ties: more stock, then the lower id) and reserve those lines there.
        LOOP
            SELECT st.warehouse_id INTO pick
              FROM order_lines ol
              JOIN store_sellable_stock(store) st ON st.variant_id = ol.variant_id
             WHERE ol.order_id = new_order
               AND st.available >= ol.quantity
               AND NOT EXISTS (SELECT 1 FROM reservations r
                                WHERE r.order_id = new_order AND r.variant_id = ol.variant_id)
             GROUP BY st.warehouse_id
             ORDER BY count(*) DESC, sum(st.available) DESC, st.warehouse_id
             LIMIT 1;
            EXIT WHEN NOT FOUND;

            WITH fillable AS (
                SELECT ol.variant_id, ol.quantity
                  FROM order_lines ol
                  JOIN store_sellable_stock(store) st
                    ON st.variant_id = ol.variant_id AND st.warehouse_id = pick
                 WHERE ol.order_id = new_order
                   AND st.available >= ol.quantity
                   AND NOT EXISTS (SELECT 1 FROM reservations r
                                    WHERE r.order_id = new_order AND r.variant_id = ol.variant_id)
            ), held AS (
                UPDATE inventory_levels il
                   SET reserved = il.reserved + f.quantity
                  FROM fillable f
                 WHERE il.variant_id = f.variant_id AND il.warehouse_id = pick
             RETURNING il.variant_id, f.quantity
            )
            INSERT INTO reservations (order_id, variant_id, warehouse_id, quantity, expires_at)
            SELECT new_order, variant_id, pick, quantity, expires FROM held;
        END LOOP;

        -- 6. A line no single warehouse can fill is split: warehouses this
        --    order already uses first, then the ones with the most stock.
        FOR line IN
            SELECT ol.variant_id, ol.sku, ol.quantity
              FROM order_lines ol
             WHERE ol.order_id = new_order
               AND NOT EXISTS (SELECT 1 FROM reservations r
                                WHERE r.order_id = new_order AND r.variant_id = ol.variant_id)
             ORDER BY ol.variant_id
        LOOP
            remaining := line.quantity;
            FOR stock IN
                SELECT st.warehouse_id, st.available
                  FROM store_sellable_stock(store) st
                 WHERE st.variant_id = line.variant_id AND st.available > 0
                 ORDER BY EXISTS (SELECT 1 FROM reservations r
                                   WHERE r.order_id = new_order AND r.warehouse_id = st.warehouse_id) DESC,
                          st.available DESC, st.warehouse_id
            LOOP
                take := least(remaining, stock.available);
                UPDATE inventory_levels SET reserved = reserved + take
                 WHERE variant_id = line.variant_id AND warehouse_id = stock.warehouse_id;
                INSERT INTO reservations (order_id, variant_id, warehouse_id, quantity, expires_at)
                VALUES (new_order, line.variant_id, stock.warehouse_id, take, expires);
                remaining := remaining - take;
                EXIT WHEN remaining = 0;
            END LOOP;
            IF remaining > 0 THEN
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'out_of_stock',
                    DETAIL = jsonb_build_object(
                        'message', format('only %s of %s are available', line.quantity - remaining, line.sku),
                        'sku', line.sku, 'available', line.quantity - remaining)::text;
            END IF;
        END LOOP;

        -- 7. The record a retry with this key gets back (`PlacedOrder`).
        placed := jsonb_build_object(
            'order_id', new_order,
            'reservation_expires_at', to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'summary', o);
        UPDATE idempotency_keys SET status = 201, response = placed
         WHERE scope = 'checkout' AND key = p->>'idempotency_key';
        RETURN jsonb_build_object('placed', placed);
    EXCEPTION
        WHEN SQLSTATE 'ES001' THEN
            GET STACKED DIAGNOSTICS err_detail = PG_EXCEPTION_DETAIL;
            RETURN jsonb_build_object('refused', jsonb_build_object(
                'code', SQLERRM, 'details', err_detail::jsonb));
        WHEN unique_violation THEN
            RETURN jsonb_build_object('refused', jsonb_build_object(
                'code', 'cart_already_checked_out',
                'details', jsonb_build_object('message', 'this cart has already been checked out')));
    END;
END $$;

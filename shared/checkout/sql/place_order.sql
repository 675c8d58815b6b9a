-- The checkout write: one statement, one transaction, one round trip.
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); first defined in
-- migrations/0003_checkout.sql, which stays as it was.
--
-- Input: `PlaceOrderInput` (shared/checkout/src/place_order.rs) as jsonb:
--   {idempotency_key, fingerprint, legacy_fingerprint, client_ip_hash | null,
--    max_pending_orders_per_email, max_pending_orders_per_client,
--    tax_rate, minor_digits, store_id, email, shipping_address,
--    age: {minimum_age, verified_at} | null, reservation_minutes,
--    customer: {public_id, redeem_points, points_discount, points_to_earn} | null,
--    order: {cart_id, region, currency, lines: [{line_no, sku, name, quantity,
--            unit_price, line_total}], totals: {subtotal, tax, points_discount, total},
--            delivery: {window_start, window_end, rescheduled}, age_verification}}
-- Output: `PlaceOrderOutcome`, data only; Rust builds the HTTP answer:
--   {"placed": {"order_id", "public_id", "reservation_expires_at", "summary"}}
--   {"replayed": {"status", "stored": <what "placed" stored>}}
--   {"refused": {"code", "details": {"message", ...}}}
--
-- Everything happens in one transaction. A refusal raises SQLSTATE 'ES001'
-- (ours: "refused, roll back"), which rolls back every write of the block
-- and is returned as data.
-- Concurrency:
--   * the same idempotency key on the same cart: the second INSERT waits on
--     the key's unique index until the first transaction ends, then replays
--     its record;
--   * the same stock: inventory rows are locked (FOR UPDATE) in one global
--     order, variant then warehouse, so two checkouts never deadlock, and the
--     availability read after the lock is the truth until commit. No advisory
--     locks (Hyperdrive pools in transaction mode). Variant rows are read
--     under FOR SHARE (id order), so a price cannot change between the check
--     and the commit;
--   * the pending-order caps are counts of committed orders: checkouts that
--     run at the same moment for one email (or client) each see the others'
--     orders as not yet there, so N simultaneous ones may all pass and the cap
--     can be exceeded by up to N-1 (each needs its own cart). Making it exact
--     would need a locked counter row per email and client, written by every
--     checkout and by the expiry job: not worth it for a cap against hoarding.
-- Stock is `store_sellable_stock(store)` (shared/catalog/sql/sellable_stock.sql).
CREATE OR REPLACE FUNCTION place_order(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    store        bigint := (p->>'store_id')::bigint;
    o            jsonb := p->'order';
    cart         text := p#>>'{order,cart_id}';
    rate         numeric := (p->>'tax_rate')::numeric;
    digits       int := (p->>'minor_digits')::int;
    subtotal     numeric := (p#>>'{order,totals,subtotal}')::numeric;
    tax          numeric := (p#>>'{order,totals,tax}')::numeric;
    total        numeric := (p#>>'{order,totals,total}')::numeric;
    -- A signed-in shopper's checkout (else all NULL / 0: a guest's).
    redeem       int := COALESCE((p#>>'{customer,redeem_points}')::int, 0);
    discount     numeric := COALESCE((p#>>'{order,totals,points_discount}')::numeric, 0);
    cust         bigint;
    balance      int;
    lines_sum    numeric;
    new_public   text;
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
        -- 0. The amounts Rust computed must add up: each line is quantity x
        --    unit price, the subtotal their sum, the tax the subtotal x the
        --    rate rounded half up to the currency's minor unit (round() on a
        --    non-negative numeric), the total subtotal + tax. Otherwise it is
        --    our bug: refused (Rust answers 500 and logs it), nothing written.
        SELECT l.line_no, l.quantity, l.unit_price, l.line_total INTO bad
          FROM jsonb_to_recordset(o->'lines')
               AS l(line_no int, quantity int, unit_price numeric, line_total numeric)
         WHERE l.line_total IS DISTINCT FROM l.quantity * l.unit_price
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'totals_mismatch',
                DETAIL = jsonb_build_object('message', 'a line total is not quantity x unit price',
                                            'line_no', bad.line_no)::text;
        END IF;
        SELECT sum(l.line_total) INTO lines_sum
          FROM jsonb_to_recordset(o->'lines') AS l(line_total numeric);
        IF subtotal IS DISTINCT FROM lines_sum
           OR rate IS NULL OR digits IS NULL
           OR tax IS DISTINCT FROM round(subtotal * rate, digits)
           OR discount IS DISTINCT FROM COALESCE((p#>>'{customer,points_discount}')::numeric, 0)
           OR total IS DISTINCT FROM subtotal + tax - discount OR total < 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'totals_mismatch',
                DETAIL = jsonb_build_object(
                    'message', 'the totals do not add up',
                    'subtotal', subtotal, 'lines', lines_sum, 'tax', tax,
                    'expected_tax', round(subtotal * rate, digits), 'total', total)::text;
        END IF;
        IF p->'customer' IS NOT NULL AND jsonb_typeof(p->'customer') = 'object' THEN
            SELECT c.id INTO cust FROM customers c
             WHERE c.public_id = p#>>'{customer,public_id}' AND c.deleted_at IS NULL;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'unauthenticated',
                    DETAIL = '{"message": "the signed-in account no longer exists"}';
            END IF;
        END IF;

        -- 1. Claim the idempotency key (scoped to the cart: the same key on
        --    two carts is two checkouts), or replay what it already produced.
        --    Keys stored before migration 0005 have the legacy fingerprint.
        INSERT INTO idempotency_keys (scope, cart_id, key, fingerprint, status, response)
        VALUES ('checkout', cart, p->>'idempotency_key', p->>'fingerprint', 0, '{}')
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO stored FROM idempotency_keys
             WHERE scope = 'checkout' AND cart_id = cart AND key = p->>'idempotency_key';
            IF NOT FOUND THEN
                -- The key expired (24 h) between the two statements: as for
                -- any retry after that, the cart is checked out.
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'cart_already_checked_out',
                    DETAIL = '{"message": "this cart has already been checked out"}';
            END IF;
            IF stored.fingerprint IS DISTINCT FROM p->>'fingerprint'
               AND stored.fingerprint IS DISTINCT FROM p->>'legacy_fingerprint' THEN
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'idempotency_key_reused',
                    DETAIL = '{"message": "this Idempotency-Key was used with a different request body"}';
            END IF;
            RETURN jsonb_build_object('replayed', jsonb_build_object(
                'status', stored.status, 'stored', checkout_record(stored.response)));
        END IF;

        -- 2. Caps against holding stock hostage: unpaid orders whose
        --    reservation still runs, per email (case-insensitive) and per
        --    client address (hashed). Partial indexes orders_pending_email /
        --    orders_pending_client (migration 0005); each count stops at the cap.
        IF (SELECT count(*) FROM (
                SELECT 1 FROM orders
                 WHERE status = 'pending_payment' AND lower(email) = lower(p->>'email')
                   AND reservation_expires_at > now()
                 LIMIT (p->>'max_pending_orders_per_email')::int) n)
           >= (p->>'max_pending_orders_per_email')::int THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'too_many_pending_orders',
                DETAIL = jsonb_build_object(
                    'message', format('this email already has %s unpaid orders holding stock; pay or wait for one to expire',
                                      p->>'max_pending_orders_per_email'),
                    'limit', 'email',
                    'max_pending_orders', (p->>'max_pending_orders_per_email')::int)::text;
        END IF;
        IF p->>'client_ip_hash' IS NOT NULL AND (SELECT count(*) FROM (
                SELECT 1 FROM orders
                 WHERE status = 'pending_payment' AND client_ip_hash = p->>'client_ip_hash'
                   AND reservation_expires_at > now()
                 LIMIT (p->>'max_pending_orders_per_client')::int) n)
           >= (p->>'max_pending_orders_per_client')::int THEN
            RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'too_many_pending_orders',
                DETAIL = jsonb_build_object(
                    'message', format('this client already has %s unpaid orders holding stock; pay or wait for one to expire',
                                      p->>'max_pending_orders_per_client'),
                    'limit', 'client',
                    'max_pending_orders', (p->>'max_pending_orders_per_client')::int)::text;
        END IF;

        -- 3. Every line must still exist at the price the shopper was shown,
        --    read under a share lock (variants in id order) so the price
        --    cannot change before the commit.
        PERFORM 1 FROM variants v
         WHERE v.sku IN (SELECT l->>'sku' FROM jsonb_array_elements(o->'lines') l)
         ORDER BY v.id
           FOR SHARE;
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

        -- 4. The order and its lines. orders.cart_id is unique: a cart that
        --    already became an order fails here (unique_violation below).
        INSERT INTO orders (store_id, status, currency, total, email, cart_id, region_code,
                            subtotal, tax, shipping_address, delivery_window_start,
                            delivery_window_end, age_verified_at, age_minimum,
                            reservation_expires_at, tax_rate, client_ip_hash,
                            customer_id, points_redeemed, points_discount, points_to_earn)
        VALUES (store, 'pending_payment', o->>'currency', total,
                p->>'email', cart, o->>'region', subtotal,
                tax, p->'shipping_address',
                (o#>>'{delivery,window_start}')::timestamptz,
                (o#>>'{delivery,window_end}')::timestamptz,
                (p#>>'{age,verified_at}')::timestamptz, (p#>>'{age,minimum_age}')::smallint,
                expires, rate, p->>'client_ip_hash',
                cust, redeem, discount, COALESCE((p#>>'{customer,points_to_earn}')::int, 0))
        RETURNING id, public_id INTO new_order, new_public;

        INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, quantity,
                                 unit_price, line_total)
        SELECT new_order, l.line_no, v.id, v.sku, l.name, l.quantity, l.unit_price, l.line_total
          FROM jsonb_to_recordset(o->'lines')
               AS l(line_no int, sku text, name text, quantity int, unit_price numeric, line_total numeric)
          JOIN variants v ON v.sku = l.sku;

        INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
        VALUES (new_order, NULL, 'pending_payment', 'checkout', 'shopper');

        -- 5. Lock the store's stock of every line, in the global lock order.
        PERFORM 1
           FROM inventory_levels il
          WHERE (il.variant_id, il.warehouse_id) IN
                (SELECT st.variant_id, st.warehouse_id
                   FROM store_sellable_stock(store) st
                   JOIN order_lines ol ON ol.variant_id = st.variant_id AND ol.order_id = new_order)
          ORDER BY il.variant_id, il.warehouse_id
            FOR UPDATE;

        -- 6. Whole lines first, from as few warehouses as possible: repeatedly
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

        -- 7. A line no single warehouse can fill is split: warehouses this
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

        -- 8. Points paying part of the order are held now (the ledger's
        --    'redeem' row): the customer row is locked after the stock rows,
        --    in the order every loyalty trigger takes them, and the balance
        --    read under that lock is the truth until commit. NO KEY UPDATE:
        --    this transaction's order row already holds a KEY SHARE lock on
        --    the customer row (its foreign key), and so do the others'; FOR
        --    UPDATE would have to wait for theirs while they wait for ours (a
        --    deadlock). NO KEY UPDATE conflicts only with itself. Of checkouts
        --    that each redeem the whole balance at once, the first to get
        --    the lock holds the points and the others find too few.
        --    (shared/customers/sql/loyalty.sql: release, earn, reverse.)
        IF redeem > 0 THEN
            SELECT c.points_balance INTO balance FROM customers c WHERE c.id = cust FOR NO KEY UPDATE;
            IF cust IS NULL OR balance < redeem THEN
                RAISE EXCEPTION USING ERRCODE = 'ES001', MESSAGE = 'insufficient_points',
                    DETAIL = jsonb_build_object(
                        'message', format('only %s points are available', COALESCE(balance, 0)),
                        'available', COALESCE(balance, 0))::text;
            END IF;
            INSERT INTO loyalty_ledger (customer_id, order_id, kind, points)
            VALUES (cust, new_order, 'redeem', -redeem);
        END IF;

        -- 9. The record a retry with this key gets back (`PlacedOrder`).
        placed := jsonb_build_object(
            'order_id', new_order,
            'public_id', new_public,
            'reservation_expires_at', to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'summary', o);
        UPDATE idempotency_keys SET status = 201, response = placed
         WHERE scope = 'checkout' AND cart_id = cart AND key = p->>'idempotency_key';
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

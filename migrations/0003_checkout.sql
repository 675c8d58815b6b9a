-- Checkout: orders with their lines, inventory reservations, idempotency keys
-- and the order status history. `place_order` is the whole checkout write as
-- one statement (one round trip, one transaction); `release_expired_reservations`
-- is what the cron runs.

ALTER TABLE orders
    -- A cart becomes at most one order: the cart's "checked out" state commits
    -- with the order, in the same transaction.
    ADD COLUMN cart_id                text UNIQUE,
    ADD COLUMN region_code            text CHECK (region_code ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$'),
    ADD COLUMN subtotal               numeric(12,2) CHECK (subtotal >= 0),
    ADD COLUMN tax                    numeric(12,2) CHECK (tax >= 0),
    ADD COLUMN shipping_address       jsonb,
    ADD COLUMN delivery_window_start  timestamptz,
    ADD COLUMN delivery_window_end    timestamptz,
    -- The age check's attestation. The birth date itself is never stored.
    ADD COLUMN age_verified_at        timestamptz,
    ADD COLUMN age_minimum            smallint,
    ADD COLUMN reservation_expires_at timestamptz;

CREATE TABLE order_lines (
    order_id   bigint NOT NULL REFERENCES orders (id),
    line_no    smallint NOT NULL,
    variant_id bigint NOT NULL REFERENCES variants (id),
    sku        text NOT NULL,
    name       text NOT NULL,
    quantity   int NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    line_total numeric(12,2) NOT NULL CHECK (line_total >= 0),
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE reservations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES orders (id),
    variant_id   bigint NOT NULL,
    warehouse_id bigint NOT NULL,
    quantity     int NOT NULL CHECK (quantity > 0),
    -- held: counted in inventory_levels.reserved; released: given back (expiry,
    -- cancellation); committed: the order was paid and the stock shipped from on_hand.
    status       text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'committed')),
    expires_at   timestamptz NOT NULL,
    released_at  timestamptz,
    FOREIGN KEY (variant_id, warehouse_id) REFERENCES inventory_levels (variant_id, warehouse_id)
);
CREATE INDEX reservations_order ON reservations (order_id);
-- The cron's scan: only held reservations, by expiry.
CREATE INDEX reservations_held_expiry ON reservations (expires_at) WHERE status = 'held';

-- One row per idempotency key that produced a response. Errors are not stored:
-- a request that failed wrote nothing, so retrying it is safe.
CREATE TABLE idempotency_keys (
    scope       text NOT NULL,
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint text NOT NULL,   -- sha256 of the canonical request body
    status      smallint NOT NULL,
    response    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE TABLE order_status_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    from_status text,
    to_status   text NOT NULL,
    reason      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, at);

-- The checkout write. Input (built by shared::checkout::place_order):
--   {idempotency_key, fingerprint, cart_id, store_id, region, currency, email,
--    shipping_address, lines: [{line_no, sku, name, quantity, unit_price, line_total}],
--    subtotal, tax, total, delivery: {window_start, window_end},
--    age: {minimum_age, verified_at} | null, reservation_minutes, response: {...}}
-- Output: {"status": 201, "replayed": bool, "response": {...}} or
--         {"error": {"status", "code", "message", ...details}}.
--
-- Everything happens in one transaction; any failure rolls all of it back
-- (the EXCEPTION block) and returns the error instead of raising it.
-- Concurrency:
--   * the same idempotency key: the second INSERT waits on the key's unique
--     index until the first transaction ends, then replays its response;
--   * the same stock: inventory rows are locked (FOR UPDATE) in one global
--     order, variant then warehouse, so two checkouts never deadlock, and the
--     availability read after the lock is the truth until commit. No advisory
--     locks (Hyperdrive pools in transaction mode).
CREATE FUNCTION place_order(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    store        bigint := (p->>'store_id')::bigint;
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
    answer       jsonb;
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
                RAISE EXCEPTION USING ERRCODE = 'EC422', MESSAGE = 'idempotency_key_reused',
                    DETAIL = 'this Idempotency-Key was used with a different request body';
            END IF;
            RETURN jsonb_build_object('status', stored.status, 'replayed', true,
                                      'response', stored.response);
        END IF;

        -- 2. Every line must still exist at the price the shopper was shown.
        SELECT l.sku, v.id AS variant_id, v.price, v.currency, l.unit_price INTO bad
          FROM jsonb_to_recordset(p->'lines') AS l(sku text, unit_price numeric)
          LEFT JOIN variants v ON v.sku = l.sku
         WHERE v.id IS NULL OR v.price <> l.unit_price OR v.currency <> p->>'currency'
         LIMIT 1;
        IF FOUND AND bad.variant_id IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EC409', MESSAGE = 'sku_unavailable',
                DETAIL = jsonb_build_object('message', format('%s is no longer sold', bad.sku),
                                            'sku', bad.sku)::text;
        ELSIF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'EC409', MESSAGE = 'price_changed',
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
        VALUES (store, 'pending_payment', p->>'currency', (p->>'total')::numeric, p->>'email',
                p->>'cart_id', p->>'region', (p->>'subtotal')::numeric, (p->>'tax')::numeric,
                p->'shipping_address', (p#>>'{delivery,window_start}')::timestamptz,
                (p#>>'{delivery,window_end}')::timestamptz,
                (p#>>'{age,verified_at}')::timestamptz, (p#>>'{age,minimum_age}')::smallint,
                expires)
        RETURNING id INTO new_order;

        INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, quantity,
                                 unit_price, line_total)
        SELECT new_order, l.line_no, v.id, v.sku, l.name, l.quantity, l.unit_price, l.line_total
          FROM jsonb_to_recordset(p->'lines')
               AS l(line_no int, sku text, name text, quantity int, unit_price numeric, line_total numeric)
          JOIN variants v ON v.sku = l.sku;

        INSERT INTO order_status_history (order_id, from_status, to_status, reason)
        VALUES (new_order, NULL, 'pending_payment', 'checkout');

        -- 4. Lock the store's stock of every line, in the global lock order.
        PERFORM 1
           FROM inventory_levels il
           JOIN warehouses w ON w.id = il.warehouse_id
          WHERE w.store_id = store
            AND il.variant_id IN (SELECT variant_id FROM order_lines WHERE order_id = new_order)
          ORDER BY il.variant_id, il.warehouse_id
            FOR UPDATE OF il;

        -- 5. Whole lines first, from as few warehouses as possible: repeatedly
        --    take the warehouse that can fill the most still-open lines entirely
        --    (ties: more stock, then the lower id) and reserve those lines there.
        LOOP
            SELECT il.warehouse_id INTO pick
              FROM order_lines ol
              JOIN inventory_levels il ON il.variant_id = ol.variant_id
              JOIN warehouses w ON w.id = il.warehouse_id AND w.store_id = store
             WHERE ol.order_id = new_order
               AND il.on_hand - il.reserved >= ol.quantity
               AND NOT EXISTS (SELECT 1 FROM reservations r
                                WHERE r.order_id = new_order AND r.variant_id = ol.variant_id)
             GROUP BY il.warehouse_id
             ORDER BY count(*) DESC, sum(il.on_hand - il.reserved) DESC, il.warehouse_id
             LIMIT 1;
            EXIT WHEN NOT FOUND;

            WITH fillable AS (
                SELECT ol.variant_id, ol.quantity
                  FROM order_lines ol
                  JOIN inventory_levels il ON il.variant_id = ol.variant_id AND il.warehouse_id = pick
                 WHERE ol.order_id = new_order
                   AND il.on_hand - il.reserved >= ol.quantity
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
                SELECT il.warehouse_id, il.on_hand - il.reserved AS available
                  FROM inventory_levels il
                  JOIN warehouses w ON w.id = il.warehouse_id AND w.store_id = store
                 WHERE il.variant_id = line.variant_id AND il.on_hand - il.reserved > 0
                 ORDER BY EXISTS (SELECT 1 FROM reservations r
                                   WHERE r.order_id = new_order AND r.warehouse_id = il.warehouse_id) DESC,
                          il.on_hand - il.reserved DESC, il.warehouse_id
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
                RAISE EXCEPTION USING ERRCODE = 'EC409', MESSAGE = 'out_of_stock',
                    DETAIL = jsonb_build_object(
                        'message', format('only %s of %s are available', line.quantity - remaining, line.sku),
                        'sku', line.sku, 'available', line.quantity - remaining)::text;
            END IF;
        END LOOP;

        -- 7. The response, stored with the key so a retry gets these exact bytes.
        answer := (p->'response') || jsonb_build_object(
            'order_id', new_order,
            'status', 'pending_payment',
            'reservation_expires_at', to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
        UPDATE idempotency_keys SET status = 201, response = answer
         WHERE scope = 'checkout' AND key = p->>'idempotency_key';
        RETURN jsonb_build_object('status', 201, 'replayed', false, 'response', answer);
    EXCEPTION
        WHEN SQLSTATE 'EC409' OR SQLSTATE 'EC422' THEN
            GET STACKED DIAGNOSTICS err_detail = PG_EXCEPTION_DETAIL;
            RETURN jsonb_build_object('error',
                jsonb_build_object('status', CASE WHEN SQLSTATE = 'EC409' THEN 409 ELSE 422 END,
                                   'code', SQLERRM)
                || CASE WHEN err_detail LIKE '{%' THEN err_detail::jsonb
                        ELSE jsonb_build_object('message', err_detail) END);
        WHEN unique_violation THEN
            RETURN jsonb_build_object('error', jsonb_build_object(
                'status', 409, 'code', 'cart_already_checked_out',
                'message', 'this cart has already been checked out'));
    END;
END $$;

-- The cron's job: give back the stock of reservations whose time ran out and
-- cancel their orders if still unpaid. Locks inventory rows in the same order
-- as place_order, so the two never deadlock. Returns how many it released.
CREATE FUNCTION release_expired_reservations(batch int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    expired bigint[];
BEGIN
    SELECT coalesce(array_agg(id), '{}') INTO expired
      FROM (SELECT id FROM reservations
             WHERE status = 'held' AND expires_at <= now()
             ORDER BY expires_at
             LIMIT batch
               FOR UPDATE SKIP LOCKED) due;
    IF cardinality(expired) = 0 THEN
        RETURN 0;
    END IF;

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
         WHERE o.id IN (SELECT order_id FROM reservations WHERE id = ANY (expired))
           AND o.status = 'pending_payment'
     RETURNING o.id
    )
    INSERT INTO order_status_history (order_id, from_status, to_status, reason)
    SELECT id, 'pending_payment', 'cancelled', 'reservation_expired' FROM cancelled;

    RETURN cardinality(expired);
END $$;

-- Orders after payment: their history, the outbox that feeds the queues,
-- shipments, stock sync and low-stock alerts, and abandoned-cart recovery.
-- The functions that write these live in shared/orders/sql/,
-- shared/inventory/sql/ (stock sync, low stock) and shared/cart/sql/ (cart
-- recovery).

-- 1. One spelling of "awaiting payment". The seed used to write 'pending' as
--    well as 'pending_payment'; the order state machine (shared/orders) has
--    only the second. The dashboard still accepts ?status=pending as an alias.
UPDATE orders SET status = 'pending_payment' WHERE status = 'pending';
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN (
    'pending_payment', 'paid', 'partially_refunded', 'refunded',
    'fulfilling', 'shipped', 'delivered', 'cancelled'));

-- The dashboard's keyset: (created_at, id) is unique where created_at alone
-- is not, so a page boundary never skips or repeats an order.
CREATE INDEX orders_store_status_created_id ON orders (store_id, status, created_at DESC, id DESC);
DROP INDEX orders_store_status_created;

-- 2. The history of every order: each transition, its cause and who made it.
ALTER TABLE order_status_history RENAME TO order_events;
ALTER TABLE order_events RENAME COLUMN reason TO cause;
-- shopper, admin, stripe, paypal, carrier, fulfillment, system (crons).
ALTER TABLE order_events ADD COLUMN actor text NOT NULL DEFAULT 'system'
    CHECK (actor ~ '^[a-z_]{1,32}$');
ALTER INDEX order_status_history_order RENAME TO order_events_order;

-- 3. The transactional outbox: a message to a queue is a row written in the
--    same transaction as the change it announces. The writer sends it after
--    the commit and marks it sent; a cron sends what is left (the worker died
--    between commit and send, the queue refused). Consumers are idempotent,
--    so a message sent twice is harmless; one never sent is impossible.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic         text NOT NULL CHECK (topic IN ('fulfillment', 'alerts')),
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The relay holds a row while it sends it, so two runs do not both send.
    claimed_until timestamptz,
    send_attempts int NOT NULL DEFAULT 0,
    sent_at       timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- 4. Fulfillment: at most one shipment per order (the consumer's second line
--    of defence after the carrier's idempotency key), and what went wrong.
CREATE TABLE shipments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint NOT NULL UNIQUE REFERENCES orders (id),
    carrier         text NOT NULL,
    service         text NOT NULL,
    tracking_number text NOT NULL UNIQUE,
    label_id        text NOT NULL,
    label_url       text,
    booked_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
-- How a store's paid orders reach the carrier: 'automatic' (the paid
-- transaction queues the fulfillment message) or 'manual' (staff release each
-- order with POST /admin/orders/{id}/fulfill, e.g. after checking it).
ALTER TABLE stores ADD COLUMN fulfillment text NOT NULL DEFAULT 'automatic'
    CHECK (fulfillment IN ('automatic', 'manual'));

ALTER TABLE orders
    -- Queue deliveries of this order's fulfillment message so far (worker
    -- 0.8.7 has no attempts() accessor); it sets the retry delay.
    ADD COLUMN fulfillment_attempts  int NOT NULL DEFAULT 0,
    ADD COLUMN fulfillment_error     text,
    ADD COLUMN fulfillment_failed_at timestamptz;

-- 5. Low stock. A variant × warehouse may set its own threshold; the default
--    is the store-wide setting below. `low_stock_alerted` is the latch that
--    makes one alert per crossing (stock_levels_low_stock in
--    shared/inventory/sql/low_stock.sql sets and clears it).
ALTER TABLE inventory_levels
    ADD COLUMN low_stock_threshold int CHECK (low_stock_threshold >= 0),
    ADD COLUMN low_stock_alerted   boolean NOT NULL DEFAULT false;

-- Configuration, one row: change it with UPDATE (docs/operations.md).
CREATE TABLE stock_settings (
    only_row                    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    default_low_stock_threshold int NOT NULL CHECK (default_low_stock_threshold >= 0)
);
INSERT INTO stock_settings (default_low_stock_threshold) VALUES (5);

-- What the alerts consumer posted (or is about to): one row per alert,
-- whatever the number of deliveries of its message.
CREATE TABLE alerts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 'low_stock:<outbox id>', 'fulfillment_failed:<order id>', ...
    dedupe_key text NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN ('low_stock', 'fulfillment_failed')),
    order_id   bigint REFERENCES orders (id),
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    posted_at  timestamptz
);
CREATE INDEX alerts_order ON alerts (order_id) WHERE order_id IS NOT NULL;

-- 6. Inventory sync from a POS or a warehouse system: each adjustment once
--    per external reference, refused ones included (a replay gets the same
--    answer and changes nothing).
CREATE TABLE inventory_adjustments (
    external_ref   text PRIMARY KEY CHECK (length(external_ref) BETWEEN 1 AND 200),
    variant_id     bigint REFERENCES variants (id) ON DELETE SET NULL,
    warehouse_id   bigint REFERENCES warehouses (id),
    sku            text NOT NULL,
    warehouse      text NOT NULL,
    delta          int,
    set_on_hand    int,
    reason         text NOT NULL,
    outcome        text NOT NULL CHECK (outcome IN ('applied', 'refused')),
    refusal        text,
    on_hand_before int,
    on_hand_after  int,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((delta IS NULL) <> (set_on_hand IS NULL))
);

-- 7. Abandoned carts. Carts live in Durable Objects and KV; this is the small
--    index the recovery cron scans, written only when a shopper gives an
--    email (PATCH /cart/{id}), never on the cart's hot path.
CREATE TABLE cart_recovery (
    cart_id     text PRIMARY KEY,
    store_id    bigint NOT NULL REFERENCES stores (id),
    email       text NOT NULL,
    attached_at timestamptz NOT NULL DEFAULT now(),
    -- The recovery message was queued: never again for this cart.
    queued_at   timestamptz,
    emailed_at  timestamptz,
    -- Checked out (or gone) before it was abandoned: nothing to send.
    closed_at   timestamptz
);
CREATE INDEX cart_recovery_due ON cart_recovery (attached_at)
    WHERE queued_at IS NULL AND closed_at IS NULL;

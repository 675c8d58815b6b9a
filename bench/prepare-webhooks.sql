-- Pending orders for the Stripe webhook bench (scripts/bench), made directly
-- in SQL: what checkout leaves behind for an order paid by card, without the
-- checkout. Run after bench/prepare.sql (the BENCH-<n> SKUs), with
--   psql -v run=<tag> -v phase=<warmup|measure> -v n=<count> -f bench/prepare-webhooks.sql
-- Each order, in store 1 (US-CA): status pending_payment, total 4.99 USD,
-- one line of one unit of a bench SKU, held in one of store 1's warehouses
-- (orders spread over every bench SKU and warehouse, so events contend on
-- stock rows as much as popular checkouts do, not all on one), and its
-- Stripe payment (provider_payment_id pi_b<run><phase initial>x<k>), as
-- checkout records it. inventory_levels.reserved goes up by exactly what
-- is held, as place_order does.
-- Prints one line per order, in order: <public_id> TAB <PaymentIntent id>.
\set ON_ERROR_STOP on
WITH o AS (
    INSERT INTO orders (store_id, status, currency, total, subtotal, tax, email, region_code,
                        shipping_address, reservation_expires_at)
    SELECT 1, 'pending_payment', 'USD', 4.99, 4.99, 0,
           'bench-webhook-' || :'phase' || '+' || :'run' || '-' || g || '@example.com', 'US-CA',
           '{"name":"Bench","line1":"1 Main St","city":"San Francisco","state":"CA","postal_code":"94110","country":"US"}',
           now() + interval '1 hour'
      FROM generate_series(1, :n) g
    RETURNING id, public_id
),
k AS (SELECT id, public_id, row_number() OVER (ORDER BY id) AS k FROM o),
stock AS (
    SELECT il.variant_id, il.warehouse_id, v.sku,
           row_number() OVER (ORDER BY v.id, il.warehouse_id) - 1 AS slot,
           count(*) OVER () AS slots
      FROM inventory_levels il
      JOIN variants v ON v.id = il.variant_id
      JOIN warehouses w ON w.id = il.warehouse_id
     WHERE v.sku ~ '^BENCH-[0-9]+$' AND w.store_id = 1
),
placed AS (
    SELECT k.id, k.public_id, k.k, s.variant_id, s.warehouse_id, s.sku
      FROM k JOIN stock s ON s.slot = k.k % s.slots
),
lines AS (
    INSERT INTO order_lines (order_id, line_no, variant_id, sku, name, quantity, unit_price, line_total)
    SELECT id, 1, variant_id, sku, 'Bench item', 1, 4.99, 4.99 FROM placed
),
held AS (
    INSERT INTO reservations (order_id, variant_id, warehouse_id, quantity, status, expires_at)
    SELECT id, variant_id, warehouse_id, 1, 'held', now() + interval '1 hour' FROM placed
    RETURNING variant_id, warehouse_id, quantity
),
reserved AS (
    UPDATE inventory_levels il SET reserved = il.reserved + h.quantity
      FROM (SELECT variant_id, warehouse_id, sum(quantity)::int AS quantity FROM held GROUP BY 1, 2) h
     WHERE il.variant_id = h.variant_id AND il.warehouse_id = h.warehouse_id
),
pay AS (
    INSERT INTO payments (order_id, provider, provider_payment_id, amount, currency)
    SELECT id, 'stripe', 'pi_b' || :'run' || left(:'phase', 1) || 'x' || k, 4.99, 'USD' FROM placed
    RETURNING order_id, provider_payment_id
)
SELECT placed.public_id, pay.provider_payment_id
  FROM placed JOIN pay ON pay.order_id = placed.id
 ORDER BY placed.k;

-- Plans and timings of the store dashboard's query (GET
-- /admin/stores/{id}/orders?status=pending, shared/orders/src/dashboard.rs) on
-- a seeded database: its first page, and a later page (the keyset as a row
-- comparison). Both must be an Index Scan on orders_store_status_created_id
-- with no Sort.
--
--   psql -v ON_ERROR_STOP=1 -f scripts/explain-orders.sql
--
-- The store id and the later page's keyset are looked up first (\gset) and
-- inlined as literals, as the route binds them. Each query runs three times
-- with its output discarded to warm the cache; only the fourth run's plan is
-- printed.

\set ON_ERROR_STOP 1

SELECT id AS sf_store_id FROM stores WHERE slug = 'sf' \gset
SELECT created_at AS k_at, id AS k_id
  FROM (SELECT created_at, id FROM orders
         WHERE store_id = :sf_store_id AND status = 'pending_payment'
         ORDER BY created_at DESC, id DESC LIMIT 501) newest
 ORDER BY created_at, id LIMIT 1 \gset

\set columns 'SELECT o.id::text AS id, o.public_id AS order_id, o.status, o.total::text AS total, o.currency::text AS currency, order_time_text(o.created_at) AS created_at, order_time_text(o.updated_at) AS updated_at FROM orders o WHERE o.store_id = ' :sf_store_id ' AND o.status = ''pending_payment'''
\set first 'EXPLAIN (ANALYZE, BUFFERS) ' :columns ' ORDER BY o.created_at DESC, o.id DESC LIMIT 51;'
\set later 'EXPLAIN (ANALYZE, BUFFERS) ' :columns ' AND (o.created_at, o.id) < (''' :k_at '''::timestamptz, ' :k_id ') ORDER BY o.created_at DESC, o.id DESC LIMIT 51;'

\o /dev/null
:first
:first
:first
\o
\echo -- first page
:first
\o /dev/null
:later
:later
:later
\o
\echo -- a later page (after 500 orders, or the oldest there is)
:later

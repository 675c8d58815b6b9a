-- Plan and timing of the hot orders query on a seeded database:
--
--   psql -v ON_ERROR_STOP=1 -f scripts/explain-orders.sql
--
-- The store id is looked up first (\gset) and inlined as a literal, so the
-- plan is the plain index scan on orders_store_status_created_id rather than an
-- InitPlan + parameterised scan. The query runs three times with its output
-- discarded to warm the cache; only the fourth run's plan is printed.

\set ON_ERROR_STOP 1

SELECT id AS sf_store_id FROM stores WHERE slug = 'sf' \gset

\set explain 'EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM orders WHERE store_id = ' :sf_store_id ' AND status = ''pending_payment'' ORDER BY created_at DESC, id DESC LIMIT 50;'

\o /dev/null
:explain
:explain
:explain
\o
:explain

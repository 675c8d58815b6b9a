-- Bench fixtures (scripts/bench): 20 "hot" SKUs with effectively unlimited stock in
-- store 1's two warehouses. Idempotent; tops the stock up on every run.
INSERT INTO products (slug, name, category_id) VALUES ('bench-item', 'Bench item', 21)
ON CONFLICT (slug) DO NOTHING;
INSERT INTO variants (product_id, sku, options, price, currency)
SELECT p.id, 'BENCH-' || n, jsonb_build_object('size', n::text), 4.99, 'USD'
  FROM products p, generate_series(1, 20) n
 WHERE p.slug = 'bench-item'
ON CONFLICT (sku) DO NOTHING;
INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand)
SELECT v.id, w.id, 1000000
  FROM variants v, warehouses w
 WHERE v.sku ~ '^BENCH-[0-9]+$' AND w.store_id = 1
ON CONFLICT (variant_id, warehouse_id) DO UPDATE SET on_hand = inventory_levels.reserved + 1000000;

-- A long tail: 1000 more SKUs (250 products of 4 variants; one product with
-- 1000 variants would make the per-row catalog triggers quadratic), so adds
-- also miss the cart's two-second price cache.
INSERT INTO products (slug, name, category_id)
SELECT 'bench-tail-' || n, 'Bench tail ' || n, 21 FROM generate_series(1, 250) n
ON CONFLICT (slug) DO NOTHING;
INSERT INTO variants (product_id, sku, options, price, currency)
SELECT p.id, 'BENCH-T' || ((n - 1) * 4 + k), jsonb_build_object('size', k::text), 1.99, 'USD'
  FROM generate_series(1, 250) n
  JOIN products p ON p.slug = 'bench-tail-' || n
 CROSS JOIN generate_series(1, 4) k
ON CONFLICT (sku) DO NOTHING;
INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand)
SELECT v.id, w.id, 1000000
  FROM variants v, warehouses w
 WHERE v.sku LIKE 'BENCH-T%' AND w.store_id = 1
ON CONFLICT (variant_id, warehouse_id) DO UPDATE SET on_hand = inventory_levels.reserved + 1000000;

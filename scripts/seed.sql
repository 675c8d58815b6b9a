-- Deterministic demo data for a freshly migrated database (migrations/0001_catalog.sql).
--
--   psql -v ON_ERROR_STOP=1 -v products=1000 -v orders=0 -f scripts/seed.sql
--
-- products defaults to 1000, orders to 0. The caller must make sure the
-- database is empty but for the regions: the script is meant to run exactly
-- once. The regions are not seeded: `scripts/db migrate` loads them from
-- shared/regions/regions.toml (scripts/regions-sql); the stores need US-CA and US-CO.
--
-- Determinism: there is no random() and no now() in the generated data. Every
-- "random" choice is a hash of (row number, salt) via hashint8(), which is
-- pure integer arithmetic and gives the same result on every platform;
-- money is computed in numeric. All ids are assigned explicitly (OVERRIDING
-- SYSTEM VALUE) and the identity sequences are moved past them at the end,
-- so the same products/orders values give byte-identical data. Product i's
-- rows do not depend on the products value (a 1000-product seed is a prefix
-- of a 100000-product one). All timestamps hang off the fixed epoch
-- 2026-01-01T00:00:00Z. The only wall-clock value is seed_info.seeded_at,
-- which records when the seed ran.
--
-- Formats and id layout:
--   regions     not seeded (see above); stores use US-CA and US-CO
--   stores      1 = 'sf' (San Francisco, US-CA), 2 = 'denver' (Denver, US-CO)
--   warehouses  1 = sf-mission, 2 = sf-oakland (store sf), 3 = den-central (store denver)
--   categories  5 top-level x 3 children x 3 grandchildren = 65 rows:
--               ids 1-5 top level, 6-20 second level, 21-65 leaves.
--   products    id i = 1..:products, always in a leaf category.
--               name   '<Adjective> <Material> <Noun>'   e.g. 'Vintage Cotton T-Shirt'
--               slug   slugified name || '-' || i        e.g. 'vintage-cotton-t-shirt-123'
--               created_at = epoch - i minutes + (0..59 s of hash jitter), unique per product
--   variants    3 per product, id = 3*(i-1) + k with k = 1..3
--               sku    'P' || i zero-padded to at least 6 digits || '-' || k
--                      e.g. 'P000123-2' (product 123, variant 2); beyond 999999 products
--                      it simply has more digits ('P1234567-1')
--               options {"color": one of 8 colours, "size": XS|S|M|L|XL}
--   inventory   one row per variant x warehouse, reserved = 0; per variant: ~8% sold
--               out, ~30% few (1-12 units in total, mostly in a single warehouse), the
--               rest plenty (20-500 per warehouse, some sf warehouses at 0), plus ~3%
--               of variants stocked only in den-central and ~3% only in sf. Counting
--               the single-warehouse "few" ones, ~10% of variants are buyable only in
--               denver and ~20% only in sf.
--   orders      id n = 1..:orders, ids ascending in time over the 2 years before the
--               epoch; email 'customer<m>@example.com'.

\if :{?products}
\else
\set products 1000
\endif
\if :{?orders}
\else
\set orders 0
\endif

\set ON_ERROR_STOP 1

BEGIN;

SET LOCAL client_min_messages = warning;

-- Bulk-load settings, for this transaction only: room for the sorts that keep
-- the insert order deterministic, and no JIT compilation (it costs more than
-- it saves on these one-shot statements).
SET LOCAL work_mem = '256MB';
SET LOCAL jit = off;

CREATE TEMP TABLE seed_params ON COMMIT DROP AS
SELECT (:'products')::int AS products,
       (:'orders')::int   AS orders,
       timestamptz '2026-01-01T00:00:00Z' AS epoch;

DO $$
BEGIN
    IF (SELECT products < 0 OR orders < 0 FROM seed_params) THEN
        RAISE EXCEPTION 'seed: products and orders must be >= 0';
    END IF;
END $$;

-- Pseudo-random non-negative int (0 .. 2^31-1) from a row number and a salt (0..96).
CREATE FUNCTION pg_temp.seed_h(n bigint, salt int) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT hashint8($1 * 97 + $2)::bigint & 2147483647 $$;

-- ---------------------------------------------------------------- stores

DO $$
BEGIN
    IF (SELECT count(*) FROM regions WHERE code IN ('US-CA', 'US-CO')) < 2 THEN
        RAISE EXCEPTION 'seed: regions US-CA and US-CO must exist: scripts/db migrate (or sync-regions) loads them from shared/regions/regions.toml';
    END IF;
END $$;

INSERT INTO stores (id, slug, name, region_code) OVERRIDING SYSTEM VALUE VALUES
    (1, 'sf',     'San Francisco', 'US-CA'),
    (2, 'denver', 'Denver',        'US-CO');

INSERT INTO warehouses (id, store_id, code, name) OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 'sf-mission',  'Mission District Warehouse'),
    (2, 1, 'sf-oakland',  'Oakland Distribution Center'),
    (3, 2, 'den-central', 'Denver Central Warehouse');

-- ---------------------------------------------------------------- categories

CREATE TEMP TABLE seed_top (top_pos int, slug text, name text) ON COMMIT DROP;
INSERT INTO seed_top VALUES
    (1, 'apparel',     'Apparel'),
    (2, 'footwear',    'Footwear'),
    (3, 'home',        'Home & Kitchen'),
    (4, 'outdoors',    'Outdoors'),
    (5, 'accessories', 'Accessories');

-- price_lo/price_hi: range of a product's base price; materials feed product names.
CREATE TEMP TABLE seed_mid (top_pos int, mid_pos int, slug text, name text,
                            price_lo numeric, price_hi numeric, materials text[]) ON COMMIT DROP;
INSERT INTO seed_mid VALUES
    (1, 1, 'tops',       'Tops',       15,  90, '{Cotton,"Organic Cotton","Merino Wool",Linen,Hemp}'),
    (1, 2, 'bottoms',    'Bottoms',    25, 140, '{Denim,"Cotton Twill",Linen,Corduroy,"Stretch Cotton"}'),
    (1, 3, 'outerwear',  'Outerwear',  60, 420, '{Nylon,"Waxed Canvas",Fleece,Wool,"Recycled Polyester"}'),
    (2, 1, 'sneakers',   'Sneakers',   45, 220, '{Mesh,Leather,Canvas,Knit,Suede}'),
    (2, 2, 'boots',      'Boots',      80, 400, '{Leather,Suede,Rubber,Nubuck,"Waterproof Leather"}'),
    (2, 3, 'sandals',    'Sandals',    15, 120, '{Rubber,Cork,Leather,"EVA Foam","Recycled Foam"}'),
    (3, 1, 'kitchen',    'Kitchen',     8, 180, '{Ceramic,Stoneware,Enamel,Walnut,"Olive Wood"}'),
    (3, 2, 'bedding',    'Bedding',    25, 260, '{Cotton,Linen,Flannel,Bamboo,Percale}'),
    (3, 3, 'decor',      'Decor',      12, 150, '{Ceramic,Glass,Brass,Oak,Terracotta}'),
    (4, 1, 'camping',    'Camping',    20, 420, '{"Ripstop Nylon",Canvas,Aluminum,Down,Polyester}'),
    (4, 2, 'cycling',    'Cycling',    15, 260, '{Lycra,Merino,Mesh,Carbon,Reflective}'),
    (4, 3, 'fitness',    'Fitness',     8, 120, '{Cork,"Natural Rubber",TPE,"Stainless Steel",Latex}'),
    (5, 1, 'bags',       'Bags',       25, 380, '{Canvas,Leather,Nylon,"Waxed Canvas","Recycled Nylon"}'),
    (5, 2, 'headwear',   'Headwear',   12,  90, '{Wool,Cotton,Cashmere,Straw,Corduroy}'),
    (5, 3, 'essentials', 'Essentials', 20, 240, '{Leather,Wool,Cashmere,Canvas,Suede}');

-- noun: singular used in product names.
CREATE TEMP TABLE seed_leaf (top_pos int, mid_pos int, leaf_pos int, slug text, name text,
                             noun text) ON COMMIT DROP;
INSERT INTO seed_leaf VALUES
    (1, 1, 1, 't-shirts',        'T-Shirts',        'T-Shirt'),
    (1, 1, 2, 'sweaters',        'Sweaters',        'Sweater'),
    (1, 1, 3, 'hoodies',         'Hoodies',         'Hoodie'),
    (1, 2, 1, 'jeans',           'Jeans',           'Jeans'),
    (1, 2, 2, 'shorts',          'Shorts',          'Shorts'),
    (1, 2, 3, 'skirts',          'Skirts',          'Skirt'),
    (1, 3, 1, 'jackets',         'Jackets',         'Jacket'),
    (1, 3, 2, 'raincoats',       'Raincoats',       'Raincoat'),
    (1, 3, 3, 'vests',           'Vests',           'Vest'),
    (2, 1, 1, 'running-shoes',   'Running Shoes',   'Running Shoe'),
    (2, 1, 2, 'court-sneakers',  'Court Sneakers',  'Court Sneaker'),
    (2, 1, 3, 'slip-ons',        'Slip-Ons',        'Slip-On'),
    (2, 2, 1, 'hiking-boots',    'Hiking Boots',    'Hiking Boot'),
    (2, 2, 2, 'chelsea-boots',   'Chelsea Boots',   'Chelsea Boot'),
    (2, 2, 3, 'rain-boots',      'Rain Boots',      'Rain Boot'),
    (2, 3, 1, 'flip-flops',      'Flip-Flops',      'Flip-Flop'),
    (2, 3, 2, 'slides',          'Slides',          'Slide'),
    (2, 3, 3, 'sport-sandals',   'Sport Sandals',   'Sport Sandal'),
    (3, 1, 1, 'mugs',            'Mugs',            'Mug'),
    (3, 1, 2, 'cutting-boards',  'Cutting Boards',  'Cutting Board'),
    (3, 1, 3, 'chef-knives',     'Chef Knives',     'Chef Knife'),
    (3, 2, 1, 'pillows',         'Pillows',         'Pillow'),
    (3, 2, 2, 'duvet-covers',    'Duvet Covers',    'Duvet Cover'),
    (3, 2, 3, 'throw-blankets',  'Throw Blankets',  'Throw Blanket'),
    (3, 3, 1, 'vases',           'Vases',           'Vase'),
    (3, 3, 2, 'candles',         'Candles',         'Candle'),
    (3, 3, 3, 'wall-clocks',     'Wall Clocks',     'Wall Clock'),
    (4, 1, 1, 'tents',           'Tents',           'Tent'),
    (4, 1, 2, 'sleeping-bags',   'Sleeping Bags',   'Sleeping Bag'),
    (4, 1, 3, 'lanterns',        'Lanterns',        'Lantern'),
    (4, 2, 1, 'bike-helmets',    'Bike Helmets',    'Bike Helmet'),
    (4, 2, 2, 'cycling-gloves',  'Cycling Gloves',  'Cycling Gloves'),
    (4, 2, 3, 'cycling-jerseys', 'Cycling Jerseys', 'Cycling Jersey'),
    (4, 3, 1, 'yoga-mats',       'Yoga Mats',       'Yoga Mat'),
    (4, 3, 2, 'resistance-bands','Resistance Bands','Resistance Band'),
    (4, 3, 3, 'water-bottles',   'Water Bottles',   'Water Bottle'),
    (5, 1, 1, 'backpacks',       'Backpacks',       'Backpack'),
    (5, 1, 2, 'tote-bags',       'Tote Bags',       'Tote Bag'),
    (5, 1, 3, 'duffel-bags',     'Duffel Bags',     'Duffel Bag'),
    (5, 2, 1, 'beanies',         'Beanies',         'Beanie'),
    (5, 2, 2, 'baseball-caps',   'Baseball Caps',   'Baseball Cap'),
    (5, 2, 3, 'sun-hats',        'Sun Hats',        'Sun Hat'),
    (5, 3, 1, 'wallets',         'Wallets',         'Wallet'),
    (5, 3, 2, 'belts',           'Belts',           'Belt'),
    (5, 3, 3, 'scarves',         'Scarves',         'Scarf');

-- Category ids: top = top_pos (1-5), middle = 5 + 3*(top_pos-1) + mid_pos (6-20),
-- leaf = 20 + 9*(top_pos-1) + 3*(mid_pos-1) + leaf_pos (21-65).
INSERT INTO categories (id, parent_id, slug, name, position) OVERRIDING SYSTEM VALUE
SELECT id, parent_id, slug, name, position FROM (
    SELECT t.top_pos AS id, NULL::bigint AS parent_id, t.slug, t.name, t.top_pos AS position
      FROM seed_top t
    UNION ALL
    SELECT 5 + 3 * (m.top_pos - 1) + m.mid_pos, m.top_pos, m.slug, m.name, m.mid_pos
      FROM seed_mid m
    UNION ALL
    SELECT 20 + 9 * (l.top_pos - 1) + 3 * (l.mid_pos - 1) + l.leaf_pos,
           5 + 3 * (l.top_pos - 1) + l.mid_pos, l.slug, l.name, l.leaf_pos
      FROM seed_leaf l
) c
ORDER BY id;

-- One row per leaf with everything product generation needs.
CREATE TEMP TABLE seed_cat ON COMMIT DROP AS
SELECT 9 * (l.top_pos - 1) + 3 * (l.mid_pos - 1) + l.leaf_pos AS leaf_no,        -- 1..45
       20 + 9 * (l.top_pos - 1) + 3 * (l.mid_pos - 1) + l.leaf_pos AS category_id,
       l.noun, m.name AS mid_name, t.name AS top_name,
       m.price_lo, m.price_hi, m.materials
  FROM seed_leaf l
  JOIN seed_mid m USING (top_pos, mid_pos)
  JOIN seed_top t USING (top_pos);

-- Leaves are picked with uneven weights (2..6 tickets each) so the spread is
-- even-ish but not uniform; pick[1 + h % cardinality(pick)] is the leaf_no.
CREATE TEMP TABLE seed_lists ON COMMIT DROP AS
SELECT (SELECT array_agg(c.leaf_no ORDER BY c.leaf_no, g)
          FROM seed_cat c, generate_series(1, 2 + (c.leaf_no * 7) % 5) g) AS leaf_pick,
       '{Vintage,Classic,Everyday,Lightweight,Rugged,Minimalist,Premium,Heritage,Urban,
         Coastal,Alpine,Essential,Modern,Relaxed,Cozy,Sleek,Handcrafted,Weathered,Bold,
         Soft,Trail,Weekend,Signature,Retro,Nordic,Pacific,Summit,Harbor}'::text[] AS adjectives,
       ARRAY['designed for all-day comfort',
             'built to last for years of regular use',
             'finished with careful attention to detail',
             'made in small batches by independent makers',
             'tested in real-world conditions before it reaches you',
             'with a timeless look that never goes out of style',
             'crafted from responsibly sourced materials',
             'that only gets better with every use'] AS features,
       ARRAY['Perfect for weekend adventures and everyday errands.',
             'A thoughtful gift for friends and family.',
             'Easy to care for and ready for daily use.',
             'Backed by our one-year quality guarantee.',
             'Loved by customers for its durability and value.',
             'Ships free on orders over fifty dollars, with easy returns.',
             'Available in several colors and sizes to match your style.',
             'A customer favorite that pairs well with the rest of the collection.'] AS closers,
       -- colour tickets for a product's main colour: dark neutrals are most common
       '{black,black,black,black,white,white,white,navy,navy,navy,grey,grey,grey,
         red,red,olive,sand,sand,blue,blue}'::text[] AS color_pick,
       '{black,white,navy,grey,red,olive,sand,blue}'::text[] AS colors,
       '{XS,S,M,L,XL}'::text[] AS sizes;

ANALYZE seed_cat;
ANALYZE seed_lists;

-- Foreign-key checks are the bulk of the load time (one row-locking lookup per
-- inserted row: ~3.3M for 100k products + 1M orders). As recommended for bulk
-- loads, drop the foreign keys of the tables filled below and re-create them
-- from their own definitions (pg_get_constraintdef) once the data is in; re-adding
-- validates every row with one join per constraint. It all happens inside this
-- transaction, so a failure leaves the schema untouched.
CREATE TEMP TABLE seed_fks ON COMMIT DROP AS
SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def
  FROM pg_constraint
 WHERE contype = 'f'
   AND conrelid IN ('products'::regclass, 'variants'::regclass,
                    'inventory_levels'::regclass, 'orders'::regclass)
 ORDER BY 1, 2;

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM seed_fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
END $$;

-- ---------------------------------------------------------------- products

INSERT INTO products (id, slug, name, description, category_id, currency,
                      price_min, price_max, created_at) OVERRIDING SYSTEM VALUE
SELECT i,
       trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')) || '-' || i,
       name,
       description,
       category_id,
       'USD',
       NULL, NULL,   -- filled from the variants below
       epoch - make_interval(mins => i::int) + make_interval(secs => pg_temp.seed_h(i, 5) % 60)
  FROM (
    SELECT x.i, c.category_id, sp.epoch,
           adj || ' ' || mat || ' ' || c.noun AS name,
           CASE WHEN adj ~ '^[AEIOU]' THEN 'An ' ELSE 'A ' END
             || lower(adj) || ' ' || lower(mat) || ' ' || lower(c.noun)
             || ' from our ' || lower(c.mid_name) || ' collection, '
             || sl.features[1 + pg_temp.seed_h(x.i, 3) % cardinality(sl.features)] || '. '
             || sl.closers[1 + pg_temp.seed_h(x.i, 4) % cardinality(sl.closers)] AS description
      FROM seed_params sp
     CROSS JOIN seed_lists sl
     CROSS JOIN LATERAL generate_series(1, sp.products) AS x(i)
      JOIN seed_cat c
        ON c.leaf_no = sl.leaf_pick[1 + pg_temp.seed_h(x.i, 0) % cardinality(sl.leaf_pick)]
     CROSS JOIN LATERAL (
        SELECT sl.adjectives[1 + pg_temp.seed_h(x.i, 1) % cardinality(sl.adjectives)] AS adj,
               c.materials[1 + pg_temp.seed_h(x.i, 2) % cardinality(c.materials)] AS mat
     ) w
  ) p
 ORDER BY i;

-- ---------------------------------------------------------------- variants
--
-- Per product: a base price in its mid-category's range (skewed towards the low
-- end), one price ending (.99 .50 .00 .95 .49). 35% of products sell all variants
-- at the same price; the others vary each variant by -10%..+10% of the base, so
-- a product's variants stay within ~±25% of each other. Variant layout:
--   ~45%  one colour in three consecutive sizes (XS-S-M, S-M-L or M-L-XL)
--   ~30%  three different colours in one size
--   ~25%  mixed: colour A in two sizes, colour B in the larger size

ALTER TABLE variants DISABLE TRIGGER variants_refresh_product;

INSERT INTO variants (id, product_id, sku, options, price, currency) OVERRIDING SYSTEM VALUE
SELECT 3 * (q.i - 1) + k,
       q.i,
       'P' || lpad(q.i::text, greatest(6, length(q.i::text)), '0') || '-' || k,
       jsonb_build_object(
           'color', sl.colors[1 + (q.c0 + CASE
                        WHEN q.layout < 45 THEN 0
                        WHEN q.layout < 75 THEN (k - 1) * q.cstep
                        ELSE (k / 3) * q.cstep END) % 8],
           'size',  sl.sizes[1 + CASE
                        WHEN q.layout < 45 THEN q.s0 + k - 1
                        WHEN q.layout < 75 THEN q.s1
                        ELSE q.s0 + least(k - 1, 1) END]),
       least(500.00, greatest(5.00,
           floor(q.base * CASE WHEN q.same_price THEN 100
                               ELSE 90 + pg_temp.seed_h(3 * (q.i - 1) + k, 16) % 21 END / 100)
           + q.ending))::numeric(12,2),
       'USD'
  FROM (
    SELECT p.id AS i,
           c.price_lo + (c.price_hi - c.price_lo) * (r.r * r.r)::numeric / 100000000 AS base,
           (ARRAY[0.99, 0.99, 0.99, 0.99, 0.50, 0.50, 0.50, 0.00, 0.00, 0.00,
                  0.00, 0.95, 0.95, 0.95, 0.49, 0.49, 0.99, 0.99, 0.00, 0.50]::numeric[])
               [1 + pg_temp.seed_h(p.id, 11) % 20] AS ending,
           pg_temp.seed_h(p.id, 12) % 100 < 35 AS same_price,
           pg_temp.seed_h(p.id, 13) % 100 AS layout,
           -- main colour index (0-based) in colors, via the weighted colour tickets
           array_position(sl.colors, sl.color_pick[1 + pg_temp.seed_h(p.id, 14) % 20]) - 1 AS c0,
           1 + pg_temp.seed_h(p.id, 15) % 3 AS cstep,            -- 1..3: distinct colours mod 8
           (ARRAY[0, 1, 1, 1, 2])[1 + pg_temp.seed_h(p.id, 17) % 5] AS s0,   -- first size, 0-based
           (ARRAY[1, 2, 2, 2, 3, 3, 0, 4])[1 + pg_temp.seed_h(p.id, 18) % 8] AS s1  -- single size
      FROM products p
      JOIN seed_cat c ON c.category_id = p.category_id
     CROSS JOIN seed_lists sl
     CROSS JOIN LATERAL (SELECT pg_temp.seed_h(p.id, 10) % 10000 AS r) r
  ) q
 CROSS JOIN seed_lists sl
 CROSS JOIN generate_series(1, 3) AS k
 ORDER BY q.i, k;

ALTER TABLE variants ENABLE TRIGGER variants_refresh_product;

-- Per-category facet counts are rebuilt in one statement below rather than
-- maintained row by row.
ALTER TABLE products DISABLE TRIGGER products_count_options;

UPDATE products p
   SET price_min = agg.lo, price_max = agg.hi, option_values = agg.option_values
  FROM (SELECT v.product_id, min(v.price) AS lo, max(v.price) AS hi,
               (SELECT array_agg(DISTINCT kv.key || '=' || kv.value ORDER BY kv.key || '=' || kv.value)
                  FROM variants v2 CROSS JOIN LATERAL jsonb_each_text(v2.options) AS kv
                 WHERE v2.product_id = v.product_id) AS option_values
          FROM variants v GROUP BY v.product_id) agg
 WHERE p.id = agg.product_id;

DELETE FROM category_option_counts;
INSERT INTO category_option_counts (category_id, option_value, products)
SELECT p.category_id, ov, count(*)
  FROM products p CROSS JOIN LATERAL unnest(p.option_values) AS ov
 WHERE p.price_min IS NOT NULL
 GROUP BY 1, 2;

ALTER TABLE products ENABLE TRIGGER products_count_options;

-- ---------------------------------------------------------------- inventory
--
-- Per variant v (u = hash % 1000):
--   u <  80   sold out: 0 everywhere                                     (8%)
--   u < 380   few: 1-12 units in total; 60% of these sit in one warehouse,
--             the rest are split over two warehouses                      (30%)
--   u < 410   plenty, but only in den-central (denver store only)         (3%)
--   u < 440   plenty, but only in sf warehouses (sf store only)           (3%)
--   else      plenty: 20-500 per warehouse, 20% with one of the two sf
--             warehouses at 0 (still stocked in both stores)              (56%)
-- Warehouse ids: 1 sf-mission, 2 sf-oakland, 3 den-central.

INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand, reserved)
SELECT v, w,
       CASE
         WHEN u < 80 THEN 0
         WHEN u < 380 THEN
           CASE WHEN one_wh THEN CASE WHEN w = w1 THEN few ELSE 0 END
                WHEN w = w1 THEN split
                WHEN w = w2 THEN few - split
                ELSE 0 END
         WHEN u < 410 THEN CASE WHEN w = 3 THEN plenty ELSE 0 END
         WHEN u < 440 THEN CASE WHEN w = 3 THEN 0
                                WHEN w = 2 AND gap < 5 THEN 0
                                ELSE plenty END
         ELSE CASE WHEN gap < 2 AND w = gap + 1 THEN 0 ELSE plenty END
       END,
       0
  FROM (
    SELECT v, w,
           pg_temp.seed_h(v, 20) % 1000 AS u,
           1 + pg_temp.seed_h(v, 21) % 12 AS few,
           pg_temp.seed_h(v, 22) % 100 < 60 AS one_wh,
           w1, 1 + (w1 + pg_temp.seed_h(v, 24) % 2) % 3 AS w2,
           1 + pg_temp.seed_h(v, 25) % (1 + pg_temp.seed_h(v, 21) % 12) AS split,
           pg_temp.seed_h(v, 26) % 10 AS gap,
           -- 20..500, skewed towards the low end; differs per warehouse
           20 + pr * pr / 480 AS plenty
      FROM seed_params sp
     CROSS JOIN LATERAL generate_series(1, 3 * sp.products::bigint) AS v
     CROSS JOIN LATERAL (
         -- the warehouse holding a "few" variant's stock: sf-mission 40%, sf-oakland 25%, den 35%
         SELECT CASE WHEN pg_temp.seed_h(v, 23) % 100 < 40 THEN 1
                     WHEN pg_temp.seed_h(v, 23) % 100 < 65 THEN 2
                     ELSE 3 END AS w1
     ) pick
     CROSS JOIN generate_series(1, 3) AS w
     CROSS JOIN LATERAL (SELECT pg_temp.seed_h(v * 3 + w, 27) % 481 AS pr) r
  ) s
 ORDER BY v, w;

-- ---------------------------------------------------------------- orders
--
-- Order n (1..:orders) is placed at epoch - 2 years * (N - n) / N, minus up to
-- 10 minutes of jitter, so ids ascend in time across the two years before the
-- epoch. store: sf 62%, denver 38%. status: pending_payment 8,
-- paid 6, fulfilling 4, shipped 8, delivered 64, cancelled 7, refunded 3 (%).
-- updated_at = created_at + a status-dependent delay, capped at the epoch.

INSERT INTO orders (id, store_id, status, currency, total, email, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT n, store_id, status, 'USD', total, email, created_at,
       least(epoch, created_at + make_interval(secs => CASE status
           WHEN 'pending_payment' THEN 60 + d % 1800
           WHEN 'paid'            THEN 300 + d % 7200
           WHEN 'fulfilling'      THEN 3600 + d % 86400
           WHEN 'shipped'         THEN 86400 + d % 259200
           WHEN 'delivered'       THEN 259200 + d % 432000
           WHEN 'cancelled'       THEN 600 + d % 172800
           ELSE                        864000 + d % 1728000 END)) AS updated_at
  FROM (
    SELECT n, sp.epoch,
           CASE WHEN pg_temp.seed_h(n, 40) % 100 < 62 THEN 1 ELSE 2 END AS store_id,
           CASE WHEN st < 8  THEN 'pending_payment'
                WHEN st < 14 THEN 'paid'
                WHEN st < 18 THEN 'fulfilling'
                WHEN st < 26 THEN 'shipped'
                WHEN st < 90 THEN 'delivered'
                WHEN st < 97 THEN 'cancelled'
                ELSE              'refunded' END AS status,
           -- 1-3 items of 5.00..300.00 each (skewed low): 5.00 .. 900.00
           ((500 + t.r * t.r / 29500) * (1 + pg_temp.seed_h(n, 43) % 10 / 4))::numeric / 100
             AS total,
           -- about 3 orders per customer
           'customer' || (1 + pg_temp.seed_h(n, 45) % greatest(1, sp.orders / 3)) || '@example.com'
             AS email,
           sp.epoch - make_interval(secs => (sp.orders - n)::bigint * 63072000 / sp.orders
                                            + pg_temp.seed_h(n, 46) % 600) AS created_at,
           pg_temp.seed_h(n, 47) AS d
      FROM seed_params sp
     CROSS JOIN LATERAL generate_series(1, sp.orders) AS n
     CROSS JOIN LATERAL (SELECT pg_temp.seed_h(n, 41) % 100 AS st,
                                pg_temp.seed_h(n, 42) % 29501 AS r) t
  ) o
 ORDER BY n;

ANALYZE orders;

-- Re-create (and so validate) the foreign keys dropped above.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM seed_fks LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def);
    END LOOP;
END $$;

-- ---------------------------------------------------------------- bookkeeping

-- Move the identity sequences past the explicit ids (next id = max + 1).
SELECT setval(pg_get_serial_sequence(t, 'id'), coalesce(m, 0) + 1, false)
  FROM (VALUES ('stores',     (SELECT max(id) FROM stores)),
               ('warehouses', (SELECT max(id) FROM warehouses)),
               ('categories', (SELECT max(id) FROM categories)),
               ('products',   (SELECT max(id) FROM products)),
               ('variants',   (SELECT max(id) FROM variants)),
               ('orders',     (SELECT max(id) FROM orders))) AS s(t, m)
\g /dev/null

CREATE TABLE IF NOT EXISTS seed_info (
    products  int,
    orders    int,
    seeded_at timestamptz
);
INSERT INTO seed_info (products, orders, seeded_at)
SELECT products, orders, now() FROM seed_params;

DROP FUNCTION pg_temp.seed_h(bigint, int);

ANALYZE regions;
ANALYZE stores;
ANALYZE warehouses;
ANALYZE categories;
ANALYZE products;
ANALYZE category_option_counts;
ANALYZE variants;
ANALYZE inventory_levels;

COMMIT;

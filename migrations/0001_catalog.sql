-- Catalog, stores, inventory and the orders table the seed's hot query runs on.
-- Money is numeric(12,2) plus an ISO-4217 currency; never floating point.

CREATE TABLE regions (
    code     text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$'),
    name     text NOT NULL,
    currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE TABLE stores (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL,
    region_code text NOT NULL REFERENCES regions (code)
);

CREATE TABLE warehouses (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id bigint NOT NULL REFERENCES stores (id),
    code     text NOT NULL UNIQUE,
    name     text NOT NULL
);
CREATE INDEX warehouses_store ON warehouses (store_id);

CREATE TABLE categories (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint REFERENCES categories (id),
    slug      text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name      text NOT NULL,
    position  int NOT NULL DEFAULT 0
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$' AND length(slug) <= 127),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    category_id bigint NOT NULL REFERENCES categories (id),
    currency    char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Denormalised from variants by a trigger: price sorts page by index, and
    -- facet counts read one small array per product ('color=red', 'size=M')
    -- instead of unpacking every variant's JSON on every request.
    price_min     numeric(12,2),
    price_max     numeric(12,2),
    option_values text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    search      tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', name), 'A') ||
                    setweight(to_tsvector('english', description), 'B')) STORED
);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_search ON products USING gin (search);
CREATE INDEX products_newest ON products (created_at DESC, id DESC);
CREATE INDEX products_price_asc ON products (price_min, id);
CREATE INDEX products_price_desc ON products (price_max DESC, id DESC);

CREATE TABLE variants (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku        text NOT NULL UNIQUE CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]+$' AND length(sku) BETWEEN 3 AND 64),
    -- Option values, e.g. {"color":"red","size":"M"}.
    options    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    price      numeric(12,2) NOT NULL CHECK (price >= 0),
    currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX variants_product ON variants (product_id);
CREATE INDEX variants_options ON variants USING gin (options jsonb_path_ops);

CREATE TABLE inventory_levels (
    variant_id   bigint NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    warehouse_id bigint NOT NULL REFERENCES warehouses (id),
    on_hand      int NOT NULL CHECK (on_hand >= 0),
    reserved     int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    CHECK (reserved <= on_hand),
    PRIMARY KEY (variant_id, warehouse_id)
);
CREATE INDEX inventory_levels_warehouse ON inventory_levels (warehouse_id);

-- Keeps products.price_min/max/option_values equal to what their variants
-- say. A variant moved between products refreshes both of them.
CREATE FUNCTION products_option_values(product bigint) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT COALESCE(array_agg(DISTINCT kv.key || '=' || kv.value ORDER BY kv.key || '=' || kv.value), '{}')
      FROM variants v CROSS JOIN LATERAL jsonb_each_text(v.options) AS kv
     WHERE v.product_id = product
$$;

CREATE FUNCTION products_refresh_from_variants() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[] := ARRAY[]::bigint[];
BEGIN
    IF TG_OP <> 'INSERT' THEN touched := touched || OLD.product_id; END IF;
    IF TG_OP <> 'DELETE' THEN touched := touched || NEW.product_id; END IF;
    UPDATE products p
       SET price_min = (SELECT min(price) FROM variants WHERE product_id = p.id),
           price_max = (SELECT max(price) FROM variants WHERE product_id = p.id),
           option_values = products_option_values(p.id)
     WHERE p.id = ANY (touched);
    RETURN NULL;
END $$;
CREATE TRIGGER variants_refresh_product
    AFTER INSERT OR UPDATE OF price, product_id, options OR DELETE ON variants
    FOR EACH ROW EXECUTE FUNCTION products_refresh_from_variants();

CREATE TABLE orders (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    store_id   bigint NOT NULL REFERENCES stores (id),
    status     text NOT NULL CHECK (status IN ('pending', 'pending_payment', 'paid',
                   'fulfilling', 'shipped', 'delivered', 'cancelled', 'refunded')),
    currency   char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    total      numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    email      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The seed's hot query: WHERE store_id=$1 AND status=$2 ORDER BY created_at DESC LIMIT 50.
CREATE INDEX orders_store_status_created ON orders (store_id, status, created_at DESC);

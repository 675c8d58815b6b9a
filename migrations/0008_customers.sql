-- Customers (issue 11): accounts, wishlists, the loyalty ledger, and the
-- order columns that tie an order to its customer and its points.
-- The stored functions and triggers that use these tables live in
-- shared/customers/sql/ (applied on every migrate).

-- 1. Public ids: 'cus_' + 26 characters of Crockford-style base32 (128 bits of
--    randomness from gen_random_uuid, as order_public_id).
CREATE FUNCTION customer_public_id() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT 'cus_' || substring(order_public_id() FROM 5)
$$;

-- 2. Accounts. Personal data: email, full_name, password_hash, addresses.
--    Erasure (DELETE /customers/me) sets them to NULL / '[]' and deleted_at;
--    the row stays, so orders and the ledger keep their customer.
CREATE TABLE customers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id         text NOT NULL DEFAULT customer_public_id()
                      CHECK (public_id ~ '^cus_[0-9a-z]{26}$'),
    -- Trimmed and lower-cased by the customers worker (customers::profile).
    email             text CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    full_name         text CHECK (length(full_name) BETWEEN 1 AND 200),
    -- argon2id PHC string.
    password_hash     text CHECK (length(password_hash) BETWEEN 20 AND 200),
    email_verified_at timestamptz,
    addresses         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(addresses) = 'array'),
    -- The saved cart (a cart id; the cart itself lives in KV / its object).
    cart_id           text CHECK (length(cart_id) BETWEEN 1 AND 64),
    -- The sum of the customer's loyalty_ledger rows, kept by the ledger's
    -- trigger only (shared/customers/sql/loyalty.sql refuses other writes).
    points_balance    int NOT NULL DEFAULT 0 CONSTRAINT customers_points_nonnegative CHECK (points_balance >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CHECK (deleted_at IS NULL OR (email IS NULL AND full_name IS NULL AND password_hash IS NULL))
);
CREATE UNIQUE INDEX customers_public_id ON customers (public_id);
CREATE UNIQUE INDEX customers_email ON customers (email) WHERE email IS NOT NULL;

-- 3. Orders: whose, and the points they hold or earn. total stays the amount
--    charged: subtotal + tax - points_discount (points are a tender that
--    pays part of the order; tax is on the full price).
ALTER TABLE orders
    ADD COLUMN customer_id     bigint REFERENCES customers (id),
    ADD COLUMN points_redeemed int NOT NULL DEFAULT 0 CHECK (points_redeemed >= 0),
    ADD COLUMN points_discount numeric(12,2) NOT NULL DEFAULT 0 CHECK (points_discount >= 0),
    ADD COLUMN points_to_earn  int NOT NULL DEFAULT 0 CHECK (points_to_earn >= 0);
-- GET /customers/me/orders: newest first, keyset on (created_at, id).
CREATE INDEX orders_customer_created ON orders (customer_id, created_at DESC, id DESC)
    WHERE customer_id IS NOT NULL;
-- Claiming guest orders by email (POST /customers/verify).
CREATE INDEX orders_guest_email ON orders (lower(email)) WHERE customer_id IS NULL;

-- 4. Wishlists. When a SKU's available stock goes from none to some, the
--    restock trigger (shared/customers/sql/back_in_stock.sql) queues one
--    notice per wishlist row and stamps notified_at.
CREATE TABLE wishlist_items (
    customer_id      bigint NOT NULL REFERENCES customers (id),
    sku              text NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    created_at       timestamptz NOT NULL DEFAULT now(),
    notified_at      timestamptz,
    PRIMARY KEY (customer_id, sku)
);
CREATE INDEX wishlist_items_sku ON wishlist_items (sku);

-- 5. The loyalty ledger: append-only; the balance is its sum.
--   earn     +n  an order paid (points_to_earn), once per order
--   redeem   -n  points held by a checkout (points_redeemed), once per order
--   release  +n  an unpaid order cancelled or expired gives them back, once
--   reverse  -n  a refund takes back earned points in proportion, per refund
CREATE TABLE loyalty_ledger (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    order_id    bigint REFERENCES orders (id),
    refund_id   bigint REFERENCES refunds (id),
    kind        text NOT NULL CHECK (kind IN ('earn', 'redeem', 'release', 'reverse')),
    points      int NOT NULL CHECK (points <> 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind IN ('earn', 'release') AND points > 0) OR (kind IN ('redeem', 'reverse') AND points < 0)),
    CHECK ((kind = 'reverse') = (refund_id IS NOT NULL))
);
CREATE UNIQUE INDEX loyalty_ledger_once_per_order ON loyalty_ledger (order_id, kind)
    WHERE kind IN ('earn', 'redeem', 'release');
CREATE UNIQUE INDEX loyalty_ledger_once_per_refund ON loyalty_ledger (refund_id)
    WHERE refund_id IS NOT NULL;
CREATE INDEX loyalty_ledger_customer ON loyalty_ledger (customer_id, id DESC);

-- 6. Back-in-stock notices are alerts too (deduplicated per restock).
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('low_stock', 'fulfillment_failed', 'back_in_stock'));

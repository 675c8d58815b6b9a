-- Checkout hardening: opaque public order ids, the tax rate and the client's
-- hashed address on orders, the indexes the pending-order caps count with,
-- and idempotency keys scoped to their cart and expired after 24 hours.

-- 'ord_' + 26 base32 characters (Crockford's alphabet, lower case) of 128
-- random bits: a public order id that says nothing about how many orders
-- there are or when one was placed. The bits come from gen_random_uuid()
-- (PostgreSQL's strong random source; core since 13): the 13 bytes of a
-- version-4 UUID that are wholly random (0-5 and 9-15), and 3 of another.
CREATE FUNCTION order_public_id() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a        bytea := uuid_send(gen_random_uuid());
    b        bytea := uuid_send(gen_random_uuid());
    raw      bytea := substring(a FROM 1 FOR 6) || substring(a FROM 10 FOR 7)
                      || substring(b FROM 1 FOR 3);
    alphabet text := '0123456789abcdefghjkmnpqrstvwxyz';
    acc      int := 0;
    bits     int := 0;
    id       text := 'ord_';
BEGIN
    FOR i IN 0..15 LOOP
        acc := (acc << 8) | get_byte(raw, i);
        bits := bits + 8;
        WHILE bits >= 5 LOOP
            id := id || substr(alphabet, ((acc >> (bits - 5)) & 31) + 1, 1);
            bits := bits - 5;
        END LOOP;
        acc := acc & ((1 << bits) - 1);
    END LOOP;
    -- 128 = 25 x 5 + 3: the last 3 bits make the 26th character.
    RETURN id || substr(alphabet, ((acc << (5 - bits)) & 31) + 1, 1);
END $$;

ALTER TABLE orders
    -- Existing orders get theirs here (the default runs once per row).
    ADD COLUMN public_id      text NOT NULL DEFAULT order_public_id()
                              CHECK (public_id ~ '^ord_[0-9a-z]{26}$'),
    -- The sales tax rate the order was taxed at.
    ADD COLUMN tax_rate       numeric(7,6) CHECK (tax_rate >= 0 AND tax_rate < 1),
    -- HMAC of the client's address under CLIENT_IP_SECRET, never the address.
    ADD COLUMN client_ip_hash text;
CREATE UNIQUE INDEX orders_public_id ON orders (public_id);

-- place_order's caps: unpaid orders whose reservation still runs, per email
-- (case-insensitive) and per client. Only pending orders are indexed.
CREATE INDEX orders_pending_email ON orders (lower(email), reservation_expires_at)
    WHERE status = 'pending_payment';
CREATE INDEX orders_pending_client ON orders (client_ip_hash, reservation_expires_at)
    WHERE status = 'pending_payment';

-- Keys are scoped to the cart they checked out: the same key sent for two
-- carts is two checkouts. Keys already stored take the cart from their record
-- (a placed record's summary, or the older whole answer).
ALTER TABLE idempotency_keys ADD COLUMN cart_id text NOT NULL DEFAULT '';
UPDATE idempotency_keys
   SET cart_id = coalesce(response#>>'{summary,cart_id}', response->>'cart_id', '')
 WHERE scope = 'checkout';
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD PRIMARY KEY (scope, cart_id, key);
-- Checkout's cron deletes keys older than 24 hours, oldest first.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
COMMENT ON COLUMN idempotency_keys.fingerprint IS
    'checkout: HMAC-SHA256 (IDEMPOTENCY_SECRET) of the parsed request with the birth date '
    'replaced by the age check''s outcome; keys from before 0005: sha256 of the body';

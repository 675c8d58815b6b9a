-- Account work that must be one transaction: verifying an email (and
-- claiming the guest orders placed with it), erasing a customer, and the
-- export. Applied on every `scripts/db migrate`. Rust: shared/customers/src/queries.rs.

-- password_fingerprint: what verify and reset links are bound to (the first
-- 16 hex digits of sha256 of the argon2 PHC string; customers::link_token).
-- A new password (a reset, or a second signup of an unverified email) makes
-- every link sent before it useless: reset links are single-use this way,
-- and a stranger who signed up first with someone's email cannot have the
-- owner verify the stranger's password.
CREATE OR REPLACE FUNCTION password_fingerprint(p_hash text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT left(encode(sha256(convert_to(p_hash, 'UTF8')), 'hex'), 16)
$$;

-- customer_verify: the signed link proved the shopper reads `p_email`.
-- Marks the account verified and gives it the guest orders placed with that
-- email (case-insensitive). NULL when the account is gone, or its email or
-- password changed since the link was sent.
CREATE OR REPLACE FUNCTION customer_verify(p_public_id text, p_email text, p_fingerprint text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    cust    bigint;
    claimed int;
BEGIN
    UPDATE customers
       SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now()
     WHERE public_id = p_public_id AND email = p_email AND deleted_at IS NULL
       AND password_fingerprint(password_hash) = p_fingerprint
    RETURNING id INTO cust;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE orders SET customer_id = cust
     WHERE customer_id IS NULL AND lower(email) = p_email;
    GET DIAGNOSTICS claimed = ROW_COUNT;
    RETURN jsonb_build_object('verified', true, 'claimed_orders', claimed);
END $$;

-- customer_erase: DELETE /customers/me. Refused while an order of the
-- customer (or a guest order with the same email) is still on its way:
-- its address and email are needed to deliver it. Otherwise, in one
-- transaction: the account's personal data goes (the row stays, so orders
-- and the ledger keep a customer), orders keep their amounts but lose
-- email and address, the wishlist and abandoned-cart records go.
CREATE OR REPLACE FUNCTION customer_erase(p_public_id text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    c customers%ROWTYPE;
BEGIN
    SELECT * INTO c FROM customers WHERE public_id = p_public_id AND deleted_at IS NULL FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'customer_not_found');
    END IF;
    IF EXISTS (SELECT 1 FROM orders o
                WHERE (o.customer_id = c.id OR (o.customer_id IS NULL AND lower(o.email) = c.email))
                  AND o.status IN ('pending_payment', 'paid', 'fulfilling', 'shipped')) THEN
        RETURN jsonb_build_object('refused', 'orders_in_progress');
    END IF;
    UPDATE orders SET email = NULL, shipping_address = NULL, customer_id = c.id
     WHERE customer_id = c.id OR (customer_id IS NULL AND lower(email) = c.email);
    DELETE FROM cart_recovery WHERE lower(email) = c.email;
    DELETE FROM wishlist_items WHERE customer_id = c.id;
    UPDATE customers
       SET email = NULL, full_name = NULL, password_hash = NULL, addresses = '[]',
           email_verified_at = NULL, cart_id = NULL, deleted_at = now(), updated_at = now()
     WHERE id = c.id;
    RETURN jsonb_build_object('erased', true);
END $$;

-- customer_export: everything we hold about the customer, as one JSON
-- document (GET /customers/me/export).
CREATE OR REPLACE FUNCTION customer_export(p_public_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'saved_cart_id', c.cart_id,
        'customer', jsonb_build_object(
            'id', c.public_id, 'email', c.email, 'name', c.full_name,
            'email_verified', c.email_verified_at IS NOT NULL,
            'addresses', c.addresses, 'points_balance', c.points_balance,
            'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'orders', COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                       'id', o.public_id, 'status', o.status, 'currency', o.currency,
                       'subtotal', o.subtotal::text, 'tax', o.tax::text,
                       'points_discount', o.points_discount::text, 'total', o.total::text,
                       'points_redeemed', o.points_redeemed, 'email', o.email,
                       'shipping_address', o.shipping_address,
                       'created_at', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'lines', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                                        'sku', l.sku, 'name', l.name, 'quantity', l.quantity,
                                        'unit_price', l.unit_price::text, 'line_total', l.line_total::text)
                                        ORDER BY l.line_no), '[]')
                                   FROM order_lines l WHERE l.order_id = o.id))
                       ORDER BY o.created_at, o.id)
              FROM orders o WHERE o.customer_id = c.id), '[]'),
        'wishlist', COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                       'sku', w.sku,
                       'added_at', to_char(w.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                       ORDER BY w.created_at, w.sku)
              FROM wishlist_items w WHERE w.customer_id = c.id), '[]'),
        'loyalty', COALESCE((
            SELECT jsonb_agg(jsonb_build_object(
                       'kind', g.kind, 'points', g.points,
                       'order_id', (SELECT o.public_id FROM orders o WHERE o.id = g.order_id),
                       'created_at', to_char(g.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                       ORDER BY g.id)
              FROM loyalty_ledger g WHERE g.customer_id = c.id), '[]'))
      FROM customers c
     WHERE c.public_id = p_public_id AND c.deleted_at IS NULL
$$;

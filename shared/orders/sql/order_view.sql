-- An order as its routes show it, built by the database in one statement
-- (shared/orders/src/view.rs calls these; functions/orders answers with the
-- text as it comes).
--
--   order_view(public_id)        the shopper's view (GET /orders/{id}). It
--                                runs on the REPLICA, as shop_reader, so it
--                                reads no personal column (scripts/privileges.sql:
--                                email, shipping_address, client_ip_hash,
--                                cart_id, age_verified_at, age_minimum) and no
--                                provider secret; a test in view.rs checks it.
--   order_customer_public_id(public_id)
--                                the public id (cus_…) of the customer the
--                                order belongs to, NULL for a guest's order
--                                (or no order): the route compares it with
--                                the caller's session. Not part of any view's
--                                JSON. Replica-safe: customers.public_id is
--                                not personal.
--   order_admin_view(public_id)  staff's (GET /admin/orders/{id}): the same
--                                view plus `staff`, with the email and the
--                                shipping address. Only the PRIMARY's role
--                                (shop_writer) may read those columns, so it
--                                fails on the replica rather than leak.
--
-- Both are plain SQL functions without SECURITY DEFINER: they run with the
-- caller's privileges, so the replica role's column grants hold inside them.
-- NULL when no order has the id (the route answers 404).
--
-- Money is text with the column's two decimals ("12.34"); times are RFC 3339
-- in UTC with microseconds ("2026-01-31T09:15:00.000000Z", order_time_text).
-- Re-runnable: CREATE OR REPLACE only (scripts/db migrate applies it again
-- after every migration).

-- A time as every order answer (and the dashboard's cursor) prints it. The
-- dashboard's cursor check (shared/orders/src/dashboard.rs) accepts exactly
-- this shape.
CREATE OR REPLACE FUNCTION order_time_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

CREATE OR REPLACE FUNCTION order_view(public_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'order_id', o.public_id,
               'status', o.status,
               'needs_review', o.review_reason IS NOT NULL,
               'created_at', order_time_text(o.created_at),
               'updated_at', order_time_text(o.updated_at),
               -- The earlier answer's two fields, kept for its clients: the
               -- same as totals.total and totals.currency.
               'total', o.total::text,
               'currency', o.currency::text,
               -- Loyalty points that paid part of the order (0 / "0.00":
               -- none, every guest order); total = subtotal + tax - points_discount.
               'points_redeemed', o.points_redeemed,
               'points_discount', o.points_discount::text,
               -- subtotal and tax are NULL on orders older than checkout (the seed's).
               'totals', jsonb_build_object(
                   'subtotal', o.subtotal::text,
                   'tax', o.tax::text,
                   'total', o.total::text,
                   'currency', o.currency::text),
               'lines', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'line_no', l.line_no,
                              'sku', l.sku,
                              'name', l.name,
                              'quantity', l.quantity,
                              'unit_price', l.unit_price::text,
                              'line_total', l.line_total::text) ORDER BY l.line_no)
                     FROM order_lines l
                    WHERE l.order_id = o.id), '[]'::jsonb),
               -- What each attempt did, never the provider's ids or secrets.
               'payments', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'provider', p.provider,
                              'status', p.status,
                              'amount', p.amount::text,
                              'captured', p.captured::text,
                              'refunded', p.refunded::text) ORDER BY p.id)
                     FROM payments p
                    WHERE p.order_id = o.id), '[]'::jsonb),
               'shipments', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'carrier', s.carrier,
                              'service', s.service,
                              'tracking_number', s.tracking_number,
                              'booked_at', order_time_text(s.booked_at),
                              'delivered_at', order_time_text(s.delivered_at),
                              -- A label booked for an order cancelled meanwhile.
                              'voided_at', order_time_text(s.voided_at)) ORDER BY s.id)
                     FROM shipments s
                    WHERE s.order_id = o.id), '[]'::jsonb),
               -- Oldest first; events of one transaction share `at`, the id
               -- keeps their order.
               'history', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'from', e.from_status,
                              'to', e.to_status,
                              'cause', e.cause,
                              'actor', e.actor,
                              'at', order_time_text(e.at)) ORDER BY e.at, e.id)
                     FROM order_events e
                    WHERE e.order_id = o.id), '[]'::jsonb))
      FROM orders o
     WHERE o.public_id = order_view.public_id
$$;

CREATE OR REPLACE FUNCTION order_customer_public_id(public_id text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT c.public_id
      FROM orders o
      JOIN customers c ON c.id = o.customer_id
     WHERE o.public_id = order_customer_public_id.public_id
$$;

CREATE OR REPLACE FUNCTION order_admin_view(public_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT order_view(o.public_id) || jsonb_build_object('staff', jsonb_build_object(
               'id', o.id,
               'store_id', o.store_id,
               'region', o.region_code,
               'email', o.email,
               'shipping_address', o.shipping_address,
               'review_reason', o.review_reason,
               'flagged_at', order_time_text(o.flagged_at),
               'fulfillment_attempts', o.fulfillment_attempts,
               'fulfillment_error', o.fulfillment_error,
               'fulfillment_failed_at', order_time_text(o.fulfillment_failed_at),
               'alerts', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'kind', a.kind,
                              'message', a.message,
                              'created_at', order_time_text(a.created_at),
                              'posted_at', order_time_text(a.posted_at)) ORDER BY a.created_at, a.id)
                     FROM alerts a
                    WHERE a.order_id = o.id), '[]'::jsonb)))
      FROM orders o
     WHERE o.public_id = order_admin_view.public_id
$$;

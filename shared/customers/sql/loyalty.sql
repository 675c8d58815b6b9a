-- The loyalty ledger's rules, all in the database so that every path that
-- pays, cancels or refunds an order applies them in its own transaction
-- (docs/customers.md, "Loyalty points"). Applied on every `scripts/db
-- migrate`. Tables: migrations/0008_customers.sql.
--
--   * the ledger is append-only;
--   * customers.points_balance is the ledger's sum, written only by the
--     ledger's insert trigger; CHECK (points_balance >= 0) makes an insert
--     that would overdraw fail, so the balance can never go negative;
--   * an order becoming paid earns its points_to_earn (once per order);
--   * an unpaid order cancelled (by staff, or by the reservation expiring)
--     gives its held points back (once per order);
--   * a refund of goods that succeeded takes back earned points in
--     proportion to the amount refunded, cumulatively, never more than the
--     balance holds (points already spent stay spent).
-- Redeeming is place_order's (shared/checkout/sql/place_order.sql): it
-- locks the customer row after the stock rows, as every trigger here runs
-- after the stock changes of its transaction, so the two never deadlock.

CREATE OR REPLACE FUNCTION loyalty_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_ledger is append-only: add a row instead of changing one';
END $$;

DROP TRIGGER IF EXISTS loyalty_ledger_append_only ON loyalty_ledger;
CREATE TRIGGER loyalty_ledger_append_only
    BEFORE UPDATE OR DELETE ON loyalty_ledger
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_append_only();

CREATE OR REPLACE FUNCTION loyalty_ledger_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET points_balance = points_balance + NEW.points
     WHERE id = NEW.customer_id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS loyalty_ledger_apply ON loyalty_ledger;
CREATE TRIGGER loyalty_ledger_apply
    AFTER INSERT ON loyalty_ledger
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_apply();

-- Only the ledger's trigger (which runs at trigger depth 1, making this one
-- depth 2) may change a balance.
CREATE OR REPLACE FUNCTION customers_balance_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.points_balance IS DISTINCT FROM OLD.points_balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'points_balance is the sum of loyalty_ledger: insert a ledger row';
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS customers_balance_guard ON customers;
CREATE TRIGGER customers_balance_guard
    BEFORE UPDATE OF points_balance ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_balance_guard();

-- Earning and releasing follow the order's status.
CREATE OR REPLACE FUNCTION orders_loyalty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'paid' AND NEW.points_to_earn > 0 THEN
        INSERT INTO loyalty_ledger (customer_id, order_id, kind, points)
        VALUES (NEW.customer_id, NEW.id, 'earn', NEW.points_to_earn)
        ON CONFLICT DO NOTHING;
    ELSIF NEW.status = 'cancelled' AND NEW.points_redeemed > 0 THEN
        INSERT INTO loyalty_ledger (customer_id, order_id, kind, points)
        VALUES (NEW.customer_id, NEW.id, 'release', NEW.points_redeemed)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS orders_loyalty ON orders;
CREATE TRIGGER orders_loyalty
    AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status = 'pending_payment' AND NEW.status IN ('paid', 'cancelled')
          AND NEW.customer_id IS NOT NULL)
    EXECUTE FUNCTION orders_loyalty();

-- A refund of the goods (staff's, or one made at the provider) that
-- succeeded. Refunds of a second or late payment (origin late_payment /
-- extra_payment) give back money the order never kept: no points move.
CREATE OR REPLACE FUNCTION refunds_loyalty() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    o         orders%ROWTYPE;
    earned    int;
    reversed  int;
    refunded  numeric;
    target    int;
    balance   int;
    due       int;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'succeeded' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO o FROM orders WHERE id = NEW.order_id;
    IF o.customer_id IS NULL OR o.total <= 0 THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(sum(points) FILTER (WHERE kind = 'earn'), 0),
           COALESCE(-sum(points) FILTER (WHERE kind = 'reverse'), 0)
      INTO earned, reversed
      FROM loyalty_ledger WHERE order_id = o.id;
    IF earned = 0 THEN
        RETURN NULL;
    END IF;
    SELECT COALESCE(sum(amount), 0) INTO refunded
      FROM refunds
     WHERE order_id = o.id AND status = 'succeeded' AND origin IN ('admin', 'provider');
    target := least(earned, floor(earned * refunded / o.total)::int);
    SELECT points_balance INTO balance FROM customers WHERE id = o.customer_id FOR NO KEY UPDATE;
    due := least(target - reversed, balance);
    IF due > 0 THEN
        INSERT INTO loyalty_ledger (customer_id, order_id, refund_id, kind, points)
        VALUES (o.customer_id, o.id, NEW.id, 'reverse', -due)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS refunds_loyalty ON refunds;
CREATE TRIGGER refunds_loyalty
    AFTER INSERT OR UPDATE OF status ON refunds
    FOR EACH ROW
    WHEN (NEW.status = 'succeeded' AND NEW.origin IN ('admin', 'provider'))
    EXECUTE FUNCTION refunds_loyalty();

-- The database's guard on order statuses: a change the order state machine
-- (shared/orders/src/machine.rs) does not allow is refused, whichever stored
-- function or statement tries it. The list is the machine's, and a test there
-- (the_database_guard_allows_exactly_the_machines_changes) reads this file
-- to keep the two equal: change both together.
CREATE OR REPLACE FUNCTION order_transition_allowed(f text, t text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (f, t) IN (
        -- transitions:begin
        ('pending_payment', 'paid'),
        ('pending_payment', 'cancelled'),
        ('paid', 'cancelled'),
        ('paid', 'fulfilling'),
        ('paid', 'partially_refunded'),
        ('paid', 'refunded'),
        ('partially_refunded', 'cancelled'),
        ('partially_refunded', 'fulfilling'),
        ('partially_refunded', 'refunded'),
        ('fulfilling', 'cancelled'),
        ('fulfilling', 'shipped'),
        ('shipped', 'delivered'),
        ('cancelled', 'paid')
        -- transitions:end
    )
$$;

CREATE OR REPLACE FUNCTION orders_status_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT order_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION USING ERRCODE = 'EO001', MESSAGE = 'illegal_transition',
            DETAIL = format('an order that is %s cannot become %s', OLD.status, NEW.status);
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS orders_status_guard ON orders;
CREATE TRIGGER orders_status_guard
    BEFORE UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION orders_status_guard();

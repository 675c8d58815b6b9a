-- An order's status after its payment's refunded total changed: a paid order
-- becomes partially_refunded, then refunded, as the provider confirms. Only
-- the payment that paid the order counts (an extra payment refunded
-- automatically changes nothing). Orders past `paid` (fulfilling, shipped,
-- delivered) keep their status; the refund is on the payment row.
-- The caller holds the order's row lock.
CREATE OR REPLACE FUNCTION settle_refund_status(o_id bigint, why text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    o    orders%ROWTYPE;
    pay  payments%ROWTYPE;
    new_status text;
BEGIN
    SELECT * INTO o FROM orders WHERE id = o_id;
    IF o.paid_by IS NULL OR o.status NOT IN ('paid', 'partially_refunded', 'refunded') THEN
        RETURN o.status;
    END IF;
    SELECT * INTO pay FROM payments WHERE id = o.paid_by;
    new_status := CASE WHEN pay.refunded >= pay.captured AND pay.captured > 0 THEN 'refunded'
                 WHEN pay.refunded > 0 THEN 'partially_refunded'
                 ELSE 'paid' END;
    IF new_status <> o.status THEN
        UPDATE orders SET status = new_status, updated_at = now() WHERE id = o_id;
        INSERT INTO order_events (order_id, from_status, to_status, cause)
        VALUES (o_id, o.status, new_status, why);
    END IF;
    RETURN new_status;
END $$;

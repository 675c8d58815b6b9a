-- Cancelling an order (staff): its stock goes back as its state requires,
-- and money taken is refunded through the payments' refund path.
--
-- Input: {order_id: <public id>, cancellable: [statuses the order machine
--         lets `cancel` happen in], reason: text (kept with the refund only)}
-- Output: {"cancelled": {from, refunds_due: [refunds.id]}}
--       | {"already": true}                       cancelled before: nothing changes
--       | {"refused": {status, code, message}}
--
-- Stock: a reservation still held (pending_payment) is released
-- (reserved -= q); a committed one (the order was paid) is restocked
-- (on_hand += q). Either way the reservation row ends `released`.
-- Lock order: the order row, then inventory rows in (variant_id, warehouse_id).
CREATE OR REPLACE FUNCTION cancel_order(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o    orders%ROWTYPE;
    pay  payments%ROWTYPE;
    amt  numeric;
    r_id bigint;
    due  bigint[] := '{}';
BEGIN
    SELECT * INTO o FROM orders WHERE public_id = p->>'order_id' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 404, 'code', 'order_not_found', 'message', 'no order has this id'));
    END IF;
    IF o.status = 'cancelled' THEN
        RETURN jsonb_build_object('already', true);
    END IF;
    IF NOT o.status = ANY (ARRAY(SELECT jsonb_array_elements_text(p->'cancellable'))) THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 409, 'code', 'not_cancellable',
            'message', format('an order that is %s cannot be cancelled; refund it instead', o.status)));
    END IF;

    PERFORM 1 FROM inventory_levels il
     WHERE (il.variant_id, il.warehouse_id) IN
           (SELECT variant_id, warehouse_id FROM reservations
             WHERE order_id = o.id AND status IN ('held', 'committed'))
     ORDER BY il.variant_id, il.warehouse_id
       FOR UPDATE;
    UPDATE inventory_levels il
       SET reserved = il.reserved - r.held, on_hand = il.on_hand + r.committed
      FROM (SELECT variant_id, warehouse_id,
                   sum(quantity) FILTER (WHERE status = 'held')::int AS held_q,
                   sum(quantity) FILTER (WHERE status = 'committed')::int AS committed_q
              FROM reservations WHERE order_id = o.id AND status IN ('held', 'committed')
             GROUP BY 1, 2) r0,
           LATERAL (SELECT coalesce(r0.held_q, 0) AS held, coalesce(r0.committed_q, 0) AS committed) r
     WHERE il.variant_id = r0.variant_id AND il.warehouse_id = r0.warehouse_id;
    UPDATE reservations SET status = 'released', released_at = now()
     WHERE order_id = o.id AND status IN ('held', 'committed');

    UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = o.id;
    INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
    VALUES (o.id, o.status, 'cancelled', 'cancel', 'admin');

    -- The money: whatever is captured and not refunded (or being refunded)
    -- goes back, under the key 'cancel' (one such refund per order).
    SELECT * INTO pay FROM payments WHERE id = o.paid_by FOR UPDATE;
    IF FOUND THEN
        amt := pay.captured - greatest(pay.refund_committed, pay.refunded);
        IF amt > 0 THEN
            UPDATE payments SET refund_committed = greatest(refund_committed, refunded) + amt,
                                updated_at = now()
             WHERE id = pay.id;
            INSERT INTO refunds (payment_id, order_id, amount, reason, origin, idempotency_key)
            VALUES (pay.id, o.id, amt, left(coalesce(p->>'reason', 'cancelled'), 500), 'admin', 'cancel')
            RETURNING id INTO r_id;
            due := array_append(due, r_id);
        END IF;
    END IF;
    RETURN jsonb_build_object('cancelled', jsonb_build_object('from', o.status, 'refunds_due', to_jsonb(due)));
END $$;

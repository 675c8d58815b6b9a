-- A provider's event, applied exactly once: one statement, one transaction.
--
-- Input (`payments::apply::EventApplication`, as jsonb):
--   {provider, event_id, event_type, order_id: <orders.id> | null,
--    expected_status, decision (lifecycle::Decision, snake_case),
--    payment: {ref, capture_ref, amount, currency, status} | null,
--    refund: {provider_refund_id, our_refund_id, amount, cumulative} | null,
--    flag: text | null}
-- Output:
--   {"duplicate": true}                       the event was applied before: nothing changes
--   {"stale": {"status", "paid_by_ref"}}      the order moved since it was read: decide again
--   {"applied": <outcome>, "order_status", "refunds_due": [<refunds.id>],
--    "outbox": [{id, topic, body}]}        messages to send after the commit
--                                           (a paid order's fulfillment: orders::outbox)
--
-- Exactly once: the event's row is claimed first with INSERT ... ON CONFLICT
-- DO NOTHING (never select-then-insert), and commits with the effect or not
-- at all. A second delivery waits on the key until the first commits, then
-- finds it taken.
-- Lock order, as in every path that touches orders and stock: the order row
-- first, then inventory rows in (variant_id, warehouse_id) order.
CREATE OR REPLACE FUNCTION apply_payment_event(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o_id      bigint := (p->>'order_id')::bigint;
    decision  text := p->>'decision';
    pm        jsonb := p->'payment';
    rf        jsonb := p->'refund';
    o         orders%ROWTYPE;
    pay       payments%ROWTYPE;
    paid_ref  text;
    result    text := decision;
    stale     text;
    due       bigint[] := '{}';
    new_id    bigint;
    line      record;
    stock     record;
    remaining int;
    take      int;
    -- Messages this transaction wrote to the outbox: sent after the commit.
    outbox    jsonb := '[]';
BEGIN
    BEGIN
        INSERT INTO payment_events (provider, event_id, event_type, order_id, outcome)
        VALUES (p->>'provider', p->>'event_id', p->>'event_type', o_id,
                CASE WHEN o_id IS NULL THEN 'unmatched' ELSE decision END)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('duplicate', true);
        END IF;
        IF o_id IS NULL THEN
            RETURN jsonb_build_object('applied', 'unmatched', 'refunds_due', '[]'::jsonb);
        END IF;

        SELECT * INTO o FROM orders WHERE id = o_id FOR UPDATE;
        IF o.status IS DISTINCT FROM p->>'expected_status' THEN
            SELECT provider_payment_id INTO paid_ref FROM payments WHERE id = o.paid_by;
            RAISE EXCEPTION USING ERRCODE = 'ES002', MESSAGE = 'stale',
                DETAIL = jsonb_build_object('status', o.status, 'paid_by_ref', paid_ref)::text;
        END IF;

        -- The payment the event is about: its row, made if the event is the
        -- first we hear of it (the row written when it was created may be
        -- missing if that request died after the provider answered).
        -- Events without the payment's amount (a refund, a dispute) only
        -- find the row; NOT NULL is checked before ON CONFLICT, so they
        -- cannot go through the INSERT.
        IF pm->>'ref' IS NOT NULL AND pm->>'amount' IS NOT NULL THEN
            INSERT INTO payments (order_id, provider, provider_payment_id, capture_id, amount, currency)
            VALUES (o_id, p->>'provider', pm->>'ref', pm->>'capture_ref',
                    (pm->>'amount')::numeric, pm->>'currency')
            ON CONFLICT (provider, provider_payment_id) DO UPDATE
               SET capture_id = coalesce(payments.capture_id, EXCLUDED.capture_id),
                   updated_at = now()
            RETURNING * INTO pay;
        ELSIF pm->>'ref' IS NOT NULL OR pm->>'capture_ref' IS NOT NULL THEN
            SELECT * INTO pay FROM payments
             WHERE provider = p->>'provider'
               AND (provider_payment_id = pm->>'ref' OR capture_id = pm->>'capture_ref')
             ORDER BY id LIMIT 1;
        END IF;

        -- Money arrived (every succeeded decision): the payment row says so.
        IF decision IN ('mark_paid', 'pay_late', 'refund_extra_payment', 'hold_for_review')
           AND pay.id IS NOT NULL THEN
            UPDATE payments SET status = 'succeeded', captured = greatest(captured, (pm->>'amount')::numeric),
                                updated_at = now()
             WHERE id = pay.id
            RETURNING * INTO pay;
        END IF;

        CASE decision
        WHEN 'mark_paid' THEN
            PERFORM 1 FROM inventory_levels il
             WHERE (il.variant_id, il.warehouse_id) IN
                   (SELECT variant_id, warehouse_id FROM reservations
                     WHERE order_id = o_id AND status = 'held')
             ORDER BY il.variant_id, il.warehouse_id
               FOR UPDATE;
            UPDATE inventory_levels il
               SET on_hand = il.on_hand - r.quantity, reserved = il.reserved - r.quantity
              FROM (SELECT variant_id, warehouse_id, sum(quantity)::int AS quantity
                      FROM reservations WHERE order_id = o_id AND status = 'held'
                     GROUP BY 1, 2) r
             WHERE il.variant_id = r.variant_id AND il.warehouse_id = r.warehouse_id;
            UPDATE reservations SET status = 'committed' WHERE order_id = o_id AND status = 'held';
            UPDATE orders SET status = 'paid', paid_by = pay.id, paid_at = now(), updated_at = now()
             WHERE id = o_id;
            INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
            VALUES (o_id, o.status, 'paid', 'payment_succeeded:' || (p->>'provider'), p->>'provider');
            outbox := outbox || fulfillment_on_paid(o_id);
            -- A refund the provider reported before the success (out of order).
            PERFORM settle_refund_status(o_id, 'refund_confirmed');

        WHEN 'pay_late' THEN
            -- The reservation expired and its stock went back. Take it again,
            -- straight into committed stock, from the store's warehouses (most
            -- stock first); if any line cannot be filled, none is taken.
            BEGIN
                PERFORM 1 FROM inventory_levels il
                 WHERE (il.variant_id, il.warehouse_id) IN
                       (SELECT st.variant_id, st.warehouse_id
                          FROM store_sellable_stock(o.store_id) st
                          JOIN order_lines ol ON ol.variant_id = st.variant_id AND ol.order_id = o_id)
                 ORDER BY il.variant_id, il.warehouse_id
                   FOR UPDATE;
                FOR line IN SELECT variant_id, sku, quantity FROM order_lines
                             WHERE order_id = o_id ORDER BY variant_id LOOP
                    remaining := line.quantity;
                    FOR stock IN
                        SELECT st.warehouse_id, st.available
                          FROM store_sellable_stock(o.store_id) st
                         WHERE st.variant_id = line.variant_id AND st.available > 0
                         ORDER BY st.available DESC, st.warehouse_id
                    LOOP
                        take := least(remaining, stock.available);
                        UPDATE inventory_levels SET on_hand = on_hand - take
                         WHERE variant_id = line.variant_id AND warehouse_id = stock.warehouse_id;
                        INSERT INTO reservations (order_id, variant_id, warehouse_id, quantity,
                                                  status, expires_at)
                        VALUES (o_id, line.variant_id, stock.warehouse_id, take, 'committed', now());
                        remaining := remaining - take;
                        EXIT WHEN remaining = 0;
                    END LOOP;
                    IF remaining > 0 THEN
                        RAISE EXCEPTION USING ERRCODE = 'ES003', MESSAGE = 'out_of_stock';
                    END IF;
                END LOOP;
                UPDATE orders SET status = 'paid', paid_by = pay.id, paid_at = now(), updated_at = now()
                 WHERE id = o_id;
                INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
                VALUES (o_id, o.status, 'paid', 'late_payment:stock_reserved_again', p->>'provider');
                outbox := outbox || fulfillment_on_paid(o_id);
                result := 'late_payment_paid';
            EXCEPTION WHEN SQLSTATE 'ES003' THEN
                UPDATE payments SET refund_committed = captured, updated_at = now() WHERE id = pay.id;
                INSERT INTO refunds (payment_id, order_id, amount, reason, origin)
                VALUES (pay.id, o_id, pay.captured,
                        'the payment arrived after the order''s reservation expired, and the stock is gone',
                        'late_payment')
                RETURNING id INTO new_id;
                due := due || new_id;
                INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
                VALUES (o_id, o.status, o.status, 'late_payment:refunded_out_of_stock', p->>'provider');
                result := 'late_payment_refunded';
            END;

        WHEN 'refund_extra_payment' THEN
            -- Another payment paid the order; this one goes back whole.
            UPDATE payments SET refund_committed = captured, updated_at = now()
             WHERE id = pay.id AND refund_committed < captured;
            IF FOUND THEN
                INSERT INTO refunds (payment_id, order_id, amount, reason, origin)
                VALUES (pay.id, o_id, pay.captured - pay.refund_committed,
                        'the order was already paid by another payment', 'extra_payment')
                RETURNING id INTO new_id;
                due := due || new_id;
                INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
                VALUES (o_id, o.status, o.status, 'extra_payment:refunded', p->>'provider');
            END IF;

        WHEN 'hold_for_review' THEN
            UPDATE orders SET review_reason = 'payment_does_not_match_order', flagged_at = now(),
                              updated_at = now()
             WHERE id = o_id;

        WHEN 'record_attempt' THEN
            UPDATE payments SET status = pm->>'status', updated_at = now()
             WHERE id = pay.id AND status <> 'succeeded';

        WHEN 'record_refund' THEN
            IF pay.id IS NULL THEN
                result := 'refund_for_unknown_payment';
            ELSIF (rf->>'cumulative')::boolean THEN
                -- Stripe's charge.refunded: the total refunded so far.
                UPDATE payments SET refunded = greatest(refunded, (rf->>'amount')::numeric),
                                    updated_at = now()
                 WHERE id = pay.id RETURNING * INTO pay;
                UPDATE refunds SET status = 'succeeded', updated_at = now()
                 WHERE payment_id = pay.id AND status = 'pending'
                   AND pay.refunded >= pay.refund_committed;
            ELSE
                -- PayPal: one refund per event, ours (custom_id) or made elsewhere.
                UPDATE refunds SET status = 'succeeded',
                                   provider_refund_id = coalesce(provider_refund_id, rf->>'provider_refund_id'),
                                   updated_at = now()
                 WHERE payment_id = pay.id
                   AND (id::text = rf->>'our_refund_id' OR provider_refund_id = rf->>'provider_refund_id');
                IF NOT FOUND THEN
                    INSERT INTO refunds (payment_id, order_id, amount, reason, origin, status,
                                         provider_refund_id)
                    VALUES (pay.id, o_id, (rf->>'amount')::numeric, 'refunded at the provider',
                            'provider', 'succeeded', rf->>'provider_refund_id')
                    ON CONFLICT DO NOTHING;
                END IF;
                UPDATE payments SET refunded = greatest(refunded,
                           (SELECT coalesce(sum(amount), 0) FROM refunds
                             WHERE payment_id = pay.id AND status = 'succeeded')),
                       updated_at = now()
                 WHERE id = pay.id;
            END IF;
            PERFORM settle_refund_status(o_id, 'refund_confirmed');

        WHEN 'flag' THEN
            UPDATE orders SET review_reason = coalesce(p->>'flag', 'flagged'), flagged_at = now(),
                              updated_at = now()
             WHERE id = o_id;
            INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
            VALUES (o_id, o.status, o.status, 'flagged:' || coalesce(p->>'flag', 'flagged'), p->>'provider');

        WHEN 'nothing' THEN
            NULL;
        ELSE
            RAISE EXCEPTION 'apply_payment_event: unknown decision %', decision;
        END CASE;

        UPDATE payment_events SET outcome = result
         WHERE provider = p->>'provider' AND event_id = p->>'event_id';
        RETURN jsonb_build_object('applied', result,
                                  'order_status', (SELECT status FROM orders WHERE id = o_id),
                                  'refunds_due', to_jsonb(due),
                                  'outbox', outbox);
    EXCEPTION WHEN SQLSTATE 'ES002' THEN
        -- Rolls back the event's row too: the next try claims it afresh.
        GET STACKED DIAGNOSTICS stale = PG_EXCEPTION_DETAIL;
        RETURN jsonb_build_object('stale', stale::jsonb);
    END;
END $$;

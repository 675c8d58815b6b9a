-- Refunds: asked for (by an admin, or automatically), then settled by the
-- provider's answer or event. The refunded total never exceeds what was
-- captured: `payments.refund_committed <= captured` is a CHECK, and every
-- request locks the order row, then the payment row, before adding to it.

-- The refund as the API and the gateway call need it.
CREATE OR REPLACE FUNCTION refund_json(r_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'refund_id', r.id, 'status', r.status, 'amount', r.amount::text,
        'currency', pay.currency, 'reason', r.reason, 'origin', r.origin,
        'provider', pay.provider,
        -- What the provider refunds: the PaymentIntent (Stripe), the capture (PayPal).
        'provider_ref', CASE WHEN pay.provider = 'paypal' THEN pay.capture_id
                             ELSE pay.provider_payment_id END,
        'provider_refund_id', r.provider_refund_id,
        'order_id', o.public_id, 'order_status', o.status)
      FROM refunds r JOIN payments pay ON pay.id = r.payment_id JOIN orders o ON o.id = r.order_id
     WHERE r.id = r_id
$$;

-- Input: {order_id: <public id>, amount: "12.34" | null (the rest), reason, idempotency_key}
-- Output: {"requested": refund} | {"replayed": refund} | {"refused": {status, code, message}}
CREATE OR REPLACE FUNCTION request_refund(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o      orders%ROWTYPE;
    pay    payments%ROWTYPE;
    amt    numeric;
    r_id   bigint;
BEGIN
    SELECT * INTO o FROM orders WHERE public_id = p->>'order_id' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 404, 'code', 'order_not_found', 'message', 'no order has this id'));
    END IF;
    SELECT id INTO r_id FROM refunds WHERE order_id = o.id AND idempotency_key = p->>'idempotency_key';
    IF FOUND THEN
        RETURN jsonb_build_object('replayed', refund_json(r_id));
    END IF;
    SELECT * INTO pay FROM payments WHERE id = o.paid_by FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 409, 'code', 'order_not_paid', 'message', 'the order has no captured payment to refund'));
    END IF;
    amt := coalesce((p->>'amount')::numeric, pay.captured - greatest(pay.refund_committed, pay.refunded));
    IF amt <= 0 THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 409, 'code', 'nothing_to_refund', 'message', 'the payment is refunded in full already'));
    END IF;
    BEGIN
        UPDATE payments SET refund_committed = greatest(refund_committed, refunded) + amt, updated_at = now()
         WHERE id = pay.id;
    EXCEPTION WHEN check_violation THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 409, 'code', 'refund_exceeds_captured',
            'message', format('at most %s %s can still be refunded',
                              pay.captured - greatest(pay.refund_committed, pay.refunded), pay.currency)));
    END;
    INSERT INTO refunds (payment_id, order_id, amount, reason, origin, idempotency_key)
    VALUES (pay.id, o.id, amt, p->>'reason', 'admin', p->>'idempotency_key')
    RETURNING id INTO r_id;
    RETURN jsonb_build_object('requested', refund_json(r_id));
END $$;

-- The provider's answer to a refund call.
-- Input: {refund_id, result: "succeeded" | "pending" | "failed" | "unavailable",
--         provider_refund_id | null, error | null}
-- Output: refund_json of the refund after the change.
CREATE OR REPLACE FUNCTION record_refund_result(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r      refunds%ROWTYPE;
    result text := p->>'result';
BEGIN
    -- Order row first (the lock order), then the payment row, then the refund.
    PERFORM 1 FROM orders WHERE id = (SELECT order_id FROM refunds WHERE id = (p->>'refund_id')::bigint)
        FOR UPDATE;
    PERFORM 1 FROM payments WHERE id = (SELECT payment_id FROM refunds WHERE id = (p->>'refund_id')::bigint)
        FOR UPDATE;
    SELECT * INTO r FROM refunds WHERE id = (p->>'refund_id')::bigint FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF r.status IN ('succeeded', 'failed') THEN
        RETURN refund_json(r.id);  -- final already (an event got here first)
    END IF;
    IF result = 'succeeded' THEN
        UPDATE refunds SET status = 'succeeded', attempts = attempts + 1, last_error = NULL,
                           provider_refund_id = coalesce(p->>'provider_refund_id', provider_refund_id),
                           updated_at = now()
         WHERE id = r.id;
        UPDATE payments SET refunded = greatest(refunded,
                   (SELECT coalesce(sum(amount), 0) FROM refunds
                     WHERE payment_id = r.payment_id AND status = 'succeeded')),
               updated_at = now()
         WHERE id = r.payment_id;
        PERFORM settle_refund_status(r.order_id, 'refund_confirmed');
    ELSIF result = 'pending' THEN
        UPDATE refunds SET status = 'pending', attempts = attempts + 1, last_error = NULL,
                           provider_refund_id = coalesce(p->>'provider_refund_id', provider_refund_id),
                           updated_at = now()
         WHERE id = r.id;
    ELSIF result = 'failed' THEN
        -- Refused for good: the amount is free to refund again.
        UPDATE refunds SET status = 'failed', attempts = attempts + 1, last_error = p->>'error',
                           updated_at = now()
         WHERE id = r.id;
        UPDATE payments SET refund_committed = greatest(refund_committed - r.amount, 0), updated_at = now()
         WHERE id = r.payment_id;
    ELSE
        -- Unavailable: still requested; the cron tries again.
        UPDATE refunds SET attempts = attempts + 1, last_error = p->>'error', updated_at = now()
         WHERE id = r.id;
    END IF;
    RETURN refund_json(r.id);
END $$;

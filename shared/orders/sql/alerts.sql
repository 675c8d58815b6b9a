-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); the table is
-- migrations/0007_orders.sql (alerts) and 0010_send_claims.sql.
--
-- alert_claim: records a notice once (its dedupe_key) and claims the right
-- to send it for `lease_secs`. Answers
--   'claimed' send it, then mark it sent (shared/orders/src/alerts.rs,
--             mark_posted), or release the claim if the send failed;
--   'sent'    it was sent before: nothing to do;
--   'busy'    another delivery holds a live claim: try again after the lease.
-- The row lock makes two deliveries of one message take turns: the second
-- sees the first's claim (or its mark).
CREATE OR REPLACE FUNCTION alert_claim(p_key text, p_kind text, p_order_id bigint,
                                       p_message text, lease_secs int) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    a alerts%ROWTYPE;
BEGIN
    INSERT INTO alerts (dedupe_key, kind, order_id, message)
    VALUES (p_key, p_kind, p_order_id, p_message)
    ON CONFLICT (dedupe_key) DO NOTHING;
    SELECT * INTO a FROM alerts WHERE dedupe_key = p_key FOR UPDATE;
    IF a.posted_at IS NOT NULL THEN
        RETURN 'sent';
    ELSIF a.sending_until > now() THEN
        RETURN 'busy';
    END IF;
    UPDATE alerts SET sending_until = now() + make_interval(secs => lease_secs)
     WHERE id = a.id;
    RETURN 'claimed';
END $$;

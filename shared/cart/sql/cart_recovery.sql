-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); the table is
-- migrations/0007_orders.sql, section 7.
--
-- Abandoned-cart recovery. Carts live in Durable Objects and KV, which
-- cannot be scanned; `cart_recovery` is the small index of carts a shopper
-- gave an email for (PATCH /cart/{id}), which a cron can scan by index. The
-- cart worker writes a row with one INSERT ... ON CONFLICT
-- (shared/cart/src/queries.rs, `attach_cart_email`); the functions below
-- are the sender's (a cron), each one statement, called by the statements
-- of the same names in that file. cart_id and email are personal columns
-- the replica's role may not read (scripts/privileges.sql): all of this
-- runs on the primary.

-- The carts due a message: an email attached more than `idle` ago, not
-- queued, not closed; oldest first, at most `max_rows` (the partial index
-- cart_recovery_due). Candidates only: claim_cart_recovery decides who sends.
CREATE OR REPLACE FUNCTION due_cart_recoveries(idle interval, max_rows int)
RETURNS TABLE (cart_id text, store_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT r.cart_id, r.store_id
      FROM cart_recovery r
     WHERE r.queued_at IS NULL AND r.closed_at IS NULL
       AND r.attached_at < now() - idle
     ORDER BY r.attached_at
     LIMIT max_rows
$$;

-- The exactly-once claim: sets queued_at if no one has and the cart is not
-- closed, and in the same transaction writes the recovery message to the
-- outbox (shared/orders/sql/outbox.sql), so a claim never goes without its
-- message. Answers the outbox rows to send after the commit: one for the
-- caller that claimed, none for anyone else. Two cron runs racing on a cart:
-- the second waits for the first's row lock, then finds queued_at set. A
-- cart whose email changed after the claim is not messaged again (the
-- upsert keeps queued_at).
DROP FUNCTION IF EXISTS claim_cart_recovery(text);
CREATE FUNCTION claim_cart_recovery(p_cart_id text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    claimed text;
BEGIN
    UPDATE cart_recovery r
       SET queued_at = now()
     WHERE r.cart_id = p_cart_id AND r.queued_at IS NULL AND r.closed_at IS NULL
    RETURNING r.cart_id INTO claimed;
    IF claimed IS NULL THEN
        RETURN '[]'::jsonb;
    END IF;
    RETURN jsonb_build_array(outbox_enqueue('alerts',
        jsonb_build_object('kind', 'abandoned_cart', 'cart_id', claimed)));
END $$;

-- Whom to mail, for the alerts consumer, and the right to mail them: the
-- email, the store's name, and the claim, as alert_claim answers it
-- (shared/orders/sql/alerts.sql): 'claimed' (send, then
-- cart_recovery_emailed, or cart_recovery_release if the send failed),
-- 'sent' (mailed already) or 'busy' (another delivery is mailing now: try
-- again after the lease). No row: no such cart.
DROP FUNCTION IF EXISTS cart_recovery_contact(text);
CREATE OR REPLACE FUNCTION cart_recovery_claim(p_cart_id text, lease_secs int)
RETURNS TABLE (email text, store_name text, claim text)
LANGUAGE plpgsql AS $$
DECLARE
    r cart_recovery%ROWTYPE;
BEGIN
    SELECT * INTO r FROM cart_recovery WHERE cart_id = p_cart_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF r.emailed_at IS NOT NULL THEN
        claim := 'sent';
    ELSIF r.sending_until > now() THEN
        claim := 'busy';
    ELSE
        UPDATE cart_recovery SET sending_until = now() + make_interval(secs => lease_secs)
         WHERE cart_id = p_cart_id;
        claim := 'claimed';
    END IF;
    email := r.email;
    store_name := (SELECT s.name FROM stores s WHERE s.id = r.store_id);
    RETURN NEXT;
END $$;

-- The provider accepted the email.
CREATE OR REPLACE FUNCTION cart_recovery_emailed(p_cart_id text) RETURNS boolean
LANGUAGE sql AS $$
    WITH done AS (
        UPDATE cart_recovery SET emailed_at = now(), sending_until = NULL
         WHERE cart_id = p_cart_id AND emailed_at IS NULL
        RETURNING 1
    )
    SELECT count(*) > 0 FROM done
$$;

-- The send failed (the provider is down): the next delivery may claim it
-- at once instead of waiting out the lease.
CREATE OR REPLACE FUNCTION cart_recovery_release(p_cart_id text) RETURNS boolean
LANGUAGE sql AS $$
    WITH released AS (
        UPDATE cart_recovery SET sending_until = NULL
         WHERE cart_id = p_cart_id AND emailed_at IS NULL
        RETURNING 1
    )
    SELECT count(*) > 0 FROM released
$$;

-- The cart was checked out (or is gone): nothing to send. Sets closed_at
-- once; true when this call closed an open row, false when it was closed
-- already or the cart has no row.
CREATE OR REPLACE FUNCTION close_cart_recovery(p_cart_id text)
RETURNS boolean
LANGUAGE sql AS $$
    WITH closed AS (
        UPDATE cart_recovery r
           SET closed_at = now()
         WHERE r.cart_id = p_cart_id AND r.closed_at IS NULL
        RETURNING 1
    )
    SELECT count(*) > 0 FROM closed
$$;

-- The transactional outbox (migrations/0007_orders.sql, table outbox).
--
-- outbox_enqueue: called inside the transaction that makes the change the
-- message announces. Returns the message as the writer sends it after the
-- commit: {id, topic, body}, where body is the payload plus its outbox id
-- (consumers deduplicate on it or on the business key inside).
CREATE OR REPLACE FUNCTION outbox_enqueue(p_topic text, p_payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO outbox (topic, payload) VALUES (p_topic, p_payload) RETURNING id INTO new_id;
    RETURN jsonb_build_object('id', new_id, 'topic', p_topic,
                              'body', p_payload || jsonb_build_object('outbox_id', new_id));
END $$;

-- outbox_claim: the relay's batch. Rows not sent, older than min_age (the
-- writer sends its own rows right after the commit; the relay is for the ones
-- it did not), and not held by another run. Each is held for hold_secs while
-- it is sent; SKIP LOCKED lets concurrent runs share the work.
CREATE OR REPLACE FUNCTION outbox_claim(min_age_secs int, max_rows int, hold_secs int)
RETURNS SETOF jsonb
LANGUAGE sql AS $$
    WITH due AS (
        SELECT id FROM outbox
         WHERE sent_at IS NULL
           AND created_at <= now() - make_interval(secs => min_age_secs)
           AND (claimed_until IS NULL OR claimed_until < now())
         ORDER BY id
         LIMIT max_rows
           FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox o
       SET claimed_until = now() + make_interval(secs => hold_secs),
           send_attempts = o.send_attempts + 1
      FROM due
     WHERE o.id = due.id
    RETURNING jsonb_build_object('id', o.id, 'topic', o.topic,
                                 'body', o.payload || jsonb_build_object('outbox_id', o.id));
$$;

-- outbox_sent: the queue accepted these.
CREATE OR REPLACE FUNCTION outbox_sent(ids bigint[]) RETURNS int
LANGUAGE sql AS $$
    WITH done AS (
        UPDATE outbox SET sent_at = now(), claimed_until = NULL
         WHERE id = ANY (ids) AND sent_at IS NULL
        RETURNING 1
    )
    SELECT count(*)::int FROM done;
$$;

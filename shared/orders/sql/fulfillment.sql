-- Fulfillment: the consumer's statements (shared/orders/src/fulfillment.rs).
-- Lock order as everywhere: the order row first.

-- fulfillment_on_paid: called by the transaction that makes an order paid.
-- A store with automatic fulfillment gets the order's fulfillment message in
-- the outbox; a manual one waits for staff (request_fulfillment). Answers the
-- outbox rows written (a jsonb array, maybe empty).
CREATE OR REPLACE FUNCTION fulfillment_on_paid(o_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT s.fulfillment FROM orders o JOIN stores s ON s.id = o.store_id
         WHERE o.id = o_id) = 'automatic' THEN
        RETURN jsonb_build_array(
            outbox_enqueue('fulfillment', jsonb_build_object('order_id', o_id)));
    END IF;
    RETURN '[]'::jsonb;
END $$;

-- request_fulfillment: staff release a paid order to the carrier (a store
-- with manual fulfillment), or try again after a failure (the dead-letter
-- queue recorded one; the address was fixed). Clears the failure and queues
-- the message. Input: public id, the statuses fulfillment may start from or
-- go on in. Output: {"queued": {outbox: [...]}} | {"refused": {status, code, message}}.
CREATE OR REPLACE FUNCTION request_fulfillment(p_public_id text, allowed text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o orders%ROWTYPE;
BEGIN
    SELECT * INTO o FROM orders WHERE public_id = p_public_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 404, 'code', 'order_not_found', 'message', 'no order has this id'));
    END IF;
    IF EXISTS (SELECT 1 FROM shipments WHERE order_id = o.id) OR NOT o.status = ANY (allowed) THEN
        RETURN jsonb_build_object('refused', jsonb_build_object(
            'status', 409, 'code', 'not_fulfillable',
            'message', format('an order that is %s%s cannot be sent to the carrier', o.status,
                              CASE WHEN EXISTS (SELECT 1 FROM shipments WHERE order_id = o.id)
                                   THEN ' with a shipment' ELSE '' END)));
    END IF;
    UPDATE orders SET fulfillment_error = NULL, fulfillment_failed_at = NULL,
                      fulfillment_attempts = 0, updated_at = now()
     WHERE id = o.id;
    RETURN jsonb_build_object('queued', jsonb_build_object('outbox', jsonb_build_array(
        outbox_enqueue('fulfillment', jsonb_build_object('order_id', o.id)))));
END $$;

-- fulfillment_start: the message's first statement. Locks the order, counts
-- the delivery (worker 0.8.7 has no attempts(); the count sets the retry
-- delay, and shows duplicates), and moves a startable order (the machine's sources of
-- start_fulfillment, passed in) to fulfilling. Answers what the consumer
-- needs to decide: {found, status, public_id, attempts, ship_to, items,
-- shipment: null | {label_id, void_pending}}.
CREATE OR REPLACE FUNCTION fulfillment_start(o_id bigint, startable text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o     orders%ROWTYPE;
    s     shipments%ROWTYPE;
    items int;
BEGIN
    SELECT * INTO o FROM orders WHERE id = o_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('found', false);
    END IF;
    SELECT * INTO s FROM shipments WHERE order_id = o_id;
    IF s.id IS NULL AND o.status = ANY (startable) THEN
        UPDATE orders SET status = 'fulfilling', fulfillment_attempts = fulfillment_attempts + 1,
                          updated_at = now()
         WHERE id = o_id;
        INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
        VALUES (o_id, o.status, 'fulfilling', 'start_fulfillment', 'fulfillment');
        o.status := 'fulfilling';
        o.fulfillment_attempts := o.fulfillment_attempts + 1;
    ELSE
        -- A retry (the order moved already), or a duplicate of a message
        -- that was handled: counted too, so every delivery shows.
        UPDATE orders SET fulfillment_attempts = fulfillment_attempts + 1 WHERE id = o_id;
        o.fulfillment_attempts := o.fulfillment_attempts + 1;
    END IF;
    SELECT coalesce(sum(quantity), 0)::int INTO items FROM order_lines WHERE order_id = o_id;
    RETURN jsonb_build_object(
        'found', true, 'status', o.status, 'public_id', o.public_id,
        'attempts', o.fulfillment_attempts, 'ship_to', o.shipping_address, 'items', items,
        'shipment', CASE WHEN s.id IS NULL THEN NULL
                         ELSE jsonb_build_object(
                             'label_id', s.label_id,
                             'void_pending', s.void_requested_at IS NOT NULL AND s.voided_at IS NULL) END);
END $$;

-- record_shipment: the carrier booked the label. One shipment per order
-- (unique order_id); a fulfilling order becomes shipped. An order cancelled
-- while the label was booked keeps its status, and its shipment is marked to
-- be voided: the answer says so, and the consumer voids the label
-- (record_label_voided).
CREATE OR REPLACE FUNCTION record_shipment(o_id bigint, p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o        orders%ROWTYPE;
    inserted boolean;
BEGIN
    SELECT * INTO o FROM orders WHERE id = o_id FOR UPDATE;
    INSERT INTO shipments (order_id, carrier, service, tracking_number, label_id, label_url,
                           void_requested_at)
    VALUES (o_id, p->>'carrier', p->>'service', p->>'tracking_number', p->>'label_id',
            p->>'label_url', CASE WHEN o.status = 'fulfilling' THEN NULL ELSE now() END)
    ON CONFLICT (order_id) DO NOTHING;
    inserted := FOUND;
    IF o.status = 'fulfilling' THEN
        UPDATE orders SET status = 'shipped', fulfillment_error = NULL, updated_at = now()
         WHERE id = o_id;
        INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
        VALUES (o_id, 'fulfilling', 'shipped', 'ship', 'fulfillment');
        o.status := 'shipped';
    END IF;
    RETURN jsonb_build_object('recorded', inserted, 'status', o.status);
END $$;

-- record_label_voided: the carrier voided the label of an order that will
-- not ship. Answers {voided: whether this call recorded it}.
CREATE OR REPLACE FUNCTION record_label_voided(o_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shipments SET voided_at = now()
     WHERE order_id = o_id AND void_requested_at IS NOT NULL AND voided_at IS NULL;
    RETURN jsonb_build_object('voided', FOUND);
END $$;

-- record_fulfillment_failure: the message is dead (the carrier kept failing,
-- or refused it). Records the failure on the order and queues one alert
-- (the first time only: a redelivered dead letter changes nothing). The
-- failure may be the void of a cancelled order's label: the error says a
-- person must void it.
-- Answers {recorded, outbox: [messages to send after the commit]}.
CREATE OR REPLACE FUNCTION record_fulfillment_failure(o_id bigint, err text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o      orders%ROWTYPE;
    s      shipments%ROWTYPE;
    outbox jsonb := '[]';
BEGIN
    SELECT * INTO o FROM orders WHERE id = o_id FOR UPDATE;
    IF NOT FOUND OR o.fulfillment_failed_at IS NOT NULL THEN
        RETURN jsonb_build_object('recorded', false, 'outbox', outbox);
    END IF;
    SELECT * INTO s FROM shipments WHERE order_id = o_id;
    IF s.id IS NOT NULL THEN
        IF s.void_requested_at IS NULL OR s.voided_at IS NOT NULL THEN
            -- Shipped, or its label is voided: nothing failed.
            RETURN jsonb_build_object('recorded', false, 'outbox', outbox);
        END IF;
        err := format('%s; label %s of this %s order must be voided at the carrier by hand',
                      err, s.label_id, o.status);
    END IF;
    UPDATE orders SET fulfillment_error = left(err, 500), fulfillment_failed_at = now(),
                      updated_at = now()
     WHERE id = o_id;
    outbox := jsonb_build_array(outbox_enqueue('alerts', jsonb_build_object(
        'kind', 'fulfillment_failed', 'order_id', o_id, 'public_id', o.public_id,
        'error', left(err, 500))));
    RETURN jsonb_build_object('recorded', true, 'outbox', outbox);
END $$;

-- record_delivery: the carrier says the parcel with this tracking number
-- arrived. Idempotent: a second report finds the order delivered.
-- Answers {outcome: delivered | duplicate | not_shipped | unknown_tracking_number}.
CREATE OR REPLACE FUNCTION record_delivery(tracking text, delivered_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o_id bigint;
    o    orders%ROWTYPE;
BEGIN
    SELECT order_id INTO o_id FROM shipments WHERE tracking_number = tracking;
    IF o_id IS NULL THEN
        RETURN jsonb_build_object('outcome', 'unknown_tracking_number');
    END IF;
    SELECT * INTO o FROM orders WHERE id = o_id FOR UPDATE;
    IF o.status = 'delivered' THEN
        RETURN jsonb_build_object('outcome', 'duplicate');
    ELSIF o.status <> 'shipped' THEN
        RETURN jsonb_build_object('outcome', 'not_shipped', 'status', o.status);
    END IF;
    UPDATE shipments SET delivered_at = coalesce(record_delivery.delivered_at, now())
     WHERE order_id = o_id;
    UPDATE orders SET status = 'delivered', updated_at = now() WHERE id = o_id;
    INSERT INTO order_events (order_id, from_status, to_status, cause, actor)
    VALUES (o_id, 'shipped', 'delivered', 'deliver', 'carrier');
    RETURN jsonb_build_object('outcome', 'delivered');
END $$;

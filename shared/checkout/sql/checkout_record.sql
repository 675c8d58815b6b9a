-- Applied on every `scripts/db migrate` (CREATE OR REPLACE).
-- A checkout key's stored record as a retry is answered from: records
-- stored before orders had a public id (migration 0005) get the order's
-- `public_id` added, so clients only ever see that id. Used by place_order's
-- replay and by checkout's read of a key (queries::stored_checkout).
CREATE OR REPLACE FUNCTION checkout_record(r jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
             WHEN r ? 'public_id' OR NOT r ? 'order_id' THEN r
             ELSE r || jsonb_build_object('public_id',
                          (SELECT o.public_id FROM orders o WHERE o.id = (r->>'order_id')::bigint))
           END
$$;

-- Applied on every `scripts/db migrate` (CREATE OR REPLACE).
-- A checkout key's stored record as a retry is answered from, with the
-- order's public id for records stored before orders had one (migration
-- 0005), so clients only ever see that id: a `PlacedOrder` record gets
-- `public_id` added; an older record that held the whole answer gets its
-- bigint `order_id` replaced by the public id. Used by place_order's replay
-- and by checkout's read of a key (queries::stored_checkout). Done here
-- rather than in Rust: editing a JSON map there costs wasm.
CREATE OR REPLACE FUNCTION checkout_record(r jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
             WHEN r ? 'public_id' OR jsonb_typeof(r->'order_id') IS DISTINCT FROM 'number' THEN r
             ELSE r || jsonb_build_object(
                          CASE WHEN r ? 'summary' THEN 'public_id' ELSE 'order_id' END,
                          (SELECT o.public_id FROM orders o WHERE o.id = (r->>'order_id')::bigint))
           END
$$;

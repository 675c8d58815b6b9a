-- Inventory sync: a batch of stock adjustments from a POS or a warehouse
-- system, in one statement and one transaction (docs/inventory.md).
-- Applied on every `scripts/db migrate` (CREATE OR REPLACE); the table is
-- inventory_adjustments (migrations/0007_orders.sql, section 6).
--
-- Input: `AdjustmentBatch::to_sql_input` (shared/inventory/src/adjustment.rs),
-- already checked by Rust (1-100 items, distinct references, exactly one of
-- delta / set_on_hand, values in range):
--   {"adjustments": [{"external_ref", "sku", "warehouse" (a code),
--                     "delta" | "set_on_hand", "reason"}]}
-- Output: `AdjustmentOutcome` (shared/inventory/src/outcome.rs), one result
-- per adjustment in input order:
--   {"results": [{"external_ref", "sku", "warehouse", "delta" | "set_on_hand",
--                 "outcome": "applied" | "refused", "replayed": bool,
--                 "replayed_with_different_content"?: bool   (replays only),
--                 "refusal"?: "unknown_sku" | "unknown_warehouse"
--                             | "below_reserved" | "on_hand_out_of_range",
--                 "on_hand_before"?, "on_hand_after"? (applied),
--                 "requested_on_hand"? (below_reserved, on_hand_out_of_range),
--                 "reserved"? (decided now on the stock: applied, below_reserved,
--                              on_hand_out_of_range)}]}
--
-- Each adjustment is decided on its own: a refused one changes nothing and
-- the rest of the batch applies. The steps:
--   1. Claim every reference, in reference order (so two batches sharing
--      references wait for each other instead of deadlocking): INSERT ... ON
--      CONFLICT DO NOTHING, never select-then-insert. A reference another
--      batch is applying waits on the unique index until that one commits.
--      A reference already stored is a replay: its stored result, changed in
--      nothing, with "replayed": true, whatever its outcome was and whatever
--      this request says (replayed_with_different_content tells). An unknown
--      SKU or warehouse is stored refused right away (and replays so, even
--      if the SKU exists later: the sender retries with a new reference).
--   2. A variant x warehouse without a stock row gets one (on hand 0, in
--      (variant_id, warehouse_id) order). It is kept only if an adjustment
--      applies to it; otherwise it is deleted again before the commit, so
--      nobody ever sees it.
--   3. Every stock row the batch touches is locked, FOR UPDATE, in
--      (variant_id, warehouse_id) order: the global lock order of every path
--      that writes stock (checkout, payments, the expiry job), so none of
--      them can deadlock with a batch.
--   4. The adjustments apply in input order, each on the row as the ones
--      before it left it: on hand may never go below reserved (nor below 0,
--      reserved being >= 0): refused `below_reserved`, on hand unchanged.
--      Each UPDATE of on_hand runs the low-stock trigger (low_stock.sql).
CREATE OR REPLACE FUNCTION inventory_adjustment_result(a inventory_adjustments)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'external_ref', a.external_ref,
        'sku', a.sku,
        'warehouse', a.warehouse,
        'delta', a.delta,
        'set_on_hand', a.set_on_hand,
        'outcome', a.outcome,
        'refusal', a.refusal,
        'on_hand_before', a.on_hand_before,
        'on_hand_after', a.on_hand_after,
        'requested_on_hand', CASE WHEN a.refusal IN ('below_reserved', 'on_hand_out_of_range')
                                  THEN COALESCE(a.set_on_hand::bigint, a.on_hand_before::bigint + a.delta)
                             END))
$$;

CREATE OR REPLACE FUNCTION apply_inventory_adjustments(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    n           int := jsonb_array_length(p->'adjustments');
    results     jsonb[] := array_fill(NULL::jsonb, ARRAY[jsonb_array_length(p->'adjustments')]);
    item        record;
    stored      inventory_adjustments%ROWTYPE;
    level       record;
    target      bigint;
    -- The references this call claimed that name a known SKU and warehouse,
    -- with their positions in the input: the ones to apply.
    claimed     text[] := '{}';
    claimed_at  int[] := '{}';
    -- Stock rows this call created (step 2), as parallel arrays.
    created_v   bigint[];
    created_w   bigint[];
BEGIN
    IF n = 0 OR (SELECT count(DISTINCT e->>'external_ref') FROM jsonb_array_elements(p->'adjustments') e) <> n THEN
        RAISE EXCEPTION 'apply_inventory_adjustments: empty batch or repeated external_ref (Rust checks both)';
    END IF;

    -- 1. Claim, in reference order (COLLATE "C": bytewise, the same order in
    --    every session).
    FOR item IN
        SELECT e.ord::int AS ord,
               e.x->>'external_ref' AS external_ref,
               e.x->>'sku' AS sku,
               e.x->>'warehouse' AS warehouse,
               (e.x->>'delta')::int AS delta,
               (e.x->>'set_on_hand')::int AS set_on_hand,
               e.x->>'reason' AS reason,
               v.id AS variant_id,
               w.id AS warehouse_id
          FROM jsonb_array_elements(p->'adjustments') WITH ORDINALITY AS e(x, ord)
          LEFT JOIN variants v ON v.sku = e.x->>'sku'
          LEFT JOIN warehouses w ON w.code = e.x->>'warehouse'
         ORDER BY e.x->>'external_ref' COLLATE "C"
    LOOP
        -- Stored as refused until step 4 decides ('pending' is never seen
        -- by anyone else: it is replaced before the commit).
        INSERT INTO inventory_adjustments AS a
               (external_ref, variant_id, warehouse_id, sku, warehouse, delta, set_on_hand,
                reason, outcome, refusal)
        VALUES (item.external_ref, item.variant_id, item.warehouse_id, item.sku, item.warehouse,
                item.delta, item.set_on_hand, item.reason, 'refused',
                CASE WHEN item.variant_id IS NULL THEN 'unknown_sku'
                     WHEN item.warehouse_id IS NULL THEN 'unknown_warehouse'
                     ELSE 'pending' END)
        ON CONFLICT (external_ref) DO NOTHING
        RETURNING a.* INTO stored;
        IF FOUND AND stored.refusal = 'pending' THEN
            claimed := claimed || item.external_ref;
            claimed_at := claimed_at || item.ord;
        ELSIF FOUND THEN
            results[item.ord] := inventory_adjustment_result(stored)
                                 || jsonb_build_object('replayed', false);
        ELSE
            -- Stored by an earlier request (committed: a concurrent one was
            -- waited for by the INSERT). Each statement here sees the latest
            -- commits (READ COMMITTED), so this finds it.
            SELECT * INTO stored FROM inventory_adjustments WHERE external_ref = item.external_ref;
            IF NOT FOUND THEN
                -- Deleted in between (no code deletes them today): retry.
                RAISE EXCEPTION USING ERRCODE = '40001',
                    MESSAGE = 'an adjustment reference vanished while it was replayed';
            END IF;
            results[item.ord] := inventory_adjustment_result(stored)
                || jsonb_build_object(
                       'replayed', true,
                       'replayed_with_different_content',
                       (stored.sku, stored.warehouse, stored.delta, stored.set_on_hand, stored.reason)
                       IS DISTINCT FROM
                       (item.sku, item.warehouse, item.delta, item.set_on_hand, item.reason));
        END IF;
    END LOOP;

    IF cardinality(claimed) > 0 THEN
        -- 2. Stock rows that do not exist yet, in the global order. A row
        --    another batch creates meanwhile: ON CONFLICT waits for it, and
        --    then it exists for step 3.
        WITH targets AS (
            SELECT DISTINCT a.variant_id, a.warehouse_id
              FROM inventory_adjustments a
             WHERE a.external_ref = ANY (claimed)
        ), made AS (
            INSERT INTO inventory_levels (variant_id, warehouse_id, on_hand)
            SELECT t.variant_id, t.warehouse_id, 0
              FROM targets t
             WHERE NOT EXISTS (SELECT 1 FROM inventory_levels il
                                WHERE il.variant_id = t.variant_id AND il.warehouse_id = t.warehouse_id)
             ORDER BY t.variant_id, t.warehouse_id
            ON CONFLICT DO NOTHING
            RETURNING variant_id, warehouse_id
        )
        SELECT COALESCE(array_agg(variant_id ORDER BY variant_id, warehouse_id), '{}'),
               COALESCE(array_agg(warehouse_id ORDER BY variant_id, warehouse_id), '{}')
          INTO created_v, created_w
          FROM made;

        -- 3. Lock every row the batch touches, in (variant_id, warehouse_id)
        --    order (LockRows runs above the Sort: rows are locked in it).
        PERFORM 1
           FROM inventory_levels il
          WHERE (il.variant_id, il.warehouse_id) IN
                (SELECT a.variant_id, a.warehouse_id FROM inventory_adjustments a
                  WHERE a.external_ref = ANY (claimed))
          ORDER BY il.variant_id, il.warehouse_id
            FOR UPDATE;

        -- 4. Apply, in input order.
        FOR item IN
            SELECT a.external_ref, a.variant_id, a.warehouse_id, a.delta, a.set_on_hand, c.ord
              FROM unnest(claimed, claimed_at) AS c(ref, ord)
              JOIN inventory_adjustments a ON a.external_ref = c.ref
             ORDER BY c.ord
        LOOP
            SELECT il.on_hand, il.reserved INTO level
              FROM inventory_levels il
             WHERE il.variant_id = item.variant_id AND il.warehouse_id = item.warehouse_id;
            target := COALESCE(item.set_on_hand::bigint, level.on_hand::bigint + item.delta);
            IF target < level.reserved THEN
                UPDATE inventory_adjustments
                   SET refusal = 'below_reserved', on_hand_before = level.on_hand
                 WHERE external_ref = item.external_ref
                RETURNING * INTO stored;
            ELSIF target > 2147483647 THEN
                UPDATE inventory_adjustments
                   SET refusal = 'on_hand_out_of_range', on_hand_before = level.on_hand
                 WHERE external_ref = item.external_ref
                RETURNING * INTO stored;
            ELSE
                UPDATE inventory_levels SET on_hand = target::int
                 WHERE variant_id = item.variant_id AND warehouse_id = item.warehouse_id;
                UPDATE inventory_adjustments
                   SET outcome = 'applied', refusal = NULL,
                       on_hand_before = level.on_hand, on_hand_after = target::int
                 WHERE external_ref = item.external_ref
                RETURNING * INTO stored;
            END IF;
            results[item.ord] := inventory_adjustment_result(stored)
                || jsonb_build_object('replayed', false, 'reserved', level.reserved);
        END LOOP;

        -- A row created in step 2 that nothing applied to is not kept (a
        -- refused adjustment changes nothing).
        DELETE FROM inventory_levels il
         USING unnest(created_v, created_w) AS c(variant_id, warehouse_id)
         WHERE il.variant_id = c.variant_id AND il.warehouse_id = c.warehouse_id
           AND NOT EXISTS (SELECT 1 FROM inventory_adjustments a
                            WHERE a.external_ref = ANY (claimed) AND a.outcome = 'applied'
                              AND a.variant_id = c.variant_id AND a.warehouse_id = c.warehouse_id);
    END IF;

    RETURN jsonb_build_object('results', to_jsonb(results));
END $$;

-- Least privilege. Applied by `scripts/db migrate` after every migration and
-- stored SQL file, as the owner of the schema, so it covers whatever they
-- created; it is written to run again and again.
--
--   shop         the migrator: owns the schema; scripts and tests use it.
--   shop_writer  the primary's Hyperdrive binding (DB): reads and writes rows
--                and runs our functions; no DDL.
--   shop_reader  the replica's Hyperdrive binding (DB_REPLICA): reads, and no
--                personal data (PII_COLUMNS / PII_TABLES below).
-- The roles and their timeouts (ALTER ROLE ... SET) are made by scripts/db
-- as the superuser; see ensure_roles there.

-- The writer: rows, sequences, functions.
GRANT USAGE ON SCHEMA public TO shop_writer, shop_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shop_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO shop_writer;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO shop_writer;
-- The bookkeeping of migrations is the migrator's alone.
REVOKE ALL ON schema_migrations FROM shop_writer, shop_reader;

-- The reader: every table, then personal data taken away again.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM shop_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_reader;
REVOKE ALL ON schema_migrations FROM shop_reader;
DO $$
DECLARE
    -- Tables the replica never needs whose rows are about a shopper.
    pii_tables text[] := ARRAY['idempotency_keys', 'refunds'];
    -- Columns holding personal data; the reader may read the others.
    pii_columns text[] := ARRAY['email', 'shipping_address', 'client_ip_hash',
                                'cart_id', 'age_verified_at', 'age_minimum',
                                'full_name', 'password_hash', 'addresses'];
    t record;
    allowed text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p')
                AND c.relname = ANY (pii_tables)
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM shop_reader', t.relname);
    END LOOP;
    -- A table with a personal column: table-wide SELECT goes, column SELECT
    -- on the rest comes back.
    FOR t IN SELECT DISTINCT c.relname FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (pii_columns)
                AND NOT c.relname = ANY (pii_tables)
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM shop_reader', t.relname);
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO allowed
          FROM pg_attribute a
         WHERE a.attrelid = format('public.%I', t.relname)::regclass
           AND a.attnum > 0 AND NOT a.attisdropped AND NOT a.attname = ANY (pii_columns);
        IF allowed IS NOT NULL THEN
            EXECUTE format('GRANT SELECT (%s) ON %I TO shop_reader', allowed, t.relname);
        END IF;
    END LOOP;
END $$;

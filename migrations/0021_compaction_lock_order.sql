-- Compaction's swap takes observability.spans before the compacted_days advisory lock
-- (issue 12; found by CI).
--
-- 0019 made every batch take the shared side of an advisory lock, and the swap of
-- compact_span_partition() its exclusive side before dropping the old partition, which
-- locks observability.spans ACCESS EXCLUSIVE. But ingest_spans() is an SQL function: the
-- whole body is parsed when it is called, and parsing locks observability.spans (ROW
-- EXCLUSIVE) before the first statement asks for the advisory lock. A batch arriving
-- while the swap waited for or held the advisory lock therefore waited for it while
-- holding spans, which the swap's drop then waited for: a deadlock, broken by
-- PostgreSQL after deadlock_timeout (1 s) by cancelling the batch (the writer sends it
-- again) or the rewrite (the next run tries again). Under steady ingestion every swap
-- risked one.
-- The swap now locks spans first, as the drop did before 0019; batches queue behind it
-- for the catalog changes only, as they did then.

-- MARK: Rewriting a closed day

-- As 0020's, with the swap's lock order above. Rewrites one daily partition compactly
-- and puts the copy in its place: inline resource attributes and scope names moved out,
-- indexes built after the rows (a quarter to nearly a half smaller than built span by
-- span), (trace_id) in place of the day's unique index. Readers are not held up while the
-- rows are copied and indexed: the old partition is locked SHARE (writes to that day
-- wait, reads go on). The swap locks observability.spans ACCESS EXCLUSIVE until commit,
-- for catalog changes only; it waits at most 5 s for that lock (as retention's drops do)
-- and gives up the whole rewrite if it cannot have it.
-- Shares retention's advisory lock, so the two never work on one partition at once.
-- Returns one row with the counts, or none when retention was running or a lock was not
-- granted (the partition is as it was; the next run tries again).
CREATE OR REPLACE FUNCTION observability.compact_span_partition(p_partition text)
RETURNS TABLE (partition_name text, span_count bigint, bytes_before bigint, bytes_after bigint)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_part    record;
    v_new     text;
    v_old     regclass;
    v_copied  bigint;
    v_count   bigint;
    v_before  bigint;
    v_after   bigint;
    v_index   record;
    v_lock_ms integer;
    v_wait_ms integer;
BEGIN
    SELECT p.* INTO v_part FROM observability.span_partitions() p
    WHERE p.partition_name = p_partition AND NOT p.is_default AND p.partition_name ~ '^spans_p[0-9]{8}$';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'compact_span_partition: % is not a daily partition of observability.spans', p_partition
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.apply_retention')) THEN
        RETURN;
    END IF;
    v_old := ('observability.' || quote_ident(p_partition))::regclass;
    -- spans_cYYYYMMDD while it is built: the same length as the partition's name, so the
    -- names PostgreSQL gives its indexes are the partition's with one letter changed.
    v_new := 'spans_c' || substr(p_partition, 8);

    SELECT s.setting::integer INTO v_lock_ms FROM pg_catalog.pg_settings s WHERE s.name = 'lock_timeout';
    v_wait_ms := CASE WHEN v_lock_ms > 0 THEN least(v_lock_ms, 5000) ELSE 5000 END;
    BEGIN
        PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
        -- The parent before the partition, in the order LOCK TABLE observability.spans
        -- takes them: locking the partition first, the copy below (which reads the
        -- parent) deadlocked with such a lock taken in between.
        LOCK TABLE ONLY observability.spans IN ACCESS SHARE MODE;
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', v_old);
        PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        RETURN;
    END;
    v_before := pg_total_relation_size(v_old);

    -- The day's inline resources, stored once each (as ingest_spans() stores a batch's).
    CREATE TEMP TABLE compact_resources (attributes jsonb, resource_id integer) ON COMMIT DROP;
    EXECUTE format('INSERT INTO pg_temp.compact_resources (attributes)
                    SELECT DISTINCT s.resource_attributes FROM %s s WHERE s.resource_attributes IS NOT NULL', v_old);
    PERFORM observability_internal.store_resources(ARRAY(SELECT c.attributes FROM pg_temp.compact_resources c));
    UPDATE pg_temp.compact_resources c SET resource_id = x.resource_id
    FROM observability.resources x WHERE x.digest = observability_internal.resource_digest(c.attributes);
    UPDATE observability.resources x SET last_seen = greatest(x.last_seen, v_part.upper_bound)
    WHERE x.resource_id IN (SELECT c.resource_id FROM pg_temp.compact_resources c);

    -- The day's inline scope names, the same way.
    CREATE TEMP TABLE compact_scopes (name text, scope_id integer) ON COMMIT DROP;
    EXECUTE format('INSERT INTO pg_temp.compact_scopes (name)
                    SELECT DISTINCT s.scope_name FROM %s s WHERE s.scope_name IS NOT NULL', v_old);
    PERFORM observability_internal.store_scopes(ARRAY(SELECT c.name FROM pg_temp.compact_scopes c));
    UPDATE pg_temp.compact_scopes c SET scope_id = x.scope_id
    FROM observability.scopes x WHERE x.digest = observability_internal.scope_digest(c.name);
    UPDATE observability.scopes x SET last_seen = greatest(x.last_seen, v_part.upper_bound)
    WHERE x.scope_id IN (SELECT c.scope_id FROM pg_temp.compact_scopes c);

    -- The copy, with the bounds as a constraint so that attaching it needs no scan.
    EXECUTE format('CREATE TABLE observability.%I (LIKE observability.spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_new);
    EXECUTE format('ALTER TABLE observability.%I ADD CONSTRAINT %I CHECK (start_time >= %L AND start_time < %L)',
                   v_new, v_new || '_bounds', v_part.lower_bound, v_part.upper_bound);
    EXECUTE format(
        'INSERT INTO observability.%I (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                       scope_name, start_time, end_time, duration_ms, status, status_message,
                                       attributes, resource_attributes, resource_id, events, scope_id)
         SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.operation, s.target, s.service_name,
                CASE WHEN coalesce(s.scope_id, k.scope_id) IS NULL THEN s.scope_name END, s.start_time,
                s.end_time, s.duration_ms, s.status, s.status_message, s.attributes,
                CASE WHEN coalesce(s.resource_id, c.resource_id) IS NULL THEN s.resource_attributes END,
                coalesce(s.resource_id, c.resource_id), s.events, coalesce(s.scope_id, k.scope_id)
         FROM %s s
         LEFT JOIN pg_temp.compact_resources c ON c.attributes = s.resource_attributes
         LEFT JOIN pg_temp.compact_scopes k ON k.name = s.scope_name', v_new, v_old);
    GET DIAGNOSTICS v_copied = ROW_COUNT;
    EXECUTE format('SELECT count(*) FROM %s', v_old) INTO v_count;
    IF v_copied <> v_count THEN
        RAISE EXCEPTION 'compact_span_partition: copied % spans of %''s %', v_copied, p_partition, v_count;
    END IF;
    DROP TABLE pg_temp.compact_resources;
    DROP TABLE pg_temp.compact_scopes;

    -- The parent's indexes, built once over the whole day. Attaching finds them and
    -- builds none while the parent is locked. A closed day's spans are found by trace_id
    -- alone; no unique index (see ingest_spans()).
    FOR v_index IN
        SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_catalog.pg_index i WHERE i.indrelid = 'observability.spans'::regclass
    LOOP
        EXECUTE regexp_replace(v_index.definition, '^(CREATE (UNIQUE )?INDEX) \S+ ON ONLY observability\.spans ',
                               format('\1 ON observability.%I ', v_new));
    END LOOP;
    EXECUTE format('CREATE INDEX %I ON observability.%I (trace_id)', v_new || '_trace_idx', v_new);
    -- Statistics now, while readers can still use the old partition: an ANALYZE after the
    -- swap would run with observability.spans locked.
    EXECUTE format('ANALYZE observability.%I', v_new);

    BEGIN
        PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
        -- spans first, then the advisory lock. A batch locks spans when its call is
        -- parsed, before it asks for the advisory lock's shared side: taken the other
        -- way round, a batch arriving between the two waited for the advisory lock while
        -- holding spans, which the drop below waited for (a deadlock). Holding spans
        -- exclusively, no batch is in flight and none starts until the swap commits.
        LOCK TABLE ONLY observability.spans IN ACCESS EXCLUSIVE MODE;
        -- No batch may be between deciding which of its spans need the check against
        -- stored spans and storing them while this day stops having a unique index.
        PERFORM pg_advisory_xact_lock(hashtext('observability.compacted_days'));
        EXECUTE format('DROP TABLE %s', v_old);
        PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        -- The block's changes are rolled back; the copy is dropped with the rest below.
        EXECUTE format('DROP TABLE observability.%I', v_new);
        RETURN;
    END;
    EXECUTE format('ALTER TABLE observability.%I RENAME TO %I', v_new, p_partition);
    EXECUTE format('ALTER TABLE observability.spans ATTACH PARTITION observability.%I FOR VALUES FROM (%L) TO (%L)',
                   p_partition, v_part.lower_bound, v_part.upper_bound);
    EXECUTE format('ALTER TABLE observability.%I DROP CONSTRAINT %I', p_partition, v_new || '_bounds');
    FOR v_index IN
        SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ('observability.' || quote_ident(p_partition))::regclass AND c.relname LIKE v_new || '%'
    LOOP
        EXECUTE format('ALTER INDEX observability.%I RENAME TO %I', v_index.relname,
                       p_partition || substr(v_index.relname, length(v_new) + 1));
    END LOOP;

    v_after := pg_total_relation_size(('observability.' || quote_ident(p_partition))::regclass);
    DELETE FROM observability_internal.compacted_span_partitions c
    WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class k WHERE k.oid = c.partition_oid);
    INSERT INTO observability_internal.compacted_span_partitions
        (partition_oid, partition_name, span_count, bytes_before, bytes_after)
    VALUES (('observability.' || quote_ident(p_partition))::regclass::oid, p_partition, v_count, v_before, v_after);
    RETURN QUERY SELECT p_partition, v_count, v_before, v_after;
END
$$;

COMMENT ON FUNCTION observability.compact_span_partition(text) IS
    'Rewrites one daily spans partition compactly (inline resources and scope names moved to observability.resources and observability.scopes, indexes built after the rows, (trace_id) in place of the unique index) and swaps it in; returns its span count and bytes before and after, or no row when it could not run now. See docs/sql.md.';

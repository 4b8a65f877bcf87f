-- The unique index of spans only on the days still being written (issue 12).
--
-- UNIQUE (trace_id, span_id, start_time) is how ingest_spans() recognises a span sent
-- again (ON CONFLICT DO NOTHING): an exporter retries within minutes. On a closed day it
-- takes 50 bytes a span even rebuilt, where a plain (trace_id) index, deduplicated,
-- takes about 12, and every reader of a closed day finds a trace's spans by trace_id
-- alone. From here on the index belongs to each partition instead of the parent:
--
-- - a partition has its unique index (<partition>_trace_span_key) from its creation
--   until compact_span_partition() rewrites it, and spans_default keeps it always;
-- - the rewritten day gets (trace_id) (<partition>_trace_idx) instead;
-- - a span for a day already rewritten is checked against the stored spans by
--   ingest_spans() itself (NOT EXISTS), under an advisory lock that such batches take
--   one at a time, so a span sent twice at once is still stored once.
--
-- Existing stores convert in this migration: each partition gets its own index, then the
-- parent's unique index goes. Writes wait while it runs; reads go on until the drop at
-- the end. docs/sql.md has its time on a 10 M-span store.

-- MARK: Which days are rewritten

-- The end of the newest rewritten day: a span starting before it may belong to a day
-- whose partition has no unique index (an older day not rewritten yet only costs a
-- needless check). -infinity when no day has been rewritten. Rows of rewritten
-- partitions that retention has since dropped still count, which only errs the same way.
CREATE FUNCTION observability_internal.compacted_before() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (
        SELECT coalesce(max(to_date(substr(c.partition_name, 8), 'YYYYMMDD') + 1), '-infinity'::date)::timestamp
                   AT TIME ZONE 'UTC'
        FROM observability_internal.compacted_span_partitions c
    );

-- Gives a partition that is still written its unique index, by which ingest_spans()
-- recognises a span sent again. Used by ensure_partitions() for each new partition and
-- by this migration.
CREATE FUNCTION observability_internal.create_span_key(p_partition text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON observability.%I (trace_id, span_id, start_time)',
                   p_partition || '_trace_span_key', p_partition);
END
$$;

-- MARK: Existing partitions

-- Writers wait from here to the end (reads go on until the parent's index is dropped):
-- without this lock, a writer holding spans and waiting for a partition being indexed
-- here would deadlock with the DROP INDEX below.
LOCK TABLE observability.spans IN SHARE MODE;

DO $$
DECLARE
    v_part record;
BEGIN
    FOR v_part IN
        SELECT p.partition_name, c.partition_oid IS NOT NULL AS compacted
        FROM observability.span_partitions() p
        LEFT JOIN observability_internal.compacted_span_partitions c
               ON c.partition_oid = ('observability.' || quote_ident(p.partition_name))::regclass::oid
        ORDER BY p.lower_bound NULLS FIRST
    LOOP
        IF v_part.compacted THEN
            EXECUTE format('CREATE INDEX %I ON observability.%I (trace_id)',
                           v_part.partition_name || '_trace_idx', v_part.partition_name);
        ELSE
            PERFORM observability_internal.create_span_key(v_part.partition_name);
        END IF;
    END LOOP;
END
$$;

DROP INDEX observability.spans_trace_span_idx;

-- MARK: New partitions

-- As 0011's, and each new partition gets its unique index before any row is moved in.
CREATE OR REPLACE FUNCTION observability.ensure_partitions(
    p_days_back  integer DEFAULT 1,
    p_days_ahead integer DEFAULT 3,
    p_now        timestamptz DEFAULT now()
) RETURNS TABLE (partition_name text, rows_moved bigint)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_day   date;
    v_lo    timestamptz;
    v_hi    timestamptz;
    v_name  text;
    v_moved bigint;
BEGIN
    IF p_days_back < 0 OR p_days_ahead < 0 OR p_days_back + p_days_ahead > 400 THEN
        RAISE EXCEPTION 'ensure_partitions: days back (%) and ahead (%) must be >= 0 and cover at most 400 days',
            p_days_back, p_days_ahead;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.ensure_partitions')) THEN
        RETURN;
    END IF;

    FOR v_day IN
        SELECT d::date
        FROM generate_series((p_now AT TIME ZONE 'UTC')::date - p_days_back,
                             (p_now AT TIME ZONE 'UTC')::date + p_days_ahead,
                             interval '1 day') AS d
        UNION
        SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date
        FROM observability.spans_default
        WHERE start_time >= p_now - interval '400 days'
          AND start_time < p_now + make_interval(days => p_days_ahead + 1)
        ORDER BY 1
    LOOP
        v_name := observability_internal.span_partition_name(v_day);
        CONTINUE WHEN to_regclass(format('observability.%I', v_name)) IS NOT NULL;

        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';

        -- The default partition may not keep rows that belong to the new range: set them
        -- aside, create the partition, and put them into it. The traces rows already count
        -- these spans; moving them changes no count.
        v_moved := 0;
        IF EXISTS (SELECT 1 FROM observability.spans_default WHERE start_time >= v_lo AND start_time < v_hi) THEN
            CREATE TEMP TABLE moving_spans (LIKE observability.spans) ON COMMIT DROP;
            WITH moved AS (
                DELETE FROM observability.spans_default
                WHERE start_time >= v_lo AND start_time < v_hi
                RETURNING *
            )
            INSERT INTO pg_temp.moving_spans SELECT * FROM moved;
            GET DIAGNOSTICS v_moved = ROW_COUNT;
        END IF;

        EXECUTE format('CREATE TABLE observability.%I PARTITION OF observability.spans FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);
        PERFORM observability_internal.create_span_key(v_name);

        IF v_moved > 0 THEN
            EXECUTE format('INSERT INTO observability.%I SELECT * FROM pg_temp.moving_spans', v_name);
            DROP TABLE pg_temp.moving_spans;
        END IF;

        partition_name := v_name;
        rows_moved := v_moved;
        RETURN NEXT;
    END LOOP;

    -- Every daily spans partition has its calls partition (0011); not reported, so the
    -- rows returned still count span partitions only.
    PERFORM observability_internal.ensure_call_partition((p.lower_bound AT TIME ZONE 'UTC')::date)
    FROM observability.span_partitions() p
    WHERE NOT p.is_default AND p.partition_name ~ '^spans_p[0-9]{8}$';
END
$$;

-- MARK: Ingestion

-- As 0018's, but a span for a day already rewritten, which has no unique index to meet
-- with ON CONFLICT, is stored only if no stored span has its trace id, span id and start,
-- and only once however often the batch holds it. Such batches take an advisory lock
-- first, one at a time, so that a span sent twice at once is seen by the second batch.
-- Every batch also holds the shared side of the lock compact_span_partition() takes
-- before its swap, so no day is rewritten between the statement that decides which spans
-- need the check and the one that stores them. As before, the batch's new resources are
-- stored first (store_resources()), and the statement that stores the spans finds every
-- resource of the batch; a span whose resource it still did not find keeps its attributes
-- inline rather than be lost. The same statement moves the last_seen of the batch's
-- resources on, at most once an hour each, skipping a row another batch is moving on at
-- that moment (no waits, no deadlocks). Returns the number of spans inserted.
CREATE OR REPLACE FUNCTION observability_internal.ingest_spans(
    p_trace_ids           uuid[],
    p_span_ids            bigint[],
    p_parent_span_ids     bigint[],
    p_names               text[],
    p_kinds               text[],
    p_operations          text[],
    p_targets             text[],
    p_services            text[],
    p_scopes              text[],
    p_start_times         timestamptz[],
    p_end_times           timestamptz[],
    p_durations           double precision[],
    p_statuses            text[],
    p_status_messages     text[],
    p_attributes          text[],
    p_resource_attributes text[],
    p_events              text[]
) RETURNS integer
    LANGUAGE sql AS
$$
SELECT observability_internal.store_resources(ARRAY(
    SELECT r.resource_text::jsonb
    FROM (SELECT DISTINCT u.resource_text FROM unnest(p_resource_attributes) AS u(resource_text)) r));

SELECT pg_advisory_xact_lock_shared(hashtext('observability.compacted_days'));

SELECT pg_advisory_xact_lock(hashtext('observability.spans_for_compacted_days'))
WHERE EXISTS (SELECT 1 FROM unnest(p_start_times) AS u(start_time)
              WHERE u.start_time < (SELECT observability_internal.compacted_before()));

WITH resource AS (
    SELECT r.resource_text, x.resource_id
    FROM (SELECT DISTINCT u.resource_text FROM unnest(p_resource_attributes) AS u(resource_text)) r
    JOIN observability.resources x ON x.digest = observability_internal.resource_digest(r.resource_text::jsonb)
),
seen AS (
    UPDATE observability.resources x SET last_seen = now()
    WHERE x.resource_id IN (
        SELECT y.resource_id
        FROM observability.resources y
        WHERE y.resource_id IN (SELECT r.resource_id FROM resource r)
          AND y.last_seen < now() - interval '1 hour'
        FOR UPDATE SKIP LOCKED)
),
inserted AS (
    INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                     scope_name, start_time, end_time, duration_ms, status, status_message,
                                     attributes, resource_attributes, resource_id, events)
    SELECT u.trace_id, u.span_id, nullif(u.parent_span_id, 0), u.name, u.kind, u.operation, nullif(u.target, ''),
           u.service_name, nullif(u.scope_name, ''), u.start_time, u.end_time, u.duration_ms, u.status,
           nullif(u.status_message, ''), u.attributes::jsonb,
           CASE WHEN r.resource_id IS NULL THEN u.resource_attributes::jsonb END, r.resource_id,
           u.events::jsonb
    FROM unnest(p_trace_ids, p_span_ids, p_parent_span_ids, p_names, p_kinds, p_operations, p_targets, p_services,
                p_scopes, p_start_times, p_end_times, p_durations, p_statuses, p_status_messages, p_attributes,
                p_resource_attributes, p_events) WITH ORDINALITY
         AS u(trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
              start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events,
              ordinality)
    LEFT JOIN resource r ON r.resource_text = u.resource_attributes
    -- A span of a day still written is left to ON CONFLICT. One of a rewritten day is
    -- stored if it is the first of its key in the batch and no stored span has the key.
    -- The OR stops at its first arm for the others, so neither check runs for them.
    WHERE u.start_time >= (SELECT observability_internal.compacted_before())
       OR (u.ordinality IN (SELECT min(l.ordinality)
                            FROM unnest(p_trace_ids, p_span_ids, p_start_times) WITH ORDINALITY
                                 AS l(trace_id, span_id, start_time, ordinality)
                            WHERE l.start_time < (SELECT observability_internal.compacted_before())
                            GROUP BY l.trace_id, l.span_id, l.start_time)
           AND NOT EXISTS (SELECT 1 FROM observability.spans s
                           WHERE s.trace_id = u.trace_id AND s.span_id = u.span_id AND s.start_time = u.start_time))
    ON CONFLICT DO NOTHING
    RETURNING trace_id, span_id, parent_span_id, name, service_name, start_time, end_time, status
),
folded AS (
    INSERT INTO observability.traces AS t
        (trace_id, root_span_id, root_name, service_name, start_time, end_time, span_count, error_count)
    SELECT b.trace_id, b.root_span_id,
           coalesce(b.root_name, f.name), coalesce(b.root_service, f.service_name),
           b.start_time, b.end_time, b.span_count, b.error_count
    FROM (
        -- Plain aggregates, hashed: counts, bounds and the root span (a trace with
        -- several roots keeps one of them).
        SELECT i.trace_id,
               max(i.span_id) FILTER (WHERE i.parent_span_id IS NULL) AS root_span_id,
               max(i.name) FILTER (WHERE i.parent_span_id IS NULL) AS root_name,
               max(i.service_name) FILTER (WHERE i.parent_span_id IS NULL) AS root_service,
               min(i.start_time) AS start_time,
               max(i.end_time) AS end_time,
               count(*)::integer AS span_count,
               (count(*) FILTER (WHERE i.status = 'error'))::integer AS error_count
        FROM inserted i
        GROUP BY i.trace_id
    ) b
    -- The earliest span, whose name stands in for the trace until its root arrives.
    JOIN (
        SELECT DISTINCT ON (i.trace_id) i.trace_id, i.name, i.service_name
        FROM inserted i
        ORDER BY i.trace_id, i.start_time
    ) f ON f.trace_id = b.trace_id
    ORDER BY b.trace_id
    ON CONFLICT (trace_id) DO UPDATE SET
        root_span_id = coalesce(t.root_span_id, excluded.root_span_id),
        root_name = CASE
            WHEN t.root_span_id IS NOT NULL THEN t.root_name
            WHEN excluded.root_span_id IS NOT NULL THEN excluded.root_name
            WHEN excluded.start_time < t.start_time THEN excluded.root_name
            ELSE t.root_name END,
        service_name = CASE
            WHEN t.root_span_id IS NOT NULL THEN t.service_name
            WHEN excluded.root_span_id IS NOT NULL THEN excluded.service_name
            WHEN excluded.start_time < t.start_time THEN excluded.service_name
            ELSE t.service_name END,
        start_time = least(t.start_time, excluded.start_time),
        end_time = greatest(t.end_time, excluded.end_time),
        span_count = t.span_count + excluded.span_count,
        error_count = t.error_count + excluded.error_count,
        updated_at = now()
    RETURNING 1
)
SELECT count(*)::integer FROM inserted
$$;

-- MARK: Rewriting a closed day

-- As 0018's, but the copy gets (trace_id) instead of the day's unique index, and the swap
-- waits for the batches being stored to end (see ingest_spans() above). Rewrites one
-- daily partition compactly and puts the copy in its place: inline resource attributes
-- moved to observability.resources, indexes built after the rows (a quarter to nearly a
-- half smaller than built span by span). Readers are not held up while the rows are
-- copied and indexed: the old partition is locked SHARE (writes to that day wait, reads
-- go on). The swap itself drops the old partition, which locks observability.spans
-- ACCESS EXCLUSIVE until commit, for catalog changes only; it waits at most 5 s for that
-- lock (as retention's drops do) and gives up the whole rewrite if it cannot have it.
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

    -- The copy, with the bounds as a constraint so that attaching it needs no scan.
    EXECUTE format('CREATE TABLE observability.%I (LIKE observability.spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_new);
    EXECUTE format('ALTER TABLE observability.%I ADD CONSTRAINT %I CHECK (start_time >= %L AND start_time < %L)',
                   v_new, v_new || '_bounds', v_part.lower_bound, v_part.upper_bound);
    EXECUTE format(
        'INSERT INTO observability.%I (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                       scope_name, start_time, end_time, duration_ms, status, status_message,
                                       attributes, resource_attributes, resource_id, events)
         SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.operation, s.target, s.service_name,
                s.scope_name, s.start_time, s.end_time, s.duration_ms, s.status, s.status_message, s.attributes,
                CASE WHEN coalesce(s.resource_id, c.resource_id) IS NULL THEN s.resource_attributes END,
                coalesce(s.resource_id, c.resource_id), s.events
         FROM %s s
         LEFT JOIN pg_temp.compact_resources c ON c.attributes = s.resource_attributes', v_new, v_old);
    GET DIAGNOSTICS v_copied = ROW_COUNT;
    EXECUTE format('SELECT count(*) FROM %s', v_old) INTO v_count;
    IF v_copied <> v_count THEN
        RAISE EXCEPTION 'compact_span_partition: copied % spans of %''s %', v_copied, p_partition, v_count;
    END IF;
    DROP TABLE pg_temp.compact_resources;

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
    'Rewrites one daily spans partition compactly (inline resources moved to observability.resources, indexes built after the rows, (trace_id) in place of the unique index) and swaps it in; returns its span count and bytes before and after, or no row when it could not run now. See docs/sql.md.';

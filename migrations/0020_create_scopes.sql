-- Scope names stored once (issue 12).
--
-- A span's instrumentation scope (opentelemetry.instrumentation.fastapi, mcp, the
-- service's own tracer) is the same for every span a library emits: 30 bytes a span in
-- the benchmark's data and in a gateway's, repeated in every row, for a handful of
-- distinct names. From here on a span refers to its scope by a 4-byte id in
-- observability.scopes, as it refers to its resource (0018); rows stored before keep the
-- name inline until their day is compacted or expires, and every reader takes whichever
-- of the two a row has (span_scope()). Like resources, a scope no batch has carried for
-- the retention period is forgotten by the retention job.

-- MARK: Scopes

-- One row per distinct scope name. digest is the md5 of the name, the key a batch looks
-- its scopes up by (a name may be longer than a B-tree entry can be); an id is never
-- reused, so a span's reference stays valid while the span exists.
CREATE TABLE observability.scopes (
    scope_id   integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest     uuid        NOT NULL UNIQUE,
    name       text        NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE observability.scopes IS
    'One row per distinct instrumentation scope name; spans refer to theirs by scope_id. Read a span''s scope with observability.span_scope(scope_name, scope_id).';
COMMENT ON COLUMN observability.scopes.last_seen IS
    'When a batch last carried this scope, to the hour (ingest_spans() moves it on at most once an hour): what forget_scopes() goes by.';

ALTER TABLE observability.spans ADD COLUMN scope_id integer;

COMMENT ON COLUMN observability.spans.scope_name IS
    'The instrumentation scope''s name, only on spans stored before 0020 whose day has not been compacted; NULL when scope_id is set or the span has no scope. Read with span_scope().';
COMMENT ON COLUMN observability.spans.scope_id IS
    'The span''s instrumentation scope in observability.scopes; NULL on spans without a scope and on spans that still hold scope_name inline.';

-- The key a scope is stored under.
CREATE FUNCTION observability_internal.scope_digest(p_name text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN md5(p_name)::uuid;

-- A span's scope name, wherever it is stored: inline on rows from before 0020, in
-- observability.scopes on the others; NULL for a span without a scope.
CREATE FUNCTION observability.span_scope(p_inline text, p_scope_id integer) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(p_inline, (SELECT s.name FROM observability.scopes s WHERE s.scope_id = p_scope_id));

COMMENT ON FUNCTION observability.span_scope(text, integer) IS
    'A span''s instrumentation scope name: span_scope(s.scope_name, s.scope_id). See docs/schema.md.';

-- Stores the scope names among p_names that are not stored yet, in digest order, as
-- store_resources() stores resources (and for the same reasons). Used by ingest_spans()
-- for each batch and by compact_span_partition() for a day's inline names.
CREATE FUNCTION observability_internal.store_scopes(p_names text[]) RETURNS void
    LANGUAGE sql AS
$$
INSERT INTO observability.scopes (digest, name)
SELECT DISTINCT ON (d.digest) d.digest, d.name
FROM (SELECT observability_internal.scope_digest(n.name) AS digest, n.name
      FROM unnest(p_names) AS n(name) WHERE n.name IS NOT NULL) d
WHERE NOT EXISTS (SELECT 1 FROM observability.scopes x WHERE x.digest = d.digest)
ORDER BY d.digest
ON CONFLICT (digest) DO NOTHING
$$;

-- Deletes the scopes no kept span can refer to, for the retention job, by the rule
-- forget_resources() follows. Returns the number of scopes deleted.
CREATE FUNCTION observability_internal.forget_scopes(p_retention_days integer, p_now timestamptz DEFAULT now())
RETURNS bigint
    LANGUAGE sql AS
$$
WITH gone AS (
    DELETE FROM observability.scopes s
    WHERE s.last_seen < p_now - make_interval(days => p_retention_days) - observability_internal.max_future_skew()
                        - interval '1 hour'
    RETURNING 1
)
SELECT count(*) FROM gone
$$;

-- MARK: Ingestion

-- As 0019's, but a span's scope is stored once in observability.scopes and the span
-- keeps its id, as for its resource: the batch's new scopes are stored first, with its
-- new resources; the statement that finds the batch's resources finds its scopes too and
-- moves their last_seen on the same way; a span whose scope it did not find keeps the
-- name inline rather than lose it.
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
           FROM (SELECT DISTINCT u.resource_text FROM unnest(p_resource_attributes) AS u(resource_text)) r)),
       observability_internal.store_scopes(ARRAY(
           SELECT DISTINCT u.scope_name FROM unnest(p_scopes) AS u(scope_name) WHERE u.scope_name <> ''));

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
scope AS (
    SELECT x.scope_id, x.name
    FROM (SELECT DISTINCT u.scope_name FROM unnest(p_scopes) AS u(scope_name) WHERE u.scope_name <> '') d
    JOIN observability.scopes x ON x.digest = observability_internal.scope_digest(d.scope_name)
),
scope_seen AS (
    UPDATE observability.scopes x SET last_seen = now()
    WHERE x.scope_id IN (
        SELECT y.scope_id
        FROM observability.scopes y
        WHERE y.scope_id IN (SELECT c.scope_id FROM scope c)
          AND y.last_seen < now() - interval '1 hour'
        FOR UPDATE SKIP LOCKED)
),
inserted AS (
    INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                     scope_name, start_time, end_time, duration_ms, status, status_message,
                                     attributes, resource_attributes, resource_id, events, scope_id)
    SELECT u.trace_id, u.span_id, nullif(u.parent_span_id, 0), u.name, u.kind, u.operation, nullif(u.target, ''),
           u.service_name, CASE WHEN c.scope_id IS NULL THEN nullif(u.scope_name, '') END, u.start_time, u.end_time,
           u.duration_ms, u.status, nullif(u.status_message, ''), u.attributes::jsonb,
           CASE WHEN r.resource_id IS NULL THEN u.resource_attributes::jsonb END, r.resource_id,
           u.events::jsonb, c.scope_id
    FROM unnest(p_trace_ids, p_span_ids, p_parent_span_ids, p_names, p_kinds, p_operations, p_targets, p_services,
                p_scopes, p_start_times, p_end_times, p_durations, p_statuses, p_status_messages, p_attributes,
                p_resource_attributes, p_events) WITH ORDINALITY
         AS u(trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
              start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events,
              ordinality)
    LEFT JOIN resource r ON r.resource_text = u.resource_attributes
    LEFT JOIN scope c ON c.name = u.scope_name
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

-- MARK: Readers

-- As 0018's, with each span's scope name read from observability.scopes when it is not
-- inline.
CREATE OR REPLACE FUNCTION observability.trace_otlp(p_trace_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (
        WITH trace AS (
            SELECT t.start_time, t.end_time FROM observability.traces t WHERE t.trace_id = p_trace_id
        ), span AS (
            -- Each span as OTLP/JSON writes it: fields without a value (a root's parent, an
            -- unspecified kind, no events, no status message) left out. Written here rather
            -- than as a function of a span: a SQL function taking a row is not inlined, and
            -- calling one per span took most of the time.
            SELECT coalesce(s.resource_attributes, r.attributes) AS resource_attributes,
                   coalesce(s.scope_name, c.name) AS scope_name, s.start_time,
                   s.span_id,
                   jsonb_strip_nulls(jsonb_build_object(
                       'traceId', observability.hex_trace_id(s.trace_id),
                       'spanId', observability.hex_span_id(s.span_id),
                       'parentSpanId', observability.hex_span_id(s.parent_span_id),
                       'name', s.name,
                       'kind', array_position(ARRAY['internal', 'server', 'client', 'producer', 'consumer'], s.kind),
                       'startTimeUnixNano', t.start_ns::text,
                       'endTimeUnixNano', (t.start_ns + round(s.duration_ms * 1000000)::bigint)::text))
                   || jsonb_build_object('attributes', observability_internal.otlp_key_values(s.attributes))
                   || CASE WHEN jsonb_array_length(s.events) > 0 THEN jsonb_build_object('events',
                          (SELECT jsonb_agg(jsonb_build_object(
                                      'timeUnixNano', observability_internal.otlp_unix_nano((e.value ->> 'time')::timestamptz),
                                      'name', e.value ->> 'name',
                                      'attributes',
                                          observability_internal.otlp_key_values(coalesce(e.value -> 'attributes', '{}'::jsonb)))
                                  ORDER BY e.ordinality)
                           FROM jsonb_array_elements(s.events) WITH ORDINALITY e)) ELSE '{}'::jsonb END
                   || jsonb_build_object('status', jsonb_strip_nulls(jsonb_build_object(
                          'code', array_position(ARRAY['unset', 'ok', 'error'], s.status) - 1,
                          'message', s.status_message))) AS otlp
            FROM observability.spans s
            CROSS JOIN trace
            LEFT JOIN observability.resources r ON r.resource_id = s.resource_id
            LEFT JOIN observability.scopes c ON c.scope_id = s.scope_id
            CROSS JOIN LATERAL (SELECT observability_internal.otlp_start_nano(s.start_time, s.end_time, s.duration_ms) AS start_ns) t
            WHERE s.trace_id = p_trace_id AND s.start_time >= trace.start_time AND s.start_time <= trace.end_time
        ), scope AS (
            SELECT sp.resource_attributes, sp.scope_name, min(sp.start_time) AS first_start,
                   jsonb_strip_nulls(jsonb_build_object(
                       'scope', CASE WHEN sp.scope_name IS NOT NULL THEN jsonb_build_object('name', sp.scope_name) END,
                       'spans', jsonb_agg(sp.otlp ORDER BY sp.start_time, sp.span_id))) AS otlp
            FROM span sp
            GROUP BY sp.resource_attributes, sp.scope_name
        ), resource AS (
            SELECT min(sc.first_start) AS first_start,
                   jsonb_build_object(
                       'resource', jsonb_build_object('attributes', observability_internal.otlp_key_values(sc.resource_attributes)),
                       'scopeSpans', jsonb_agg(sc.otlp ORDER BY sc.first_start, sc.scope_name)) AS otlp
            FROM scope sc
            GROUP BY sc.resource_attributes
        )
        SELECT CASE WHEN EXISTS (SELECT 1 FROM trace)
                    THEN jsonb_build_object('resourceSpans',
                             coalesce((SELECT jsonb_agg(r.otlp ORDER BY r.first_start, r.otlp) FROM resource r), '[]'::jsonb))
               END
    );

-- MARK: Rewriting a closed day

-- As 0019's, and inline scope names are moved to observability.scopes as inline
-- resources are moved to observability.resources; the parent is locked before the
-- partition. Rewrites one daily partition compactly and puts the copy in its place:
-- inline resource attributes and scope names moved out, indexes built after the rows (a
-- quarter to nearly a half smaller than built span by span), (trace_id) in place of the
-- day's unique index. Readers are not held up while the rows are copied and indexed: the
-- old partition is locked SHARE (writes to that day wait, reads go on). The swap itself drops the old partition, which locks
-- observability.spans ACCESS EXCLUSIVE until commit, for catalog changes only; it waits
-- at most 5 s for that lock (as retention's drops do) and gives up the whole rewrite if
-- it cannot have it.
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


CREATE SCHEMA observability;

COMMENT ON SCHEMA observability IS 'MCP Observatory: spans, traces, metric views and tables, the maintenance log, and the functions meant for psql users (docs/schema.md, docs/sql.md).';

CREATE SCHEMA observability_internal;

COMMENT ON SCHEMA observability_internal IS 'MCP Observatory internals: bookkeeping and helpers that the service and the functions of schema observability use. No compatibility promise; change only as docs/sql.md describes.';

CREATE FUNCTION observability.apply_retention(p_retention_days integer, p_max_traces bigint, p_now timestamp with time zone DEFAULT now(), p_max_self_traces bigint DEFAULT 10000) RETURNS TABLE(partitions_dropped integer, spans_deleted bigint, traces_deleted bigint, traces_remaining bigint, log_id bigint)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_owner   text := coalesce(nullif(current_setting('application_name', true), ''), session_user);
    v_done    record;
BEGIN
    SELECT * INTO v_done
    FROM observability_internal.enforce_retention(p_retention_days, p_max_traces, p_now, p_max_self_traces);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT v_done.partitions_dropped, v_done.spans_deleted, v_done.traces_deleted, v_done.traces_remaining,
        observability_internal.log_maintenance_run('retention', v_owner, v_started, v_done.details);
END
$$;

CREATE FUNCTION observability.assemble_calls(p_now timestamp with time zone DEFAULT now(), p_settle interval DEFAULT '00:00:10'::interval, p_max_traces integer DEFAULT 20000) RETURNS TABLE(ran boolean, traces_assembled bigint, calls_written bigint, assembled_until timestamp with time zone)
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_until  timestamptz;
    v_last   uuid;
    v_ids    uuid[];
    v_starts timestamptz[];
    v_ends   timestamptz[];
    v_marks  timestamptz[];
    v_n      integer;
    v_calls  bigint;
BEGIN
    IF p_max_traces IS NOT NULL AND p_max_traces < 1 THEN
        RAISE EXCEPTION 'assemble_calls: max traces must be at least 1 or NULL, not %', p_max_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.assemble_calls')) THEN
        RETURN QUERY SELECT false, 0::bigint, 0::bigint, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT s.assembled_until, s.last_trace_id INTO v_until, v_last
    FROM observability_internal.call_assembly_state s WHERE s.name = 'calls';
    v_until := coalesce(v_until, '-infinity');
    v_last := coalesce(v_last, '00000000-0000-0000-0000-000000000000');

    SELECT array_agg(t.trace_id ORDER BY t.updated_at, t.trace_id), array_agg(t.start_time ORDER BY t.updated_at, t.trace_id),
           array_agg(t.end_time ORDER BY t.updated_at, t.trace_id), array_agg(t.updated_at ORDER BY t.updated_at, t.trace_id)
      INTO v_ids, v_starts, v_ends, v_marks
    FROM (
        SELECT t.trace_id, t.start_time, t.end_time, t.updated_at
        FROM observability.traces t
        WHERE (t.updated_at, t.trace_id) > (v_until, v_last)
          AND t.updated_at <= p_now - p_settle
        ORDER BY t.updated_at, t.trace_id
        LIMIT p_max_traces
    ) t;
    v_n := coalesce(cardinality(v_ids), 0);
    IF v_n = 0 THEN
        RETURN QUERY SELECT true, 0::bigint, 0::bigint, CASE WHEN v_until = '-infinity' THEN NULL ELSE v_until END;
        RETURN;
    END IF;

    v_calls := observability_internal.assemble_trace_calls(v_ids, v_starts, v_ends);

    INSERT INTO observability_internal.call_assembly_state AS s (name, assembled_until, last_trace_id)
    VALUES ('calls', v_marks[v_n], v_ids[v_n])
    ON CONFLICT (name) DO UPDATE SET assembled_until = excluded.assembled_until, last_trace_id = excluded.last_trace_id;

    RETURN QUERY SELECT true, v_n::bigint, v_calls, v_marks[v_n];
END
$$;

CREATE FUNCTION observability.call_at_percentile(p_method text, p_server text, p_target text, p_since timestamp with time zone, p_until timestamp with time zone, p_fraction double precision) RETURNS TABLE(trace_id uuid, span_id bigint, start_time timestamp with time zone, duration_ms double precision, rank bigint, total bigint)
    LANGUAGE sql STABLE
    AS $$
    WITH matching AS (
        SELECT c.trace_id, c.span_id, c.start_time, c.server_duration_ms
        FROM observability.calls c
        WHERE c.counted AND c.method = p_method AND coalesce(c.server_name, '') = p_server
          AND coalesce(c.target, '') = p_target AND c.start_time >= p_since AND c.start_time < p_until
          AND c.server_duration_ms IS NOT NULL
    ), counted AS (
        SELECT count(*) AS total FROM matching
    ), ranked AS (
        SELECT m.*, row_number() OVER (ORDER BY m.server_duration_ms, m.trace_id, m.span_id) AS rank
        FROM matching m
    )
    SELECT r.trace_id, r.span_id, r.start_time, r.server_duration_ms, r.rank, n.total
    FROM ranked r, counted n
    WHERE r.rank = greatest(ceil(p_fraction * n.total)::bigint, 1)
$$;

COMMENT ON FUNCTION observability.call_at_percentile(p_method text, p_server text, p_target text, p_since timestamp with time zone, p_until timestamp with time zone, p_fraction double precision) IS 'The counted MCP request of one method, server and target in a time range at a percentile of their server-side durations (PERCENTILE_DISC''s pick): the exemplar behind a p50/p95/p99 figure. See docs/sql.md.';

CREATE FUNCTION observability.compact_span_partition(p_partition text) RETURNS TABLE(partition_name text, span_count bigint, bytes_before bigint, bytes_after bigint)
    LANGUAGE plpgsql
    AS $_$
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
$_$;

COMMENT ON FUNCTION observability.compact_span_partition(p_partition text) IS 'Rewrites one daily spans partition compactly (inline resources and scope names moved to observability.resources and observability.scopes, indexes built after the rows, (trace_id) in place of the unique index) and swaps it in; returns its span count and bytes before and after, or no row when it could not run now. See docs/sql.md.';

CREATE FUNCTION observability.ensure_partitions(p_days_back integer DEFAULT 1, p_days_ahead integer DEFAULT 3, p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(partition_name text, rows_moved bigint)
    LANGUAGE plpgsql
    AS $_$
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
$_$;

CREATE FUNCTION observability.health(p_error_pct double precision) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN (p_error_pct > (50)::double precision) THEN 'critical'::text WHEN (p_error_pct > (20)::double precision) THEN 'red'::text WHEN (p_error_pct >= (5)::double precision) THEN 'yellow'::text ELSE 'green'::text END;

CREATE FUNCTION observability.hex_span_id(p_span_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lpad(to_hex(p_span_id), 16, '0'::text);

CREATE FUNCTION observability.hex_trace_id(p_trace_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace((p_trace_id)::text, '-'::text, ''::text);

CREATE FUNCTION observability.merged_window_metrics(p_window interval) RETURNS TABLE(level text, operation text, server text, target text, request_count bigint, error_count bigint, error_pct double precision, avg_ms double precision, p50_ms double precision, p90_ms double precision, p95_ms double precision, p99_ms double precision, max_ms double precision, client_avg_ms double precision, client_p50_ms double precision, client_p90_ms double precision, client_p95_ms double precision, client_p99_ms double precision, overhead_ms double precision, first_seen timestamp with time zone, last_seen timestamp with time zone, example_error text)
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_t1     timestamptz := observability_internal.metrics_now();
    v_t0     timestamptz := v_t1 - p_window;
    v_rolled timestamptz;
    v_h_lo   timestamptz;
    v_h_hi   timestamptz;
    v_d_lo   timestamptz;
    v_d_hi   timestamptz;
BEGIN
    IF p_window > interval '35 days' THEN
        RAISE EXCEPTION 'merged_window_metrics: digests are kept 35 days, so the window cannot be %; window_metrics() reads the rows', p_window
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT r.rolled_until INTO v_rolled FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    -- Rows start_time > t0 and <= t1; the digests cover [h_lo, h_hi), the rows the rest.
    v_h_lo := least(date_trunc('hour', v_t0, 'UTC') + interval '1 hour', v_t1 + interval '1 microsecond');
    v_h_hi := greatest(v_h_lo, least(date_trunc('hour', v_t1, 'UTC'),
                                     date_trunc('hour', coalesce(v_rolled, '-infinity'), 'UTC')));
    v_d_lo := date_trunc('day', v_h_lo - interval '1 microsecond', 'UTC') + interval '1 day';
    v_d_hi := greatest(v_d_lo, date_trunc('day', v_h_hi, 'UTC'));

    RETURN QUERY
    WITH parts AS (
        SELECT * FROM observability_internal.digest_rows('hour', v_t0 + interval '1 microsecond', v_h_lo)
        UNION ALL
        SELECT * FROM observability_internal.digest_rows('hour', v_h_hi, v_t1 + interval '1 microsecond')
        UNION ALL
        SELECT * FROM observability_internal.metric_digests d
        WHERE d.unit = 'hour' AND d.bucket >= v_h_lo AND d.bucket < v_h_hi
          AND NOT (d.bucket >= v_d_lo AND d.bucket < v_d_hi)
        UNION ALL
        SELECT * FROM observability_internal.metric_digests d
        WHERE d.unit = 'day' AND d.bucket >= v_d_lo AND d.bucket < v_d_hi
    ),
    figures AS (
        SELECT CASE grouping(p.operation, p.server, p.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
                   AS level,
               coalesce(p.operation, '') AS operation,
               coalesce(p.server, '') AS server,
               coalesce(p.target, '') AS target,
               sum(p.request_count)::bigint AS request_count,
               sum(p.error_count)::bigint AS error_count,
               sum(p.duration_sum) / nullif(sum(p.duration_count), 0) AS avg_ms,
               max(p.duration_max) AS max_ms,
               sum(p.client_sum) / nullif(sum(p.client_count), 0) AS client_avg_ms,
               sum(p.overhead_sum) / nullif(sum(p.overhead_count), 0) AS overhead_ms,
               min(p.first_seen) AS first_seen,
               max(p.last_seen) AS last_seen,
               (array_agg(p.last_error ORDER BY p.last_error_at DESC) FILTER (WHERE p.last_error IS NOT NULL))[1]
                   AS example_error
        FROM parts p
        GROUP BY GROUPING SETS ((p.operation, p.server, p.target), (p.operation), ())
    ),
    -- Both sides' histograms merged per target first, then per operation and overall from those.
    targets AS (
        SELECT p.operation, p.server, p.target, e.side, e.key, sum(e.n)::bigint AS n
        FROM parts p, observability_internal.digest_entries(p.duration_keys, p.duration_counts, p.client_keys,
                                                            p.client_counts) e
        GROUP BY 1, 2, 3, 4, 5
    ),
    levels AS (
        SELECT l.level, l.operation, l.server, l.target, l.side,
               observability_internal.digest_percentiles(array_agg(l.key ORDER BY l.key), array_agg(l.n ORDER BY l.key),
                                                         ARRAY[0.5, 0.9, 0.95, 0.99]) AS pct
        FROM (SELECT 'target' AS level, t.operation, t.server, t.target, t.side, t.key, t.n FROM targets t
              UNION ALL
              SELECT 'operation', t.operation, '', '', t.side, t.key, sum(t.n)::bigint
              FROM targets t GROUP BY t.operation, t.side, t.key
              UNION ALL
              SELECT 'total', '', '', '', t.side, t.key, sum(t.n)::bigint FROM targets t GROUP BY t.side, t.key) l
        GROUP BY l.level, l.operation, l.server, l.target, l.side
    )
    SELECT f.level, f.operation, f.server, f.target, f.request_count, f.error_count,
           (100.0 * f.error_count / f.request_count)::double precision,
           f.avg_ms, s.pct[1], s.pct[2], s.pct[3], s.pct[4], f.max_ms,
           f.client_avg_ms, c.pct[1], c.pct[2], c.pct[3], c.pct[4], f.overhead_ms,
           f.first_seen, f.last_seen, f.example_error
    FROM figures f
    LEFT JOIN levels s
           ON s.side = 'server' AND (s.level, s.operation, s.server, s.target) = (f.level, f.operation, f.server, f.target)
    LEFT JOIN levels c
           ON c.side = 'client' AND (c.level, c.operation, c.server, c.target) = (f.level, f.operation, f.server, f.target)
    WHERE f.request_count > 0;
END
$$;

CREATE FUNCTION observability.refresh_metrics(p_now timestamp with time zone DEFAULT now(), p_force boolean DEFAULT false, p_windows text[] DEFAULT NULL::text[], p_rollup boolean DEFAULT true) RETURNS TABLE(time_window text, outcome text, duration_ms double precision, computed_at timestamp with time zone)
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_window  record;
    v_started timestamptz;
    v_ms      double precision;
BEGIN
    IF p_windows IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(p_windows) w(name)
        WHERE w.name NOT IN (SELECT mw.time_window FROM observability.metric_windows mw)) THEN
        RAISE EXCEPTION 'refresh_metrics: unknown window in %; the windows are those of observability.metric_windows', p_windows;
    END IF;
    IF p_rollup THEN
        PERFORM observability_internal.rollup_metrics(p_now);
    END IF;
    PERFORM set_config('observability.metrics_now', p_now::text, true);

    FOR v_window IN
        SELECT w.time_window, w.view_name, w.last_refreshed_at, (p_force OR d.time_window IS NOT NULL) AS due
        FROM observability.metric_windows w
        LEFT JOIN observability_internal.due_metric_windows(p_now) d ON d.time_window = w.time_window
        WHERE p_windows IS NULL OR w.time_window = ANY (p_windows)
        ORDER BY w.window_span
    LOOP
        IF NOT v_window.due THEN
            RETURN QUERY SELECT v_window.time_window, 'not due'::text, NULL::double precision, v_window.last_refreshed_at;
        ELSIF NOT pg_try_advisory_xact_lock(hashtext('observability.refresh_metrics'), hashtext(v_window.time_window)) THEN
            RETURN QUERY SELECT v_window.time_window, 'busy'::text, NULL::double precision, v_window.last_refreshed_at;
        ELSE
            v_started := clock_timestamp();
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY observability.%I', v_window.view_name);
            v_ms := extract(epoch FROM clock_timestamp() - v_started) * 1000;
            UPDATE observability.metric_windows w
               SET last_refreshed_at = p_now, last_duration_ms = v_ms
             WHERE w.time_window = v_window.time_window;
            RETURN QUERY SELECT v_window.time_window, 'refreshed'::text, v_ms, p_now;
        END IF;
    END LOOP;
    PERFORM set_config('observability.metrics_now', '', true);
END
$$;

CREATE FUNCTION observability.span_id_from_hex(p_hex text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((('x'::text || lpad(p_hex, 16, '0'::text)))::bit(64))::bigint;

CREATE FUNCTION observability.span_partitions() RETURNS TABLE(partition_name text, is_default boolean, lower_bound timestamp with time zone, upper_bound timestamp with time zone)
    LANGUAGE sql STABLE
    AS $_$
SELECT c.relname::text,
       b.expr = 'DEFAULT',
       b.bounds[1]::timestamptz,
       b.bounds[2]::timestamptz
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (
    SELECT e.expr, regexp_match(e.expr, '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS bounds
    FROM (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS expr) e
) b
WHERE i.inhparent = 'observability.spans'::regclass
ORDER BY 4 NULLS LAST, 1
$_$;

CREATE FUNCTION observability.span_partitions_to_compact(p_now timestamp with time zone DEFAULT now(), p_settle interval DEFAULT '01:00:00'::interval) RETURNS TABLE(partition_name text, lower_bound timestamp with time zone, upper_bound timestamp with time zone)
    LANGUAGE sql STABLE
    AS $_$
SELECT p.partition_name, p.lower_bound, p.upper_bound
FROM observability.span_partitions() p
WHERE NOT p.is_default
  AND p.partition_name ~ '^spans_p[0-9]{8}$'
  AND p.upper_bound <= p_now - p_settle
  AND NOT EXISTS (
      SELECT 1 FROM observability_internal.compacted_span_partitions c
      WHERE c.partition_oid = ('observability.' || quote_ident(p.partition_name))::regclass::oid)
ORDER BY p.upper_bound DESC
$_$;

COMMENT ON FUNCTION observability.span_partitions_to_compact(p_now timestamp with time zone, p_settle interval) IS 'The daily spans partitions that compact_span_partition() has yet to rewrite: days that ended p_settle (default an hour) before p_now, newest first. See docs/sql.md.';

CREATE FUNCTION observability.span_ranks(p_trace_id uuid) RETURNS TABLE(span_id bigint, operation text, server text, target text, side text, duration_ms double precision, rank_pct double precision, rank_low_pct double precision, rank_high_pct double precision, sample_count bigint, window_start timestamp with time zone, window_end timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
    SELECT r.* FROM observability.traces t, observability.span_ranks(t.trace_id, t.start_time, t.end_time) r
    WHERE t.trace_id = p_trace_id
$$;

COMMENT ON FUNCTION observability.span_ranks(p_trace_id uuid) IS 'span_ranks(trace_id, first start, last end) with the bounds read from traces: for psql. See docs/sql.md.';

CREATE FUNCTION observability.span_ranks(p_trace_id uuid, p_from timestamp with time zone, p_through timestamp with time zone) RETURNS TABLE(span_id bigint, operation text, server text, target text, side text, duration_ms double precision, rank_pct double precision, rank_low_pct double precision, rank_high_pct double precision, sample_count bigint, window_start timestamp with time zone, window_end timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
    WITH
    -- Each span of an assembled MCP call with its call's group and side; a span in two
    -- chains (a re-assembly race could leave one) takes the counted one. A call starts
    -- with its outermost span, so it lies within the trace's bounds.
    call_spans AS (
        SELECT DISTINCT ON (m.span_id) m.span_id,
               CASE c.method WHEN 'tools/call' THEN 'tool_invoke' WHEN 'prompts/get' THEN 'prompt_render'
                             ELSE 'resource_fetch' END AS operation,
               coalesce(c.server_name, '') AS server, coalesce(c.target, '') AS target, c.side
        FROM observability.calls c, unnest(c.span_ids) m(span_id)
        WHERE c.trace_id = p_trace_id AND c.start_time >= p_from AND c.start_time <= p_through
          AND c.method IN ('tools/call', 'prompts/get', 'resources/read')
        ORDER BY m.span_id, c.counted DESC
    ),
    probes AS (
        SELECT s.span_id, coalesce(cs.operation, s.operation) AS operation, coalesce(cs.server, '') AS server,
               coalesce(cs.target, s.target, '') AS target, coalesce(cs.side, 'server') AS side, s.duration_ms,
               observability_internal.digest_key(s.duration_ms) AS key
        FROM observability.spans s
        LEFT JOIN call_spans cs ON cs.span_id = s.span_id
        WHERE s.trace_id = p_trace_id AND s.start_time >= p_from AND s.start_time <= p_through
          AND s.service_name <> 'mcp-observatory'
          AND (cs.span_id IS NOT NULL OR s.operation NOT IN ('tool_invoke', 'prompt_render', 'resource_fetch'))
    ),
    -- Each group's histogram, read and detoasted once (the arrays of a busy target are
    -- TOASTed): probed per span from the table, the 1,000-span trace of the 10 M-span
    -- benchmark took 15-30 ms; from here, 9-12 ms, and a 20-span trace about 1 ms.
    hist AS MATERIALIZED (
        SELECT h.operation, h.server, h.target, h.side, h.keys || '{}'::integer[] AS keys,
               h.counts || '{}'::bigint[] AS counts, h.below || '{}'::bigint[] AS below, h.total
        FROM (SELECT DISTINCT p.operation, p.server, p.target, p.side FROM probes p) g
        JOIN observability_internal.rank_histograms h
          ON (h.operation, h.server, h.target, h.side) = (g.operation, g.server, g.target, g.side)
        WHERE h.total > 0
    ),
    -- i: the last bucket at or below the span's (0 when every bucket is above it).
    found AS (
        SELECT p.span_id, p.operation, p.server, p.target, p.side, p.duration_ms, p.key,
               h.keys, h.counts, h.below, h.total, width_bucket(p.key, h.keys) AS i
        FROM probes p
        JOIN hist h ON (h.operation, h.server, h.target, h.side) = (p.operation, p.server, p.target, p.side)
    ),
    counted AS (
        SELECT f.*,
               CASE WHEN f.i = 0 THEN 0 WHEN f.keys[f.i] = f.key THEN f.below[f.i] ELSE f.below[f.i] + f.counts[f.i] END
                   AS n_below,
               CASE WHEN f.i > 0 AND f.keys[f.i] = f.key THEN f.counts[f.i] ELSE 0 END AS n_same
        FROM found f
    )
    SELECT c.span_id, c.operation, c.server, c.target, c.side, c.duration_ms,
           100.0 * (c.n_below + c.n_same / 2.0) / c.total,
           100.0 * c.n_below / c.total,
           100.0 * (c.n_below + c.n_same) / c.total,
           c.total, st.window_start, st.window_end
    FROM counted c
    CROSS JOIN observability_internal.rank_histogram_state st
$$;

COMMENT ON FUNCTION observability.span_ranks(p_trace_id uuid, p_from timestamp with time zone, p_through timestamp with time zone) IS 'Percentile rank (0-100) of each span of a trace (its first start and last end given) among its metric group''s and side''s durations over the 24 hours of rank_histogram_state: rank_pct the midpoint, the exact mid-rank within [rank_low_pct, rank_high_pct]. See docs/sql.md.';

CREATE TABLE observability.resources (
    resource_id integer NOT NULL,
    digest uuid NOT NULL,
    attributes jsonb NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE observability.resources IS 'One row per distinct set of resource attributes; spans refer to theirs by resource_id. Read a span''s resource with observability.span_resource(resource_attributes, resource_id), or through span_list.';

COMMENT ON COLUMN observability.resources.digest IS 'md5 of attributes::text (jsonb''s canonical text), as a uuid: what ingest_spans() looks a resource up by.';

COMMENT ON COLUMN observability.resources.last_seen IS 'When a batch last carried this resource, to the hour (ingest_spans() moves it on at most once an hour): what forget_resources() goes by.';

CREATE FUNCTION observability.span_resource(p_inline jsonb, p_resource_id integer) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE(p_inline, (SELECT r.attributes FROM observability.resources r WHERE (r.resource_id = span_resource.p_resource_id)));

COMMENT ON FUNCTION observability.span_resource(p_inline jsonb, p_resource_id integer) IS 'A span''s resource attributes: span_resource(s.resource_attributes, s.resource_id). See docs/sql.md.';

CREATE TABLE observability.scopes (
    scope_id integer NOT NULL,
    digest uuid NOT NULL,
    name text NOT NULL,
    first_seen timestamp with time zone DEFAULT now() NOT NULL,
    last_seen timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE observability.scopes IS 'One row per distinct instrumentation scope name; spans refer to theirs by scope_id. Read a span''s scope with observability.span_scope(scope_name, scope_id).';

COMMENT ON COLUMN observability.scopes.last_seen IS 'When a batch last carried this scope, to the hour (ingest_spans() moves it on at most once an hour): what forget_scopes() goes by.';

CREATE FUNCTION observability.span_scope(p_inline text, p_scope_id integer) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE(p_inline, (SELECT s.name FROM observability.scopes s WHERE (s.scope_id = span_scope.p_scope_id)));

COMMENT ON FUNCTION observability.span_scope(p_inline text, p_scope_id integer) IS 'A span''s instrumentation scope name: span_scope(s.scope_name, s.scope_id). See docs/schema.md.';

CREATE FUNCTION observability.trace_compare(p_a uuid, p_b uuid) RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text, target text, operation text, ordinal integer, repeats_a integer, repeats_b integer, span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision, duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision, status_a text, status_b text, traces_b integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM observability_internal.compare_aligned(p_a, p_b, NULL)
$$;

COMMENT ON FUNCTION observability.trace_compare(p_a uuid, p_b uuid) IS 'Two traces'' span trees aligned by span path (service, name, target, ordinal among same-named siblings), with each side''s duration and the difference A - B. See docs/sql.md.';

CREATE FUNCTION observability.trace_compare_typical(p_a uuid, p_sample uuid[]) RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text, target text, operation text, ordinal integer, repeats_a integer, repeats_b integer, span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision, duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision, status_a text, status_b text, traces_b integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM observability_internal.compare_aligned(p_a, NULL, coalesce(p_sample, '{}'))
$$;

COMMENT ON FUNCTION observability.trace_compare_typical(p_a uuid, p_sample uuid[]) IS 'A trace aligned with the typical trace of a sample of its kind: per span path the median duration over the sample and how many of its traces had the path. See docs/sql.md.';

CREATE FUNCTION observability_internal.otlp_nested_value(p_value jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    IF jsonb_typeof(p_value) = 'array' THEN
        RETURN jsonb_build_object('arrayValue', jsonb_build_object('values',
            (SELECT coalesce(jsonb_agg(observability_internal.otlp_any_value(e.value) ORDER BY e.ordinality), '[]'::jsonb)
             FROM jsonb_array_elements(p_value) WITH ORDINALITY e)));
    ELSIF jsonb_typeof(p_value) = 'object' THEN
        RETURN jsonb_build_object('kvlistValue', jsonb_build_object('values',
            observability_internal.otlp_key_values(p_value)));
    END IF;
    -- JSON null: no stored value is one; an empty AnyValue is what it would mean.
    RETURN '{}'::jsonb;
END
$$;

CREATE FUNCTION observability_internal.otlp_any_value(p_value jsonb) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE jsonb_typeof(p_value) WHEN 'string'::text THEN jsonb_build_object('stringValue', p_value) WHEN 'boolean'::text THEN jsonb_build_object('boolValue', p_value) WHEN 'number'::text THEN CASE WHEN (((p_value)::text ~ '^-?[0-9]+$'::text) AND (((p_value)::numeric >= ('-9223372036854775808'::bigint)::numeric) AND ((p_value)::numeric <= ('9223372036854775807'::bigint)::numeric))) THEN jsonb_build_object('intValue', (p_value)::text) ELSE jsonb_build_object('doubleValue', p_value) END ELSE observability_internal.otlp_nested_value(p_value) END;

CREATE FUNCTION observability_internal.otlp_key_values(p_object jsonb) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (SELECT COALESCE(jsonb_agg(jsonb_build_object('key', a.key, 'value', observability_internal.otlp_any_value(a.value)) ORDER BY a.ordinality), '[]'::jsonb) AS "coalesce" FROM jsonb_each(otlp_key_values.p_object) WITH ORDINALITY a(key, value, ordinality));

CREATE FUNCTION observability_internal.otlp_unix_micros(p_time timestamp with time zone) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((EXTRACT(epoch FROM p_time) * (1000000)::numeric))::bigint;

CREATE FUNCTION observability_internal.otlp_start_nano(p_start timestamp with time zone, p_end timestamp with time zone, p_duration_ms double precision) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((observability_internal.otlp_unix_micros(p_start) * 1000) + LEAST(GREATEST((((observability_internal.otlp_unix_micros(p_end) - observability_internal.otlp_unix_micros(p_start)) * 1000) - (round((p_duration_ms * (1000000)::double precision)))::bigint), (0)::bigint), (999)::bigint));

CREATE FUNCTION observability_internal.otlp_unix_nano(p_time timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((observability_internal.otlp_unix_micros(p_time) * 1000))::text;

CREATE TABLE observability.spans (
    trace_id uuid NOT NULL,
    span_id bigint NOT NULL,
    parent_span_id bigint,
    name text NOT NULL,
    kind text NOT NULL,
    operation text NOT NULL,
    target text,
    service_name text NOT NULL,
    scope_name text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    status text NOT NULL,
    status_message text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    resource_attributes jsonb DEFAULT '{}'::jsonb,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    resource_id integer,
    scope_id integer,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
)
PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.spans IS 'One row per span; daily RANGE partitions spans_pYYYYMMDD (UTC) plus spans_default for times outside them.';

COMMENT ON COLUMN observability.spans.operation IS 'What the span did, classified once at ingest: tool_invoke, prompt_render, resource_fetch, http_request, db_query, internal.';

COMMENT ON COLUMN observability.spans.target IS 'The name dashboards group by: tool name, prompt name, resource URI, HTTP route or SQL operation.';

COMMENT ON COLUMN observability.spans.scope_name IS 'The instrumentation scope''s name, only on spans stored before 0020 whose day has not been compacted; NULL when scope_id is set or the span has no scope. Read with span_scope().';

COMMENT ON COLUMN observability.spans.resource_attributes IS 'The resource''s attributes, only on spans stored before 0018 whose day has not been compacted; NULL when resource_id is set. Read with span_resource().';

COMMENT ON COLUMN observability.spans.events IS 'Span events as a JSON array of {name, time, attributes}; see the span_events view for one row per event.';

COMMENT ON COLUMN observability.spans.resource_id IS 'The span''s resource in observability.resources; NULL only on spans that still hold resource_attributes inline.';

COMMENT ON COLUMN observability.spans.scope_id IS 'The span''s instrumentation scope in observability.scopes; NULL on spans without a scope and on spans that still hold scope_name inline.';

CREATE TABLE observability.traces (
    trace_id uuid NOT NULL,
    root_span_id bigint,
    root_name text NOT NULL,
    service_name text NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision GENERATED ALWAYS AS ((EXTRACT(epoch FROM (end_time - start_time)) * (1000)::numeric)) STORED,
    span_count integer NOT NULL,
    error_count integer NOT NULL,
    status text GENERATED ALWAYS AS (
CASE
    WHEN (error_count > 0) THEN 'error'::text
    ELSE 'ok'::text
END) STORED,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE observability.traces IS 'One row per trace, kept by ingest_spans(). root_span_id is NULL until the root span (no parent) has arrived; until then root_name and service_name are those of the earliest span seen.';

CREATE FUNCTION observability.trace_otlp(p_trace_id uuid) RETURNS jsonb
    LANGUAGE sql STRICT PARALLEL SAFE
    RETURN (WITH trace AS (SELECT t.start_time, t.end_time FROM observability.traces t WHERE (t.trace_id = trace_otlp.p_trace_id)), span AS (SELECT COALESCE(s.resource_attributes, r.attributes) AS resource_attributes, COALESCE(s.scope_name, c.name) AS scope_name, s.start_time, s.span_id, (((jsonb_strip_nulls(jsonb_build_object('traceId', observability.hex_trace_id(s.trace_id), 'spanId', observability.hex_span_id(s.span_id), 'parentSpanId', observability.hex_span_id(s.parent_span_id), 'name', s.name, 'kind', array_position(ARRAY['internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text], s.kind), 'startTimeUnixNano', (t.start_ns)::text, 'endTimeUnixNano', ((t.start_ns + (round((s.duration_ms * (1000000)::double precision)))::bigint))::text)) || jsonb_build_object('attributes', observability_internal.otlp_key_values(s.attributes))) || CASE WHEN (jsonb_array_length(s.events) > 0) THEN jsonb_build_object('events', (SELECT jsonb_agg(jsonb_build_object('timeUnixNano', observability_internal.otlp_unix_nano(((e.value ->> 'time'::text))::timestamp with time zone), 'name', (e.value ->> 'name'::text), 'attributes', observability_internal.otlp_key_values(COALESCE((e.value -> 'attributes'::text), '{}'::jsonb))) ORDER BY e.ordinality) AS jsonb_agg FROM jsonb_array_elements(s.events) WITH ORDINALITY e(value, ordinality))) ELSE '{}'::jsonb END) || jsonb_build_object('status', jsonb_strip_nulls(jsonb_build_object('code', (array_position(ARRAY['unset'::text, 'ok'::text, 'error'::text], s.status) - 1), 'message', s.status_message)))) AS otlp FROM ((((observability.spans s CROSS JOIN trace) LEFT JOIN observability.resources r ON ((r.resource_id = s.resource_id))) LEFT JOIN observability.scopes c ON ((c.scope_id = s.scope_id))) CROSS JOIN LATERAL (SELECT observability_internal.otlp_start_nano(s.start_time, s.end_time, s.duration_ms) AS start_ns) t) WHERE ((s.trace_id = trace_otlp.p_trace_id) AND (s.start_time >= trace.start_time) AND (s.start_time <= trace.end_time))), scope AS (SELECT sp.resource_attributes, sp.scope_name, min(sp.start_time) AS first_start, jsonb_strip_nulls(jsonb_build_object('scope', CASE WHEN (sp.scope_name IS NOT NULL) THEN jsonb_build_object('name', sp.scope_name) ELSE NULL::jsonb END, 'spans', jsonb_agg(sp.otlp ORDER BY sp.start_time, sp.span_id))) AS otlp FROM span sp GROUP BY sp.resource_attributes, sp.scope_name), resource AS (SELECT min(sc.first_start) AS first_start, jsonb_build_object('resource', jsonb_build_object('attributes', observability_internal.otlp_key_values(sc.resource_attributes)), 'scopeSpans', jsonb_agg(sc.otlp ORDER BY sc.first_start, sc.scope_name)) AS otlp FROM scope sc GROUP BY sc.resource_attributes) SELECT CASE WHEN (EXISTS (SELECT 1 FROM trace)) THEN jsonb_build_object('resourceSpans', COALESCE((SELECT jsonb_agg(r.otlp ORDER BY r.first_start, r.otlp) AS jsonb_agg FROM resource r), '[]'::jsonb)) ELSE NULL::jsonb END AS "case");

COMMENT ON FUNCTION observability.trace_otlp(p_trace_id uuid) IS 'One trace as an OTLP/JSON export request (the body POST /v1/traces accepts): what is stored, times to the microsecond. NULL for an unknown trace. See docs/sql.md.';

CREATE FUNCTION observability.trace_typical(p_trace_ids uuid[]) RETURNS TABLE(node bigint, parent_node bigint, depth integer, service_name text, name text, target text, operation text, ordinal integer, repeats integer, offset_ms double precision, duration_ms double precision, traces integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT a.node, a.parent_node, a.depth, a.service_name, a.name, a.target, min(a.operation), a.ordinal,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.repeats),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.offset_ms),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms),
           count(DISTINCT a.trace_id)::integer
    FROM observability_internal.span_alignment(p_trace_ids) a
    GROUP BY a.node, a.parent_node, a.depth, a.service_name, a.name, a.target, a.ordinal
$$;

COMMENT ON FUNCTION observability.trace_typical(p_trace_ids uuid[]) IS 'The typical trace of a sample of traces (see typical_trace_sample): per aligned span node, the median duration and offset and how many of the traces had it.';

CREATE FUNCTION observability.typical_trace_sample(p_service text, p_root_name text, p_since timestamp with time zone, p_until timestamp with time zone, p_exclude uuid, p_max_traces integer, p_max_spans integer) RETURNS TABLE(trace_id uuid, start_time timestamp with time zone, duration_ms double precision, span_count integer, bounded boolean)
    LANGUAGE sql STABLE
    AS $$
    WITH candidates AS (
        SELECT t.trace_id, t.start_time, t.duration_ms, t.span_count,
               row_number() OVER w AS n,
               sum(t.span_count) OVER w AS spans
        FROM (
            SELECT t.trace_id, t.start_time, t.duration_ms, t.span_count
            FROM observability.traces t
            WHERE t.service_name = p_service AND t.root_name = p_root_name
              AND t.start_time >= p_since AND t.start_time < p_until
              AND t.trace_id IS DISTINCT FROM p_exclude
            ORDER BY t.start_time DESC, t.trace_id
            LIMIT p_max_traces + 1
        ) t
        WINDOW w AS (ORDER BY t.start_time DESC, t.trace_id)
    ), chosen AS (
        SELECT c.* FROM candidates c WHERE c.n <= p_max_traces AND (c.n = 1 OR c.spans <= p_max_spans)
    )
    SELECT c.trace_id, c.start_time, c.duration_ms, c.span_count,
           (SELECT count(*) FROM candidates) > (SELECT count(*) FROM chosen)
    FROM chosen c
    ORDER BY c.start_time DESC, c.trace_id
$$;

COMMENT ON FUNCTION observability.typical_trace_sample(p_service text, p_root_name text, p_since timestamp with time zone, p_until timestamp with time zone, p_exclude uuid, p_max_traces integer, p_max_spans integer) IS 'The newest traces of one kind (root span name and service) in a time range, bounded by a trace count and a span budget: the sample of a typical trace. See docs/sql.md.';

CREATE FUNCTION observability.window_metrics(p_window interval) RETURNS TABLE(level text, operation text, server text, target text, request_count bigint, error_count bigint, error_pct double precision, avg_ms double precision, p50_ms double precision, p90_ms double precision, p95_ms double precision, p99_ms double precision, max_ms double precision, client_avg_ms double precision, client_p50_ms double precision, client_p90_ms double precision, client_p95_ms double precision, client_p99_ms double precision, overhead_ms double precision, first_seen timestamp with time zone, last_seen timestamp with time zone, example_error text)
    LANGUAGE sql
    SET jit TO 'off'
    AS $$
WITH figures AS (
    SELECT CASE grouping(r.operation, r.server, r.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(r.operation, '') AS operation,
           coalesce(r.server, '') AS server,
           coalesce(r.target, '') AS target,
           count(*) AS request_count,
           count(*) FILTER (WHERE r.status = 'error') AS error_count,
           avg(r.duration_ms) AS avg_ms,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[])
               WITHIN GROUP (ORDER BY r.duration_ms) AS pct,
           max(r.duration_ms) AS max_ms,
           avg(r.client_duration_ms) AS client_avg_ms,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[])
               WITHIN GROUP (ORDER BY r.client_duration_ms) AS client_pct,
           avg(r.client_duration_ms - r.duration_ms) AS overhead_ms,
           min(r.start_time) AS first_seen,
           max(r.start_time) AS last_seen
    FROM observability_internal.metric_rows r
    WHERE r.start_time > observability_internal.metrics_now() - p_window
      AND r.start_time <= observability_internal.metrics_now()
    GROUP BY GROUPING SETS ((r.operation, r.server, r.target), (r.operation), ())
),
latest_errors AS (
    SELECT DISTINCT ON (r.operation, r.server, r.target) r.operation, r.server, r.target, r.error_message, r.start_time
    FROM observability_internal.metric_rows r
    WHERE r.status = 'error' AND r.error_message IS NOT NULL
      AND r.start_time > observability_internal.metrics_now() - p_window
      AND r.start_time <= observability_internal.metrics_now()
    ORDER BY r.operation, r.server, r.target, r.start_time DESC
),
examples AS (
    SELECT CASE grouping(e.operation, e.server, e.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(e.operation, '') AS operation,
           coalesce(e.server, '') AS server,
           coalesce(e.target, '') AS target,
           (array_agg(e.error_message ORDER BY e.start_time DESC))[1] AS message
    FROM latest_errors e
    GROUP BY GROUPING SETS ((e.operation, e.server, e.target), (e.operation), ())
)
SELECT f.level, f.operation, f.server, f.target, f.request_count, f.error_count,
       100.0 * f.error_count / f.request_count,
       f.avg_ms, f.pct[1], f.pct[2], f.pct[3], f.pct[4], f.max_ms,
       f.client_avg_ms, f.client_pct[1], f.client_pct[2], f.client_pct[3], f.client_pct[4], f.overhead_ms,
       f.first_seen, f.last_seen, x.message
FROM figures f
LEFT JOIN examples x ON x.level = f.level AND x.operation = f.operation AND x.server = f.server AND x.target = f.target
WHERE f.request_count > 0
$$;

CREATE FUNCTION observability_internal.assemble_trace_calls(p_trace_ids uuid[], p_starts timestamp with time zone[], p_ends timestamp with time zone[]) RETURNS bigint
    LANGUAGE plpgsql
    SET jit TO 'off'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    v_rows bigint;
BEGIN
    DELETE FROM observability.calls c WHERE c.trace_id = ANY (p_trace_ids);

    WITH RECURSIVE
    batch AS (
        SELECT * FROM unnest(p_trace_ids, p_starts, p_ends) AS b(trace_id, start_time, end_time)
    ),
    -- Every span of the batch (ancestors are walked through non-call spans too); only
    -- call spans keep their attributes.
    sp AS MATERIALIZED (
        SELECT s.trace_id, s.span_id, s.parent_span_id, s.service_name, s.name, s.kind, s.target,
               s.start_time, s.end_time, s.duration_ms, s.status, s.status_message,
               observability_internal.call_method(s.name, s.operation, s.attributes) AS method,
               observability_internal.call_side(s.name, s.kind, s.attributes) AS stated_side,
               s.attributes
        FROM batch b
        JOIN observability.spans s
          ON s.trace_id = b.trace_id AND s.start_time >= b.start_time AND s.start_time <= b.end_time
    ),
    -- Spans with a call span of another service directly under them: the senders.
    remote_parents AS (
        SELECT DISTINCT k.trace_id, k.parent_span_id
        FROM sp k
        JOIN sp p ON p.trace_id = k.trace_id AND p.span_id = k.parent_span_id AND p.service_name <> k.service_name
        WHERE k.method IS NOT NULL
    ),
    cs AS MATERIALIZED (
        SELECT c.trace_id, c.span_id, c.parent_span_id, c.service_name, c.target, c.start_time, c.end_time,
               c.duration_ms, c.status, c.status_message, c.method, c.attributes,
               coalesce(c.stated_side, CASE WHEN r.parent_span_id IS NOT NULL THEN 'client' ELSE 'server' END) AS side
        FROM sp c
        LEFT JOIN remote_parents r ON r.trace_id = c.trace_id AND r.parent_span_id = c.span_id
        WHERE c.method IS NOT NULL
    ),
    -- Whether a call span continues its parent's chain.
    cl AS MATERIALIZED (
        SELECT c.*, (p.span_id IS NOT NULL) AS continues
        FROM cs c
        LEFT JOIN cs p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
                      AND p.side = c.side AND p.service_name = c.service_name AND p.method = c.method
    ),
    -- Side and method ride along the recursion, so nothing below has to join them back
    -- (row estimates collapse after a recursive CTE, and such a join went quadratic).
    chain (trace_id, root_id, span_id, depth, side, method) AS (
        SELECT c.trace_id, c.span_id, c.span_id, 0, c.side, c.method FROM cl c WHERE NOT c.continues
        UNION ALL
        SELECT ch.trace_id, ch.root_id, c.span_id, ch.depth + 1, ch.side, ch.method
        FROM chain ch
        JOIN cl c ON c.trace_id = ch.trace_id AND c.parent_span_id = ch.span_id AND c.continues
        WHERE ch.depth < 32
    ),
    sides AS MATERIALIZED (
        SELECT ch.trace_id, ch.root_id,
               min(r.side) AS side, min(r.method) AS method, min(r.service_name) AS service_name,
               min(r.parent_span_id) AS root_parent, min(r.start_time) AS start_time, min(r.end_time) AS end_time,
               min(r.duration_ms) AS duration_ms,
               array_agg(ch.span_id ORDER BY ch.depth, ch.span_id) AS span_ids,
               (array_agg(m.target ORDER BY ch.depth) FILTER (WHERE m.target IS NOT NULL))[1] AS target,
               bool_or(m.status = 'error' OR m.attributes ? 'error.type') AS failed,
               (array_agg(m.attributes ->> 'error.type' ORDER BY ch.depth DESC)
                   FILTER (WHERE m.attributes ->> 'error.type' <> ''))[1] AS error_type,
               (array_agg(m.status_message ORDER BY ch.depth DESC)
                   FILTER (WHERE m.status = 'error' AND m.status_message IS NOT NULL))[1] AS error_message,
               (array_agg(m.attributes ->> 'mcp.session.id' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'mcp.session.id' <> ''))[1] AS session_id,
               (array_agg(m.attributes ->> 'mcp.protocol.version' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'mcp.protocol.version' <> ''))[1] AS protocol_version,
               (array_agg(coalesce(m.attributes ->> 'network.transport', m.attributes ->> 'mcp.transport',
                                   m.attributes ->> 'contextforge.transport') ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'network.transport', m.attributes ->> 'mcp.transport',
                                          m.attributes ->> 'contextforge.transport') <> ''))[1] AS transport,
               (array_agg(coalesce(m.attributes ->> 'jsonrpc.request.id', m.attributes ->> 'mcp.request.id')
                          ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'jsonrpc.request.id',
                                          m.attributes ->> 'mcp.request.id') <> ''))[1] AS request_id,
               (array_agg(m.attributes ->> 'fastmcp.server.name' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'fastmcp.server.name' <> ''))[1] AS server_label,
               (array_agg(coalesce(m.attributes ->> 'server.address',
                                   observability_internal.url_host(m.attributes ->> 'url.full')) ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'server.address',
                                          observability_internal.url_host(m.attributes ->> 'url.full')) <> ''))[1]
                   AS server_address
        FROM chain ch
        JOIN cl m ON m.trace_id = ch.trace_id AND m.span_id = ch.span_id
        JOIN cl r ON r.trace_id = ch.trace_id AND r.span_id = ch.root_id
        GROUP BY ch.trace_id, ch.root_id
    ),
    members AS (
        SELECT ch.trace_id, ch.span_id, ch.root_id, ch.side, ch.method
        FROM chain ch
    ),
    -- The ancestors of each server side's outermost span, nearest first.
    up (trace_id, server_root, method, span_id, depth) AS (
        SELECT s.trace_id, s.root_id, s.method, s.root_parent, 1
        FROM sides s WHERE s.side = 'server' AND s.root_parent IS NOT NULL
        UNION ALL
        SELECT u.trace_id, u.server_root, u.method, p.parent_span_id, u.depth + 1
        FROM up u JOIN sp p ON p.trace_id = u.trace_id AND p.span_id = u.span_id
        WHERE u.depth < 6 AND p.parent_span_id IS NOT NULL
    ),
    pairs AS (
        SELECT DISTINCT ON (u.trace_id, u.server_root) u.trace_id, u.server_root, m.root_id AS client_root
        FROM up u
        JOIN members m ON m.trace_id = u.trace_id AND m.span_id = u.span_id
                      AND m.side = 'client' AND m.method = u.method
        ORDER BY u.trace_id, u.server_root, u.depth
    ),
    -- Each side's peer: a server side's client side, and a client side's first server
    -- side (several server sides under one client side take a retry to happen).
    peer_of AS (
        SELECT p.trace_id, p.server_root AS root_id, p.client_root AS peer_root FROM pairs p
        UNION ALL
        (SELECT DISTINCT ON (p.trace_id, p.client_root) p.trace_id, p.client_root, p.server_root
         FROM pairs p ORDER BY p.trace_id, p.client_root, p.server_root)
    ),
    joined AS (
        SELECT s.*, peer.root_id AS peer_id, peer.failed AS peer_failed, peer.service_name AS peer_service,
               peer.target AS peer_target, peer.session_id AS peer_session, peer.protocol_version AS peer_protocol,
               peer.transport AS peer_transport, peer.request_id AS peer_request, peer.server_label AS peer_label,
               peer.duration_ms AS peer_duration, peer.error_type AS peer_error_type,
               peer.error_message AS peer_error_message
        FROM sides s
        LEFT JOIN peer_of po ON po.trace_id = s.trace_id AND po.root_id = s.root_id
        LEFT JOIN sides peer ON peer.trace_id = s.trace_id AND peer.root_id = po.peer_root
    )
    INSERT INTO observability.calls (trace_id, side, span_id, span_ids, client_span_id, server_span_id, method, target,
                                     server_name, client_name, service_name, session_id, protocol_version, transport,
                                     request_id, start_time, end_time, duration_ms, client_duration_ms,
                                     server_duration_ms, status, error_type, error_message, request_status, counted)
    SELECT j.trace_id, j.side, j.root_id, j.span_ids,
           CASE WHEN j.side = 'client' THEN j.root_id ELSE j.peer_id END,
           CASE WHEN j.side = 'server' THEN j.root_id ELSE j.peer_id END,
           j.method,
           CASE WHEN j.side = 'server' THEN coalesce(j.target, j.peer_target) ELSE coalesce(j.peer_target, j.target) END,
           CASE WHEN j.side = 'server' THEN coalesce(j.server_label, j.service_name)
                WHEN j.peer_id IS NOT NULL THEN coalesce(j.peer_label, j.peer_service)
                ELSE j.server_address END,
           CASE WHEN j.side = 'client' THEN j.service_name ELSE j.peer_service END,
           j.service_name,
           coalesce(j.session_id, j.peer_session),
           coalesce(j.protocol_version, j.peer_protocol),
           coalesce(j.transport, j.peer_transport),
           coalesce(j.request_id, j.peer_request),
           j.start_time, j.end_time, j.duration_ms,
           CASE WHEN j.side = 'client' THEN j.duration_ms ELSE j.peer_duration END,
           CASE WHEN j.side = 'server' THEN j.duration_ms ELSE j.peer_duration END,
           CASE WHEN j.failed THEN 'error' ELSE 'ok' END,
           CASE WHEN j.failed THEN j.error_type WHEN j.peer_failed THEN j.peer_error_type END,
           CASE WHEN j.failed THEN j.error_message WHEN j.peer_failed THEN j.peer_error_message END,
           CASE WHEN j.failed OR coalesce(j.peer_failed, false) THEN 'error' ELSE 'ok' END,
           j.side = 'server' OR j.peer_id IS NULL
    FROM joined j;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

CREATE FUNCTION observability_internal.call_method(p_name text, p_operation text, p_attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN COALESCE(NULLIF((p_attributes ->> 'mcp.method.name'::text), ''::text), CASE WHEN ((p_attributes ->> 'rpc.system'::text) = 'jsonrpc'::text) THEN NULLIF((p_attributes ->> 'rpc.method'::text), ''::text) ELSE NULL::text END, CASE WHEN (p_name ~~ 'MCP request: %'::text) THEN NULLIF(split_part(substr(p_name, 14), ' '::text, 1), ''::text) WHEN (p_name ~~ 'MCP server handle request: %'::text) THEN NULLIF(split_part(substr(p_name, 28), ' '::text, 1), ''::text) WHEN (p_name ~ '^[a-z_]+/[A-Za-z_]+\.mcp$'::text) THEN "left"(p_name, '-4'::integer) WHEN (p_name = 'mcp.client.initialize'::text) THEN 'initialize'::text ELSE NULL::text END, CASE p_operation WHEN 'tool_invoke'::text THEN 'tools/call'::text WHEN 'prompt_render'::text THEN 'prompts/get'::text WHEN 'resource_fetch'::text THEN 'resources/read'::text ELSE NULL::text END);

CREATE FUNCTION observability_internal.call_partitions() RETURNS TABLE(partition_name text, is_default boolean, lower_bound timestamp with time zone, upper_bound timestamp with time zone)
    LANGUAGE sql STABLE
    AS $_$
SELECT c.relname::text,
       b.expr = 'DEFAULT',
       b.bounds[1]::timestamptz,
       b.bounds[2]::timestamptz
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (
    SELECT e.expr, regexp_match(e.expr, '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS bounds
    FROM (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS expr) e
) b
WHERE i.inhparent = 'observability.calls'::regclass
ORDER BY 4 NULLS LAST, 1
$_$;

CREATE FUNCTION observability_internal.call_side(p_name text, p_kind text, p_attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN (p_kind = 'client'::text) THEN 'client'::text WHEN (p_kind = 'server'::text) THEN 'server'::text WHEN ((p_name ~~ 'MCP request: %'::text) OR (p_name ~~ 'mcp.client.%'::text) OR (p_name ~~ '%.mcp'::text) OR (p_attributes ? 'traceloop.span.kind'::text)) THEN 'client'::text WHEN ((p_name ~~ 'MCP server handle request: %'::text) OR (p_name = ANY (ARRAY['tool.invoke'::text, 'prompt.render'::text, 'resource.read'::text]))) THEN 'server'::text ELSE NULL::text END;

CREATE FUNCTION observability_internal.claim_maintenance_job(p_job text, p_every interval, p_owner text, p_now timestamp with time zone DEFAULT now()) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_claimed boolean;
BEGIN
    IF p_job IS NULL OR p_job = '' THEN
        RAISE EXCEPTION 'claim_maintenance_job: the job name must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_every IS NULL OR p_every <= interval '0' THEN
        RAISE EXCEPTION 'claim_maintenance_job: the interval of job % must be greater than zero, not %', p_job, p_every
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.job.' || p_job)) THEN
        RETURN false;
    END IF;

    INSERT INTO observability_internal.maintenance_jobs (job) VALUES (p_job) ON CONFLICT (job) DO NOTHING;
    UPDATE observability_internal.maintenance_jobs j
       SET last_started_at = p_now, last_owner = p_owner
     WHERE j.job = p_job
       AND (j.last_started_at IS NULL OR j.last_started_at <= p_now - p_every)
    RETURNING true INTO v_claimed;
    RETURN coalesce(v_claimed, false);
END
$$;

CREATE TABLE observability_internal.compacted_span_partitions (
    partition_oid oid NOT NULL,
    partition_name text NOT NULL,
    compacted_at timestamp with time zone DEFAULT now() NOT NULL,
    span_count bigint NOT NULL,
    bytes_before bigint NOT NULL,
    bytes_after bigint NOT NULL
);

COMMENT ON TABLE observability_internal.compacted_span_partitions IS 'The daily spans partitions compact_span_partition() has rewritten, by the oid of the new table, with their span count and total bytes (heap, TOAST, indexes) before and after.';

CREATE FUNCTION observability_internal.compacted_before() RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT ((COALESCE(max((to_date(substr(c.partition_name, 8), 'YYYYMMDD'::text) + 1)), '-infinity'::date))::timestamp without time zone AT TIME ZONE 'UTC'::text) AS timezone FROM observability_internal.compacted_span_partitions c);

CREATE FUNCTION observability_internal.compare_aligned(p_a uuid, p_b uuid, p_sample uuid[]) RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text, target text, operation text, ordinal integer, repeats_a integer, repeats_b integer, span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision, duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision, status_a text, status_b text, traces_b integer)
    LANGUAGE plpgsql
    SET enable_nestloop TO 'off'
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE spans AS (
        SELECT * FROM observability_internal.span_alignment(
            CASE WHEN p_sample IS NULL THEN ARRAY[p_a, p_b] ELSE ARRAY[p_a] END)
    ), a AS (
        SELECT * FROM spans s WHERE s.trace_id = p_a
    ), b AS (
        SELECT s.node, s.parent_node, s.depth, s.service_name, s.name, s.target, s.operation, s.ordinal, s.repeats,
               s.span_id, s.offset_ms, s.duration_ms, s.status, 1 AS traces
        FROM spans s WHERE p_sample IS NULL AND s.trace_id = p_b
        UNION ALL
        SELECT t.node, t.parent_node, t.depth, t.service_name, t.name, t.target, t.operation, t.ordinal, t.repeats,
               NULL, t.offset_ms, t.duration_ms, NULL, t.traces
        FROM observability.trace_typical(p_sample) t WHERE p_sample IS NOT NULL
    ), joined AS (
        SELECT coalesce(a.node, b.node) AS node, coalesce(a.parent_node, b.parent_node) AS parent_node,
               coalesce(a.depth, b.depth) AS depth, coalesce(a.service_name, b.service_name) AS service_name,
               coalesce(a.name, b.name) AS name, coalesce(a.target, b.target) AS target,
               coalesce(a.operation, b.operation) AS operation, coalesce(a.ordinal, b.ordinal) AS ordinal,
               a.repeats AS repeats_a, b.repeats AS repeats_b, a.span_id AS span_id_a, b.span_id AS span_id_b,
               a.offset_ms AS offset_a_ms, b.offset_ms AS offset_b_ms, a.duration_ms AS duration_a_ms,
               b.duration_ms AS duration_b_ms, a.status AS status_a, b.status AS status_b, b.traces AS traces_b,
               row_number() OVER (PARTITION BY coalesce(a.parent_node, b.parent_node)
                                  ORDER BY least(a.offset_ms, b.offset_ms), coalesce(a.node, b.node)) AS sibling
        FROM a FULL JOIN b ON b.node = a.node
    ), links AS MATERIALIZED (
        SELECT j.node, j.parent_node, j.sibling::integer AS sibling FROM joined j
    ), ordered AS (
        SELECT l.node, ARRAY[l.sibling] AS sort FROM links l WHERE l.parent_node IS NULL
        UNION ALL
        SELECT l.node, o.sort || l.sibling FROM ordered o JOIN links l ON l.parent_node = o.node
    )
    SELECT (row_number() OVER (ORDER BY o.sort))::integer, j.depth, j.node, j.parent_node, j.service_name, j.name,
           j.target, j.operation, j.ordinal, j.repeats_a, j.repeats_b, j.span_id_a, j.span_id_b, j.offset_a_ms,
           j.offset_b_ms, j.duration_a_ms, j.duration_b_ms, j.duration_a_ms - j.duration_b_ms, j.status_a, j.status_b,
           j.traces_b
    FROM ordered o JOIN joined j ON j.node = o.node
    ORDER BY o.sort;
END
$$;

COMMENT ON FUNCTION observability_internal.compare_aligned(p_a uuid, p_b uuid, p_sample uuid[]) IS 'Trace p_a aligned with trace p_b or with the typical trace of p_sample, in tree order. Internal to trace_compare and trace_compare_typical.';

CREATE FUNCTION observability_internal.create_span_key(p_partition text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON observability.%I (trace_id, span_id, start_time)',
                   p_partition || '_trace_span_key', p_partition);
END
$$;

CREATE FUNCTION observability_internal.digest_entries(p_duration_keys integer[], p_duration_counts bigint[], p_client_keys integer[], p_client_counts bigint[]) RETURNS TABLE(side text, key integer, n bigint)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
SELECT 'server', d.key, d.n FROM unnest(p_duration_keys, p_duration_counts) d(key, n)
UNION ALL
SELECT 'client', c.key, c.n FROM unnest(p_client_keys, p_client_counts) c(key, n)
$$;

CREATE FUNCTION observability_internal.digest_gamma() RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 1.02;

CREATE FUNCTION observability_internal.digest_key(p_ms double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN (p_ms > (0)::double precision) THEN (ceil((ln(p_ms) / ln(observability_internal.digest_gamma()))))::integer WHEN (p_ms IS NOT NULL) THEN '-2147483648'::integer ELSE NULL::integer END;

CREATE FUNCTION observability_internal.digest_percentiles(p_keys integer[], p_counts bigint[], p_fractions double precision[]) RETURNS double precision[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
DECLARE
    v_total   bigint := 0;
    v_result  double precision[] := '{}';
    v_rank    double precision;
    v_lo      bigint;
    v_hi      bigint;
    v_lo_ms   double precision;
    v_hi_ms   double precision;
    v_seen    bigint;
    v_i       integer;
    v_f       double precision;
BEGIN
    IF p_keys IS NULL OR cardinality(p_keys) = 0 THEN
        RETURN array_fill(NULL::double precision, ARRAY[cardinality(p_fractions)]);
    END IF;
    SELECT sum(c) INTO v_total FROM unnest(p_counts) c;
    FOREACH v_f IN ARRAY p_fractions LOOP
        v_rank := v_f * (v_total - 1);
        v_lo := floor(v_rank);
        v_hi := ceil(v_rank);
        v_lo_ms := NULL;
        v_hi_ms := NULL;
        v_seen := 0;
        -- Ranks are 0-based: the bucket holding rank r is the first whose running count exceeds r.
        FOR v_i IN 1 .. cardinality(p_keys) LOOP
            v_seen := v_seen + p_counts[v_i];
            IF v_lo_ms IS NULL AND v_seen > v_lo THEN
                v_lo_ms := observability_internal.digest_value(p_keys[v_i]);
            END IF;
            IF v_seen > v_hi THEN
                v_hi_ms := observability_internal.digest_value(p_keys[v_i]);
                EXIT;
            END IF;
        END LOOP;
        v_result := v_result || (v_lo_ms + (v_rank - v_lo) * (v_hi_ms - v_lo_ms));
    END LOOP;
    RETURN v_result;
END
$$;

CREATE TABLE observability_internal.metric_digests (
    unit text NOT NULL,
    bucket timestamp with time zone NOT NULL,
    operation text NOT NULL,
    server text NOT NULL,
    target text NOT NULL,
    request_count bigint NOT NULL,
    error_count bigint NOT NULL,
    duration_count bigint NOT NULL,
    duration_sum double precision,
    duration_max double precision,
    duration_keys integer[] NOT NULL,
    duration_counts bigint[] NOT NULL,
    client_count bigint NOT NULL,
    client_sum double precision,
    client_keys integer[] NOT NULL,
    client_counts bigint[] NOT NULL,
    overhead_count bigint NOT NULL,
    overhead_sum double precision,
    first_seen timestamp with time zone NOT NULL,
    last_seen timestamp with time zone NOT NULL,
    last_error_at timestamp with time zone,
    last_error text,
    CONSTRAINT metric_digests_unit_check CHECK ((unit = ANY (ARRAY['hour'::text, 'day'::text])))
);

COMMENT ON TABLE observability_internal.metric_digests IS 'Per-hour and per-day digests of metric_rows per operation, server and target: exact counts, sums and maxima, and log-scale duration histograms (1 % relative error) that merge. Filled by rollup_metrics(); metrics_7d and metrics_30d are merged from them. Kept 35 days.';

CREATE FUNCTION observability_internal.digest_rows(p_unit text, p_from timestamp with time zone, p_until timestamp with time zone) RETURNS SETOF observability_internal.metric_digests
    LANGUAGE sql
    SET jit TO 'off'
    AS $$
WITH r AS (
    SELECT date_trunc(p_unit, m.start_time, 'UTC') AS bucket, m.operation, m.server, m.target, m.status,
           m.start_time, m.duration_ms, m.client_duration_ms, m.error_message
    FROM observability_internal.metric_rows m
    WHERE m.start_time >= p_from AND m.start_time < p_until
),
pre AS (
    SELECT r.bucket, r.operation, r.server, r.target,
           observability_internal.digest_key(r.duration_ms) AS server_key,
           observability_internal.digest_key(r.client_duration_ms) AS client_key,
           count(*) AS n,
           count(*) FILTER (WHERE r.status = 'error') AS errors,
           count(r.duration_ms) AS duration_count,
           sum(r.duration_ms) AS duration_sum,
           max(r.duration_ms) AS duration_max,
           count(r.client_duration_ms) AS client_count,
           sum(r.client_duration_ms) AS client_sum,
           count(r.client_duration_ms - r.duration_ms) AS overhead_count,
           sum(r.client_duration_ms - r.duration_ms) AS overhead_sum,
           min(r.start_time) AS first_seen,
           max(r.start_time) AS last_seen
    FROM r
    GROUP BY 1, 2, 3, 4, 5, 6
),
figures AS (
    SELECT p.bucket, p.operation, p.server, p.target,
           sum(p.n)::bigint AS request_count, sum(p.errors)::bigint AS error_count,
           sum(p.duration_count)::bigint AS duration_count, sum(p.duration_sum) AS duration_sum,
           max(p.duration_max) AS duration_max,
           sum(p.client_count)::bigint AS client_count, sum(p.client_sum) AS client_sum,
           sum(p.overhead_count)::bigint AS overhead_count, sum(p.overhead_sum) AS overhead_sum,
           min(p.first_seen) AS first_seen, max(p.last_seen) AS last_seen
    FROM pre p
    GROUP BY p.bucket, p.operation, p.server, p.target
),
histograms AS (
    SELECT b.bucket, b.operation, b.server, b.target, b.side,
           array_agg(b.key ORDER BY b.key) AS keys, array_agg(b.n ORDER BY b.key) AS counts
    FROM (SELECT p.bucket, p.operation, p.server, p.target, k.side, k.key, sum(p.n)::bigint AS n
          FROM pre p CROSS JOIN LATERAL (VALUES ('server', p.server_key), ('client', p.client_key)) k(side, key)
          WHERE k.key IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5, 6) b
    GROUP BY b.bucket, b.operation, b.server, b.target, b.side
),
latest_errors AS (
    SELECT DISTINCT ON (r.bucket, r.operation, r.server, r.target)
           r.bucket, r.operation, r.server, r.target, r.start_time AS last_error_at, r.error_message AS last_error
    FROM r
    WHERE r.status = 'error' AND r.error_message IS NOT NULL
    ORDER BY r.bucket, r.operation, r.server, r.target, r.start_time DESC
)
SELECT p_unit, f.bucket, f.operation, f.server, f.target, f.request_count, f.error_count,
       f.duration_count, f.duration_sum, f.duration_max, coalesce(s.keys, '{}'), coalesce(s.counts, '{}'),
       f.client_count, f.client_sum, coalesce(c.keys, '{}'), coalesce(c.counts, '{}'),
       f.overhead_count, f.overhead_sum, f.first_seen, f.last_seen, e.last_error_at, e.last_error
FROM figures f
LEFT JOIN histograms s
       ON s.side = 'server' AND (s.bucket, s.operation, s.server, s.target) = (f.bucket, f.operation, f.server, f.target)
LEFT JOIN histograms c
       ON c.side = 'client' AND (c.bucket, c.operation, c.server, c.target) = (f.bucket, f.operation, f.server, f.target)
LEFT JOIN latest_errors e ON (e.bucket, e.operation, e.server, e.target) = (f.bucket, f.operation, f.server, f.target)
$$;

CREATE FUNCTION observability_internal.digest_value(p_key integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN (p_key = '-2147483648'::integer) THEN (0)::double precision ELSE (((2)::double precision * power(observability_internal.digest_gamma(), (p_key)::double precision)) / (observability_internal.digest_gamma() + (1)::double precision)) END;

CREATE FUNCTION observability_internal.due_metric_windows(p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(time_window text)
    LANGUAGE sql STABLE
    AS $$
SELECT w.time_window
FROM observability.metric_windows w
WHERE w.last_refreshed_at IS NULL
   OR p_now >= w.last_refreshed_at + w.refresh_every - interval '5 seconds'
ORDER BY w.window_span
$$;

CREATE FUNCTION observability_internal.enforce_retention(p_retention_days integer, p_max_traces bigint, p_now timestamp with time zone DEFAULT now(), p_max_self_traces bigint DEFAULT 10000) RETURNS TABLE(partitions_dropped integer, spans_deleted bigint, traces_deleted bigint, traces_remaining bigint, details jsonb)
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_cutoff        timestamptz;
    v_ceiling       timestamptz;
    v_future_ids    uuid[];
    v_future        bigint := 0;
    v_victim_start  timestamptz;
    v_victim_id     uuid;
    v_bound         timestamptz;
    v_running       uuid[];
    v_running_until timestamptz;
    v_part          record;
    v_names         text[] := '{}';
    v_uppers        timestamptz[] := '{}';
    v_counts        bigint[] := '{}';
    v_rows          bigint;
    v_lock_ms       integer;
    v_wait_ms       integer;
    v_busy          boolean := false;
    v_dropped       integer := 0;
    v_skipped       integer := 0;
    v_spans         bigint := 0;
    v_expired       bigint := 0;
    v_evicted       bigint := 0;
    v_remaining     bigint;
    v_self_start    timestamptz;
    v_self_id       uuid;
    v_self_ids      uuid[];
    v_self_from     timestamptz;
    v_self_until    timestamptz;
    v_self          bigint := 0;
    v_self_left     bigint;
    v_call_names    text[] := '{}';
    v_calls         bigint := 0;
    v_call_dropped  integer := 0;
BEGIN
    -- The messages name apply_retention(), the function people call, as they did before 0010.
    IF p_retention_days IS NULL OR p_retention_days < 1 OR p_retention_days > 3650 THEN
        RAISE EXCEPTION 'apply_retention: retention days must be between 1 and 3650, not %', p_retention_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_traces IS NULL OR p_max_traces < 1 THEN
        RAISE EXCEPTION 'apply_retention: max traces must be at least 1, not %', p_max_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_self_traces IS NULL OR p_max_self_traces < 0 THEN
        RAISE EXCEPTION 'apply_retention: max self traces must be at least 0, not %', p_max_self_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.apply_retention')) THEN
        RETURN;
    END IF;

    v_cutoff := p_now - make_interval(days => p_retention_days);
    v_ceiling := p_now + observability_internal.max_future_skew();

    -- Future: whole traces past the ceiling at either end, then their spans (by id: a
    -- trace that starts now and ends in 2554 has spans before the ceiling too), then any
    -- span starting past the ceiling whose trace row was already gone.
    WITH gone AS (
        DELETE FROM observability.traces t
        WHERE t.start_time > v_ceiling OR t.end_time > v_ceiling
        RETURNING t.trace_id
    )
    SELECT array_agg(g.trace_id), count(*) INTO v_future_ids, v_future FROM gone g;
    IF v_future_ids IS NOT NULL THEN
        DELETE FROM observability.spans s WHERE s.trace_id = ANY (v_future_ids);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_spans := v_spans + v_rows;
        DELETE FROM observability.calls c WHERE c.trace_id = ANY (v_future_ids);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_calls := v_calls + v_rows;
    END IF;
    DELETE FROM observability.spans s WHERE s.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_spans := v_spans + v_rows;
    DELETE FROM observability.calls c WHERE c.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_calls := v_calls + v_rows;

    -- Self: the newest p_max_self_traces of the service's own traces stay; the older go
    -- by trace id (the service's traces are one or a few spans each).
    SELECT t.start_time, t.trace_id INTO v_self_start, v_self_id
    FROM observability.traces t
    WHERE t.service_name = observability_internal.self_service()
    ORDER BY t.start_time DESC, t.trace_id DESC
    OFFSET p_max_self_traces LIMIT 1;
    IF v_self_id IS NOT NULL THEN
        WITH gone AS (
            DELETE FROM observability.traces t
            WHERE t.service_name = observability_internal.self_service()
              AND (t.start_time, t.trace_id) <= (v_self_start, v_self_id)
            RETURNING t.trace_id, t.start_time, t.end_time
        )
        SELECT array_agg(g.trace_id), count(*), min(g.start_time), max(g.end_time)
          INTO v_self_ids, v_self, v_self_from, v_self_until
        FROM gone g;
        DELETE FROM observability.spans s
        WHERE s.trace_id = ANY (v_self_ids) AND s.start_time >= v_self_from AND s.start_time <= v_self_until;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_spans := v_spans + v_rows;
    END IF;

    -- Age: traces that ended before the cutoff (end >= start, so the start index narrows it).
    DELETE FROM observability.traces t WHERE t.start_time < v_cutoff AND t.end_time < v_cutoff;
    GET DIAGNOSTICS v_expired = ROW_COUNT;

    -- Cap: the newest victim is the one just past the p_max_traces newest survivors.
    SELECT t.start_time, t.trace_id INTO v_victim_start, v_victim_id
    FROM observability.traces t
    WHERE t.service_name <> observability_internal.self_service()
    ORDER BY t.start_time DESC, t.trace_id DESC
    OFFSET p_max_traces LIMIT 1;

    -- Every span before v_bound goes: by age below the cutoff, as a victim's below v_victim_start.
    v_bound := greatest(v_cutoff, v_victim_start);

    IF v_victim_id IS NOT NULL THEN
        -- Victims' spans at or after the bound, which the range deletion below misses:
        -- only victims still running at the bound can have any, and none after its end.
        -- Their ids as an array, so the planner sees how few they are and probes the
        -- trace id index rather than hashing every span newer than the bound.
        SELECT array_agg(t.trace_id), max(t.end_time) INTO v_running, v_running_until
        FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id)
          AND t.end_time >= v_bound;
        IF v_running IS NOT NULL THEN
            DELETE FROM observability.spans s
            WHERE s.trace_id = ANY (v_running)
              AND s.start_time >= v_bound
              AND s.start_time <= v_running_until;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
            DELETE FROM observability.calls c
            WHERE c.trace_id = ANY (v_running)
              AND c.start_time >= v_bound
              AND c.start_time <= v_running_until;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_calls := v_calls + v_rows;
        END IF;

        DELETE FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id);
        GET DIAGNOSTICS v_evicted = ROW_COUNT;
    END IF;

    -- Partitions wholly below the bound are dropped at the end (only daily partitions,
    -- by their real bounds); the others that reach below it are trimmed row by row.
    FOR v_part IN SELECT * FROM observability.span_partitions() LOOP
        IF NOT v_part.is_default AND v_part.partition_name ~ '^spans_p[0-9]{8}$'
           AND v_part.upper_bound IS NOT NULL AND v_part.upper_bound <= v_bound THEN
            v_names := v_names || v_part.partition_name;
            v_uppers := v_uppers || v_part.upper_bound;
        ELSIF v_part.is_default OR v_part.lower_bound IS NULL OR v_part.lower_bound < v_bound THEN
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_part.partition_name)
                USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    FOR v_part IN SELECT * FROM observability_internal.call_partitions() LOOP
        IF NOT v_part.is_default AND v_part.partition_name ~ '^calls_p[0-9]{8}$'
           AND v_part.upper_bound IS NOT NULL AND v_part.upper_bound <= v_bound THEN
            v_call_names := v_call_names || v_part.partition_name;
        ELSIF v_part.is_default OR v_part.lower_bound IS NULL OR v_part.lower_bound < v_bound THEN
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_part.partition_name)
                USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_calls := v_calls + v_rows;
        END IF;
    END LOOP;

    -- Everything that needs no lock on observability.spans beyond what readers take:
    -- the counts of the partitions to drop, and what remains.
    FOR i IN 1 .. cardinality(v_names) LOOP
        EXECUTE format('SELECT count(*) FROM observability.%I', v_names[i]) INTO v_rows;
        v_counts := v_counts || v_rows;
    END LOOP;
    SELECT count(*) FILTER (WHERE t.service_name <> observability_internal.self_service()),
           count(*) FILTER (WHERE t.service_name = observability_internal.self_service())
      INTO v_remaining, v_self_left
    FROM observability.traces t;

    SELECT s.setting::integer INTO v_lock_ms FROM pg_catalog.pg_settings s WHERE s.name = 'lock_timeout';
    v_wait_ms := CASE WHEN v_lock_ms > 0 THEN least(v_lock_ms, 5000) ELSE 5000 END;
    FOR i IN 1 .. cardinality(v_names) LOOP
        IF NOT v_busy THEN
            BEGIN
                PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
                EXECUTE format('DROP TABLE observability.%I', v_names[i]);
                PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
                v_dropped := v_dropped + 1;
                v_spans := v_spans + v_counts[i];
                CONTINUE;
            EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                -- The failed block's lock_timeout is rolled back with it.
                v_busy := true;
            END;
        END IF;
        v_skipped := v_skipped + 1;
        IF v_uppers[i] > v_cutoff THEN
            -- Only the cap wanted this partition gone: its traces rows are deleted already.
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_names[i]) USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    -- The calls partitions below the bound, the same way; one the lock cannot be had for
    -- is emptied of its rows below the bound instead (their spans are gone).
    FOR i IN 1 .. cardinality(v_call_names) LOOP
        IF NOT v_busy THEN
            BEGIN
                PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
                EXECUTE format('DROP TABLE observability.%I', v_call_names[i]);
                PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
                v_call_dropped := v_call_dropped + 1;
                CONTINUE;
            EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                v_busy := true;
            END;
        END IF;
        EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_call_names[i]) USING v_bound;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_calls := v_calls + v_rows;
    END LOOP;

    DELETE FROM observability.maintenance_log l WHERE l.started_at < p_now - interval '90 days';

    RETURN QUERY SELECT v_dropped, v_spans, v_expired + v_evicted + v_future + v_self, v_remaining,
        jsonb_build_object(
            'retention_days', p_retention_days,
            'max_traces', p_max_traces,
            'cutoff', v_cutoff,
            'future_bound', v_ceiling,
            'traces_future', v_future,
            'fifo_bound', v_victim_start,
            'partitions_dropped', v_dropped,
            'partitions_skipped', v_skipped,
            'spans_deleted', v_spans,
            'traces_deleted', v_expired + v_evicted + v_future + v_self,
            'traces_evicted', v_evicted,
            'traces_remaining', v_remaining,
            'max_self_traces', p_max_self_traces,
            'self_traces_evicted', v_self,
            'self_traces_remaining', v_self_left,
            'call_partitions_dropped', v_call_dropped,
            'calls_deleted', v_calls);
END
$_$;

CREATE FUNCTION observability_internal.ensure_call_partition(p_day date) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_name text := 'calls_p' || to_char(p_day, 'YYYYMMDD');
    v_lo   timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi   timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_moved bigint := 0;
BEGIN
    IF to_regclass(format('observability.%I', v_name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM observability.calls_default WHERE start_time >= v_lo AND start_time < v_hi) THEN
        CREATE TEMP TABLE moving_calls (LIKE observability.calls) ON COMMIT DROP;
        WITH moved AS (
            DELETE FROM observability.calls_default WHERE start_time >= v_lo AND start_time < v_hi RETURNING *
        )
        INSERT INTO pg_temp.moving_calls SELECT * FROM moved;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
    END IF;
    EXECUTE format('CREATE TABLE observability.%I PARTITION OF observability.calls FOR VALUES FROM (%L) TO (%L)',
                   v_name, v_lo, v_hi);
    IF v_moved > 0 THEN
        EXECUTE format('INSERT INTO observability.%I SELECT * FROM pg_temp.moving_calls', v_name);
    END IF;
    IF to_regclass('pg_temp.moving_calls') IS NOT NULL THEN
        DROP TABLE pg_temp.moving_calls;
    END IF;
    RETURN true;
END
$$;

CREATE FUNCTION observability_internal.forget_resources(p_retention_days integer, p_now timestamp with time zone DEFAULT now()) RETURNS bigint
    LANGUAGE sql
    AS $$
WITH gone AS (
    DELETE FROM observability.resources r
    WHERE r.last_seen < p_now - make_interval(days => p_retention_days) - observability_internal.max_future_skew()
                        - interval '1 hour'
    RETURNING 1
)
SELECT count(*) FROM gone
$$;

CREATE FUNCTION observability_internal.forget_scopes(p_retention_days integer, p_now timestamp with time zone DEFAULT now()) RETURNS bigint
    LANGUAGE sql
    AS $$
WITH gone AS (
    DELETE FROM observability.scopes s
    WHERE s.last_seen < p_now - make_interval(days => p_retention_days) - observability_internal.max_future_skew()
                        - interval '1 hour'
    RETURNING 1
)
SELECT count(*) FROM gone
$$;

CREATE FUNCTION observability_internal.ingest_spans(p_trace_ids uuid[], p_span_ids bigint[], p_parent_span_ids bigint[], p_names text[], p_kinds text[], p_operations text[], p_targets text[], p_services text[], p_scopes text[], p_start_times timestamp with time zone[], p_end_times timestamp with time zone[], p_durations double precision[], p_statuses text[], p_status_messages text[], p_attributes text[], p_resource_attributes text[], p_events text[]) RETURNS integer
    LANGUAGE sql
    AS $$
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

CREATE FUNCTION observability_internal.log_maintenance_run(p_job text, p_owner text, p_started_at timestamp with time zone, p_details jsonb DEFAULT '{}'::jsonb, p_now timestamp with time zone DEFAULT clock_timestamp()) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_job IS NULL OR p_job = '' OR p_owner IS NULL OR p_owner = '' THEN
        RAISE EXCEPTION 'log_maintenance_run: job (%) and owner (%) must not be empty', p_job, p_owner
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_started_at IS NULL THEN
        RAISE EXCEPTION 'log_maintenance_run: the start time of job % must be given', p_job
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO observability.maintenance_log (job, owner, started_at, finished_at, details)
    VALUES (p_job, p_owner, p_started_at, p_now, coalesce(p_details, '{}'))
    RETURNING id INTO v_id;

    INSERT INTO observability_internal.maintenance_jobs AS j (job, last_finished_at) VALUES (p_job, p_now)
    ON CONFLICT (job) DO UPDATE SET last_finished_at = excluded.last_finished_at;
    RETURN v_id;
END
$$;

CREATE FUNCTION observability_internal.max_future_skew() RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT interval '1 hour' $$;

CREATE FUNCTION observability_internal.metrics_now() RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE((NULLIF(current_setting('observability.metrics_now'::text, true), ''::text))::timestamp with time zone, now());

CREATE FUNCTION observability_internal.refresh_rank_histograms(p_now timestamp with time zone DEFAULT now()) RETURNS boolean
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_rolled      timestamptz;
    v_end         timestamptz;
    v_start       timestamptz;
    v_fingerprint text;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.refresh_rank_histograms')) THEN
        RETURN false;
    END IF;
    SELECT r.rolled_until INTO v_rolled FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    IF v_rolled IS NULL THEN
        RETURN false;
    END IF;
    v_end := date_trunc('hour', least(v_rolled, p_now), 'UTC');
    v_start := v_end - interval '24 hours';
    SELECT concat_ws('/', count(*), sum(d.request_count), sum(d.duration_count), sum(d.client_count),
                     sum(d.duration_sum), sum(d.client_sum))
      INTO v_fingerprint
      FROM observability_internal.metric_digests d
     WHERE d.unit = 'hour' AND d.bucket >= v_start AND d.bucket < v_end;
    IF EXISTS (SELECT 1 FROM observability_internal.rank_histogram_state s
                WHERE s.window_end = v_end AND s.fingerprint = v_fingerprint) THEN
        RETURN false;
    END IF;

    DELETE FROM observability_internal.rank_histograms;
    INSERT INTO observability_internal.rank_histograms (operation, server, target, side, keys, counts, below, total)
    SELECT b.operation, b.server, b.target, b.side,
           array_agg(b.key ORDER BY b.key), array_agg(b.n ORDER BY b.key),
           array_agg(b.before ORDER BY b.key), sum(b.n)::bigint
    FROM (SELECT m.*, (sum(m.n) OVER (PARTITION BY m.operation, m.server, m.target, m.side ORDER BY m.key) - m.n)::bigint
                          AS before
          FROM (SELECT d.operation, d.server, d.target, e.side, e.key, sum(e.n)::bigint AS n
                FROM observability_internal.metric_digests d,
                     observability_internal.digest_entries(d.duration_keys, d.duration_counts, d.client_keys,
                                                           d.client_counts) e
                WHERE d.unit = 'hour' AND d.bucket >= v_start AND d.bucket < v_end
                GROUP BY 1, 2, 3, 4, 5) m) b
    GROUP BY b.operation, b.server, b.target, b.side;

    INSERT INTO observability_internal.rank_histogram_state AS s (window_start, window_end, fingerprint, built_at)
    VALUES (v_start, v_end, v_fingerprint, p_now)
    ON CONFLICT (only_row) DO UPDATE
        SET window_start = excluded.window_start, window_end = excluded.window_end,
            fingerprint = excluded.fingerprint, built_at = excluded.built_at;
    RETURN true;
END
$$;

CREATE FUNCTION observability_internal.resource_digest(p_attributes jsonb) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (md5((p_attributes)::text))::uuid;

CREATE FUNCTION observability_internal.rollup_digests(p_from timestamp with time zone, p_until timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_from   timestamptz := date_trunc('hour', p_from, 'UTC');
    v_day0   timestamptz := date_trunc('day', p_from, 'UTC');
    v_day1   timestamptz := date_trunc('day', p_until - interval '1 microsecond', 'UTC') + interval '1 day';
    v_hours  bigint;
    v_days   bigint;
BEGIN
    IF v_from >= p_until THEN
        RETURN 0;
    END IF;
    DELETE FROM observability_internal.metric_digests d
     WHERE d.unit = 'hour' AND d.bucket >= v_from AND d.bucket < p_until;
    INSERT INTO observability_internal.metric_digests
        SELECT * FROM observability_internal.digest_rows('hour', v_from, p_until);
    GET DIAGNOSTICS v_hours = ROW_COUNT;

    DELETE FROM observability_internal.metric_digests d
     WHERE d.unit = 'day' AND d.bucket >= v_day0 AND d.bucket < v_day1;
    WITH h AS (
        SELECT date_trunc('day', d.bucket, 'UTC') AS day, d.*
        FROM observability_internal.metric_digests d
        WHERE d.unit = 'hour' AND d.bucket >= v_day0 AND d.bucket < v_day1
    ),
    figures AS (
        SELECT h.day, h.operation, h.server, h.target,
               sum(h.request_count)::bigint AS request_count, sum(h.error_count)::bigint AS error_count,
               sum(h.duration_count)::bigint AS duration_count, sum(h.duration_sum) AS duration_sum,
               max(h.duration_max) AS duration_max,
               sum(h.client_count)::bigint AS client_count, sum(h.client_sum) AS client_sum,
               sum(h.overhead_count)::bigint AS overhead_count, sum(h.overhead_sum) AS overhead_sum,
               min(h.first_seen) AS first_seen, max(h.last_seen) AS last_seen,
               max(h.last_error_at) AS last_error_at,
               (array_agg(h.last_error ORDER BY h.last_error_at DESC) FILTER (WHERE h.last_error IS NOT NULL))[1]
                   AS last_error
        FROM h
        GROUP BY h.day, h.operation, h.server, h.target
    ),
    histograms AS (
        SELECT b.day, b.operation, b.server, b.target, b.side,
               array_agg(b.key ORDER BY b.key) AS keys, array_agg(b.n ORDER BY b.key) AS counts
        FROM (SELECT h.day, h.operation, h.server, h.target, e.side, e.key, sum(e.n)::bigint AS n
              FROM h, observability_internal.digest_entries(h.duration_keys, h.duration_counts, h.client_keys,
                                                            h.client_counts) e
              GROUP BY 1, 2, 3, 4, 5, 6) b
        GROUP BY b.day, b.operation, b.server, b.target, b.side
    )
    INSERT INTO observability_internal.metric_digests
        SELECT 'day', f.day, f.operation, f.server, f.target, f.request_count, f.error_count,
               f.duration_count, f.duration_sum, f.duration_max, coalesce(s.keys, '{}'), coalesce(s.counts, '{}'),
               f.client_count, f.client_sum, coalesce(c.keys, '{}'), coalesce(c.counts, '{}'),
               f.overhead_count, f.overhead_sum, f.first_seen, f.last_seen, f.last_error_at, f.last_error
        FROM figures f
        LEFT JOIN histograms s
               ON s.side = 'server' AND (s.day, s.operation, s.server, s.target) = (f.day, f.operation, f.server, f.target)
        LEFT JOIN histograms c
               ON c.side = 'client' AND (c.day, c.operation, c.server, c.target) = (f.day, f.operation, f.server, f.target);
    GET DIAGNOSTICS v_days = ROW_COUNT;
    RETURN v_hours + v_days;
END
$$;

CREATE FUNCTION observability_internal.rollup_metrics(p_now timestamp with time zone DEFAULT now(), p_late interval DEFAULT '00:10:00'::interval, p_backfill interval DEFAULT '30 days'::interval, p_keep_minutes interval DEFAULT '8 days'::interval) RETURNS TABLE(ran boolean, rolled_from timestamp with time zone, rolled_until timestamp with time zone, minute_rows bigint, hour_rows bigint)
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_until       timestamptz := date_trunc('minute', p_now, 'UTC');
    v_last        timestamptz;
    v_from        timestamptz;
    v_minute_from timestamptz;
    v_seen        timestamptz;
    v_assembled   timestamptz;
    v_run         record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.rollup_metrics')) THEN
        RETURN QUERY SELECT false, NULL::timestamptz, NULL::timestamptz, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    SELECT r.rolled_until INTO v_last FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    v_from := date_trunc('minute', coalesce(v_last - p_late, p_now - p_backfill), 'UTC');
    IF v_from >= v_until THEN
        RETURN QUERY SELECT true, v_from, v_until, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    -- Minutes older than their keep time would be deleted below: never computed.
    v_minute_from := greatest(v_from, date_trunc('minute', p_now - p_keep_minutes, 'UTC'));

    minute_rows := observability_internal.rollup_range('minute', v_minute_from, v_until);
    hour_rows := observability_internal.rollup_range('hour', date_trunc('hour', v_from, 'UTC'), v_until);
    -- Digests of finished hours only: the merged windows read the current hour from the
    -- rows, so it is not recomputed at every run.
    PERFORM observability_internal.rollup_digests(v_from, date_trunc('hour', v_until, 'UTC'));

    -- Late traces: the hours before this run's range of the traces assembled since the last run.
    SELECT r.rolled_until INTO v_seen FROM observability_internal.rollup_state r WHERE r.name = 'assembled';
    SELECT s.assembled_until INTO v_assembled FROM observability_internal.call_assembly_state s WHERE s.name = 'calls';
    IF v_seen IS NOT NULL AND v_assembled > v_seen THEN
        -- Consecutive hours as one range, so each day's digest is merged once per range,
        -- not once per hour of it.
        FOR v_run IN
            WITH hours AS (
                SELECT DISTINCT h.hour
                FROM observability.traces t,
                     generate_series(date_trunc('hour', t.start_time, 'UTC'),
                                     date_trunc('hour', least(t.end_time, v_from), 'UTC'), interval '1 hour') h(hour)
                WHERE t.updated_at > v_seen AND t.updated_at <= v_assembled
                  AND t.start_time < date_trunc('hour', v_from, 'UTC')
                  AND t.start_time >= p_now - interval '35 days'
                  AND h.hour < date_trunc('hour', v_from, 'UTC')
            )
            SELECT min(r.hour) AS first_hour, max(r.hour) + interval '1 hour' AS after_last
            FROM (SELECT hours.hour, hours.hour - row_number() OVER (ORDER BY hours.hour) * interval '1 hour' AS run
                  FROM hours) r
            GROUP BY r.run
            ORDER BY 1
        LOOP
            hour_rows := hour_rows + observability_internal.rollup_range('hour', v_run.first_hour, v_run.after_last);
            PERFORM observability_internal.rollup_digests(v_run.first_hour, v_run.after_last);
        END LOOP;
    END IF;
    -- Before any assembly the mark is -infinity, so the first traces assembled are all seen.
    INSERT INTO observability_internal.rollup_state AS r (name, rolled_until)
    VALUES ('assembled', coalesce(v_assembled, '-infinity'))
    ON CONFLICT (name) DO UPDATE SET rolled_until = greatest(r.rolled_until, excluded.rolled_until);

    DELETE FROM observability.metrics_minute WHERE bucket < p_now - p_keep_minutes;
    DELETE FROM observability.metrics_hour WHERE bucket < p_now - interval '400 days';
    DELETE FROM observability_internal.metric_digests WHERE bucket < p_now - interval '35 days';

    INSERT INTO observability_internal.rollup_state AS r (name, rolled_until) VALUES ('metrics', v_until)
    ON CONFLICT (name) DO UPDATE SET rolled_until = greatest(r.rolled_until, excluded.rolled_until);

    RETURN QUERY SELECT true, v_from, v_until, minute_rows, hour_rows;
END
$$;

CREATE FUNCTION observability_internal.rollup_range(p_unit text, p_from timestamp with time zone, p_until timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    AS $_$
DECLARE
    v_table text;
    v_rows  bigint;
BEGIN
    IF p_unit NOT IN ('minute', 'hour') THEN
        RAISE EXCEPTION 'rollup_range: unit must be minute or hour, not %', p_unit;
    END IF;
    v_table := 'metrics_' || p_unit;
    EXECUTE format('DELETE FROM observability.%I WHERE bucket >= $1 AND bucket < $2', v_table)
        USING p_from, p_until;
    EXECUTE format($q$
        INSERT INTO observability.%I
            (bucket, level, operation, target, request_count, error_count, sum_ms, max_ms, p50_ms, p95_ms, p99_ms)
        SELECT g.bucket, g.level, g.operation, g.target, g.n, g.errors, g.sum_ms, g.max_ms,
               g.pct[1], g.pct[2], g.pct[3]
        FROM (
            SELECT s.bucket,
                   CASE WHEN grouping(s.operation) = 0 THEN 'target' ELSE 'total' END AS level,
                   coalesce(s.operation, '') AS operation,
                   coalesce(s.target, '') AS target,
                   count(*) AS n,
                   count(*) FILTER (WHERE s.status = 'error') AS errors,
                   sum(s.duration_ms) AS sum_ms,
                   max(s.duration_ms) AS max_ms,
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[])
                       WITHIN GROUP (ORDER BY s.duration_ms) AS pct
            FROM (
                SELECT date_trunc(%L, r.start_time, 'UTC') AS bucket, r.operation, r.target, r.status,
                       coalesce(r.duration_ms, r.client_duration_ms) AS duration_ms
                FROM observability_internal.metric_rows r
                WHERE r.start_time >= $1 AND r.start_time < $2
            ) s
            GROUP BY GROUPING SETS ((s.bucket, s.operation, s.target), (s.bucket))
        ) g
        $q$, v_table, p_unit)
        USING p_from, p_until;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$_$;

CREATE FUNCTION observability_internal.scope_digest(p_name text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (md5(p_name))::uuid;

CREATE FUNCTION observability_internal.self_service() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 'mcp-observatory'::text;

CREATE FUNCTION observability_internal.span_alignment(p_trace_ids uuid[]) RETURNS TABLE(trace_id uuid, span_id bigint, node bigint, parent_node bigint, depth integer, service_name text, name text, target text, operation text, ordinal integer, repeats integer, offset_ms double precision, duration_ms double precision, status text)
    LANGUAGE plpgsql
    SET enable_nestloop TO 'off'
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE bounds AS MATERIALIZED (
        SELECT t.trace_id, t.start_time, t.end_time FROM observability.traces t WHERE t.trace_id = ANY (p_trace_ids)
    ), stored AS (
        SELECT s.trace_id, s.span_id, s.parent_span_id, s.service_name, s.name, s.target, s.operation, s.start_time,
               s.duration_ms, s.status,
               date_part('epoch', s.start_time - t.start_time) * 1000 AS offset_ms,
               row_number() OVER (PARTITION BY s.trace_id, s.span_id ORDER BY s.start_time) AS copy
        FROM observability.spans s
        JOIN bounds t ON t.trace_id = s.trace_id
        WHERE s.trace_id = ANY (p_trace_ids) AND s.start_time >= t.start_time AND s.start_time <= t.end_time
          AND s.start_time >= (SELECT min(b.start_time) FROM bounds b)
          AND s.start_time <= (SELECT max(b.end_time) FROM bounds b)
    ), linked AS (
        SELECT c.*, p.span_id AS parent
        FROM stored c
        LEFT JOIN stored p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id AND p.copy = 1
                          AND c.parent_span_id <> c.span_id
    ), numbered AS (
        SELECT l.*,
               row_number() OVER same_key AS ordinal,
               count(*) OVER (PARTITION BY l.trace_id, l.parent, l.service_name, l.name, l.target) AS repeats,
               length(l.service_name) || ':' || l.service_name || length(l.name) || ':' || l.name
                   || coalesce(length(l.target) || ':' || l.target, '-') AS key
        FROM linked l
        WINDOW same_key AS (PARTITION BY l.trace_id, l.parent, l.service_name, l.name, l.target
                            ORDER BY l.start_time, l.span_id)
    ), tree AS (
        SELECT n.trace_id, n.span_id, n.copy, hashtextextended(n.key || '#' || n.ordinal, 0) AS node,
               NULL::bigint AS parent_node, 0 AS depth
        FROM numbered n
        WHERE n.parent IS NULL
        UNION ALL
        SELECT n.trace_id, n.span_id, n.copy, hashtextextended(n.key || '#' || n.ordinal, p.node), p.node, p.depth + 1
        FROM tree p
        JOIN numbered n ON n.trace_id = p.trace_id AND n.parent = p.span_id AND p.copy = 1
    )
    SELECT n.trace_id, n.span_id, t.node, t.parent_node, t.depth, n.service_name, n.name, n.target, n.operation,
           n.ordinal::integer, n.repeats::integer, n.offset_ms, n.duration_ms, n.status
    FROM tree t
    JOIN numbered n ON n.trace_id = t.trace_id AND n.span_id = t.span_id AND n.copy = t.copy;
END
$$;

COMMENT ON FUNCTION observability_internal.span_alignment(p_trace_ids uuid[]) IS 'Each span of the given traces with its alignment node (a hash of the chain of service, name, target and ordinal among same-named siblings from its root). Internal to trace_compare and trace_typical.';

CREATE FUNCTION observability_internal.span_partition_name(p_day date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN ('spans_p'::text || to_char((p_day)::timestamp with time zone, 'YYYYMMDD'::text));

CREATE FUNCTION observability_internal.store_resources(p_attributes jsonb[]) RETURNS void
    LANGUAGE sql
    AS $$
INSERT INTO observability.resources (digest, attributes)
SELECT DISTINCT ON (d.digest) d.digest, d.attributes
FROM (SELECT observability_internal.resource_digest(a.attributes) AS digest, a.attributes
      FROM unnest(p_attributes) AS a(attributes)) d
WHERE NOT EXISTS (SELECT 1 FROM observability.resources x WHERE x.digest = d.digest)
ORDER BY d.digest
ON CONFLICT (digest) DO NOTHING
$$;

CREATE FUNCTION observability_internal.store_scopes(p_names text[]) RETURNS void
    LANGUAGE sql
    AS $$
INSERT INTO observability.scopes (digest, name)
SELECT DISTINCT ON (d.digest) d.digest, d.name
FROM (SELECT observability_internal.scope_digest(n.name) AS digest, n.name
      FROM unnest(p_names) AS n(name) WHERE n.name IS NOT NULL) d
WHERE NOT EXISTS (SELECT 1 FROM observability.scopes x WHERE x.digest = d.digest)
ORDER BY d.digest
ON CONFLICT (digest) DO NOTHING
$$;

CREATE FUNCTION observability_internal.url_host(p_url text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN NULLIF("substring"(p_url, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]+)'::text), ''::text);

CREATE TABLE observability.calls (
    trace_id uuid NOT NULL,
    side text NOT NULL,
    span_id bigint NOT NULL,
    span_ids bigint[] NOT NULL,
    client_span_id bigint,
    server_span_id bigint,
    method text NOT NULL,
    target text,
    server_name text,
    client_name text,
    service_name text NOT NULL,
    session_id text,
    protocol_version text,
    transport text,
    request_id text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    client_duration_ms double precision,
    server_duration_ms double precision,
    status text NOT NULL,
    error_type text,
    error_message text,
    request_status text NOT NULL,
    counted boolean NOT NULL,
    assembled_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calls_request_status_check CHECK ((request_status = ANY (ARRAY['ok'::text, 'error'::text]))),
    CONSTRAINT calls_side_check CHECK ((side = ANY (ARRAY['client'::text, 'server'::text]))),
    CONSTRAINT calls_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text])))
)
PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.calls IS 'One row per side (client, server) of each MCP request, assembled from spans by assemble_calls(); daily RANGE partitions calls_pYYYYMMDD (UTC) plus calls_default. counted marks the one row per request that metrics count.';

COMMENT ON COLUMN observability.calls.span_id IS 'The outermost span of this side''s chain: its start, end and duration are the side''s.';

COMMENT ON COLUMN observability.calls.span_ids IS 'Every span of this side''s chain, outermost first.';

COMMENT ON COLUMN observability.calls.server_name IS 'The MCP server of the request: the server side''s fastmcp.server.name or service name; for a client side with no server side, the host it called (server.address, url.full).';

COMMENT ON COLUMN observability.calls.error_message IS 'Why the request failed: this side''s innermost error message when this side failed, else the other side''s.';

COMMENT ON COLUMN observability.calls.request_status IS 'error when either side of the request failed.';

COMMENT ON COLUMN observability.calls.counted IS 'True on the row that stands for the request: the server side, or the client side when no server side was recorded.';

CREATE TABLE observability.calls_default (
    trace_id uuid NOT NULL,
    side text NOT NULL,
    span_id bigint NOT NULL,
    span_ids bigint[] NOT NULL,
    client_span_id bigint,
    server_span_id bigint,
    method text NOT NULL,
    target text,
    server_name text,
    client_name text,
    service_name text NOT NULL,
    session_id text,
    protocol_version text,
    transport text,
    request_id text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    client_duration_ms double precision,
    server_duration_ms double precision,
    status text NOT NULL,
    error_type text,
    error_message text,
    request_status text NOT NULL,
    counted boolean NOT NULL,
    assembled_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT calls_request_status_check CHECK ((request_status = ANY (ARRAY['ok'::text, 'error'::text]))),
    CONSTRAINT calls_side_check CHECK ((side = ANY (ARRAY['client'::text, 'server'::text]))),
    CONSTRAINT calls_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text])))
);

CREATE TABLE observability.maintenance_log (
    id bigint NOT NULL,
    job text NOT NULL,
    owner text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    duration_ms double precision GENERATED ALWAYS AS ((EXTRACT(epoch FROM (finished_at - started_at)) * (1000)::numeric)) STORED,
    details jsonb DEFAULT '{}'::jsonb NOT NULL
);

COMMENT ON TABLE observability.maintenance_log IS 'One row per maintenance run (retention, partitions, metrics); apply_retention() deletes rows older than 90 days.';

COMMENT ON COLUMN observability.maintenance_log.job IS 'The job that ran: partitions, retention, rollup, refresh_<window>, or any name passed to observability_internal.log_maintenance_run().';

COMMENT ON COLUMN observability.maintenance_log.owner IS 'Who ran it: host:pid of the serve or run-once process (its maintenance sessions'' application_name), else the database user.';

COMMENT ON COLUMN observability.maintenance_log.started_at IS 'Wall-clock start of the run (clock_timestamp(), not the run''s logical clock).';

COMMENT ON COLUMN observability.maintenance_log.finished_at IS 'Wall-clock end of the run.';

COMMENT ON COLUMN observability.maintenance_log.duration_ms IS 'finished_at - started_at in milliseconds.';

COMMENT ON COLUMN observability.maintenance_log.details IS 'What the run did, as the job reports it; for retention: retention_days, max_traces, cutoff, future_bound, fifo_bound, partitions_dropped, partitions_skipped, spans_deleted, traces_deleted (expired, evicted and future), traces_evicted, traces_future, traces_remaining.';

ALTER TABLE observability.maintenance_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME observability.maintenance_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE VIEW observability.mcp_requests AS
 SELECT calls.trace_id,
    calls.client_span_id,
    calls.server_span_id,
    calls.method,
    calls.target,
    calls.server_name,
    calls.client_name,
    calls.session_id,
    calls.protocol_version,
    calls.transport,
    calls.request_id,
    calls.start_time,
    calls.client_duration_ms,
    calls.server_duration_ms,
    (calls.client_duration_ms - calls.server_duration_ms) AS overhead_ms,
    calls.request_status AS status,
    calls.error_type,
    calls.error_message
   FROM observability.calls
  WHERE calls.counted;

COMMENT ON VIEW observability.mcp_requests IS 'One row per MCP request: both durations where both sides were recorded, overhead_ms = client - server (transport, gateway).';

CREATE TABLE observability.metric_windows (
    time_window text NOT NULL,
    view_name text NOT NULL,
    window_span interval NOT NULL,
    refresh_every interval NOT NULL,
    last_refreshed_at timestamp with time zone,
    last_duration_ms double precision,
    CONSTRAINT metric_windows_refresh_every_check CHECK ((refresh_every > '00:00:00'::interval))
);

CREATE MATERIALIZED VIEW observability.metrics_1h AS
 SELECT '1h'::text AS time_window,
    m.level,
    m.operation,
    m.server,
    m.target,
    m.request_count,
    m.error_count,
    m.error_pct,
    m.avg_ms,
    m.p50_ms,
    m.p90_ms,
    m.p95_ms,
    m.p99_ms,
    m.max_ms,
    m.client_avg_ms,
    m.client_p50_ms,
    m.client_p90_ms,
    m.client_p95_ms,
    m.client_p99_ms,
    m.overhead_ms,
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '01:00:00'::interval) AS window_start
   FROM observability.window_metrics('01:00:00'::interval) m(level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms, overhead_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_24h AS
 SELECT '24h'::text AS time_window,
    m.level,
    m.operation,
    m.server,
    m.target,
    m.request_count,
    m.error_count,
    m.error_pct,
    m.avg_ms,
    m.p50_ms,
    m.p90_ms,
    m.p95_ms,
    m.p99_ms,
    m.max_ms,
    m.client_avg_ms,
    m.client_p50_ms,
    m.client_p90_ms,
    m.client_p95_ms,
    m.client_p99_ms,
    m.overhead_ms,
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '24:00:00'::interval) AS window_start
   FROM observability.window_metrics('24:00:00'::interval) m(level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms, overhead_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_30d AS
 SELECT '30d'::text AS time_window,
    m.level,
    m.operation,
    m.server,
    m.target,
    m.request_count,
    m.error_count,
    m.error_pct,
    m.avg_ms,
    m.p50_ms,
    m.p90_ms,
    m.p95_ms,
    m.p99_ms,
    m.max_ms,
    m.client_avg_ms,
    m.client_p50_ms,
    m.client_p90_ms,
    m.client_p95_ms,
    m.client_p99_ms,
    m.overhead_ms,
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '30 days'::interval) AS window_start
   FROM observability.merged_window_metrics('30 days'::interval) m(level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms, overhead_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_7d AS
 SELECT '7d'::text AS time_window,
    m.level,
    m.operation,
    m.server,
    m.target,
    m.request_count,
    m.error_count,
    m.error_pct,
    m.avg_ms,
    m.p50_ms,
    m.p90_ms,
    m.p95_ms,
    m.p99_ms,
    m.max_ms,
    m.client_avg_ms,
    m.client_p50_ms,
    m.client_p90_ms,
    m.client_p95_ms,
    m.client_p99_ms,
    m.overhead_ms,
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '7 days'::interval) AS window_start
   FROM observability.merged_window_metrics('7 days'::interval) m(level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms, overhead_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE TABLE observability.metrics_hour (
    bucket timestamp with time zone NOT NULL,
    level text NOT NULL,
    operation text NOT NULL,
    target text NOT NULL,
    request_count bigint NOT NULL,
    error_count bigint NOT NULL,
    sum_ms double precision NOT NULL,
    max_ms double precision NOT NULL,
    p50_ms double precision NOT NULL,
    p95_ms double precision NOT NULL,
    p99_ms double precision NOT NULL,
    CONSTRAINT metrics_minute_level_check CHECK ((level = ANY (ARRAY['target'::text, 'total'::text])))
);

COMMENT ON TABLE observability.metrics_hour IS 'Per-hour counts, errors and p50/p95/p99/max per operation and target (level target) and overall (level total); kept 400 days. Filled by rollup_metrics().';

CREATE TABLE observability.metrics_minute (
    bucket timestamp with time zone NOT NULL,
    level text NOT NULL,
    operation text NOT NULL,
    target text NOT NULL,
    request_count bigint NOT NULL,
    error_count bigint NOT NULL,
    sum_ms double precision NOT NULL,
    max_ms double precision NOT NULL,
    p50_ms double precision NOT NULL,
    p95_ms double precision NOT NULL,
    p99_ms double precision NOT NULL,
    CONSTRAINT metrics_minute_level_check CHECK ((level = ANY (ARRAY['target'::text, 'total'::text])))
);

COMMENT ON TABLE observability.metrics_minute IS 'Per-minute counts, errors and p50/p95/p99/max per operation and target (level target) and overall (level total); kept 8 days. Filled by rollup_metrics().';

CREATE VIEW observability.operation_metrics AS
 SELECT metrics_1h.time_window,
    metrics_1h.level,
    metrics_1h.operation,
    metrics_1h.server,
    metrics_1h.target,
    metrics_1h.request_count,
    metrics_1h.error_count,
    metrics_1h.error_pct,
    metrics_1h.avg_ms,
    metrics_1h.p50_ms,
    metrics_1h.p90_ms,
    metrics_1h.p95_ms,
    metrics_1h.p99_ms,
    metrics_1h.max_ms,
    metrics_1h.client_avg_ms,
    metrics_1h.client_p50_ms,
    metrics_1h.client_p90_ms,
    metrics_1h.client_p95_ms,
    metrics_1h.client_p99_ms,
    metrics_1h.overhead_ms,
    metrics_1h.first_seen,
    metrics_1h.last_seen,
    metrics_1h.example_error,
    metrics_1h.health,
    metrics_1h.computed_at,
    metrics_1h.window_start
   FROM observability.metrics_1h
UNION ALL
 SELECT metrics_24h.time_window,
    metrics_24h.level,
    metrics_24h.operation,
    metrics_24h.server,
    metrics_24h.target,
    metrics_24h.request_count,
    metrics_24h.error_count,
    metrics_24h.error_pct,
    metrics_24h.avg_ms,
    metrics_24h.p50_ms,
    metrics_24h.p90_ms,
    metrics_24h.p95_ms,
    metrics_24h.p99_ms,
    metrics_24h.max_ms,
    metrics_24h.client_avg_ms,
    metrics_24h.client_p50_ms,
    metrics_24h.client_p90_ms,
    metrics_24h.client_p95_ms,
    metrics_24h.client_p99_ms,
    metrics_24h.overhead_ms,
    metrics_24h.first_seen,
    metrics_24h.last_seen,
    metrics_24h.example_error,
    metrics_24h.health,
    metrics_24h.computed_at,
    metrics_24h.window_start
   FROM observability.metrics_24h
UNION ALL
 SELECT metrics_7d.time_window,
    metrics_7d.level,
    metrics_7d.operation,
    metrics_7d.server,
    metrics_7d.target,
    metrics_7d.request_count,
    metrics_7d.error_count,
    metrics_7d.error_pct,
    metrics_7d.avg_ms,
    metrics_7d.p50_ms,
    metrics_7d.p90_ms,
    metrics_7d.p95_ms,
    metrics_7d.p99_ms,
    metrics_7d.max_ms,
    metrics_7d.client_avg_ms,
    metrics_7d.client_p50_ms,
    metrics_7d.client_p90_ms,
    metrics_7d.client_p95_ms,
    metrics_7d.client_p99_ms,
    metrics_7d.overhead_ms,
    metrics_7d.first_seen,
    metrics_7d.last_seen,
    metrics_7d.example_error,
    metrics_7d.health,
    metrics_7d.computed_at,
    metrics_7d.window_start
   FROM observability.metrics_7d
UNION ALL
 SELECT metrics_30d.time_window,
    metrics_30d.level,
    metrics_30d.operation,
    metrics_30d.server,
    metrics_30d.target,
    metrics_30d.request_count,
    metrics_30d.error_count,
    metrics_30d.error_pct,
    metrics_30d.avg_ms,
    metrics_30d.p50_ms,
    metrics_30d.p90_ms,
    metrics_30d.p95_ms,
    metrics_30d.p99_ms,
    metrics_30d.max_ms,
    metrics_30d.client_avg_ms,
    metrics_30d.client_p50_ms,
    metrics_30d.client_p90_ms,
    metrics_30d.client_p95_ms,
    metrics_30d.client_p99_ms,
    metrics_30d.overhead_ms,
    metrics_30d.first_seen,
    metrics_30d.last_seen,
    metrics_30d.example_error,
    metrics_30d.health,
    metrics_30d.computed_at,
    metrics_30d.window_start
   FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS 'Metrics per time_window (1h, 24h, 7d, 30d) and level: target = per operation, server and target; operation = per operation (server and target empty); total = everything. Tools, prompts and resources count MCP requests once (from calls); HTTP and DB count spans. p*_ms are server-side durations, client_p*_ms client-side, overhead_ms their mean difference. 1h and 24h are exact; 7d and 30d are merged from digests: exact counts, averages and maxima, percentiles within 1 %. See docs/sql.md.';

CREATE VIEW observability.prompt_metrics AS
 SELECT operation_metrics.time_window,
    operation_metrics.server AS server_name,
    operation_metrics.target AS prompt_name,
    operation_metrics.request_count,
    operation_metrics.error_count,
    operation_metrics.error_pct,
    operation_metrics.health,
    operation_metrics.avg_ms,
    operation_metrics.p50_ms,
    operation_metrics.p90_ms,
    operation_metrics.p95_ms,
    operation_metrics.p99_ms,
    operation_metrics.max_ms,
    operation_metrics.client_avg_ms,
    operation_metrics.client_p50_ms,
    operation_metrics.client_p90_ms,
    operation_metrics.client_p95_ms,
    operation_metrics.client_p99_ms,
    operation_metrics.overhead_ms,
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'prompt_render'::text));

CREATE VIEW observability.resource_metrics AS
 SELECT operation_metrics.time_window,
    operation_metrics.server AS server_name,
    operation_metrics.target AS resource_uri,
    operation_metrics.request_count,
    operation_metrics.error_count,
    operation_metrics.error_pct,
    operation_metrics.health,
    operation_metrics.avg_ms,
    operation_metrics.p50_ms,
    operation_metrics.p90_ms,
    operation_metrics.p95_ms,
    operation_metrics.p99_ms,
    operation_metrics.max_ms,
    operation_metrics.client_avg_ms,
    operation_metrics.client_p50_ms,
    operation_metrics.client_p90_ms,
    operation_metrics.client_p95_ms,
    operation_metrics.client_p99_ms,
    operation_metrics.overhead_ms,
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'resource_fetch'::text));

ALTER TABLE observability.resources ALTER COLUMN resource_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME observability.resources_resource_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE observability.saved_views (
    view_id bigint NOT NULL,
    name text NOT NULL,
    page text NOT NULL,
    query text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT saved_views_name_check CHECK ((((char_length(name) >= 1) AND (char_length(name) <= 100)) AND (name !~ '[\x01-\x1f\x7f]'::text))),
    CONSTRAINT saved_views_page_check CHECK ((page = ANY (ARRAY['metrics'::text, 'tools'::text, 'prompts'::text, 'resources'::text, 'traces'::text]))),
    CONSTRAINT saved_views_query_check CHECK ((char_length(query) <= 4000))
);

COMMENT ON TABLE observability.saved_views IS 'Named filter sets of the list pages (metrics, tools, prompts, resources, traces), listed in the dashboards'' navigation; /admin/observability/views/{view_id} opens one. See docs/dashboards.md.';

ALTER TABLE observability.saved_views ALTER COLUMN view_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME observability.saved_views_view_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE observability.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    execution_ms double precision NOT NULL
);

ALTER TABLE observability.scopes ALTER COLUMN scope_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME observability.scopes_scope_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE VIEW observability.span_attributes AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    s.start_time,
    s.name AS span_name,
    a.key,
    a.value,
    (a.value #>> '{}'::text[]) AS value_text
   FROM (observability.spans s
     CROSS JOIN LATERAL jsonb_each(s.attributes) a(key, value));

CREATE VIEW observability.span_events AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    s.name AS span_name,
    (e.ordinality)::integer AS event_index,
    (e.event ->> 'name'::text) AS name,
    ((e.event ->> 'time'::text))::timestamp with time zone AS event_time,
    (e.event -> 'attributes'::text) AS attributes,
    ((e.event -> 'attributes'::text) ->> 'exception.type'::text) AS exception_type,
    ((e.event -> 'attributes'::text) ->> 'exception.message'::text) AS exception_message,
    ((e.event -> 'attributes'::text) ->> 'exception.stacktrace'::text) AS exception_stacktrace
   FROM (observability.spans s
     CROSS JOIN LATERAL jsonb_array_elements(s.events) WITH ORDINALITY e(event, ordinality));

CREATE VIEW observability.span_list AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    observability.hex_span_id(s.parent_span_id) AS parent_span_id,
    s.name,
    s.kind,
    s.operation,
    s.target,
    s.service_name,
    s.start_time,
    s.end_time,
    s.duration_ms,
    s.status,
    s.status_message,
    s.attributes,
    COALESCE(s.resource_attributes, r.attributes) AS resource_attributes,
    s.events
   FROM (observability.spans s
     LEFT JOIN observability.resources r ON ((r.resource_id = s.resource_id)));

CREATE TABLE observability.spans_default (
    trace_id uuid NOT NULL,
    span_id bigint NOT NULL,
    parent_span_id bigint,
    name text NOT NULL,
    kind text NOT NULL,
    operation text NOT NULL,
    target text,
    service_name text NOT NULL,
    scope_name text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    status text NOT NULL,
    status_message text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    resource_attributes jsonb DEFAULT '{}'::jsonb,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    resource_id integer,
    scope_id integer,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
);

CREATE VIEW observability.tool_metrics AS
 SELECT operation_metrics.time_window,
    operation_metrics.server AS server_name,
    operation_metrics.target AS tool_name,
    operation_metrics.request_count,
    operation_metrics.error_count,
    operation_metrics.error_pct,
    operation_metrics.health,
    operation_metrics.avg_ms,
    operation_metrics.p50_ms,
    operation_metrics.p90_ms,
    operation_metrics.p95_ms,
    operation_metrics.p99_ms,
    operation_metrics.max_ms,
    operation_metrics.client_avg_ms,
    operation_metrics.client_p50_ms,
    operation_metrics.client_p90_ms,
    operation_metrics.client_p95_ms,
    operation_metrics.client_p99_ms,
    operation_metrics.overhead_ms,
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'tool_invoke'::text));

CREATE TABLE observability_internal.call_assembly_state (
    name text NOT NULL,
    assembled_until timestamp with time zone NOT NULL,
    last_trace_id uuid NOT NULL
);

CREATE TABLE observability_internal.maintenance_jobs (
    job text NOT NULL,
    last_started_at timestamp with time zone,
    last_finished_at timestamp with time zone,
    last_owner text
);

COMMENT ON TABLE observability_internal.maintenance_jobs IS 'One row per maintenance job: when it was last claimed (observability_internal.claim_maintenance_job()) and last finished, and by whom.';

COMMENT ON COLUMN observability_internal.maintenance_jobs.last_started_at IS 'When the job was last claimed, on the claimer''s clock (the database''s now() unless pinned); the next claim succeeds an interval later.';

COMMENT ON COLUMN observability_internal.maintenance_jobs.last_finished_at IS 'When a run of the job last finished, successfully; NULL or older than last_started_at while a run is under way or after one failed.';

COMMENT ON COLUMN observability_internal.maintenance_jobs.last_owner IS 'The owner named by the last successful claim.';

CREATE VIEW observability_internal.metric_rows AS
 SELECT sp.operation,
    ''::text AS server,
    COALESCE(sp.target, ''::text) AS target,
    sp.status,
    sp.start_time,
    sp.duration_ms,
    NULL::double precision AS client_duration_ms,
    sp.status_message AS error_message
   FROM observability.spans sp
  WHERE ((sp.operation <> ALL (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text])) AND (sp.service_name <> 'mcp-observatory'::text))
UNION ALL
 SELECT
        CASE c.method
            WHEN 'tools/call'::text THEN 'tool_invoke'::text
            WHEN 'prompts/get'::text THEN 'prompt_render'::text
            ELSE 'resource_fetch'::text
        END AS operation,
    COALESCE(c.server_name, ''::text) AS server,
    COALESCE(c.target, ''::text) AS target,
    c.request_status AS status,
    c.start_time,
    c.server_duration_ms AS duration_ms,
    c.client_duration_ms,
    COALESCE(c.error_message, c.error_type) AS error_message
   FROM observability.calls c
  WHERE (c.counted AND (c.method = ANY (ARRAY['tools/call'::text, 'prompts/get'::text, 'resources/read'::text])));

CREATE TABLE observability_internal.rank_histogram_state (
    only_row boolean DEFAULT true NOT NULL,
    window_start timestamp with time zone NOT NULL,
    window_end timestamp with time zone NOT NULL,
    fingerprint text NOT NULL,
    built_at timestamp with time zone NOT NULL,
    CONSTRAINT rank_histogram_state_only_row_check CHECK (only_row)
);

COMMENT ON TABLE observability_internal.rank_histogram_state IS 'The window rank_histograms covers (24 hours ending at the last hour rolled up) and the fingerprint of the hour digests it was merged from.';

CREATE TABLE observability_internal.rank_histograms (
    operation text NOT NULL,
    server text NOT NULL,
    target text NOT NULL,
    side text NOT NULL,
    keys integer[] NOT NULL,
    counts bigint[] NOT NULL,
    below bigint[] NOT NULL,
    total bigint NOT NULL,
    CONSTRAINT rank_histograms_side_check CHECK ((side = ANY (ARRAY['client'::text, 'server'::text])))
);

COMMENT ON TABLE observability_internal.rank_histograms IS 'Each metric group''s and side''s durations over the 24 hours of rank_histogram_state, merged from the hour digests: what span_ranks() ranks a span against. Rebuilt by refresh_rank_histograms().';

CREATE TABLE observability_internal.rollup_state (
    name text NOT NULL,
    rolled_until timestamp with time zone NOT NULL
);

COMMENT ON TABLE observability_internal.rollup_state IS 'How far rollup_metrics() has rolled up metrics_minute and metrics_hour; moving rolled_until back makes the next run recount from there.';

ALTER TABLE ONLY observability.calls ATTACH PARTITION observability.calls_default DEFAULT;

ALTER TABLE ONLY observability.spans ATTACH PARTITION observability.spans_default DEFAULT;

ALTER TABLE ONLY observability.maintenance_log
    ADD CONSTRAINT maintenance_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY observability.metric_windows
    ADD CONSTRAINT metric_windows_pkey PRIMARY KEY (time_window);

ALTER TABLE ONLY observability.metric_windows
    ADD CONSTRAINT metric_windows_view_name_key UNIQUE (view_name);

ALTER TABLE ONLY observability.metrics_hour
    ADD CONSTRAINT metrics_hour_pkey PRIMARY KEY (bucket, level, operation, target);

ALTER TABLE ONLY observability.metrics_minute
    ADD CONSTRAINT metrics_minute_pkey PRIMARY KEY (bucket, level, operation, target);

ALTER TABLE ONLY observability.resources
    ADD CONSTRAINT resources_digest_key UNIQUE (digest);

ALTER TABLE ONLY observability.resources
    ADD CONSTRAINT resources_pkey PRIMARY KEY (resource_id);

ALTER TABLE ONLY observability.saved_views
    ADD CONSTRAINT saved_views_name_key UNIQUE (name);

ALTER TABLE ONLY observability.saved_views
    ADD CONSTRAINT saved_views_pkey PRIMARY KEY (view_id);

ALTER TABLE ONLY observability.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY observability.scopes
    ADD CONSTRAINT scopes_digest_key UNIQUE (digest);

ALTER TABLE ONLY observability.scopes
    ADD CONSTRAINT scopes_pkey PRIMARY KEY (scope_id);

ALTER TABLE observability.spans
    ADD CONSTRAINT spans_resource_check CHECK (((resource_attributes IS NOT NULL) OR (resource_id IS NOT NULL))) NOT VALID;

ALTER TABLE ONLY observability.traces
    ADD CONSTRAINT traces_pkey PRIMARY KEY (trace_id);

ALTER TABLE ONLY observability_internal.call_assembly_state
    ADD CONSTRAINT call_assembly_state_pkey PRIMARY KEY (name);

ALTER TABLE ONLY observability_internal.compacted_span_partitions
    ADD CONSTRAINT compacted_span_partitions_pkey PRIMARY KEY (partition_oid);

ALTER TABLE ONLY observability_internal.maintenance_jobs
    ADD CONSTRAINT maintenance_jobs_pkey PRIMARY KEY (job);

ALTER TABLE ONLY observability_internal.metric_digests
    ADD CONSTRAINT metric_digests_pkey PRIMARY KEY (unit, bucket, operation, server, target);

ALTER TABLE ONLY observability_internal.rank_histogram_state
    ADD CONSTRAINT rank_histogram_state_pkey PRIMARY KEY (only_row);

ALTER TABLE ONLY observability_internal.rank_histograms
    ADD CONSTRAINT rank_histograms_pkey PRIMARY KEY (operation, server, target, side);

ALTER TABLE ONLY observability_internal.rollup_state
    ADD CONSTRAINT rollup_state_pkey PRIMARY KEY (name);

CREATE INDEX calls_counted_time_idx ON ONLY observability.calls USING btree (start_time) WHERE counted;

CREATE INDEX calls_session_time_idx ON ONLY observability.calls USING btree (session_id, start_time) WHERE (session_id IS NOT NULL);

CREATE INDEX calls_default_session_id_start_time_idx ON observability.calls_default USING btree (session_id, start_time) WHERE (session_id IS NOT NULL);

CREATE INDEX calls_default_start_time_idx ON observability.calls_default USING btree (start_time) WHERE counted;

CREATE INDEX calls_trace_idx ON ONLY observability.calls USING btree (trace_id);

CREATE INDEX calls_default_trace_id_idx ON observability.calls_default USING btree (trace_id);

CREATE INDEX maintenance_log_job_started_idx ON observability.maintenance_log USING btree (job, started_at DESC);

CREATE UNIQUE INDEX metrics_1h_key ON observability.metrics_1h USING btree (level, operation, server, target);

CREATE UNIQUE INDEX metrics_24h_key ON observability.metrics_24h USING btree (level, operation, server, target);

CREATE UNIQUE INDEX metrics_30d_key ON observability.metrics_30d USING btree (level, operation, server, target);

CREATE UNIQUE INDEX metrics_7d_key ON observability.metrics_7d USING btree (level, operation, server, target);

CREATE INDEX metrics_hour_target_idx ON observability.metrics_hour USING btree (operation, target, bucket);

CREATE INDEX metrics_hour_total_idx ON observability.metrics_hour USING btree (bucket) WHERE (level = 'total'::text);

CREATE INDEX metrics_minute_target_idx ON observability.metrics_minute USING btree (operation, target, bucket);

CREATE INDEX metrics_minute_total_idx ON observability.metrics_minute USING btree (bucket) WHERE (level = 'total'::text);

CREATE INDEX spans_operation_target_time_idx ON ONLY observability.spans USING btree (operation, target, start_time);

CREATE INDEX spans_default_operation_target_start_time_idx ON observability.spans_default USING btree (operation, target, start_time);

CREATE INDEX spans_errors_time_idx ON ONLY observability.spans USING btree (start_time) WHERE (status = 'error'::text);

CREATE INDEX spans_default_start_time_idx ON observability.spans_default USING btree (start_time) WHERE (status = 'error'::text);

CREATE INDEX spans_start_time_brin_idx ON ONLY observability.spans USING brin (start_time);

CREATE INDEX spans_default_start_time_idx1 ON observability.spans_default USING brin (start_time);

CREATE UNIQUE INDEX spans_default_trace_span_key ON observability.spans_default USING btree (trace_id, span_id, start_time);

CREATE INDEX traces_errors_start_time_idx ON observability.traces USING btree (start_time DESC) WHERE (error_count > 0);

CREATE INDEX traces_kind_start_time_idx ON observability.traces USING btree (service_name, root_name, start_time DESC);

CREATE INDEX traces_self_start_time_idx ON observability.traces USING btree (start_time DESC, trace_id DESC) WHERE (service_name = 'mcp-observatory'::text);

CREATE INDEX traces_start_time_idx ON observability.traces USING btree (start_time DESC);

CREATE INDEX traces_updated_at_idx ON observability.traces USING btree (updated_at, trace_id);

ALTER INDEX observability.calls_session_time_idx ATTACH PARTITION observability.calls_default_session_id_start_time_idx;

ALTER INDEX observability.calls_counted_time_idx ATTACH PARTITION observability.calls_default_start_time_idx;

ALTER INDEX observability.calls_trace_idx ATTACH PARTITION observability.calls_default_trace_id_idx;

ALTER INDEX observability.spans_operation_target_time_idx ATTACH PARTITION observability.spans_default_operation_target_start_time_idx;

ALTER INDEX observability.spans_errors_time_idx ATTACH PARTITION observability.spans_default_start_time_idx;

ALTER INDEX observability.spans_start_time_brin_idx ATTACH PARTITION observability.spans_default_start_time_idx1;

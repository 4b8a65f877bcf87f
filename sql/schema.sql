
CREATE SCHEMA observability;

COMMENT ON SCHEMA observability IS 'MCP Observatory: spans, traces, metric views and tables, the maintenance log, and the functions meant for psql users (docs/schema.md, docs/sql.md).';

CREATE SCHEMA observability_internal;

COMMENT ON SCHEMA observability_internal IS 'MCP Observatory internals: bookkeeping and helpers that the service and the functions of schema observability use. No compatibility promise; change only as docs/sql.md describes.';

CREATE FUNCTION observability.apply_retention(p_retention_days integer, p_max_traces bigint, p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(partitions_dropped integer, spans_deleted bigint, traces_deleted bigint, traces_remaining bigint, log_id bigint)
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_owner   text := coalesce(nullif(current_setting('application_name', true), ''), session_user);
    v_done    record;
BEGIN
    SELECT * INTO v_done FROM observability_internal.enforce_retention(p_retention_days, p_max_traces, p_now);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT v_done.partitions_dropped, v_done.spans_deleted, v_done.traces_deleted, v_done.traces_remaining,
        observability_internal.log_maintenance_run('retention', v_owner, v_started, v_done.details);
END
$$;

CREATE FUNCTION observability.ensure_partitions(p_days_back integer DEFAULT 1, p_days_ahead integer DEFAULT 3, p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(partition_name text, rows_moved bigint)
    LANGUAGE plpgsql
    AS $$
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

        IF v_moved > 0 THEN
            EXECUTE format('INSERT INTO observability.%I SELECT * FROM pg_temp.moving_spans', v_name);
            DROP TABLE pg_temp.moving_spans;
        END IF;

        partition_name := v_name;
        rows_moved := v_moved;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE FUNCTION observability.health(p_error_pct double precision) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN (p_error_pct > (50)::double precision) THEN 'critical'::text WHEN (p_error_pct > (20)::double precision) THEN 'red'::text WHEN (p_error_pct >= (5)::double precision) THEN 'yellow'::text ELSE 'green'::text END;

CREATE FUNCTION observability.hex_span_id(p_span_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lpad(to_hex(p_span_id), 16, '0'::text);

CREATE FUNCTION observability.hex_trace_id(p_trace_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace((p_trace_id)::text, '-'::text, ''::text);

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

CREATE FUNCTION observability.window_metrics(p_window interval) RETURNS TABLE(level text, operation text, target text, request_count bigint, error_count bigint, error_pct double precision, avg_ms double precision, p50_ms double precision, p90_ms double precision, p95_ms double precision, p99_ms double precision, max_ms double precision, first_seen timestamp with time zone, last_seen timestamp with time zone, example_error text)
    LANGUAGE sql STABLE
    SET jit TO 'off'
    AS $$
WITH figures AS (
    SELECT CASE grouping(s.operation, s.target) WHEN 0 THEN 'target' WHEN 1 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(s.operation, '') AS operation,
           coalesce(s.target, '') AS target,
           count(*) AS request_count,
           count(*) FILTER (WHERE s.status = 'error') AS error_count,
           avg(s.duration_ms) AS avg_ms,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[])
               WITHIN GROUP (ORDER BY s.duration_ms) AS pct,
           max(s.duration_ms) AS max_ms,
           min(s.start_time) AS first_seen,
           max(s.start_time) AS last_seen
    FROM (
        SELECT sp.operation, coalesce(sp.target, '') AS target, sp.status, sp.duration_ms, sp.start_time
        FROM observability.spans sp
        WHERE sp.start_time > observability_internal.metrics_now() - p_window
          AND sp.start_time <= observability_internal.metrics_now()
    ) s
    GROUP BY GROUPING SETS ((s.operation, s.target), (s.operation), ())
),
latest_errors AS (
    SELECT DISTINCT ON (sp.operation, coalesce(sp.target, ''))
           sp.operation, coalesce(sp.target, '') AS target, sp.status_message, sp.start_time
    FROM observability.spans sp
    WHERE sp.status = 'error' AND sp.status_message IS NOT NULL
      AND sp.start_time > observability_internal.metrics_now() - p_window
      AND sp.start_time <= observability_internal.metrics_now()
    ORDER BY sp.operation, coalesce(sp.target, ''), sp.start_time DESC
),
examples AS (
    SELECT CASE grouping(e.operation, e.target) WHEN 0 THEN 'target' WHEN 1 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(e.operation, '') AS operation,
           coalesce(e.target, '') AS target,
           (array_agg(e.status_message ORDER BY e.start_time DESC))[1] AS message
    FROM latest_errors e
    GROUP BY GROUPING SETS ((e.operation, e.target), (e.operation), ())
)
SELECT f.level, f.operation, f.target, f.request_count, f.error_count,
       100.0 * f.error_count / f.request_count,
       f.avg_ms, f.pct[1], f.pct[2], f.pct[3], f.pct[4], f.max_ms,
       f.first_seen, f.last_seen, x.message
FROM figures f
LEFT JOIN examples x ON x.level = f.level AND x.operation = f.operation AND x.target = f.target
WHERE f.request_count > 0
$$;

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

CREATE FUNCTION observability_internal.due_metric_windows(p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(time_window text)
    LANGUAGE sql STABLE
    AS $$
SELECT w.time_window
FROM observability.metric_windows w
WHERE w.last_refreshed_at IS NULL
   OR p_now >= w.last_refreshed_at + w.refresh_every - interval '5 seconds'
ORDER BY w.window_span
$$;

CREATE FUNCTION observability_internal.enforce_retention(p_retention_days integer, p_max_traces bigint, p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(partitions_dropped integer, spans_deleted bigint, traces_deleted bigint, traces_remaining bigint, details jsonb)
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
    END IF;
    DELETE FROM observability.spans s WHERE s.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_spans := v_spans + v_rows;

    -- Age: traces that ended before the cutoff (end >= start, so the start index narrows it).
    DELETE FROM observability.traces t WHERE t.start_time < v_cutoff AND t.end_time < v_cutoff;
    GET DIAGNOSTICS v_expired = ROW_COUNT;

    -- Cap: the newest victim is the one just past the p_max_traces newest survivors.
    SELECT t.start_time, t.trace_id INTO v_victim_start, v_victim_id
    FROM observability.traces t
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

    -- Everything that needs no lock on observability.spans beyond what readers take:
    -- the counts of the partitions to drop, and what remains.
    FOR i IN 1 .. cardinality(v_names) LOOP
        EXECUTE format('SELECT count(*) FROM observability.%I', v_names[i]) INTO v_rows;
        v_counts := v_counts || v_rows;
    END LOOP;
    SELECT count(*) INTO v_remaining FROM observability.traces;

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

    DELETE FROM observability.maintenance_log l WHERE l.started_at < p_now - interval '90 days';

    RETURN QUERY SELECT v_dropped, v_spans, v_expired + v_evicted + v_future, v_remaining,
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
            'traces_deleted', v_expired + v_evicted + v_future,
            'traces_evicted', v_evicted,
            'traces_remaining', v_remaining);
END
$_$;

CREATE FUNCTION observability_internal.ingest_spans(p_trace_ids uuid[], p_span_ids bigint[], p_parent_span_ids bigint[], p_names text[], p_kinds text[], p_operations text[], p_targets text[], p_services text[], p_scopes text[], p_start_times timestamp with time zone[], p_end_times timestamp with time zone[], p_durations double precision[], p_statuses text[], p_status_messages text[], p_attributes text[], p_resource_attributes text[], p_events text[]) RETURNS integer
    LANGUAGE sql
    AS $$
WITH inserted AS (
    INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                     scope_name, start_time, end_time, duration_ms, status, status_message,
                                     attributes, resource_attributes, events)
    SELECT u.trace_id, u.span_id, nullif(u.parent_span_id, 0), u.name, u.kind, u.operation, nullif(u.target, ''),
           u.service_name, nullif(u.scope_name, ''), u.start_time, u.end_time, u.duration_ms, u.status,
           nullif(u.status_message, ''), u.attributes::jsonb, u.resource_attributes::jsonb, u.events::jsonb
    FROM unnest(p_trace_ids, p_span_ids, p_parent_span_ids, p_names, p_kinds, p_operations, p_targets, p_services,
                p_scopes, p_start_times, p_end_times, p_durations, p_statuses, p_status_messages, p_attributes,
                p_resource_attributes, p_events)
         AS u(trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
              start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events)
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

CREATE FUNCTION observability_internal.rollup_metrics(p_now timestamp with time zone DEFAULT now(), p_late interval DEFAULT '00:10:00'::interval, p_backfill interval DEFAULT '30 days'::interval, p_keep_minutes interval DEFAULT '8 days'::interval) RETURNS TABLE(ran boolean, rolled_from timestamp with time zone, rolled_until timestamp with time zone, minute_rows bigint, hour_rows bigint)
    LANGUAGE plpgsql
    SET jit TO 'off'
    AS $$
DECLARE
    v_until       timestamptz := date_trunc('minute', p_now, 'UTC');
    v_last        timestamptz;
    v_from        timestamptz;
    v_minute_from timestamptz;
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

    DELETE FROM observability.metrics_minute WHERE bucket < p_now - p_keep_minutes;
    DELETE FROM observability.metrics_hour WHERE bucket < p_now - interval '400 days';

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
                SELECT date_trunc(%L, sp.start_time, 'UTC') AS bucket, sp.operation, coalesce(sp.target, '') AS target, sp.status, sp.duration_ms
                FROM observability.spans sp
                WHERE sp.start_time >= $1 AND sp.start_time < $2
            ) s
            GROUP BY GROUPING SETS ((s.bucket, s.operation, s.target), (s.bucket))
        ) g
        $q$, v_table, p_unit)
        USING p_from, p_until;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$_$;

CREATE FUNCTION observability_internal.span_partition_name(p_day date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN ('spans_p'::text || to_char((p_day)::timestamp with time zone, 'YYYYMMDD'::text));

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
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '01:00:00'::interval) AS window_start
   FROM observability.window_metrics('01:00:00'::interval) m(level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_24h AS
 SELECT '24h'::text AS time_window,
    m.level,
    m.operation,
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
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '24:00:00'::interval) AS window_start
   FROM observability.window_metrics('24:00:00'::interval) m(level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_30d AS
 SELECT '30d'::text AS time_window,
    m.level,
    m.operation,
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
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '30 days'::interval) AS window_start
   FROM observability.window_metrics('30 days'::interval) m(level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error)
  WITH NO DATA;

CREATE MATERIALIZED VIEW observability.metrics_7d AS
 SELECT '7d'::text AS time_window,
    m.level,
    m.operation,
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
    m.first_seen,
    m.last_seen,
    m.example_error,
    observability.health(m.error_pct) AS health,
    observability_internal.metrics_now() AS computed_at,
    (observability_internal.metrics_now() - '7 days'::interval) AS window_start
   FROM observability.window_metrics('7 days'::interval) m(level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error)
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
 SELECT '1h'::text AS time_window,
    metrics_1h.level,
    metrics_1h.operation,
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
    metrics_1h.first_seen,
    metrics_1h.last_seen,
    metrics_1h.example_error,
    metrics_1h.health,
    metrics_1h.computed_at,
    metrics_1h.window_start
   FROM observability.metrics_1h
UNION ALL
 SELECT '24h'::text AS time_window,
    metrics_24h.level,
    metrics_24h.operation,
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
    metrics_24h.first_seen,
    metrics_24h.last_seen,
    metrics_24h.example_error,
    metrics_24h.health,
    metrics_24h.computed_at,
    metrics_24h.window_start
   FROM observability.metrics_24h
UNION ALL
 SELECT '7d'::text AS time_window,
    metrics_7d.level,
    metrics_7d.operation,
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
    metrics_7d.first_seen,
    metrics_7d.last_seen,
    metrics_7d.example_error,
    metrics_7d.health,
    metrics_7d.computed_at,
    metrics_7d.window_start
   FROM observability.metrics_7d
UNION ALL
 SELECT '30d'::text AS time_window,
    metrics_30d.level,
    metrics_30d.operation,
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
    metrics_30d.first_seen,
    metrics_30d.last_seen,
    metrics_30d.example_error,
    metrics_30d.health,
    metrics_30d.computed_at,
    metrics_30d.window_start
   FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS 'Metrics per time_window (1h, 24h, 7d, 30d) and level: target = per operation and target; operation = per operation kind, target empty; total = everything, operation and target empty. Durations in ms, error_pct 0-100, health green/yellow/red/critical. See docs/sql.md.';

CREATE VIEW observability.prompt_metrics AS
 SELECT operation_metrics.time_window,
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
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'prompt_render'::text));

CREATE VIEW observability.resource_metrics AS
 SELECT operation_metrics.time_window,
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
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'resource_fetch'::text));

CREATE TABLE observability.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    execution_ms double precision NOT NULL
);

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
    resource_attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
)
PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.spans IS 'One row per span; daily RANGE partitions spans_pYYYYMMDD (UTC) plus spans_default for times outside them.';

COMMENT ON COLUMN observability.spans.operation IS 'What the span did, classified once at ingest: tool_invoke, prompt_render, resource_fetch, http_request, db_query, internal.';

COMMENT ON COLUMN observability.spans.target IS 'The name dashboards group by: tool name, prompt name, resource URI, HTTP route or SQL operation.';

COMMENT ON COLUMN observability.spans.events IS 'Span events as a JSON array of {name, time, attributes}; see the span_events view for one row per event.';

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
    s.resource_attributes,
    s.events
   FROM observability.spans s;

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
    resource_attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
);

CREATE VIEW observability.tool_metrics AS
 SELECT operation_metrics.time_window,
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
    operation_metrics.first_seen,
    operation_metrics.last_seen,
    operation_metrics.example_error,
    operation_metrics.computed_at
   FROM observability.operation_metrics
  WHERE ((operation_metrics.level = 'target'::text) AND (operation_metrics.operation = 'tool_invoke'::text));

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

CREATE TABLE observability_internal.rollup_state (
    name text NOT NULL,
    rolled_until timestamp with time zone NOT NULL
);

COMMENT ON TABLE observability_internal.rollup_state IS 'How far rollup_metrics() has rolled up metrics_minute and metrics_hour; moving rolled_until back makes the next run recount from there.';

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

ALTER TABLE ONLY observability.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY observability.traces
    ADD CONSTRAINT traces_pkey PRIMARY KEY (trace_id);

ALTER TABLE ONLY observability_internal.maintenance_jobs
    ADD CONSTRAINT maintenance_jobs_pkey PRIMARY KEY (job);

ALTER TABLE ONLY observability_internal.rollup_state
    ADD CONSTRAINT rollup_state_pkey PRIMARY KEY (name);

CREATE INDEX maintenance_log_job_started_idx ON observability.maintenance_log USING btree (job, started_at DESC);

CREATE UNIQUE INDEX metrics_1h_key ON observability.metrics_1h USING btree (level, operation, target);

CREATE UNIQUE INDEX metrics_24h_key ON observability.metrics_24h USING btree (level, operation, target);

CREATE UNIQUE INDEX metrics_30d_key ON observability.metrics_30d USING btree (level, operation, target);

CREATE UNIQUE INDEX metrics_7d_key ON observability.metrics_7d USING btree (level, operation, target);

CREATE INDEX metrics_hour_target_idx ON observability.metrics_hour USING btree (operation, target, bucket);

CREATE INDEX metrics_hour_total_idx ON observability.metrics_hour USING btree (bucket) WHERE (level = 'total'::text);

CREATE INDEX metrics_minute_target_idx ON observability.metrics_minute USING btree (operation, target, bucket);

CREATE INDEX metrics_minute_total_idx ON observability.metrics_minute USING btree (bucket) WHERE (level = 'total'::text);

CREATE INDEX spans_operation_target_time_idx ON ONLY observability.spans USING btree (operation, target, start_time);

CREATE INDEX spans_default_operation_target_start_time_idx ON observability.spans_default USING btree (operation, target, start_time);

CREATE INDEX spans_errors_time_idx ON ONLY observability.spans USING btree (start_time) WHERE (status = 'error'::text);

CREATE INDEX spans_default_start_time_idx ON observability.spans_default USING btree (start_time) WHERE (status = 'error'::text);

CREATE UNIQUE INDEX spans_trace_span_idx ON ONLY observability.spans USING btree (trace_id, span_id, start_time);

CREATE UNIQUE INDEX spans_default_trace_id_span_id_start_time_idx ON observability.spans_default USING btree (trace_id, span_id, start_time);

CREATE INDEX traces_errors_start_time_idx ON observability.traces USING btree (start_time DESC) WHERE (error_count > 0);

CREATE INDEX traces_start_time_idx ON observability.traces USING btree (start_time DESC);

ALTER INDEX observability.spans_operation_target_time_idx ATTACH PARTITION observability.spans_default_operation_target_start_time_idx;

ALTER INDEX observability.spans_errors_time_idx ATTACH PARTITION observability.spans_default_start_time_idx;

ALTER INDEX observability.spans_trace_span_idx ATTACH PARTITION observability.spans_default_trace_id_span_id_start_time_idx;

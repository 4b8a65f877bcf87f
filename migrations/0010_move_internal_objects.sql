-- The schema's boundary made visible (issue 10): what psql users, dashboards and scripts
-- may rely on stays in `observability`; the bookkeeping and helpers the service and the
-- schema's own functions use move to `observability_internal`, so that `\dt`, `\dv` and
-- `\df observability.*` list only what is meant to be read or called by people.
--
-- Internal: the rollup's progress (rollup_state), the job claims (maintenance_jobs), and
-- the functions only the service or other functions call (the writer's ingest_spans,
-- claim_maintenance_job, log_maintenance_run, rollup_metrics, rollup_range, metrics_now,
-- max_future_skew, span_partition_name), plus two new ones: due_metric_windows(), the
-- one statement of when a metric window is due, which refresh_metrics() and the service
-- both ask; and enforce_retention(), retention without its log row, so that the service
-- logs retention through log_maintenance_run() like every other job.
--
-- observability.schema_migrations stays where it is: the migration runner of every
-- build, older ones included, looks for it there before it knows which migrations ran.
--
-- SET SCHEMA moves a table with its rows, indexes, constraints and identity sequence,
-- and a function with its OID, so views, materialized views and SQL functions written
-- with a RETURN body (which refer to objects by OID) follow on their own. PL/pgSQL
-- bodies and SQL bodies in quotes name objects as text: every such function that names
-- a moved object is created again below. Advisory lock keys are strings, not names,
-- and stay as they were. No role has grants on these objects; the new schema, like
-- `observability`, is usable by its owner only.

CREATE SCHEMA observability_internal;

COMMENT ON SCHEMA observability IS
    'MCP Observatory: spans, traces, metric views and tables, the maintenance log, and the functions meant for psql users (docs/schema.md, docs/sql.md).';
COMMENT ON SCHEMA observability_internal IS
    'MCP Observatory internals: bookkeeping and helpers that the service and the functions of schema observability use. No compatibility promise; change only as docs/sql.md describes.';

-- MARK: Tables

ALTER TABLE observability.rollup_state SET SCHEMA observability_internal;
ALTER TABLE observability.maintenance_jobs SET SCHEMA observability_internal;

COMMENT ON TABLE observability_internal.rollup_state IS
    'How far rollup_metrics() has rolled up metrics_minute and metrics_hour; moving rolled_until back makes the next run recount from there.';
COMMENT ON TABLE observability_internal.maintenance_jobs IS
    'One row per maintenance job: when it was last claimed (observability_internal.claim_maintenance_job()) and last finished, and by whom.';
COMMENT ON COLUMN observability.maintenance_log.job IS
    'The job that ran: partitions, retention, rollup, refresh_<window>, or any name passed to observability_internal.log_maintenance_run().';

-- MARK: Functions moved as they are

-- The span writer's batch insert: called by the service only; people load spans with
-- it too, but through the documented internal name.
ALTER FUNCTION observability.ingest_spans(uuid[], bigint[], bigint[], text[], text[], text[], text[], text[], text[],
                                          timestamptz[], timestamptz[], double precision[], text[], text[], text[],
                                          text[], text[])
    SET SCHEMA observability_internal;
-- ensure_partitions()'s naming rule for daily partitions.
ALTER FUNCTION observability.span_partition_name(date) SET SCHEMA observability_internal;
-- The SQL copy of SpanTimeRange.maxFutureSkewSeconds, for apply_retention().
ALTER FUNCTION observability.max_future_skew() SET SCHEMA observability_internal;
-- The clock of the metric views; refresh_metrics() pins it.
ALTER FUNCTION observability.metrics_now() SET SCHEMA observability_internal;
-- One step of rollup_metrics(); it names only metrics_minute and metrics_hour, which stay.
ALTER FUNCTION observability.rollup_range(text, timestamptz, timestamptz) SET SCHEMA observability_internal;

-- MARK: Functions moved and created again (their bodies name moved objects)

ALTER FUNCTION observability.claim_maintenance_job(text, interval, text, timestamptz) SET SCHEMA observability_internal;
ALTER FUNCTION observability.log_maintenance_run(text, text, timestamptz, jsonb, timestamptz)
    SET SCHEMA observability_internal;
ALTER FUNCTION observability.rollup_metrics(timestamptz, interval, interval, interval) SET SCHEMA observability_internal;

-- Several replicas of `serve` poll for each job; exactly one of them must run it per
-- interval, without a leader to elect or a lease to renew. Whoever polls first after
-- the job is due wins, so when the replica that ran it last dies, another takes over at
-- its next poll and nothing waits for a timeout. The clock is the database's now() by
-- default, one clock for every replica, so their own clock skew does not matter. A
-- concurrent claim of the same job returns false at once (advisory lock) instead of
-- queueing on the row. Returns whether this call claimed the job.
CREATE OR REPLACE FUNCTION observability_internal.claim_maintenance_job(
    p_job   text,
    p_every interval,
    p_owner text,
    p_now   timestamptz DEFAULT now()
) RETURNS boolean
    LANGUAGE plpgsql AS
$$
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

-- The one way a maintenance run reaches maintenance_log, so one query shows every job
-- and every row means the same: the service calls it after each successful run of every
-- job (retention included), and apply_retention() after its own work. p_now is the end
-- of the run. Also marks the job finished in maintenance_jobs. Returns the row's id.
CREATE OR REPLACE FUNCTION observability_internal.log_maintenance_run(
    p_job        text,
    p_owner      text,
    p_started_at timestamptz,
    p_details    jsonb DEFAULT '{}',
    p_now        timestamptz DEFAULT clock_timestamp()
) RETURNS bigint
    LANGUAGE plpgsql AS
$$
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

-- Rolls up what is new since the last run: the minutes from the previous run's end (less
-- p_late, for spans that arrive after their minute has passed) to the start of the
-- current minute, and the hours those minutes touch, the current hour included so the
-- hourly series reaches the present. The first run fills p_backfill of hours and the
-- minutes that are kept (p_keep_minutes); minute buckets older than that, and hour
-- buckets older than 400 days, are deleted. Advisory-locked: a concurrent call returns
-- at once with nothing done (ran = false). A span that arrives more than p_late after
-- its minute is counted by the window views and by its hour when that hour is rolled up
-- again, but not by its minute; moving rollup_state.rolled_until back recounts.
CREATE OR REPLACE FUNCTION observability_internal.rollup_metrics(
    p_now          timestamptz DEFAULT now(),
    p_late         interval    DEFAULT interval '10 minutes',
    p_backfill     interval    DEFAULT interval '30 days',
    p_keep_minutes interval    DEFAULT interval '8 days'
) RETURNS TABLE (ran boolean, rolled_from timestamptz, rolled_until timestamptz, minute_rows bigint, hour_rows bigint)
    LANGUAGE plpgsql
    SET jit = off AS
$$
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

-- MARK: When a metric window is due

-- The rule of when a window's view is due for a refresh, stated once: refresh_metrics()
-- applies it, and the service asks it which windows to refresh before calling
-- refresh_metrics() once per due window, so the two can never disagree. A window is due
-- when it was never refreshed, or when its refresh_every has passed since its last
-- refresh less 5 s, so that a caller polling every minute finds a one-minute window due
-- at every poll rather than every other one. p_now is the clock, so tests pin it.
-- Returns the due windows, shortest first.
CREATE FUNCTION observability_internal.due_metric_windows(p_now timestamptz DEFAULT now())
    RETURNS TABLE (time_window text)
    LANGUAGE sql STABLE AS
$$
SELECT w.time_window
FROM observability.metric_windows w
WHERE w.last_refreshed_at IS NULL
   OR p_now >= w.last_refreshed_at + w.refresh_every - interval '5 seconds'
ORDER BY w.window_span
$$;

-- Keeps every metric fresh. Rolls up the new minutes (unless p_rollup is false), then
-- refreshes each window's materialized view that due_metric_windows() finds due (p_force:
-- all of them; p_windows: only those named), CONCURRENTLY so dashboards keep reading the
-- previous figures meanwhile, with the metrics clock pinned to p_now. Each window has an
-- advisory lock of its own: a window another session is refreshing is skipped ('busy'),
-- the others go ahead. The maintenance service calls it once per window, each in its own
-- transaction, so a 30-day refresh never holds back the 1-hour figures; one call for all
-- windows is one transaction, which is what psql users get. Returns one row per window
-- considered: refreshed, not due, or busy, and how long the refresh took.
CREATE OR REPLACE FUNCTION observability.refresh_metrics(
    p_now     timestamptz DEFAULT now(),
    p_force   boolean     DEFAULT false,
    p_windows text[]      DEFAULT NULL,
    p_rollup  boolean     DEFAULT true
) RETURNS TABLE (time_window text, outcome text, duration_ms double precision, computed_at timestamptz)
    LANGUAGE plpgsql
    SET jit = off AS
$$
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

-- MARK: Public functions whose bodies name moved objects

-- Creates the daily partitions from p_days_back days before p_now to p_days_ahead days
-- after it, so that spans land in their own day and not in spans_default, whose size
-- every later partition creation has to scan. It also gives a partition to every day
-- within the last 400 days that already has spans waiting in spans_default (late or
-- replayed data), so retention can later drop those days whole. Spans waiting in
-- spans_default for a day being created are moved into the new partition, in the same
-- transaction, so none is lost. Returns one row per partition created. Another session
-- running it at the same moment makes this call a no-op (advisory lock) rather than a wait.
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

-- Metrics of the spans that started in the last p_window up to metrics_now(), at three
-- levels in one pass (GROUPING SETS): per operation kind and target ('target'), per
-- operation kind ('operation', target ''), and over everything ('total', operation and
-- target ''). The kind and total rows carry exact percentiles of their own, which cannot
-- be derived from the per-target rows. A NULL target is reported as ''. Percentiles are
-- PERCENTILE_CONT (linear interpolation), all four from one sort per group. The example
-- error is the most recent error message, found among the window's failed spans only
-- (the partial index on errors), not by sorting every message of every group.
-- JIT is off: at millions of rows the planner crosses its thresholds and compiling cost
-- more than it saved (7d window at 10M spans: 10.8 s with JIT, 6.8 s without).
CREATE OR REPLACE FUNCTION observability.window_metrics(p_window interval)
    RETURNS TABLE (
        level          text,
        operation      text,
        target         text,
        request_count  bigint,
        error_count    bigint,
        error_pct      double precision,
        avg_ms         double precision,
        p50_ms         double precision,
        p90_ms         double precision,
        p95_ms         double precision,
        p99_ms         double precision,
        max_ms         double precision,
        first_seen     timestamptz,
        last_seen      timestamptz,
        example_error  text
    )
    LANGUAGE sql STABLE
    SET jit = off AS
$$
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
-- The latest error message per operation and target, then per kind and overall.
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
-- The empty grouping set yields a row even when no span is in the window.
WHERE f.request_count > 0
$$;

-- MARK: Retention

-- Keeps the store bounded in time and in size, and says what it removed; writes no log
-- row of its own, so that whoever runs it logs the run through log_maintenance_run()
-- like every other job (the service, and apply_retention() for psql users).
--
-- Future: first of all, every trace that starts or ends later than p_now plus
-- max_future_skew() goes, whole, with its spans, and every span that starts that late.
-- Ingestion refuses such times, but rows stored before it did (or before the server's
-- clock was set back) would otherwise sit on top of every list and, being the "newest",
-- outlive every current trace under the cap. Done before the cap is counted, so they are
-- never among the survivors.
--
-- Age: every span older than p_retention_days goes, and every trace that ended before
-- then. A trace that straddles the cutoff keeps its row and its newer spans: nothing
-- inside the retention window is deleted except by the cap.
--
-- Cap: when more than p_max_traces traces remain, the oldest go, whole (first in, first
-- out by start time, then trace id, so the choice is deterministic). Finding the victims
-- one by one would cost a lookup per trace; instead, the newest victim's start time is a
-- bound below which every span belongs to a victim, because a span never starts before
-- its trace (traces.start_time is the earliest start of its spans) and every survivor
-- starts at or after that bound. So spans below the bound go by range, whole partitions
-- by DROP, and only the spans at or after it of victims still running then (end_time at
-- or after the bound) need a lookup by trace id.
--
-- Dropping a partition takes an ACCESS EXCLUSIVE lock on observability.spans (and on
-- spans_default) until the transaction ends, so the drops come last, after every row
-- deletion and count, and each waits for its lock at most 5 s (less if the session's
-- lock_timeout is shorter): behind a long dashboard query, ingestion would otherwise
-- queue behind the waiting drop. After the first drop that times out the others are not
-- attempted either (the same query holds them up). A partition not dropped (counted in
-- partitions_skipped) keeps its rows for the next run when they are only expired by age
-- (its traces rows are gone meanwhile), but is emptied row by row when the cap needs its
-- spans gone, because no later run would come back for them.
--
-- Spans stored in a partition between its count and its drop (spans that arrive older
-- than the cutoff, a moment before their day is dropped) are dropped but not counted.
-- The maintenance log is bounded here too: rows older than 90 days before p_now go.
-- Another session running retention makes this call return no row at once (advisory
-- lock). p_now is the logical clock of what to delete. details is what the log row of
-- the run records: the arguments, the bounds used and every count.
CREATE FUNCTION observability_internal.enforce_retention(
    p_retention_days integer,
    p_max_traces     bigint,
    p_now            timestamptz DEFAULT now()
) RETURNS TABLE (partitions_dropped integer, spans_deleted bigint, traces_deleted bigint,
                 traces_remaining bigint, details jsonb)
    LANGUAGE plpgsql AS
$$
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
$$;

-- Retention for psql users and scripts: one call does what the service's retention job
-- does, the work (enforce_retention()) and its log row through log_maintenance_run(),
-- the one path into maintenance_log. Its signature and result are those of 0008, so
-- callers are unchanged; the owner logged is the session's application_name (else the
-- database user), and both logged times are wall-clock. No row when another session is
-- applying retention.
CREATE OR REPLACE FUNCTION observability.apply_retention(
    p_retention_days integer,
    p_max_traces     bigint,
    p_now            timestamptz DEFAULT now()
) RETURNS TABLE (partitions_dropped integer, spans_deleted bigint, traces_deleted bigint,
                 traces_remaining bigint, log_id bigint)
    LANGUAGE plpgsql AS
$$
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

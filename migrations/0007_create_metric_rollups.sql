-- Time series for the charts, and the one entry point that keeps every metric fresh.
--
-- Per-minute and per-hour rollups are filled incrementally: each run recomputes only the
-- minutes since the last run (plus a short late-arrival margin), never the history.
-- Each bucket has exact percentiles of its own spans, per operation kind and target
-- ('target' rows) and over everything ('total' rows, operation and target ''), because
-- percentiles cannot be added up from smaller buckets.

CREATE TABLE observability.metrics_minute (
    bucket         timestamptz      NOT NULL,
    level          text             NOT NULL CHECK (level IN ('target', 'total')),
    operation      text             NOT NULL,
    target         text             NOT NULL,
    request_count  bigint           NOT NULL,
    error_count    bigint           NOT NULL,
    sum_ms         double precision NOT NULL,
    max_ms         double precision NOT NULL,
    p50_ms         double precision NOT NULL,
    p95_ms         double precision NOT NULL,
    p99_ms         double precision NOT NULL,
    PRIMARY KEY (bucket, level, operation, target)
);
COMMENT ON TABLE observability.metrics_minute IS
    'Per-minute counts, errors and p50/p95/p99/max per operation and target (level target) and overall (level total); kept 8 days. Filled by rollup_metrics().';

CREATE TABLE observability.metrics_hour (LIKE observability.metrics_minute INCLUDING ALL);
COMMENT ON TABLE observability.metrics_hour IS
    'Per-hour counts, errors and p50/p95/p99/max per operation and target (level target) and overall (level total); kept 400 days. Filled by rollup_metrics().';

-- A target's series: the per-target chart and the tools pages read one target's buckets.
CREATE INDEX metrics_minute_target_idx ON observability.metrics_minute (operation, target, bucket);
CREATE INDEX metrics_hour_target_idx ON observability.metrics_hour (operation, target, bucket);
-- The overall series the summary chart reads, without passing over every target's rows.
CREATE INDEX metrics_minute_total_idx ON observability.metrics_minute (bucket) WHERE level = 'total';
CREATE INDEX metrics_hour_total_idx ON observability.metrics_hour (bucket) WHERE level = 'total';

-- How far each rollup has got, so the next run starts there.
CREATE TABLE observability.rollup_state (
    name          text        PRIMARY KEY,
    rolled_until  timestamptz NOT NULL
);

-- Windows of the materialized views and how often each is refreshed. Operators may
-- change refresh_every with UPDATE; refresh_metrics() reads it on every call.
CREATE TABLE observability.metric_windows (
    time_window        text        PRIMARY KEY,
    view_name          text        NOT NULL UNIQUE,
    window_span        interval    NOT NULL,
    refresh_every      interval    NOT NULL CHECK (refresh_every > interval '0'),
    last_refreshed_at  timestamptz,
    last_duration_ms   double precision
);
INSERT INTO observability.metric_windows (time_window, view_name, window_span, refresh_every) VALUES
    ('1h', 'metrics_1h', interval '1 hour', interval '1 minute'),
    ('24h', 'metrics_24h', interval '24 hours', interval '5 minutes'),
    ('7d', 'metrics_7d', interval '7 days', interval '1 hour'),
    ('30d', 'metrics_30d', interval '30 days', interval '1 hour');

-- Recomputes the buckets [p_from, p_until) of one rollup table from the spans: delete
-- then insert, so a rerun over the same range gives the same rows (idempotent).
-- p_unit is 'minute' or 'hour'. Used by rollup_metrics() only.
CREATE FUNCTION observability.rollup_range(p_unit text, p_from timestamptz, p_until timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql AS
$$
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
CREATE FUNCTION observability.rollup_metrics(
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
    SELECT r.rolled_until INTO v_last FROM observability.rollup_state r WHERE r.name = 'metrics';
    v_from := date_trunc('minute', coalesce(v_last - p_late, p_now - p_backfill), 'UTC');
    IF v_from >= v_until THEN
        RETURN QUERY SELECT true, v_from, v_until, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    -- Minutes older than their keep time would be deleted below: never computed.
    v_minute_from := greatest(v_from, date_trunc('minute', p_now - p_keep_minutes, 'UTC'));

    minute_rows := observability.rollup_range('minute', v_minute_from, v_until);
    hour_rows := observability.rollup_range('hour', date_trunc('hour', v_from, 'UTC'), v_until);

    DELETE FROM observability.metrics_minute WHERE bucket < p_now - p_keep_minutes;
    DELETE FROM observability.metrics_hour WHERE bucket < p_now - interval '400 days';

    INSERT INTO observability.rollup_state AS r (name, rolled_until) VALUES ('metrics', v_until)
    ON CONFLICT (name) DO UPDATE SET rolled_until = greatest(r.rolled_until, excluded.rolled_until);

    RETURN QUERY SELECT true, v_from, v_until, minute_rows, hour_rows;
END
$$;

-- Keeps every metric fresh. Rolls up the new minutes (unless p_rollup is false), then
-- refreshes each window's materialized view whose refresh_every has passed (p_force: all
-- of them; p_windows: only those named), CONCURRENTLY so dashboards keep reading the
-- previous figures meanwhile, with the metrics clock pinned to p_now. A refresh due up to
-- 5 s from now counts as due, so a one-minute scheduler does not skip every other minute.
-- Each window has an advisory lock of its own: a window another session is refreshing
-- is skipped ('busy'), the others go ahead. The maintenance service calls it once per
-- window, each in its own transaction, so a 30-day refresh never holds back the 1-hour
-- figures; one call for all windows is one transaction, which is what psql users get.
-- Returns one row per window considered: refreshed, not due, or busy, and how long the
-- refresh took.
CREATE FUNCTION observability.refresh_metrics(
    p_now     timestamptz DEFAULT now(),
    p_force   boolean     DEFAULT false,
    p_windows text[]      DEFAULT NULL,
    p_rollup  boolean     DEFAULT true
) RETURNS TABLE (time_window text, outcome text, duration_ms double precision, computed_at timestamptz)
    LANGUAGE plpgsql
    SET jit = off AS
$$
DECLARE
    v_window  observability.metric_windows;
    v_started timestamptz;
    v_ms      double precision;
BEGIN
    IF p_windows IS NOT NULL AND EXISTS (
        SELECT 1 FROM unnest(p_windows) w(name)
        WHERE w.name NOT IN (SELECT mw.time_window FROM observability.metric_windows mw)) THEN
        RAISE EXCEPTION 'refresh_metrics: unknown window in %; the windows are those of observability.metric_windows', p_windows;
    END IF;
    IF p_rollup THEN
        PERFORM observability.rollup_metrics(p_now);
    END IF;
    PERFORM set_config('observability.metrics_now', p_now::text, true);

    FOR v_window IN
        SELECT * FROM observability.metric_windows w
        WHERE p_windows IS NULL OR w.time_window = ANY (p_windows)
        ORDER BY w.window_span
    LOOP
        IF NOT (p_force OR v_window.last_refreshed_at IS NULL
                OR p_now >= v_window.last_refreshed_at + v_window.refresh_every - interval '5 seconds') THEN
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

-- Metrics per time window, precomputed: the dashboards read exact percentiles in
-- milliseconds instead of sorting millions of durations per request. One materialized
-- view per window (1h, 24h, 7d, 30d) so each refreshes at its own cadence (0007), all
-- built from one function so the four can never disagree on what a column means.

-- The clock the metric views are computed at. refresh_metrics() pins it for its own
-- transaction (set_config(..., is_local => true)) so that tests and backfills can compute
-- "as of" a given instant; everywhere else it is now().
CREATE FUNCTION observability.metrics_now() RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(nullif(current_setting('observability.metrics_now', true), '')::timestamptz, now());

-- Health of an error percentage, the one place the dashboard colors are decided:
-- green below 5 %, yellow from 5 to 20 %, red above 20 %, critical above 50 %.
CREATE FUNCTION observability.health(p_error_pct double precision) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN p_error_pct > 50 THEN 'critical'
        WHEN p_error_pct > 20 THEN 'red'
        WHEN p_error_pct >= 5 THEN 'yellow'
        ELSE 'green'
    END;

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
CREATE FUNCTION observability.window_metrics(p_window interval)
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
        WHERE sp.start_time > observability.metrics_now() - p_window
          AND sp.start_time <= observability.metrics_now()
    ) s
    GROUP BY GROUPING SETS ((s.operation, s.target), (s.operation), ())
),
-- The latest error message per operation and target, then per kind and overall.
latest_errors AS (
    SELECT DISTINCT ON (sp.operation, coalesce(sp.target, ''))
           sp.operation, coalesce(sp.target, '') AS target, sp.status_message, sp.start_time
    FROM observability.spans sp
    WHERE sp.status = 'error' AND sp.status_message IS NOT NULL
      AND sp.start_time > observability.metrics_now() - p_window
      AND sp.start_time <= observability.metrics_now()
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

-- One materialized view per window. computed_at says when the figures were computed
-- (the dashboard shows it); window_start is where the window begins. The unique index on
-- (level, operation, target) is what REFRESH ... CONCURRENTLY needs, so readers are
-- never blocked by a refresh. Created with data: on an existing store this migration
-- computes every window once (about a minute at 10 million spans).

CREATE MATERIALIZED VIEW observability.metrics_1h AS
    SELECT '1h'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability.metrics_now() AS computed_at, observability.metrics_now() - interval '1 hour' AS window_start
    FROM observability.window_metrics(interval '1 hour') m;
CREATE UNIQUE INDEX metrics_1h_key ON observability.metrics_1h (level, operation, target);

CREATE MATERIALIZED VIEW observability.metrics_24h AS
    SELECT '24h'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability.metrics_now() AS computed_at, observability.metrics_now() - interval '24 hours' AS window_start
    FROM observability.window_metrics(interval '24 hours') m;
CREATE UNIQUE INDEX metrics_24h_key ON observability.metrics_24h (level, operation, target);

CREATE MATERIALIZED VIEW observability.metrics_7d AS
    SELECT '7d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability.metrics_now() AS computed_at, observability.metrics_now() - interval '7 days' AS window_start
    FROM observability.window_metrics(interval '7 days') m;
CREATE UNIQUE INDEX metrics_7d_key ON observability.metrics_7d (level, operation, target);

CREATE MATERIALIZED VIEW observability.metrics_30d AS
    SELECT '30d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability.metrics_now() AS computed_at, observability.metrics_now() - interval '30 days' AS window_start
    FROM observability.window_metrics(interval '30 days') m;
CREATE UNIQUE INDEX metrics_30d_key ON observability.metrics_30d (level, operation, target);

-- Every window in one relation, for psql and for the dashboards. The window is a constant
-- in each branch, so a time_window = '...' filter reads only that window's view.
CREATE VIEW observability.operation_metrics AS
    SELECT '1h'::text AS time_window, level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms,
           max_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_1h
    UNION ALL
    SELECT '24h'::text AS time_window, level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms,
           max_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_24h
    UNION ALL
    SELECT '7d'::text AS time_window, level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms,
           max_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_7d
    UNION ALL
    SELECT '30d'::text AS time_window, level, operation, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms, p95_ms, p99_ms,
           max_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS
    'Metrics per time_window (1h, 24h, 7d, 30d) and level: target = per operation and target; operation = per operation kind, target empty; total = everything, operation and target empty. Durations in ms, error_pct 0-100, health green/yellow/red/critical. See docs/sql.md.';

-- Per-tool, per-prompt and per-resource metrics under the names psql users look for.
CREATE VIEW observability.tool_metrics AS
    SELECT time_window, target AS tool_name, request_count, error_count, error_pct, health, avg_ms,
           p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'tool_invoke';

CREATE VIEW observability.prompt_metrics AS
    SELECT time_window, target AS prompt_name, request_count, error_count, error_pct, health, avg_ms,
           p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'prompt_render';

CREATE VIEW observability.resource_metrics AS
    SELECT time_window, target AS resource_uri, request_count, error_count, error_pct, health, avg_ms,
           p50_ms, p90_ms, p95_ms, p99_ms, max_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'resource_fetch';

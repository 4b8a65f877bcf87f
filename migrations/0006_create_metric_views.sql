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

-- Metrics of the spans that started in the last p_window before metrics_now(), at three
-- levels in one pass (GROUPING SETS): per operation kind and target ('target'), per
-- operation kind ('operation', target ''), and over everything ('total', operation and
-- target ''). The kind and total rows carry exact percentiles of their own, which cannot
-- be derived from the per-target rows. A NULL target is reported as ''. Percentiles are
-- PERCENTILE_CONT (linear interpolation), all four from one sort per group.
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
    LANGUAGE sql STABLE AS
$$
SELECT g.level, g.operation, g.target, g.request_count, g.error_count,
       100.0 * g.error_count / g.request_count,
       g.avg_ms, g.pct[1], g.pct[2], g.pct[3], g.pct[4], g.max_ms,
       g.first_seen, g.last_seen, g.example_error
FROM (
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
           max(s.start_time) AS last_seen,
           -- The most recent error message: the one an operator is most likely chasing.
           (array_agg(s.status_message ORDER BY s.start_time DESC)
               FILTER (WHERE s.status = 'error' AND s.status_message IS NOT NULL))[1] AS example_error
    FROM (
        SELECT sp.operation, coalesce(sp.target, '') AS target, sp.status, sp.status_message,
               sp.duration_ms, sp.start_time
        FROM observability.spans sp
        WHERE sp.start_time >= observability.metrics_now() - p_window
    ) s
    GROUP BY GROUPING SETS ((s.operation, s.target), (s.operation), ())
) g
-- The empty grouping set yields a row even when no span is in the window.
WHERE g.request_count > 0
$$;

-- One materialized view per window. computed_at says when the figures were computed
-- (the dashboard shows it); window_start is the oldest span start they include.
-- The unique index on (level, operation, target) is what REFRESH ... CONCURRENTLY
-- needs, so readers are never blocked by a refresh.
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

-- Every window in one relation, for psql and for the dashboards (a time_window = '…'
-- filter reads only that window's view).
CREATE VIEW observability.operation_metrics AS
    SELECT * FROM observability.metrics_1h
    UNION ALL SELECT * FROM observability.metrics_24h
    UNION ALL SELECT * FROM observability.metrics_7d
    UNION ALL SELECT * FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS
    'Metrics per time_window (1h, 24h, 7d, 30d) and level: target (per operation and target), operation (per kind, target ), total (operation and target ). Durations in ms, error_pct 0-100, health green/yellow/red/critical. See docs/sql.md.';

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

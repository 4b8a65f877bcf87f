-- The slowest tools of one metrics window, by p99 duration.
--
--   psql "$URL" -f sql/queries/slowest_tools.sql
--   psql "$URL" -v window=7d -v limit=20 -f sql/queries/slowest_tools.sql
--
-- window: 1h, 24h (default), 7d or 30d. limit: rows shown (default 10).
-- Reads observability.tool_metrics: the figures are as of computed_at, not live
-- (metrics_freshness.sql shows when each window is refreshed next).

\if :{?window}
\else
    \set window 24h
\endif
\if :{?limit}
\else
    \set limit 10
\endif

SELECT tool_name,
       request_count                AS calls,
       round(p50_ms::numeric, 1)    AS p50_ms,
       round(p95_ms::numeric, 1)    AS p95_ms,
       round(p99_ms::numeric, 1)    AS p99_ms,
       round(max_ms::numeric, 1)    AS max_ms,
       round(error_pct::numeric, 2) AS error_pct,
       health,
       computed_at
FROM observability.tool_metrics
WHERE time_window = :'window'
ORDER BY p99_ms DESC, tool_name
LIMIT :limit;

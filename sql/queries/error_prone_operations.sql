-- Health of every kind of operation, then the targets of all kinds (tools, prompts,
-- resources, HTTP routes, SQL operations) that fail most often, in one metrics window.
--
--   psql "$URL" -f sql/queries/error_prone_operations.sql
--   psql "$URL" -v window=1h -v min_requests=50 -f sql/queries/error_prone_operations.sql
--
-- window: 1h, 24h (default), 7d or 30d. min_requests: leave out targets with fewer
-- requests (default 10). limit: target rows (default 25).
-- health: green < 5 % errors, yellow 5-20 %, red > 20 %, critical > 50 %.
-- Reads observability.operation_metrics, as of computed_at.

\if :{?window}
\else
    \set window 24h
\endif
\if :{?min_requests}
\else
    \set min_requests 10
\endif
\if :{?limit}
\else
    \set limit 25
\endif

-- One row per operation kind, and the total over all spans.
SELECT CASE level WHEN 'total' THEN '(all)' ELSE operation END AS operation,
       request_count                AS requests,
       error_count                  AS errors,
       round(error_pct::numeric, 2) AS error_pct,
       health,
       round(p50_ms::numeric, 1)    AS p50_ms,
       round(p99_ms::numeric, 1)    AS p99_ms,
       computed_at
FROM observability.operation_metrics
WHERE time_window = :'window'
  AND level IN ('operation', 'total')
ORDER BY level = 'total', error_pct DESC;

-- The targets with errors, worst first.
SELECT operation,
       target,
       request_count                AS requests,
       error_count                  AS errors,
       round(error_pct::numeric, 2) AS error_pct,
       health,
       example_error
FROM observability.operation_metrics
WHERE time_window = :'window'
  AND level = 'target'
  AND request_count >= :min_requests
  AND error_count > 0
ORDER BY error_pct DESC, request_count DESC
LIMIT :limit;

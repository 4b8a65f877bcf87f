-- Resources (resources/read) that fail most often in one metrics window.
--
--   psql "$URL" -f sql/queries/error_prone_resources.sql
--   psql "$URL" -v window=7d -v min_requests=100 -f sql/queries/error_prone_resources.sql
--
-- window: 1h, 24h (default), 7d or 30d. min_requests: leave out resources read fewer
-- times than this (default 10), whose error rate says little. limit: rows (default 20).
-- Reads observability.resource_metrics, as of computed_at.

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
    \set limit 20
\endif

SELECT resource_uri,
       request_count                AS reads,
       error_count                  AS errors,
       round(error_pct::numeric, 2) AS error_pct,
       health,
       round(p95_ms::numeric, 1)    AS p95_ms,
       example_error,
       last_seen,
       computed_at
FROM observability.resource_metrics
WHERE time_window = :'window'
  AND request_count >= :min_requests
  AND error_count > 0
ORDER BY error_pct DESC, request_count DESC
LIMIT :limit;

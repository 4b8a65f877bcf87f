-- Requests, errors and latency per minute over all spans, for the last :minutes minutes
-- that have been rolled up (observability.metrics_minute, level total). Minutes without
-- spans show 0 requests.
--
--   psql "$URL" -f sql/queries/requests_per_minute.sql
--   psql "$URL" -v minutes=180 -f sql/queries/requests_per_minute.sql
--
-- minutes: how many (default 60, at most 8 days: older minutes are deleted). The series
-- ends at rollup_state.rolled_until, the start of the minute of the last rollup run,
-- not at now(); spans arriving late are counted only once rollup_metrics() recomputes
-- their minute (docs/sql.md).

\if :{?minutes}
\else
    \set minutes 60
\endif

WITH rolled AS (
    SELECT rolled_until FROM observability_internal.rollup_state WHERE name = 'metrics'
)
SELECT b.bucket                                                        AS minute,
       coalesce(m.request_count, 0)                                    AS requests,
       coalesce(m.error_count, 0)                                      AS errors,
       round(100.0 * m.error_count / nullif(m.request_count, 0), 2)    AS error_pct,
       round((m.sum_ms / nullif(m.request_count, 0))::numeric, 1)      AS avg_ms,
       round(m.p50_ms::numeric, 1)                                     AS p50_ms,
       round(m.p95_ms::numeric, 1)                                     AS p95_ms,
       round(m.p99_ms::numeric, 1)                                     AS p99_ms,
       round(m.max_ms::numeric, 1)                                     AS max_ms
FROM rolled r
CROSS JOIN LATERAL generate_series(r.rolled_until - make_interval(mins => :minutes),
                                   r.rolled_until - interval '1 minute',
                                   interval '1 minute') AS b(bucket)
LEFT JOIN observability.metrics_minute m
       ON m.bucket = b.bucket AND m.level = 'total' AND m.operation = '' AND m.target = ''
ORDER BY b.bucket;

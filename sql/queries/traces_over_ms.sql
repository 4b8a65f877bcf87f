-- Traces that took longer than :ms milliseconds and started in the last :hours hours,
-- slowest first. Live, from observability.traces.
--
--   psql "$URL" -f sql/queries/traces_over_ms.sql
--   psql "$URL" -v ms=5000 -v hours=24 -v limit=100 -f sql/queries/traces_over_ms.sql
--
-- ms: duration threshold (default 1000). hours: how far back (default 1).
-- limit: rows (default 50). Open one with trace_spans.sql -v trace_id=<trace_id>.

\if :{?ms}
\else
    \set ms 1000
\endif
\if :{?hours}
\else
    \set hours 1
\endif
\if :{?limit}
\else
    \set limit 50
\endif

SELECT observability.hex_trace_id(trace_id) AS trace_id,
       root_name,
       service_name,
       start_time,
       round(duration_ms::numeric, 1)      AS duration_ms,
       span_count,
       error_count,
       status
FROM observability.traces
WHERE start_time >= now() - make_interval(hours => :hours)
  AND duration_ms > :ms
ORDER BY duration_ms DESC
LIMIT :limit;

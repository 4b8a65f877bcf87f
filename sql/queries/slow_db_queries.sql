-- SQL statements that took longer than :ms milliseconds in the last :hours hours: first
-- grouped by statement text, then the latest ones with the span that ran them. Live,
-- from observability.spans (db_query spans).
--
--   psql "$URL" -f sql/queries/slow_db_queries.sql
--   psql "$URL" -v ms=250 -v hours=168 -v limit=50 -f sql/queries/slow_db_queries.sql
--
-- ms: threshold (default 1000). hours: how far back (default 24). limit: latest spans
-- shown (default 20). The text is the span's db.query.text (else db.statement), stored
-- with its literals replaced by ? (docs/redaction.md), so equal statements group.

\if :{?ms}
\else
    \set ms 1000
\endif
\if :{?hours}
\else
    \set hours 24
\endif
\if :{?limit}
\else
    \set limit 20
\endif

SELECT coalesce(attributes ->> 'db.query.text', attributes ->> 'db.statement', '(no text)') AS statement,
       count(*)                                                           AS slow_runs,
       round(max(duration_ms)::numeric, 1)                                AS max_ms,
       round(avg(duration_ms)::numeric, 1)                                AS avg_ms,
       count(*) FILTER (WHERE status = 'error')                           AS errors,
       max(start_time)                                                    AS last_seen
FROM observability.spans
WHERE operation = 'db_query'
  AND start_time >= now() - make_interval(hours => :hours)
  AND duration_ms > :ms
GROUP BY 1
ORDER BY slow_runs DESC, max_ms DESC;

SELECT s.start_time,
       round(s.duration_ms::numeric, 1)                                           AS duration_ms,
       s.target                                                                   AS operation,
       coalesce(s.attributes ->> 'db.query.text', s.attributes ->> 'db.statement') AS statement,
       s.status,
       p.name                                                                     AS called_from,
       observability.hex_trace_id(s.trace_id)                                     AS trace_id
FROM observability.spans s
LEFT JOIN LATERAL (
    SELECT pp.name
    FROM observability.spans pp
    WHERE pp.trace_id = s.trace_id AND pp.span_id = s.parent_span_id
    LIMIT 1
) p ON true
WHERE s.operation = 'db_query'
  AND s.start_time >= now() - make_interval(hours => :hours)
  AND s.duration_ms > :ms
ORDER BY s.start_time DESC
LIMIT :limit;

-- How one tool has been failing: its error messages by frequency, then its latest
-- failed calls. Live, from observability.spans.
--
--   psql "$URL" -v tool=web_search -f sql/queries/failing_tool_examples.sql
--   psql "$URL" -v tool=web_search -v hours=168 -v limit=50 -f sql/queries/failing_tool_examples.sql
--
-- tool: the tool name, as in tool_metrics.tool_name (required). hours: how far back
-- (default 24). limit: latest failures shown (default 20).

\if :{?tool}
\else
    \echo 'usage: psql -v tool=<tool name> -f sql/queries/failing_tool_examples.sql'
    \quit
\endif
\if :{?hours}
\else
    \set hours 24
\endif
\if :{?limit}
\else
    \set limit 20
\endif

SELECT coalesce(status_message, '(no message)') AS status_message,
       count(*)                                  AS failures,
       max(start_time)                           AS last_seen
FROM observability.spans
WHERE operation = 'tool_invoke'
  AND target = :'tool'
  AND status = 'error'
  AND start_time >= now() - make_interval(hours => :hours)
GROUP BY 1
ORDER BY failures DESC;

SELECT start_time,
       status_message,
       round(duration_ms::numeric, 1)       AS duration_ms,
       observability.hex_trace_id(trace_id) AS trace_id,
       observability.hex_span_id(span_id)   AS span_id
FROM observability.spans
WHERE operation = 'tool_invoke'
  AND target = :'tool'
  AND status = 'error'
  AND start_time >= now() - make_interval(hours => :hours)
ORDER BY start_time DESC
LIMIT :limit;

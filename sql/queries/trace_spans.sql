-- Every span of one trace as an indented tree: children under their parent, siblings
-- by start time, with each span's offset from the start of the trace.
--
--   psql "$URL" -v trace_id=4bf92f3577b34da6a3ce929d0e0e4736 -f sql/queries/trace_spans.sql
--
-- trace_id: the 32 hex digits (required). Spans whose parent is not stored (a partial
-- trace) are shown as roots. Reads observability.spans through its trace index.

\if :{?trace_id}
\else
    \echo 'usage: psql -v trace_id=<32 hex digits> -f sql/queries/trace_spans.sql'
    \quit
\endif

WITH RECURSIVE trace_span AS (
    SELECT s.*,
           row_number() OVER (PARTITION BY s.parent_span_id ORDER BY s.start_time, s.span_id)::integer AS sibling,
           min(s.start_time) OVER () AS trace_start
    FROM observability.spans s
    WHERE s.trace_id = :'trace_id'::uuid
),
tree AS (
    SELECT t.*, 0 AS depth, ARRAY[t.sibling] AS path
    FROM trace_span t
    WHERE t.parent_span_id IS NULL
       OR NOT EXISTS (SELECT 1 FROM trace_span p WHERE p.span_id = t.parent_span_id)
    UNION ALL
    SELECT c.*, p.depth + 1, p.path || c.sibling
    FROM tree p
    JOIN trace_span c ON c.parent_span_id = p.span_id
) CYCLE span_id SET in_cycle USING visited
SELECT repeat('  ', depth) || name                                           AS span,
       operation,
       target,
       round((extract(epoch FROM start_time - trace_start) * 1000)::numeric, 3) AS offset_ms,
       round(duration_ms::numeric, 3)                                          AS duration_ms,
       status,
       status_message,
       observability.hex_span_id(span_id)                                     AS span_id,
       service_name
FROM tree
WHERE NOT in_cycle
ORDER BY path;

-- Bytes per span of a store, for `make bench-bytes`: every relation of observability.spans
-- (partitions with their TOAST and indexes), the traces table and the resources and scopes tables,
-- each divided by the number of spans; and the same for the compacted partitions alone.
-- :label names the row.
\set ON_ERROR_STOP on
WITH parts AS (
    SELECT p.partition_name,
           pg_total_relation_size(('observability.' || quote_ident(p.partition_name))::regclass) AS bytes,
           EXISTS (SELECT 1 FROM observability_internal.compacted_span_partitions c
                   WHERE c.partition_oid = ('observability.' || quote_ident(p.partition_name))::regclass::oid) AS compacted
    FROM observability.span_partitions() p
), counts AS (
    SELECT (SELECT count(*) FROM observability.spans) AS spans,
           (SELECT count(*) FROM observability.traces) AS traces,
           (SELECT sum(bytes) FROM parts) AS span_bytes,
           pg_total_relation_size('observability.traces') AS trace_bytes,
           pg_total_relation_size('observability.resources') + pg_total_relation_size('observability.scopes')
               AS resource_bytes,
           (SELECT count(*) FROM observability.resources) AS resources
), closed AS (
    SELECT coalesce(sum(c.span_count), 0) AS spans, coalesce(sum(p.bytes), 0) AS bytes
    FROM parts p
    JOIN observability_internal.compacted_span_partitions c
      ON c.partition_oid = ('observability.' || quote_ident(p.partition_name))::regclass::oid
)
SELECT :'label' AS layout,
       c.spans, c.traces, c.resources,
       round(c.span_bytes::numeric / c.spans, 1) AS spans_b,
       round(c.trace_bytes::numeric / c.spans, 1) AS traces_b,
       round(c.resource_bytes::numeric / c.spans, 2) AS resources_scopes_b,
       round((c.span_bytes + c.trace_bytes + c.resource_bytes)::numeric / c.spans, 1) AS total_b,
       k.spans AS compacted_spans,
       round(k.bytes::numeric / nullif(k.spans, 0), 1) AS compacted_spans_b
FROM counts c, closed k;

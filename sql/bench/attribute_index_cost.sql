-- What an index for the trace list's attribute search would cost, measured in one run on
-- a copy of real rows: bytes per span and insert throughput of the spans' own indexes
-- alone, with a GIN jsonb_path_ops index on attributes (answers `key=value` only, by
-- containment), and with a GIN jsonb_ops index (also `key exists`). Neither answers `!=`,
-- `>` or `<`. The service chose no index (docs/performance.md, "Attribute search"); this
-- script is how that choice was measured and can be re-measured.
--
--   psql "$URL" -v source=observability.spans_p20261202 -v batch=5000 -f sql/bench/attribute_index_cost.sql
--
-- Variables: source, a table of spans rows (one daily partition); batch, rows per INSERT
-- (the span writer's batches are up to a few thousand). Works in the schema
-- attribute_index_bench, created and dropped here; the source is only read.
\set ON_ERROR_STOP on
\if :{?batch}
\else
  \set batch 5000
\endif
SET synchronous_commit = off;
SET jit = off;
DROP SCHEMA IF EXISTS attribute_index_bench CASCADE;
CREATE SCHEMA attribute_index_bench;
CREATE TABLE attribute_index_bench.source AS SELECT * FROM :source;
-- The same rows numbered in start order, so that each batch is read by a range of the
-- number (an OFFSET would sort the whole table again for every batch, inside the timing).
CREATE TABLE attribute_index_bench.numbered AS
    SELECT row_number() OVER (ORDER BY start_time) AS bench_rn, s.* FROM attribute_index_bench.source s;
CREATE INDEX ON attribute_index_bench.numbered (bench_rn);
ANALYZE attribute_index_bench.numbered;
CREATE TABLE attribute_index_bench.results (
    variant text, round int, spans bigint, seconds double precision, index_bytes bigint, table_bytes bigint
);

-- Inserts the source into a fresh table with the spans' own indexes (as in migrations
-- 0001 and 0012) and `p_extra` more, in batches, and records the time and sizes.
CREATE FUNCTION attribute_index_bench.run(p_variant text, p_round int, p_extra text, p_batch int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_started timestamptz;
    v_total bigint;
    v_offset bigint := 0;
BEGIN
    DROP TABLE IF EXISTS attribute_index_bench.target;
    CREATE TABLE attribute_index_bench.target (LIKE attribute_index_bench.source);
    CREATE UNIQUE INDEX ON attribute_index_bench.target (trace_id, span_id, start_time);
    CREATE INDEX ON attribute_index_bench.target (operation, target, start_time);
    CREATE INDEX ON attribute_index_bench.target (start_time) WHERE status = 'error';
    CREATE INDEX ON attribute_index_bench.target USING brin (start_time);
    IF p_extra <> '' THEN
        EXECUTE format('CREATE INDEX target_extra_idx ON attribute_index_bench.target USING gin (attributes %s)', p_extra);
    END IF;
    SELECT count(*) INTO v_total FROM attribute_index_bench.source;
    v_started := clock_timestamp();
    WHILE v_offset < v_total LOOP
        INSERT INTO attribute_index_bench.target
            SELECT trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
                   start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events
            FROM attribute_index_bench.numbered
            WHERE bench_rn > v_offset AND bench_rn <= v_offset + p_batch;
        v_offset := v_offset + p_batch;
    END LOOP;
    INSERT INTO attribute_index_bench.results VALUES (
        p_variant, p_round, v_total, extract(epoch FROM clock_timestamp() - v_started),
        coalesce(pg_relation_size(to_regclass('attribute_index_bench.target_extra_idx')), 0),
        pg_relation_size('attribute_index_bench.target'));
END $$;

-- The variants alternate, three rounds each, so that a busy moment of the machine falls
-- on all of them alike.
SELECT attribute_index_bench.run(v.variant, r.round, v.extra, :batch)
FROM generate_series(1, 3) AS r(round),
     (VALUES (1, 'no attribute index', ''), (2, 'GIN jsonb_path_ops', 'jsonb_path_ops'),
             (3, 'GIN jsonb_ops', 'jsonb_ops')) AS v(n, variant, extra)
ORDER BY r.round, v.n;

SELECT variant, max(spans) AS spans,
       round(avg(spans / seconds)) AS spans_per_s_mean,
       round(min(spans / seconds)) AS spans_per_s_min, round(max(spans / seconds)) AS spans_per_s_max,
       round(avg(index_bytes)::numeric / max(spans), 1) AS index_bytes_per_span,
       round(avg(table_bytes)::numeric / max(spans), 1) AS heap_bytes_per_span
FROM attribute_index_bench.results GROUP BY variant ORDER BY min(round), variant;

-- The same index built in one pass over the finished table, for comparison: GIN grown
-- row by row (its pending list merged as it fills) is larger than one built in bulk.
CREATE INDEX bulk_path_ops ON attribute_index_bench.source USING gin (attributes jsonb_path_ops);
SELECT 'GIN jsonb_path_ops built in bulk' AS variant,
       round(pg_relation_size('attribute_index_bench.bulk_path_ops')::numeric
             / (SELECT count(*) FROM attribute_index_bench.source), 1) AS index_bytes_per_span;

DROP SCHEMA attribute_index_bench CASCADE;

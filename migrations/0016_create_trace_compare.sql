-- Trace comparison: two traces' span trees aligned side by side, or one trace beside the
-- typical trace of its kind (same root span name and service), so "what is unusual about
-- this slow request" is answered by the rows whose durations differ, or that only one side
-- has. The alignment lives here rather than in Swift so psql users have it too; the page
-- only renders it (and marks each side's critical path, which the trace page computes).

-- The newest traces of one kind (root span name and service) in a time range, the sample
-- the typical trace is built from. The kind's traces are found through the index below.
CREATE INDEX traces_kind_start_time_idx ON observability.traces (service_name, root_name, start_time DESC);

-- Each span of the given traces with its alignment node: a hash of the chain of (service,
-- name, target, ordinal) from its root down, where ordinal is the span's place in start
-- order among its siblings with the same (service, name, target). Two spans of different
-- traces align exactly when their nodes are equal, so matching is an equality join, and a
-- repeated span (a loop of 3 queries) aligns its first, second and third occurrences in
-- order. The node is a 64-bit hash (hashtextextended) of the span's own fields seeded with
-- its parent's node, so it stays one bigint however deep the trace and costs one hash per
-- span; the fields are length-prefixed, so no name can imitate another chain. (A collision
-- would need 2^32 nodes for even odds; a comparison holds thousands.) A parent id names the
-- earliest span with that id; a span whose parent is absent (or itself) is a root; spans
-- only reachable through a parent cycle have no root and are left out (the callers count
-- them). Reads each trace's spans within its own start and end, so only its days'
-- partitions are searched.
CREATE FUNCTION observability_internal.span_alignment(p_trace_ids uuid[])
    RETURNS TABLE(trace_id uuid, span_id bigint, node bigint, parent_node bigint, depth integer, service_name text,
                  name text, target text, operation text, ordinal integer, repeats integer,
                  offset_ms double precision, duration_ms double precision, status text)
    LANGUAGE plpgsql STABLE
    SET enable_nestloop = off
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE bounds AS MATERIALIZED (
        SELECT t.trace_id, t.start_time, t.end_time FROM observability.traces t WHERE t.trace_id = ANY (p_trace_ids)
    ), stored AS (
        SELECT s.trace_id, s.span_id, s.parent_span_id, s.service_name, s.name, s.target, s.operation, s.start_time,
               s.duration_ms, s.status,
               date_part('epoch', s.start_time - t.start_time) * 1000 AS offset_ms,
               row_number() OVER (PARTITION BY s.trace_id, s.span_id ORDER BY s.start_time) AS copy
        FROM observability.spans s
        JOIN bounds t ON t.trace_id = s.trace_id
        WHERE s.trace_id = ANY (p_trace_ids) AND s.start_time >= t.start_time AND s.start_time <= t.end_time
          AND s.start_time >= (SELECT min(b.start_time) FROM bounds b)
          AND s.start_time <= (SELECT max(b.end_time) FROM bounds b)
    ), linked AS (
        SELECT c.*, p.span_id AS parent
        FROM stored c
        LEFT JOIN stored p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id AND p.copy = 1
                          AND c.parent_span_id <> c.span_id
    ), numbered AS (
        SELECT l.*,
               row_number() OVER same_key AS ordinal,
               count(*) OVER (PARTITION BY l.trace_id, l.parent, l.service_name, l.name, l.target) AS repeats,
               length(l.service_name) || ':' || l.service_name || length(l.name) || ':' || l.name
                   || coalesce(length(l.target) || ':' || l.target, '-') AS key
        FROM linked l
        WINDOW same_key AS (PARTITION BY l.trace_id, l.parent, l.service_name, l.name, l.target
                            ORDER BY l.start_time, l.span_id)
    ), tree AS (
        SELECT n.trace_id, n.span_id, n.copy, hashtextextended(n.key || '#' || n.ordinal, 0) AS node,
               NULL::bigint AS parent_node, 0 AS depth
        FROM numbered n
        WHERE n.parent IS NULL
        UNION ALL
        SELECT n.trace_id, n.span_id, n.copy, hashtextextended(n.key || '#' || n.ordinal, p.node), p.node, p.depth + 1
        FROM tree p
        JOIN numbered n ON n.trace_id = p.trace_id AND n.parent = p.span_id AND p.copy = 1
    )
    SELECT n.trace_id, n.span_id, t.node, t.parent_node, t.depth, n.service_name, n.name, n.target, n.operation,
           n.ordinal::integer, n.repeats::integer, n.offset_ms, n.duration_ms, n.status
    FROM tree t
    JOIN numbered n ON n.trace_id = t.trace_id AND n.span_id = t.span_id AND n.copy = t.copy;
END
$$;

COMMENT ON FUNCTION observability_internal.span_alignment(uuid[]) IS 'Each span of the given traces with its alignment node (a hash of the chain of service, name, target and ordinal among same-named siblings from its root). Internal to trace_compare and trace_typical.';

-- The sample a typical trace is built from: the newest traces with root span name
-- p_root_name and service p_service that started in [p_since, p_until), other than
-- p_exclude (the trace being compared, so it is not measured against itself), at most
-- p_max_traces of them and, after the first, no more than p_max_spans spans in all, so
-- the work is bounded however common or large the kind. bounded is true (on every row)
-- when a trace of the kind in the range was left out by either limit.
CREATE FUNCTION observability.typical_trace_sample(p_service text, p_root_name text,
                                                   p_since timestamp with time zone, p_until timestamp with time zone,
                                                   p_exclude uuid, p_max_traces integer, p_max_spans integer)
    RETURNS TABLE(trace_id uuid, start_time timestamp with time zone, duration_ms double precision, span_count integer,
                  bounded boolean)
    LANGUAGE sql STABLE
    AS $$
    WITH candidates AS (
        SELECT t.trace_id, t.start_time, t.duration_ms, t.span_count,
               row_number() OVER w AS n,
               sum(t.span_count) OVER w AS spans
        FROM (
            SELECT t.trace_id, t.start_time, t.duration_ms, t.span_count
            FROM observability.traces t
            WHERE t.service_name = p_service AND t.root_name = p_root_name
              AND t.start_time >= p_since AND t.start_time < p_until
              AND t.trace_id IS DISTINCT FROM p_exclude
            ORDER BY t.start_time DESC, t.trace_id
            LIMIT p_max_traces + 1
        ) t
        WINDOW w AS (ORDER BY t.start_time DESC, t.trace_id)
    ), chosen AS (
        SELECT c.* FROM candidates c WHERE c.n <= p_max_traces AND (c.n = 1 OR c.spans <= p_max_spans)
    )
    SELECT c.trace_id, c.start_time, c.duration_ms, c.span_count,
           (SELECT count(*) FROM candidates) > (SELECT count(*) FROM chosen)
    FROM chosen c
    ORDER BY c.start_time DESC, c.trace_id
$$;

COMMENT ON FUNCTION observability.typical_trace_sample(text, text, timestamp with time zone, timestamp with time zone, uuid, integer, integer) IS 'The newest traces of one kind (root span name and service) in a time range, bounded by a trace count and a span budget: the sample of a typical trace. See docs/sql.md.';

-- The typical trace of a sample of traces of one kind: per alignment node, the median
-- (PERCENTILE_CONT 0.5) of its spans' durations and of their offsets from their trace's
-- start, the median number of same-named siblings, and how many of the sample's traces
-- had the node at all. A node most traces lack is still listed, with its count, so the
-- page can say "in 3 of 200 traces".
CREATE FUNCTION observability.trace_typical(p_trace_ids uuid[])
    RETURNS TABLE(node bigint, parent_node bigint, depth integer, service_name text, name text, target text,
                  operation text, ordinal integer, repeats integer, offset_ms double precision,
                  duration_ms double precision, traces integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT a.node, a.parent_node, a.depth, a.service_name, a.name, a.target, min(a.operation), a.ordinal,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY a.repeats),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.offset_ms),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms),
           count(DISTINCT a.trace_id)::integer
    FROM observability_internal.span_alignment(p_trace_ids) a
    GROUP BY a.node, a.parent_node, a.depth, a.service_name, a.name, a.target, a.ordinal
$$;

COMMENT ON FUNCTION observability.trace_typical(uuid[]) IS 'The typical trace of a sample of traces (see typical_trace_sample): per aligned span node, the median duration and offset and how many of the traces had it.';

-- Trace p_a aligned with side B: trace p_b, or, when p_sample is not NULL, the typical
-- trace of those traces. One row per node of either side, in tree order (line): the
-- node's span in each side (NULL on the side that lacks it), its duration there, and the
-- difference A - B. Siblings are ordered by their earlier offset from their trace start.
CREATE FUNCTION observability_internal.compare_aligned(p_a uuid, p_b uuid, p_sample uuid[])
    RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text,
                  target text, operation text, ordinal integer, repeats_a integer, repeats_b integer,
                  span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision,
                  duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision,
                  status_a text, status_b text, traces_b integer)
    LANGUAGE plpgsql STABLE
    SET enable_nestloop = off
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH RECURSIVE spans AS (
        SELECT * FROM observability_internal.span_alignment(
            CASE WHEN p_sample IS NULL THEN ARRAY[p_a, p_b] ELSE ARRAY[p_a] END)
    ), a AS (
        SELECT * FROM spans s WHERE s.trace_id = p_a
    ), b AS (
        SELECT s.node, s.parent_node, s.depth, s.service_name, s.name, s.target, s.operation, s.ordinal, s.repeats,
               s.span_id, s.offset_ms, s.duration_ms, s.status, 1 AS traces
        FROM spans s WHERE p_sample IS NULL AND s.trace_id = p_b
        UNION ALL
        SELECT t.node, t.parent_node, t.depth, t.service_name, t.name, t.target, t.operation, t.ordinal, t.repeats,
               NULL, t.offset_ms, t.duration_ms, NULL, t.traces
        FROM observability.trace_typical(p_sample) t WHERE p_sample IS NOT NULL
    ), joined AS (
        SELECT coalesce(a.node, b.node) AS node, coalesce(a.parent_node, b.parent_node) AS parent_node,
               coalesce(a.depth, b.depth) AS depth, coalesce(a.service_name, b.service_name) AS service_name,
               coalesce(a.name, b.name) AS name, coalesce(a.target, b.target) AS target,
               coalesce(a.operation, b.operation) AS operation, coalesce(a.ordinal, b.ordinal) AS ordinal,
               a.repeats AS repeats_a, b.repeats AS repeats_b, a.span_id AS span_id_a, b.span_id AS span_id_b,
               a.offset_ms AS offset_a_ms, b.offset_ms AS offset_b_ms, a.duration_ms AS duration_a_ms,
               b.duration_ms AS duration_b_ms, a.status AS status_a, b.status AS status_b, b.traces AS traces_b,
               row_number() OVER (PARTITION BY coalesce(a.parent_node, b.parent_node)
                                  ORDER BY least(a.offset_ms, b.offset_ms), coalesce(a.node, b.node)) AS sibling
        FROM a FULL JOIN b ON b.node = a.node
    ), links AS MATERIALIZED (
        SELECT j.node, j.parent_node, j.sibling::integer AS sibling FROM joined j
    ), ordered AS (
        SELECT l.node, ARRAY[l.sibling] AS sort FROM links l WHERE l.parent_node IS NULL
        UNION ALL
        SELECT l.node, o.sort || l.sibling FROM ordered o JOIN links l ON l.parent_node = o.node
    )
    SELECT (row_number() OVER (ORDER BY o.sort))::integer, j.depth, j.node, j.parent_node, j.service_name, j.name,
           j.target, j.operation, j.ordinal, j.repeats_a, j.repeats_b, j.span_id_a, j.span_id_b, j.offset_a_ms,
           j.offset_b_ms, j.duration_a_ms, j.duration_b_ms, j.duration_a_ms - j.duration_b_ms, j.status_a, j.status_b,
           j.traces_b
    FROM ordered o JOIN joined j ON j.node = o.node
    ORDER BY o.sort;
END
$$;

COMMENT ON FUNCTION observability_internal.compare_aligned(uuid, uuid, uuid[]) IS 'Trace p_a aligned with trace p_b or with the typical trace of p_sample, in tree order. Internal to trace_compare and trace_compare_typical.';

-- Two traces' span trees aligned (see span_alignment): one row per node of either, in tree
-- order, with each side's span, duration and the difference A - B; a row whose span_id_a
-- or span_id_b is NULL is a span only the other trace has. No rows when neither trace is
-- stored. The same trace twice aligns every span with itself.
CREATE FUNCTION observability.trace_compare(p_a uuid, p_b uuid)
    RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text,
                  target text, operation text, ordinal integer, repeats_a integer, repeats_b integer,
                  span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision,
                  duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision,
                  status_a text, status_b text, traces_b integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM observability_internal.compare_aligned(p_a, p_b, NULL)
$$;

COMMENT ON FUNCTION observability.trace_compare(uuid, uuid) IS 'Two traces'' span trees aligned by span path (service, name, target, ordinal among same-named siblings), with each side''s duration and the difference A - B. See docs/sql.md.';

-- Trace p_a aligned with the typical trace of p_sample (usually
-- ARRAY(SELECT trace_id FROM typical_trace_sample(...))): side B's duration is the node's
-- median over the sample, traces_b how many of the sample's traces had it, and span_id_b
-- and status_b are NULL (no one span stands for a median).
CREATE FUNCTION observability.trace_compare_typical(p_a uuid, p_sample uuid[])
    RETURNS TABLE(line integer, depth integer, node bigint, parent_node bigint, service_name text, name text,
                  target text, operation text, ordinal integer, repeats_a integer, repeats_b integer,
                  span_id_a bigint, span_id_b bigint, offset_a_ms double precision, offset_b_ms double precision,
                  duration_a_ms double precision, duration_b_ms double precision, difference_ms double precision,
                  status_a text, status_b text, traces_b integer)
    LANGUAGE sql STABLE
    AS $$
    SELECT * FROM observability_internal.compare_aligned(p_a, NULL, coalesce(p_sample, '{}'))
$$;

COMMENT ON FUNCTION observability.trace_compare_typical(uuid, uuid[]) IS 'A trace aligned with the typical trace of a sample of its kind: per span path the median duration over the sample and how many of its traces had the path. See docs/sql.md.';

-- Percentile rank on every span: where a span's duration falls among the same target's
-- over the last 24 hours ("p97 for search_docs on server X"), so the trace page says
-- which of its spans were unusually slow, not only which were long.
--
-- A trace page cannot merge the hour digests (0012) of its targets itself: a 1,000-span
-- trace touches dozens of targets, each with 24 hours of digest entries (about 60 ms
-- here at 1 M spans, more at 10 M). So the 24 hours are merged once, by the rollup job,
-- into one cumulative histogram per target and side, and a span's rank is a binary
-- search in its target's (width_bucket): a few milliseconds per page at any volume.

-- MARK: The last 24 hours, merged

-- One row per metric group (operation, server, target, as metric_rows names them) and
-- side: its durations over the 24 whole hours before the last hour rolled up, as digest
-- buckets (keys ascending), how many durations each holds (counts) and how many lie in
-- lower buckets (below), and the total.
CREATE TABLE observability_internal.rank_histograms (
    operation  text      NOT NULL,
    server     text      NOT NULL,
    target     text      NOT NULL,
    side       text      NOT NULL CHECK (side IN ('client', 'server')),
    keys       integer[] NOT NULL,
    counts     bigint[]  NOT NULL,
    below      bigint[]  NOT NULL,
    total      bigint    NOT NULL,
    PRIMARY KEY (operation, server, target, side)
);

COMMENT ON TABLE observability_internal.rank_histograms IS
    'Each metric group''s and side''s durations over the 24 hours of rank_histogram_state, merged from the hour digests: what span_ranks() ranks a span against. Rebuilt by refresh_rank_histograms().';

-- Which 24 hours rank_histograms holds, and a fingerprint of the hour digests it was
-- built from, so that a late trace rolled into one of those hours rebuilds it.
CREATE TABLE observability_internal.rank_histogram_state (
    only_row      boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    fingerprint   text        NOT NULL,
    built_at      timestamptz NOT NULL
);

COMMENT ON TABLE observability_internal.rank_histogram_state IS
    'The window rank_histograms covers (24 hours ending at the last hour rolled up) and the fingerprint of the hour digests it was merged from.';

-- Rebuilds rank_histograms when its 24 hours have moved (an hour was rolled up) or the
-- hour digests inside them changed (a late trace re-rolled an hour); otherwise only
-- reads the fingerprint, about 24 digest rows per group. The window ends at the last
-- hour rollup_metrics() finished, never after p_now's hour. Called after each rollup;
-- advisory-locked, so a concurrent call returns false at once. Returns whether it rebuilt.
CREATE FUNCTION observability_internal.refresh_rank_histograms(p_now timestamptz DEFAULT now())
    RETURNS boolean
    LANGUAGE plpgsql
    SET jit = off AS
$$
DECLARE
    v_rolled      timestamptz;
    v_end         timestamptz;
    v_start       timestamptz;
    v_fingerprint text;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.refresh_rank_histograms')) THEN
        RETURN false;
    END IF;
    SELECT r.rolled_until INTO v_rolled FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    IF v_rolled IS NULL THEN
        RETURN false;
    END IF;
    v_end := date_trunc('hour', least(v_rolled, p_now), 'UTC');
    v_start := v_end - interval '24 hours';
    SELECT concat_ws('/', count(*), sum(d.request_count), sum(d.duration_count), sum(d.client_count),
                     sum(d.duration_sum), sum(d.client_sum))
      INTO v_fingerprint
      FROM observability_internal.metric_digests d
     WHERE d.unit = 'hour' AND d.bucket >= v_start AND d.bucket < v_end;
    IF EXISTS (SELECT 1 FROM observability_internal.rank_histogram_state s
                WHERE s.window_end = v_end AND s.fingerprint = v_fingerprint) THEN
        RETURN false;
    END IF;

    DELETE FROM observability_internal.rank_histograms;
    INSERT INTO observability_internal.rank_histograms (operation, server, target, side, keys, counts, below, total)
    SELECT b.operation, b.server, b.target, b.side,
           array_agg(b.key ORDER BY b.key), array_agg(b.n ORDER BY b.key),
           array_agg(b.before ORDER BY b.key), sum(b.n)::bigint
    FROM (SELECT m.*, (sum(m.n) OVER (PARTITION BY m.operation, m.server, m.target, m.side ORDER BY m.key) - m.n)::bigint
                          AS before
          FROM (SELECT d.operation, d.server, d.target, e.side, e.key, sum(e.n)::bigint AS n
                FROM observability_internal.metric_digests d,
                     observability_internal.digest_entries(d.duration_keys, d.duration_counts, d.client_keys,
                                                           d.client_counts) e
                WHERE d.unit = 'hour' AND d.bucket >= v_start AND d.bucket < v_end
                GROUP BY 1, 2, 3, 4, 5) m) b
    GROUP BY b.operation, b.server, b.target, b.side;

    INSERT INTO observability_internal.rank_histogram_state AS s (window_start, window_end, fingerprint, built_at)
    VALUES (v_start, v_end, v_fingerprint, p_now)
    ON CONFLICT (only_row) DO UPDATE
        SET window_start = excluded.window_start, window_end = excluded.window_end,
            fingerprint = excluded.fingerprint, built_at = excluded.built_at;
    RETURN true;
END
$$;

-- MARK: Ranks of a trace's spans

-- Each ranked span of trace p_trace_id, with its percentile rank among the durations of
-- its metric group and side over rank_histograms' 24 hours. A span's group is the one
-- metric_rows counts it in: an MCP tool, prompt or resource span by its call's method,
-- server and target, against that side's durations (server side: the requests' server
-- durations; client side: their client durations); any other span of a user's service
-- by its operation and target. Spans of the service itself, MCP spans no call was
-- assembled from, and groups with no duration in those hours get no row.
--
-- rank_pct is the midpoint rank 100 * (below + same / 2) / total, where below counts the
-- durations in lower digest buckets and same those in the span's own bucket (2 % wide).
-- The exact mid-rank, 100 * (shorter + equal / 2) / total over the real durations, lies
-- in [rank_low_pct, rank_high_pct] = 100 * [below, below + same] / total: a rank is exact
-- up to the share of durations within 2 % of the span's. The span itself is counted when
-- it started in those hours.
--
-- p_from and p_through bound the trace's spans and calls: the trace's first start and
-- last end (traces.start_time and end_time), which the trace page passes a millisecond
-- wider (its times went through a client's clock type). Passed as values and compared
-- without arithmetic, they let the planner keep only those days' partitions of spans and
-- calls: with `p_from - interval '1 millisecond'` (a STABLE expression, so pruned only
-- when the query ran) every call of the 1,000-span trace of the 10 M-span benchmark
-- planned all 36 daily partitions of both tables, 11 ms of a 20 ms call.
CREATE FUNCTION observability.span_ranks(p_trace_id uuid, p_from timestamptz, p_through timestamptz)
    RETURNS TABLE (span_id bigint, operation text, server text, target text, side text, duration_ms double precision,
                   rank_pct double precision, rank_low_pct double precision, rank_high_pct double precision,
                   sample_count bigint, window_start timestamptz, window_end timestamptz)
    LANGUAGE sql STABLE
    AS $$
    WITH
    -- Each span of an assembled MCP call with its call's group and side; a span in two
    -- chains (a re-assembly race could leave one) takes the counted one. A call starts
    -- with its outermost span, so it lies within the trace's bounds.
    call_spans AS (
        SELECT DISTINCT ON (m.span_id) m.span_id,
               CASE c.method WHEN 'tools/call' THEN 'tool_invoke' WHEN 'prompts/get' THEN 'prompt_render'
                             ELSE 'resource_fetch' END AS operation,
               coalesce(c.server_name, '') AS server, coalesce(c.target, '') AS target, c.side
        FROM observability.calls c, unnest(c.span_ids) m(span_id)
        WHERE c.trace_id = p_trace_id AND c.start_time >= p_from AND c.start_time <= p_through
          AND c.method IN ('tools/call', 'prompts/get', 'resources/read')
        ORDER BY m.span_id, c.counted DESC
    ),
    probes AS (
        SELECT s.span_id, coalesce(cs.operation, s.operation) AS operation, coalesce(cs.server, '') AS server,
               coalesce(cs.target, s.target, '') AS target, coalesce(cs.side, 'server') AS side, s.duration_ms,
               observability_internal.digest_key(s.duration_ms) AS key
        FROM observability.spans s
        LEFT JOIN call_spans cs ON cs.span_id = s.span_id
        WHERE s.trace_id = p_trace_id AND s.start_time >= p_from AND s.start_time <= p_through
          AND s.service_name <> 'mcp-observatory'
          AND (cs.span_id IS NOT NULL OR s.operation NOT IN ('tool_invoke', 'prompt_render', 'resource_fetch'))
    ),
    -- Each group's histogram, read and detoasted once (the arrays of a busy target are
    -- TOASTed): probed per span from the table, the 1,000-span trace of the 10 M-span
    -- benchmark took 15-30 ms; from here, 9-12 ms, and a 20-span trace about 1 ms.
    hist AS MATERIALIZED (
        SELECT h.operation, h.server, h.target, h.side, h.keys || '{}'::integer[] AS keys,
               h.counts || '{}'::bigint[] AS counts, h.below || '{}'::bigint[] AS below, h.total
        FROM (SELECT DISTINCT p.operation, p.server, p.target, p.side FROM probes p) g
        JOIN observability_internal.rank_histograms h
          ON (h.operation, h.server, h.target, h.side) = (g.operation, g.server, g.target, g.side)
        WHERE h.total > 0
    ),
    -- i: the last bucket at or below the span's (0 when every bucket is above it).
    found AS (
        SELECT p.span_id, p.operation, p.server, p.target, p.side, p.duration_ms, p.key,
               h.keys, h.counts, h.below, h.total, width_bucket(p.key, h.keys) AS i
        FROM probes p
        JOIN hist h ON (h.operation, h.server, h.target, h.side) = (p.operation, p.server, p.target, p.side)
    ),
    counted AS (
        SELECT f.*,
               CASE WHEN f.i = 0 THEN 0 WHEN f.keys[f.i] = f.key THEN f.below[f.i] ELSE f.below[f.i] + f.counts[f.i] END
                   AS n_below,
               CASE WHEN f.i > 0 AND f.keys[f.i] = f.key THEN f.counts[f.i] ELSE 0 END AS n_same
        FROM found f
    )
    SELECT c.span_id, c.operation, c.server, c.target, c.side, c.duration_ms,
           100.0 * (c.n_below + c.n_same / 2.0) / c.total,
           100.0 * c.n_below / c.total,
           100.0 * (c.n_below + c.n_same) / c.total,
           c.total, st.window_start, st.window_end
    FROM counted c
    CROSS JOIN observability_internal.rank_histogram_state st
$$;

COMMENT ON FUNCTION observability.span_ranks(uuid, timestamp with time zone, timestamp with time zone) IS
    'Percentile rank (0-100) of each span of a trace (its first start and last end given) among its metric group''s and side''s durations over the 24 hours of rank_histogram_state: rank_pct the midpoint, the exact mid-rank within [rank_low_pct, rank_high_pct]. See docs/sql.md.';

-- span_ranks() of a trace by its id alone, for a psql prompt: the bounds are read from
-- traces (so every day's partition is planned; the trace page passes them instead).
CREATE FUNCTION observability.span_ranks(p_trace_id uuid)
    RETURNS TABLE (span_id bigint, operation text, server text, target text, side text, duration_ms double precision,
                   rank_pct double precision, rank_low_pct double precision, rank_high_pct double precision,
                   sample_count bigint, window_start timestamptz, window_end timestamptz)
    LANGUAGE sql STABLE
    AS $$
    SELECT r.* FROM observability.traces t, observability.span_ranks(t.trace_id, t.start_time, t.end_time) r
    WHERE t.trace_id = p_trace_id
$$;

COMMENT ON FUNCTION observability.span_ranks(uuid) IS
    'span_ranks(trace_id, first start, last end) with the bounds read from traces: for psql. See docs/sql.md.';

-- Ranks from the digests already rolled up.
SELECT observability_internal.refresh_rank_histograms();

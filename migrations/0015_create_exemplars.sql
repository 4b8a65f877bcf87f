-- Exemplars: from a latency figure to a real request behind it. The tools, prompts and
-- resources pages link each row's p50, p95 and p99 to the MCP request at that rank, so
-- "p95 is 840 ms" becomes one click from the trace of a request that took that long.

-- The counted request of one (method, server, target) that started in [p_since, p_until)
-- at percentile p_fraction (0 < p_fraction ≤ 1) of their server-side durations, as
-- PERCENTILE_DISC picks it: the first in duration order whose cumulative share reaches
-- p_fraction (ties by trace id). These are the durations the metric views' p*_ms are
-- computed from (observability_internal.metric_rows); PERCENTILE_CONT interpolates
-- between this request and the next, so the figure on the page lies between their
-- durations. No row when the target has no request in the window. Reads the counted
-- calls of the window through their start-time index.
CREATE FUNCTION observability.call_at_percentile(p_method text, p_server text, p_target text,
                                                 p_since timestamp with time zone, p_until timestamp with time zone,
                                                 p_fraction double precision)
    RETURNS TABLE(trace_id uuid, span_id bigint, start_time timestamp with time zone, duration_ms double precision,
                  rank bigint, total bigint)
    LANGUAGE sql STABLE
    AS $$
    WITH matching AS (
        SELECT c.trace_id, c.span_id, c.start_time, c.server_duration_ms
        FROM observability.calls c
        WHERE c.counted AND c.method = p_method AND coalesce(c.server_name, '') = p_server
          AND coalesce(c.target, '') = p_target AND c.start_time >= p_since AND c.start_time < p_until
          AND c.server_duration_ms IS NOT NULL
    ), counted AS (
        SELECT count(*) AS total FROM matching
    ), ranked AS (
        SELECT m.*, row_number() OVER (ORDER BY m.server_duration_ms, m.trace_id, m.span_id) AS rank
        FROM matching m
    )
    SELECT r.trace_id, r.span_id, r.start_time, r.server_duration_ms, r.rank, n.total
    FROM ranked r, counted n
    WHERE r.rank = greatest(ceil(p_fraction * n.total)::bigint, 1)
$$;

COMMENT ON FUNCTION observability.call_at_percentile(text, text, text, timestamp with time zone, timestamp with time zone, double precision) IS 'The counted MCP request of one method, server and target in a time range at a percentile of their server-side durations (PERCENTILE_DISC''s pick): the exemplar behind a p50/p95/p99 figure. See docs/sql.md.';

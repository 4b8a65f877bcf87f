-- The 7-day and 30-day figures from merged per-hour and per-day digests instead of every
-- row of the window.
--
-- Until now each refresh of metrics_7d and metrics_30d read every request and span of its
-- window again (52 s for 30 days at 10 M spans), so its cost grew with the data. Counts,
-- sums and maxima add up across hours; percentiles do not, unless each hour keeps a
-- histogram fine enough. A digest is such a histogram: log-scale buckets 2 % wide, whose
-- middle is within 1 % of every duration in the bucket (DDSketch's construction, in plain
-- SQL and PL/pgSQL so it runs on any managed PostgreSQL). rollup_metrics() keeps one digest
-- per hour and per day for each (operation, server, target); the 7d and 30d views merge
-- the days and hours inside their window and read only the partial hours at its edges
-- from the rows. Their counts, errors, averages, maxima, first and last seen are exact;
-- their percentiles are within 1 % of PERCENTILE_CONT over the same rows. The 1h and 24h
-- views and window_metrics() stay exact.

-- MARK: Digest buckets

-- The base of the buckets' log scale: bucket k holds the durations in (γ^(k-1), γ^k] ms.
-- With γ = 1.02, the bucket's value 2γ^k/(γ+1) is within (γ-1)/(γ+1) < 1 % of each of them.
CREATE FUNCTION observability_internal.digest_gamma() RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 1.02;

-- The bucket of a duration in milliseconds. Durations of zero (ingest refuses an end
-- before the start, so none is negative) share one bucket below every other, whose
-- value is 0 exactly: the smallest positive double's bucket is about -35,800. NULL stays
-- NULL. Not STRICT on purpose: PostgreSQL inlines a SQL function only when its body
-- keeps the declared strictness, and CASE is not strict; inlined, a day of 330,000 rows
-- takes 0.14 s here instead of 1.0 s.
CREATE FUNCTION observability_internal.digest_key(p_ms double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN p_ms > 0 THEN ceil(ln(p_ms) / ln(observability_internal.digest_gamma()))::integer
                WHEN p_ms IS NOT NULL THEN -2147483648 END;

-- The value a bucket stands for: the point within 1 % of both its bounds.
CREATE FUNCTION observability_internal.digest_value(p_key integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN p_key = -2147483648 THEN 0
                ELSE 2 * power(observability_internal.digest_gamma(), p_key) / (observability_internal.digest_gamma() + 1)
           END;

-- PERCENTILE_CONT's answer read from a digest (p_keys ascending, p_counts their counts):
-- for fraction f over n durations, the values ranked floor(f(n-1)) and ceil(f(n-1)),
-- interpolated linearly as PERCENTILE_CONT does. Each ranked value is its bucket's value,
-- within 1 % of the real one, so the interpolation between them is within 1 % of the exact
-- answer too. NULL for an empty digest, as PERCENTILE_CONT over no rows.
CREATE FUNCTION observability_internal.digest_percentiles(
    p_keys      integer[],
    p_counts    bigint[],
    p_fractions double precision[]
) RETURNS double precision[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS
$$
DECLARE
    v_total   bigint := 0;
    v_result  double precision[] := '{}';
    v_rank    double precision;
    v_lo      bigint;
    v_hi      bigint;
    v_lo_ms   double precision;
    v_hi_ms   double precision;
    v_seen    bigint;
    v_i       integer;
    v_f       double precision;
BEGIN
    IF p_keys IS NULL OR cardinality(p_keys) = 0 THEN
        RETURN array_fill(NULL::double precision, ARRAY[cardinality(p_fractions)]);
    END IF;
    SELECT sum(c) INTO v_total FROM unnest(p_counts) c;
    FOREACH v_f IN ARRAY p_fractions LOOP
        v_rank := v_f * (v_total - 1);
        v_lo := floor(v_rank);
        v_hi := ceil(v_rank);
        v_lo_ms := NULL;
        v_hi_ms := NULL;
        v_seen := 0;
        -- Ranks are 0-based: the bucket holding rank r is the first whose running count exceeds r.
        FOR v_i IN 1 .. cardinality(p_keys) LOOP
            v_seen := v_seen + p_counts[v_i];
            IF v_lo_ms IS NULL AND v_seen > v_lo THEN
                v_lo_ms := observability_internal.digest_value(p_keys[v_i]);
            END IF;
            IF v_seen > v_hi THEN
                v_hi_ms := observability_internal.digest_value(p_keys[v_i]);
                EXIT;
            END IF;
        END LOOP;
        v_result := v_result || (v_lo_ms + (v_rank - v_lo) * (v_hi_ms - v_lo_ms));
    END LOOP;
    RETURN v_result;
END
$$;

-- MARK: Digests

-- One row per unit ('hour' or 'day'), bucket, operation, server and target: what the
-- merged windows need to give metric_rows' figures back. duration_* describe the server
-- side's durations (the rows with one), client_* the client side's, overhead_* client
-- minus server over requests seen from both sides; *_keys ascending with *_counts beside.
-- last_error is the group's most recent error message in the bucket.
CREATE TABLE observability_internal.metric_digests (
    unit             text             NOT NULL CHECK (unit IN ('hour', 'day')),
    bucket           timestamptz      NOT NULL,
    operation        text             NOT NULL,
    server           text             NOT NULL,
    target           text             NOT NULL,
    request_count    bigint           NOT NULL,
    error_count      bigint           NOT NULL,
    duration_count   bigint           NOT NULL,
    duration_sum     double precision,
    duration_max     double precision,
    duration_keys    integer[]        NOT NULL,
    duration_counts  bigint[]         NOT NULL,
    client_count     bigint           NOT NULL,
    client_sum       double precision,
    client_keys      integer[]        NOT NULL,
    client_counts    bigint[]         NOT NULL,
    overhead_count   bigint           NOT NULL,
    overhead_sum     double precision,
    first_seen       timestamptz      NOT NULL,
    last_seen        timestamptz      NOT NULL,
    last_error_at    timestamptz,
    last_error       text,
    PRIMARY KEY (unit, bucket, operation, server, target)
);

COMMENT ON TABLE observability_internal.metric_digests IS
    'Per-hour and per-day digests of metric_rows per operation, server and target: exact counts, sums and maxima, and log-scale duration histograms (1 % relative error) that merge. Filled by rollup_metrics(); metrics_7d and metrics_30d are merged from them. Kept 35 days.';

-- Digest-shaped rows of metric_rows in [p_from, p_until), one per p_unit bucket,
-- operation, server and target: what rollup_metrics() stores for hours and what the
-- merged windows compute on the fly for their partial hours at either edge. One hash
-- aggregation per (group, server bucket, client bucket) gives every figure and both
-- histograms; the latest error is looked up among the failed rows alone. (A first version
-- with an ordered array_agg per group sorted every row and took 2.5 times as long.)
CREATE FUNCTION observability_internal.digest_rows(p_unit text, p_from timestamptz, p_until timestamptz)
    RETURNS SETOF observability_internal.metric_digests
    LANGUAGE sql STABLE
    SET jit = off AS
$$
WITH r AS (
    SELECT date_trunc(p_unit, m.start_time, 'UTC') AS bucket, m.operation, m.server, m.target, m.status,
           m.start_time, m.duration_ms, m.client_duration_ms, m.error_message
    FROM observability_internal.metric_rows m
    WHERE m.start_time >= p_from AND m.start_time < p_until
),
pre AS (
    SELECT r.bucket, r.operation, r.server, r.target,
           observability_internal.digest_key(r.duration_ms) AS server_key,
           observability_internal.digest_key(r.client_duration_ms) AS client_key,
           count(*) AS n,
           count(*) FILTER (WHERE r.status = 'error') AS errors,
           count(r.duration_ms) AS duration_count,
           sum(r.duration_ms) AS duration_sum,
           max(r.duration_ms) AS duration_max,
           count(r.client_duration_ms) AS client_count,
           sum(r.client_duration_ms) AS client_sum,
           count(r.client_duration_ms - r.duration_ms) AS overhead_count,
           sum(r.client_duration_ms - r.duration_ms) AS overhead_sum,
           min(r.start_time) AS first_seen,
           max(r.start_time) AS last_seen
    FROM r
    GROUP BY 1, 2, 3, 4, 5, 6
),
figures AS (
    SELECT p.bucket, p.operation, p.server, p.target,
           sum(p.n)::bigint AS request_count, sum(p.errors)::bigint AS error_count,
           sum(p.duration_count)::bigint AS duration_count, sum(p.duration_sum) AS duration_sum,
           max(p.duration_max) AS duration_max,
           sum(p.client_count)::bigint AS client_count, sum(p.client_sum) AS client_sum,
           sum(p.overhead_count)::bigint AS overhead_count, sum(p.overhead_sum) AS overhead_sum,
           min(p.first_seen) AS first_seen, max(p.last_seen) AS last_seen
    FROM pre p
    GROUP BY p.bucket, p.operation, p.server, p.target
),
histograms AS (
    SELECT b.bucket, b.operation, b.server, b.target, b.side,
           array_agg(b.key ORDER BY b.key) AS keys, array_agg(b.n ORDER BY b.key) AS counts
    FROM (SELECT p.bucket, p.operation, p.server, p.target, k.side, k.key, sum(p.n)::bigint AS n
          FROM pre p CROSS JOIN LATERAL (VALUES ('server', p.server_key), ('client', p.client_key)) k(side, key)
          WHERE k.key IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5, 6) b
    GROUP BY b.bucket, b.operation, b.server, b.target, b.side
),
latest_errors AS (
    SELECT DISTINCT ON (r.bucket, r.operation, r.server, r.target)
           r.bucket, r.operation, r.server, r.target, r.start_time AS last_error_at, r.error_message AS last_error
    FROM r
    WHERE r.status = 'error' AND r.error_message IS NOT NULL
    ORDER BY r.bucket, r.operation, r.server, r.target, r.start_time DESC
)
SELECT p_unit, f.bucket, f.operation, f.server, f.target, f.request_count, f.error_count,
       f.duration_count, f.duration_sum, f.duration_max, coalesce(s.keys, '{}'), coalesce(s.counts, '{}'),
       f.client_count, f.client_sum, coalesce(c.keys, '{}'), coalesce(c.counts, '{}'),
       f.overhead_count, f.overhead_sum, f.first_seen, f.last_seen, e.last_error_at, e.last_error
FROM figures f
LEFT JOIN histograms s
       ON s.side = 'server' AND (s.bucket, s.operation, s.server, s.target) = (f.bucket, f.operation, f.server, f.target)
LEFT JOIN histograms c
       ON c.side = 'client' AND (c.bucket, c.operation, c.server, c.target) = (f.bucket, f.operation, f.server, f.target)
LEFT JOIN latest_errors e ON (e.bucket, e.operation, e.server, e.target) = (f.bucket, f.operation, f.server, f.target)
$$;

-- A digest's two histograms as rows (side 'server' or 'client', key, count), so both are
-- merged by one GROUP BY.
CREATE FUNCTION observability_internal.digest_entries(
    p_duration_keys integer[], p_duration_counts bigint[], p_client_keys integer[], p_client_counts bigint[]
) RETURNS TABLE (side text, key integer, n bigint)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT 'server', d.key, d.n FROM unnest(p_duration_keys, p_duration_counts) d(key, n)
UNION ALL
SELECT 'client', c.key, c.n FROM unnest(p_client_keys, p_client_counts) c(key, n)
$$;

-- Recomputes the hour digests of [p_from, p_until) (whole hours: p_from is truncated to
-- its hour) from the rows, and the day digests of the days those hours touch from their
-- hours: delete then insert, so a rerun gives the same rows. Returns the rows written.
CREATE FUNCTION observability_internal.rollup_digests(p_from timestamptz, p_until timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql
    SET jit = off AS
$$
DECLARE
    v_from   timestamptz := date_trunc('hour', p_from, 'UTC');
    v_day0   timestamptz := date_trunc('day', p_from, 'UTC');
    v_day1   timestamptz := date_trunc('day', p_until - interval '1 microsecond', 'UTC') + interval '1 day';
    v_hours  bigint;
    v_days   bigint;
BEGIN
    IF v_from >= p_until THEN
        RETURN 0;
    END IF;
    DELETE FROM observability_internal.metric_digests d
     WHERE d.unit = 'hour' AND d.bucket >= v_from AND d.bucket < p_until;
    INSERT INTO observability_internal.metric_digests
        SELECT * FROM observability_internal.digest_rows('hour', v_from, p_until);
    GET DIAGNOSTICS v_hours = ROW_COUNT;

    DELETE FROM observability_internal.metric_digests d
     WHERE d.unit = 'day' AND d.bucket >= v_day0 AND d.bucket < v_day1;
    WITH h AS (
        SELECT date_trunc('day', d.bucket, 'UTC') AS day, d.*
        FROM observability_internal.metric_digests d
        WHERE d.unit = 'hour' AND d.bucket >= v_day0 AND d.bucket < v_day1
    ),
    figures AS (
        SELECT h.day, h.operation, h.server, h.target,
               sum(h.request_count)::bigint AS request_count, sum(h.error_count)::bigint AS error_count,
               sum(h.duration_count)::bigint AS duration_count, sum(h.duration_sum) AS duration_sum,
               max(h.duration_max) AS duration_max,
               sum(h.client_count)::bigint AS client_count, sum(h.client_sum) AS client_sum,
               sum(h.overhead_count)::bigint AS overhead_count, sum(h.overhead_sum) AS overhead_sum,
               min(h.first_seen) AS first_seen, max(h.last_seen) AS last_seen,
               max(h.last_error_at) AS last_error_at,
               (array_agg(h.last_error ORDER BY h.last_error_at DESC) FILTER (WHERE h.last_error IS NOT NULL))[1]
                   AS last_error
        FROM h
        GROUP BY h.day, h.operation, h.server, h.target
    ),
    histograms AS (
        SELECT b.day, b.operation, b.server, b.target, b.side,
               array_agg(b.key ORDER BY b.key) AS keys, array_agg(b.n ORDER BY b.key) AS counts
        FROM (SELECT h.day, h.operation, h.server, h.target, e.side, e.key, sum(e.n)::bigint AS n
              FROM h, observability_internal.digest_entries(h.duration_keys, h.duration_counts, h.client_keys,
                                                            h.client_counts) e
              GROUP BY 1, 2, 3, 4, 5, 6) b
        GROUP BY b.day, b.operation, b.server, b.target, b.side
    )
    INSERT INTO observability_internal.metric_digests
        SELECT 'day', f.day, f.operation, f.server, f.target, f.request_count, f.error_count,
               f.duration_count, f.duration_sum, f.duration_max, coalesce(s.keys, '{}'), coalesce(s.counts, '{}'),
               f.client_count, f.client_sum, coalesce(c.keys, '{}'), coalesce(c.counts, '{}'),
               f.overhead_count, f.overhead_sum, f.first_seen, f.last_seen, f.last_error_at, f.last_error
        FROM figures f
        LEFT JOIN histograms s
               ON s.side = 'server' AND (s.day, s.operation, s.server, s.target) = (f.day, f.operation, f.server, f.target)
        LEFT JOIN histograms c
               ON c.side = 'client' AND (c.day, c.operation, c.server, c.target) = (f.day, f.operation, f.server, f.target);
    GET DIAGNOSTICS v_days = ROW_COUNT;
    RETURN v_hours + v_days;
END
$$;

-- MARK: Spans by time

-- Digests, rollups and the merged windows' edges read spans by start_time alone, and no
-- index served that: an hour of rows cost a scan of its whole day's partition (180 ms
-- at 10 M spans), every minute for the rollup. Spans arrive roughly in time order, so a
-- BRIN index (24 kB a day at 330,000 spans) finds an hour's blocks: 15 ms.
CREATE INDEX spans_start_time_brin_idx ON observability.spans USING brin (start_time);

-- MARK: Windows merged from digests

-- window_metrics(p_window)'s rows, merged from digests: the whole days inside the window
-- from day digests, the whole hours beside them from hour digests, and the partial hours
-- at either edge, and any hour the rollup has not yet finished, from the rows themselves.
-- Counts, errors, error_pct, averages, max_ms, overhead_ms, first and last seen and the
-- example error are exact; the p*_ms and client_p*_ms are within 1 % of PERCENTILE_CONT
-- (digest_percentiles()). An hour counts as finished when rollup_state's rolled_until has
-- passed its end; without a rollup every row is read, as window_metrics() does. Digests
-- are kept 35 days, so p_window may not be longer. Cost: the digests of the window (about
-- 30 + 48 rows per group for 30 days) plus at most two hours of rows, whatever the volume.
CREATE FUNCTION observability.merged_window_metrics(p_window interval)
    RETURNS TABLE (
        level          text,
        operation      text,
        server         text,
        target         text,
        request_count  bigint,
        error_count    bigint,
        error_pct      double precision,
        avg_ms         double precision,
        p50_ms         double precision,
        p90_ms         double precision,
        p95_ms         double precision,
        p99_ms         double precision,
        max_ms         double precision,
        client_avg_ms  double precision,
        client_p50_ms  double precision,
        client_p90_ms  double precision,
        client_p95_ms  double precision,
        client_p99_ms  double precision,
        overhead_ms    double precision,
        first_seen     timestamptz,
        last_seen      timestamptz,
        example_error  text
    )
    LANGUAGE plpgsql STABLE
    SET jit = off AS
$$
DECLARE
    v_t1     timestamptz := observability_internal.metrics_now();
    v_t0     timestamptz := v_t1 - p_window;
    v_rolled timestamptz;
    v_h_lo   timestamptz;
    v_h_hi   timestamptz;
    v_d_lo   timestamptz;
    v_d_hi   timestamptz;
BEGIN
    IF p_window > interval '35 days' THEN
        RAISE EXCEPTION 'merged_window_metrics: digests are kept 35 days, so the window cannot be %; window_metrics() reads the rows', p_window
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT r.rolled_until INTO v_rolled FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    -- Rows start_time > t0 and <= t1; the digests cover [h_lo, h_hi), the rows the rest.
    v_h_lo := least(date_trunc('hour', v_t0, 'UTC') + interval '1 hour', v_t1 + interval '1 microsecond');
    v_h_hi := greatest(v_h_lo, least(date_trunc('hour', v_t1, 'UTC'),
                                     date_trunc('hour', coalesce(v_rolled, '-infinity'), 'UTC')));
    v_d_lo := date_trunc('day', v_h_lo - interval '1 microsecond', 'UTC') + interval '1 day';
    v_d_hi := greatest(v_d_lo, date_trunc('day', v_h_hi, 'UTC'));

    RETURN QUERY
    WITH parts AS (
        SELECT * FROM observability_internal.digest_rows('hour', v_t0 + interval '1 microsecond', v_h_lo)
        UNION ALL
        SELECT * FROM observability_internal.digest_rows('hour', v_h_hi, v_t1 + interval '1 microsecond')
        UNION ALL
        SELECT * FROM observability_internal.metric_digests d
        WHERE d.unit = 'hour' AND d.bucket >= v_h_lo AND d.bucket < v_h_hi
          AND NOT (d.bucket >= v_d_lo AND d.bucket < v_d_hi)
        UNION ALL
        SELECT * FROM observability_internal.metric_digests d
        WHERE d.unit = 'day' AND d.bucket >= v_d_lo AND d.bucket < v_d_hi
    ),
    figures AS (
        SELECT CASE grouping(p.operation, p.server, p.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
                   AS level,
               coalesce(p.operation, '') AS operation,
               coalesce(p.server, '') AS server,
               coalesce(p.target, '') AS target,
               sum(p.request_count)::bigint AS request_count,
               sum(p.error_count)::bigint AS error_count,
               sum(p.duration_sum) / nullif(sum(p.duration_count), 0) AS avg_ms,
               max(p.duration_max) AS max_ms,
               sum(p.client_sum) / nullif(sum(p.client_count), 0) AS client_avg_ms,
               sum(p.overhead_sum) / nullif(sum(p.overhead_count), 0) AS overhead_ms,
               min(p.first_seen) AS first_seen,
               max(p.last_seen) AS last_seen,
               (array_agg(p.last_error ORDER BY p.last_error_at DESC) FILTER (WHERE p.last_error IS NOT NULL))[1]
                   AS example_error
        FROM parts p
        GROUP BY GROUPING SETS ((p.operation, p.server, p.target), (p.operation), ())
    ),
    -- Both sides' histograms merged per target first, then per operation and overall from those.
    targets AS (
        SELECT p.operation, p.server, p.target, e.side, e.key, sum(e.n)::bigint AS n
        FROM parts p, observability_internal.digest_entries(p.duration_keys, p.duration_counts, p.client_keys,
                                                            p.client_counts) e
        GROUP BY 1, 2, 3, 4, 5
    ),
    levels AS (
        SELECT l.level, l.operation, l.server, l.target, l.side,
               observability_internal.digest_percentiles(array_agg(l.key ORDER BY l.key), array_agg(l.n ORDER BY l.key),
                                                         ARRAY[0.5, 0.9, 0.95, 0.99]) AS pct
        FROM (SELECT 'target' AS level, t.operation, t.server, t.target, t.side, t.key, t.n FROM targets t
              UNION ALL
              SELECT 'operation', t.operation, '', '', t.side, t.key, sum(t.n)::bigint
              FROM targets t GROUP BY t.operation, t.side, t.key
              UNION ALL
              SELECT 'total', '', '', '', t.side, t.key, sum(t.n)::bigint FROM targets t GROUP BY t.side, t.key) l
        GROUP BY l.level, l.operation, l.server, l.target, l.side
    )
    SELECT f.level, f.operation, f.server, f.target, f.request_count, f.error_count,
           (100.0 * f.error_count / f.request_count)::double precision,
           f.avg_ms, s.pct[1], s.pct[2], s.pct[3], s.pct[4], f.max_ms,
           f.client_avg_ms, c.pct[1], c.pct[2], c.pct[3], c.pct[4], f.overhead_ms,
           f.first_seen, f.last_seen, f.example_error
    FROM figures f
    LEFT JOIN levels s
           ON s.side = 'server' AND (s.level, s.operation, s.server, s.target) = (f.level, f.operation, f.server, f.target)
    LEFT JOIN levels c
           ON c.side = 'client' AND (c.level, c.operation, c.server, c.target) = (f.level, f.operation, f.server, f.target)
    WHERE f.request_count > 0;
END
$$;

-- Digests of what is stored: every finished hour the views can reach, up to the rollup's
-- mark (or now, before any rollup), and the assembly mark as the late-trace scan's start.
SELECT observability_internal.rollup_digests(
    date_trunc('hour', now() - interval '35 days', 'UTC'),
    date_trunc('hour', coalesce((SELECT r.rolled_until FROM observability_internal.rollup_state r WHERE r.name = 'metrics'),
                                now()), 'UTC'));
INSERT INTO observability_internal.rollup_state (name, rolled_until)
    SELECT 'assembled', coalesce((SELECT s.assembled_until FROM observability_internal.call_assembly_state s
                                  WHERE s.name = 'calls'), '-infinity');

-- The 7-day and 30-day views are merged from the digests; the 1-hour and 24-hour views
-- stay exact (window_metrics()). The views over them are re-created unchanged.
DROP VIEW observability.tool_metrics;
DROP VIEW observability.prompt_metrics;
DROP VIEW observability.resource_metrics;
DROP VIEW observability.operation_metrics;
DROP MATERIALIZED VIEW observability.metrics_7d;
DROP MATERIALIZED VIEW observability.metrics_30d;
CREATE MATERIALIZED VIEW observability.metrics_7d AS
    SELECT '7d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '7 days' AS window_start
    FROM observability.merged_window_metrics(interval '7 days') m;
CREATE UNIQUE INDEX metrics_7d_key ON observability.metrics_7d (level, operation, server, target);

CREATE MATERIALIZED VIEW observability.metrics_30d AS
    SELECT '30d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '30 days' AS window_start
    FROM observability.merged_window_metrics(interval '30 days') m;
CREATE UNIQUE INDEX metrics_30d_key ON observability.metrics_30d (level, operation, server, target);

CREATE VIEW observability.operation_metrics AS
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_1h
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_24h
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_7d
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS
    'Metrics per time_window (1h, 24h, 7d, 30d) and level: target = per operation, server and target; operation = per operation (server and target empty); total = everything. Tools, prompts and resources count MCP requests once (from calls); HTTP and DB count spans. p*_ms are server-side durations, client_p*_ms client-side, overhead_ms their mean difference. 1h and 24h are exact; 7d and 30d are merged from digests: exact counts, averages and maxima, percentiles within 1 %. See docs/sql.md.';

-- Per-tool, per-prompt and per-resource metrics under the names psql users look for, one
-- row per window, server and target.
CREATE VIEW observability.tool_metrics AS
    SELECT time_window, server AS server_name, target AS tool_name, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'tool_invoke';

CREATE VIEW observability.prompt_metrics AS
    SELECT time_window, server AS server_name, target AS prompt_name, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'prompt_render';

CREATE VIEW observability.resource_metrics AS
    SELECT time_window, server AS server_name, target AS resource_uri, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'resource_fetch';

-- MARK: The rollup keeps the digests

-- Rolls up what is new since the last run, as in 0010, and now the digests too: the hour
-- digests of the finished hours those minutes touch and the day digests of their days. Spans and
-- calls that arrive later than p_late after their minute are caught by their trace: the
-- hours of every trace assembled since the previous run (call_assembly_state, which
-- assemble_calls() moves once a trace's calls are written) that lie before this run's
-- range are rolled up again, digests and hourly rollups, so a replayed or late trace
-- reaches the 7d and 30d figures and the hourly charts. Without assembly (nothing in
-- call_assembly_state) no hour is rolled up again. The first run only takes the mark. Digests older than 35 days, minute
-- buckets older than p_keep_minutes and hour buckets older than 400 days are deleted.
-- Advisory-locked: a concurrent call returns at once with nothing done (ran = false).
CREATE OR REPLACE FUNCTION observability_internal.rollup_metrics(
    p_now          timestamptz DEFAULT now(),
    p_late         interval    DEFAULT interval '10 minutes',
    p_backfill     interval    DEFAULT interval '30 days',
    p_keep_minutes interval    DEFAULT interval '8 days'
) RETURNS TABLE (ran boolean, rolled_from timestamptz, rolled_until timestamptz, minute_rows bigint, hour_rows bigint)
    LANGUAGE plpgsql
    SET jit = off AS
$$
DECLARE
    v_until       timestamptz := date_trunc('minute', p_now, 'UTC');
    v_last        timestamptz;
    v_from        timestamptz;
    v_minute_from timestamptz;
    v_seen        timestamptz;
    v_assembled   timestamptz;
    v_run         record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.rollup_metrics')) THEN
        RETURN QUERY SELECT false, NULL::timestamptz, NULL::timestamptz, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    SELECT r.rolled_until INTO v_last FROM observability_internal.rollup_state r WHERE r.name = 'metrics';
    v_from := date_trunc('minute', coalesce(v_last - p_late, p_now - p_backfill), 'UTC');
    IF v_from >= v_until THEN
        RETURN QUERY SELECT true, v_from, v_until, 0::bigint, 0::bigint;
        RETURN;
    END IF;
    -- Minutes older than their keep time would be deleted below: never computed.
    v_minute_from := greatest(v_from, date_trunc('minute', p_now - p_keep_minutes, 'UTC'));

    minute_rows := observability_internal.rollup_range('minute', v_minute_from, v_until);
    hour_rows := observability_internal.rollup_range('hour', date_trunc('hour', v_from, 'UTC'), v_until);
    -- Digests of finished hours only: the merged windows read the current hour from the
    -- rows, so it is not recomputed at every run.
    PERFORM observability_internal.rollup_digests(v_from, date_trunc('hour', v_until, 'UTC'));

    -- Late traces: the hours before this run's range of the traces assembled since the last run.
    SELECT r.rolled_until INTO v_seen FROM observability_internal.rollup_state r WHERE r.name = 'assembled';
    SELECT s.assembled_until INTO v_assembled FROM observability_internal.call_assembly_state s WHERE s.name = 'calls';
    IF v_seen IS NOT NULL AND v_assembled > v_seen THEN
        -- Consecutive hours as one range, so each day's digest is merged once per range,
        -- not once per hour of it.
        FOR v_run IN
            WITH hours AS (
                SELECT DISTINCT h.hour
                FROM observability.traces t,
                     generate_series(date_trunc('hour', t.start_time, 'UTC'),
                                     date_trunc('hour', least(t.end_time, v_from), 'UTC'), interval '1 hour') h(hour)
                WHERE t.updated_at > v_seen AND t.updated_at <= v_assembled
                  AND t.start_time < date_trunc('hour', v_from, 'UTC')
                  AND t.start_time >= p_now - interval '35 days'
                  AND h.hour < date_trunc('hour', v_from, 'UTC')
            )
            SELECT min(r.hour) AS first_hour, max(r.hour) + interval '1 hour' AS after_last
            FROM (SELECT hours.hour, hours.hour - row_number() OVER (ORDER BY hours.hour) * interval '1 hour' AS run
                  FROM hours) r
            GROUP BY r.run
            ORDER BY 1
        LOOP
            hour_rows := hour_rows + observability_internal.rollup_range('hour', v_run.first_hour, v_run.after_last);
            PERFORM observability_internal.rollup_digests(v_run.first_hour, v_run.after_last);
        END LOOP;
    END IF;
    -- Before any assembly the mark is -infinity, so the first traces assembled are all seen.
    INSERT INTO observability_internal.rollup_state AS r (name, rolled_until)
    VALUES ('assembled', coalesce(v_assembled, '-infinity'))
    ON CONFLICT (name) DO UPDATE SET rolled_until = greatest(r.rolled_until, excluded.rolled_until);

    DELETE FROM observability.metrics_minute WHERE bucket < p_now - p_keep_minutes;
    DELETE FROM observability.metrics_hour WHERE bucket < p_now - interval '400 days';
    DELETE FROM observability_internal.metric_digests WHERE bucket < p_now - interval '35 days';

    INSERT INTO observability_internal.rollup_state AS r (name, rolled_until) VALUES ('metrics', v_until)
    ON CONFLICT (name) DO UPDATE SET rolled_until = greatest(r.rolled_until, excluded.rolled_until);

    RETURN QUERY SELECT true, v_from, v_until, minute_rows, hour_rows;
END
$$;

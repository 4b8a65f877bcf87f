-- Times from the future: retention removes what lies beyond the skew ingestion allows,
-- before anything else, so future-dated traces never count as the newest (issue 9).
--
-- The skew is declared once for the service, as SpanTimeRange.maxFutureSkewSeconds
-- (Sources/ObservatoryStore/SpanTimeRange.swift); max_future_skew() is its copy for SQL,
-- and a test checks that the two agree. apply_retention() keeps its signature and
-- result, so callers are unchanged; its log details gain future_bound and
-- traces_future.

-- How far ahead of the clock a span may start or end (ingestion refuses later times;
-- the trace lists hide them; retention deletes them). The same value as the service's
-- SpanTimeRange.maxFutureSkewSeconds.
CREATE FUNCTION observability.max_future_skew() RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT interval '1 hour' $$;

COMMENT ON COLUMN observability.maintenance_log.details IS
    'What the run did, as the job reports it; for retention: retention_days, max_traces, cutoff, future_bound, fifo_bound, partitions_dropped, partitions_skipped, spans_deleted, traces_deleted (expired, evicted and future), traces_evicted, traces_future, traces_remaining.';

-- Keeps the store bounded in time and in size, and says what it removed.
--
-- Future: first of all, every trace that starts or ends later than p_now plus
-- max_future_skew() goes, whole, with its spans, and every span that starts that late.
-- Ingestion refuses such times, but rows stored before it did (or before the server's
-- clock was set back) would otherwise sit on top of every list and, being the "newest",
-- outlive every current trace under the cap. Done before the cap is counted, so they are
-- never among the survivors.
--
-- Age: every span older than p_retention_days goes, and every trace that ended before
-- then. A trace that straddles the cutoff keeps its row and its newer spans: nothing
-- inside the retention window is deleted except by the cap.
--
-- Cap: when more than p_max_traces traces remain, the oldest go, whole (first in, first
-- out by start time, then trace id, so the choice is deterministic). Finding the victims
-- one by one would cost a lookup per trace; instead, the newest victim's start time is a
-- bound below which every span belongs to a victim, because a span never starts before
-- its trace (traces.start_time is the earliest start of its spans) and every survivor
-- starts at or after that bound. So spans below the bound go by range, whole partitions
-- by DROP, and only the spans at or after it of victims still running then (end_time at
-- or after the bound) need a lookup by trace id.
--
-- Dropping a partition takes an ACCESS EXCLUSIVE lock on observability.spans (and on
-- spans_default) until the transaction ends, so the drops come last, after every row
-- deletion and count, and each waits for its lock at most 5 s (less if the session's
-- lock_timeout is shorter): behind a long dashboard query, ingestion would otherwise
-- queue behind the waiting drop. After the first drop that times out the others are not
-- attempted either (the same query holds them up). A partition not dropped (counted in
-- partitions_skipped) keeps its rows for the next run when they are only expired by age
-- (its traces rows are gone meanwhile), but is emptied row by row when the cap needs its
-- spans gone, because no later run would come back for them.
--
-- Spans stored in a partition between its count and its drop (spans that arrive older
-- than the cutoff, a moment before their day is dropped) are dropped but not counted.
-- Another session running retention makes this call return no row at once (advisory
-- lock). p_now is the logical clock of what to delete; the log records wall-clock time.
CREATE OR REPLACE FUNCTION observability.apply_retention(
    p_retention_days integer,
    p_max_traces     bigint,
    p_now            timestamptz DEFAULT now()
) RETURNS TABLE (partitions_dropped integer, spans_deleted bigint, traces_deleted bigint,
                 traces_remaining bigint, log_id bigint)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_started       timestamptz := clock_timestamp();
    v_owner         text := coalesce(nullif(current_setting('application_name', true), ''), session_user);
    v_cutoff        timestamptz;
    v_ceiling       timestamptz;
    v_future_ids    uuid[];
    v_future        bigint := 0;
    v_victim_start  timestamptz;
    v_victim_id     uuid;
    v_bound         timestamptz;
    v_running       uuid[];
    v_running_until timestamptz;
    v_part          record;
    v_names         text[] := '{}';
    v_uppers        timestamptz[] := '{}';
    v_counts        bigint[] := '{}';
    v_rows          bigint;
    v_lock_ms       integer;
    v_wait_ms       integer;
    v_busy          boolean := false;
    v_dropped       integer := 0;
    v_skipped       integer := 0;
    v_spans         bigint := 0;
    v_expired       bigint := 0;
    v_evicted       bigint := 0;
    v_remaining     bigint;
    v_log_id        bigint;
BEGIN
    IF p_retention_days IS NULL OR p_retention_days < 1 OR p_retention_days > 3650 THEN
        RAISE EXCEPTION 'apply_retention: retention days must be between 1 and 3650, not %', p_retention_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_traces IS NULL OR p_max_traces < 1 THEN
        RAISE EXCEPTION 'apply_retention: max traces must be at least 1, not %', p_max_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.apply_retention')) THEN
        RETURN;
    END IF;

    v_cutoff := p_now - make_interval(days => p_retention_days);
    v_ceiling := p_now + observability.max_future_skew();

    -- Future: whole traces past the ceiling at either end, then their spans (by id: a
    -- trace that starts now and ends in 2554 has spans before the ceiling too), then any
    -- span starting past the ceiling whose trace row was already gone.
    WITH gone AS (
        DELETE FROM observability.traces t
        WHERE t.start_time > v_ceiling OR t.end_time > v_ceiling
        RETURNING t.trace_id
    )
    SELECT array_agg(g.trace_id), count(*) INTO v_future_ids, v_future FROM gone g;
    IF v_future_ids IS NOT NULL THEN
        DELETE FROM observability.spans s WHERE s.trace_id = ANY (v_future_ids);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_spans := v_spans + v_rows;
    END IF;
    DELETE FROM observability.spans s WHERE s.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_spans := v_spans + v_rows;

    -- Age: traces that ended before the cutoff (end >= start, so the start index narrows it).
    DELETE FROM observability.traces t WHERE t.start_time < v_cutoff AND t.end_time < v_cutoff;
    GET DIAGNOSTICS v_expired = ROW_COUNT;

    -- Cap: the newest victim is the one just past the p_max_traces newest survivors.
    SELECT t.start_time, t.trace_id INTO v_victim_start, v_victim_id
    FROM observability.traces t
    ORDER BY t.start_time DESC, t.trace_id DESC
    OFFSET p_max_traces LIMIT 1;

    -- Every span before v_bound goes: by age below the cutoff, as a victim's below v_victim_start.
    v_bound := greatest(v_cutoff, v_victim_start);

    IF v_victim_id IS NOT NULL THEN
        -- Victims' spans at or after the bound, which the range deletion below misses:
        -- only victims still running at the bound can have any, and none after its end.
        -- Their ids as an array, so the planner sees how few they are and probes the
        -- trace id index rather than hashing every span newer than the bound.
        SELECT array_agg(t.trace_id), max(t.end_time) INTO v_running, v_running_until
        FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id)
          AND t.end_time >= v_bound;
        IF v_running IS NOT NULL THEN
            DELETE FROM observability.spans s
            WHERE s.trace_id = ANY (v_running)
              AND s.start_time >= v_bound
              AND s.start_time <= v_running_until;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;

        DELETE FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id);
        GET DIAGNOSTICS v_evicted = ROW_COUNT;
    END IF;

    -- Partitions wholly below the bound are dropped at the end (only daily partitions,
    -- by their real bounds); the others that reach below it are trimmed row by row.
    FOR v_part IN SELECT * FROM observability.span_partitions() LOOP
        IF NOT v_part.is_default AND v_part.partition_name ~ '^spans_p[0-9]{8}$'
           AND v_part.upper_bound IS NOT NULL AND v_part.upper_bound <= v_bound THEN
            v_names := v_names || v_part.partition_name;
            v_uppers := v_uppers || v_part.upper_bound;
        ELSIF v_part.is_default OR v_part.lower_bound IS NULL OR v_part.lower_bound < v_bound THEN
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_part.partition_name)
                USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    -- Everything that needs no lock on observability.spans beyond what readers take:
    -- the counts of the partitions to drop, and what remains.
    FOR i IN 1 .. cardinality(v_names) LOOP
        EXECUTE format('SELECT count(*) FROM observability.%I', v_names[i]) INTO v_rows;
        v_counts := v_counts || v_rows;
    END LOOP;
    SELECT count(*) INTO v_remaining FROM observability.traces;

    SELECT s.setting::integer INTO v_lock_ms FROM pg_catalog.pg_settings s WHERE s.name = 'lock_timeout';
    v_wait_ms := CASE WHEN v_lock_ms > 0 THEN least(v_lock_ms, 5000) ELSE 5000 END;
    FOR i IN 1 .. cardinality(v_names) LOOP
        IF NOT v_busy THEN
            BEGIN
                PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
                EXECUTE format('DROP TABLE observability.%I', v_names[i]);
                PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
                v_dropped := v_dropped + 1;
                v_spans := v_spans + v_counts[i];
                CONTINUE;
            EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                -- The failed block's lock_timeout is rolled back with it.
                v_busy := true;
            END;
        END IF;
        v_skipped := v_skipped + 1;
        IF v_uppers[i] > v_cutoff THEN
            -- Only the cap wanted this partition gone: its traces rows are deleted already.
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_names[i]) USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    DELETE FROM observability.maintenance_log l WHERE l.started_at < p_now - interval '90 days';

    INSERT INTO observability.maintenance_log (job, owner, started_at, finished_at, details)
    VALUES ('retention', v_owner, v_started, clock_timestamp(),
            jsonb_build_object(
                'retention_days', p_retention_days,
                'max_traces', p_max_traces,
                'cutoff', v_cutoff,
                'future_bound', v_ceiling,
                'traces_future', v_future,
                'fifo_bound', v_victim_start,
                'partitions_dropped', v_dropped,
                'partitions_skipped', v_skipped,
                'spans_deleted', v_spans,
                'traces_deleted', v_expired + v_evicted + v_future,
                'traces_evicted', v_evicted,
                'traces_remaining', v_remaining))
    RETURNING id INTO v_log_id;

    INSERT INTO observability.maintenance_jobs AS j (job, last_finished_at) VALUES ('retention', clock_timestamp())
    ON CONFLICT (job) DO UPDATE SET last_finished_at = excluded.last_finished_at;

    RETURN QUERY SELECT v_dropped, v_spans, v_expired + v_evicted + v_future, v_remaining, v_log_id;
END
$$;

-- Retention (an age limit and a trace count cap) and the bookkeeping of every maintenance
-- job: which replica of `serve` runs a job this interval, and what each run did.
--
-- Old data goes by dropping whole daily partitions wherever possible (catalog work, no
-- dead rows, no WAL per row); only the partition that straddles the limit, spans_default
-- and the spans of long traces are deleted row by row.

-- One row per maintenance run, so operators can see when each job last ran, how long it
-- took and what it did, with SQL rather than by reading every replica's log.
CREATE TABLE observability.maintenance_log (
    id          bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text             NOT NULL,
    owner       text             NOT NULL,
    started_at  timestamptz      NOT NULL,
    finished_at timestamptz      NOT NULL,
    duration_ms double precision GENERATED ALWAYS AS (extract(epoch FROM finished_at - started_at) * 1000) STORED,
    details     jsonb            NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE observability.maintenance_log IS
    'One row per maintenance run (retention, partitions, metrics); apply_retention() deletes rows older than 90 days.';
COMMENT ON COLUMN observability.maintenance_log.job IS
    'The job that ran: retention, or a name the service passes to log_maintenance_run().';
COMMENT ON COLUMN observability.maintenance_log.owner IS
    'Who ran it: host:pid of the serve or run-once process (its maintenance sessions'' application_name), else the database user.';
COMMENT ON COLUMN observability.maintenance_log.started_at IS
    'Wall-clock start of the run (clock_timestamp(), not the run''s logical clock).';
COMMENT ON COLUMN observability.maintenance_log.finished_at IS
    'Wall-clock end of the run.';
COMMENT ON COLUMN observability.maintenance_log.duration_ms IS
    'finished_at - started_at in milliseconds.';
COMMENT ON COLUMN observability.maintenance_log.details IS
    'What the run did, as the job reports it; for retention: retention_days, max_traces, cutoff, fifo_bound, partitions_dropped, partitions_skipped, spans_deleted, traces_deleted, traces_evicted, traces_remaining.';

-- A job's recent runs, newest first.
CREATE INDEX maintenance_log_job_started_idx ON observability.maintenance_log (job, started_at DESC);

-- The claim table: one row per job, so that several replicas of `serve` run each job
-- once per interval instead of once per replica.
CREATE TABLE observability.maintenance_jobs (
    job              text        PRIMARY KEY,
    last_started_at  timestamptz,
    last_finished_at timestamptz,
    last_owner       text
);
COMMENT ON TABLE observability.maintenance_jobs IS
    'One row per maintenance job: when it was last claimed (claim_maintenance_job()) and last finished, and by whom.';
COMMENT ON COLUMN observability.maintenance_jobs.last_started_at IS
    'When the job was last claimed, on the claimer''s clock (the database''s now() unless pinned); the next claim succeeds an interval later.';
COMMENT ON COLUMN observability.maintenance_jobs.last_finished_at IS
    'When a run of the job last finished, successfully; NULL or older than last_started_at while a run is under way or after one failed.';
COMMENT ON COLUMN observability.maintenance_jobs.last_owner IS
    'The owner named by the last successful claim.';

-- Several replicas of `serve` poll for each job; exactly one of them must run it per
-- interval, without a leader to elect or a lease to renew. Whoever polls first after
-- the job is due wins, so when the replica that ran it last dies, another takes over at
-- its next poll and nothing waits for a timeout. The clock is the database's now() by
-- default, one clock for every replica, so their own clock skew does not matter. A
-- concurrent claim of the same job returns false at once (advisory lock) instead of
-- queueing on the row. Returns whether this call claimed the job.
CREATE FUNCTION observability.claim_maintenance_job(
    p_job   text,
    p_every interval,
    p_owner text,
    p_now   timestamptz DEFAULT now()
) RETURNS boolean
    LANGUAGE plpgsql AS
$$
DECLARE
    v_claimed boolean;
BEGIN
    IF p_job IS NULL OR p_job = '' THEN
        RAISE EXCEPTION 'claim_maintenance_job: the job name must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_every IS NULL OR p_every <= interval '0' THEN
        RAISE EXCEPTION 'claim_maintenance_job: the interval of job % must be greater than zero, not %', p_job, p_every
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.job.' || p_job)) THEN
        RETURN false;
    END IF;

    INSERT INTO observability.maintenance_jobs (job) VALUES (p_job) ON CONFLICT (job) DO NOTHING;
    UPDATE observability.maintenance_jobs j
       SET last_started_at = p_now, last_owner = p_owner
     WHERE j.job = p_job
       AND (j.last_started_at IS NULL OR j.last_started_at <= p_now - p_every)
    RETURNING true INTO v_claimed;
    RETURN coalesce(v_claimed, false);
END
$$;

-- Jobs whose SQL cannot record itself (ensure_partitions(), refresh_metrics(), called by
-- the service one transaction at a time) still belong in the same log as retention, so
-- one query shows every job. The service calls this after such a job succeeded; p_now
-- is the end of the run. Returns the id of the log row.
CREATE FUNCTION observability.log_maintenance_run(
    p_job        text,
    p_owner      text,
    p_started_at timestamptz,
    p_details    jsonb DEFAULT '{}',
    p_now        timestamptz DEFAULT clock_timestamp()
) RETURNS bigint
    LANGUAGE plpgsql AS
$$
DECLARE
    v_id bigint;
BEGIN
    IF p_job IS NULL OR p_job = '' OR p_owner IS NULL OR p_owner = '' THEN
        RAISE EXCEPTION 'log_maintenance_run: job (%) and owner (%) must not be empty', p_job, p_owner
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_started_at IS NULL THEN
        RAISE EXCEPTION 'log_maintenance_run: the start time of job % must be given', p_job
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO observability.maintenance_log (job, owner, started_at, finished_at, details)
    VALUES (p_job, p_owner, p_started_at, p_now, coalesce(p_details, '{}'))
    RETURNING id INTO v_id;

    INSERT INTO observability.maintenance_jobs AS j (job, last_finished_at) VALUES (p_job, p_now)
    ON CONFLICT (job) DO UPDATE SET last_finished_at = excluded.last_finished_at;
    RETURN v_id;
END
$$;

-- Retention needs each partition's real bounds, not what its name suggests: a partition
-- attached by hand under a daily name must never be dropped for a day it does not hold.
-- Reads them from the catalog; lower_bound and upper_bound are NULL for the default
-- partition and for MINVALUE/MAXVALUE bounds.
CREATE FUNCTION observability.span_partitions()
    RETURNS TABLE (partition_name text, is_default boolean, lower_bound timestamptz, upper_bound timestamptz)
    LANGUAGE sql STABLE AS
$$
SELECT c.relname::text,
       b.expr = 'DEFAULT',
       b.bounds[1]::timestamptz,
       b.bounds[2]::timestamptz
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (
    SELECT e.expr, regexp_match(e.expr, '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS bounds
    FROM (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS expr) e
) b
WHERE i.inhparent = 'observability.spans'::regclass
ORDER BY 4 NULLS LAST, 1
$$;

-- Keeps the store bounded in time and in size, and says what it removed.
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
CREATE FUNCTION observability.apply_retention(
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
                'fifo_bound', v_victim_start,
                'partitions_dropped', v_dropped,
                'partitions_skipped', v_skipped,
                'spans_deleted', v_spans,
                'traces_deleted', v_expired + v_evicted,
                'traces_evicted', v_evicted,
                'traces_remaining', v_remaining))
    RETURNING id INTO v_log_id;

    INSERT INTO observability.maintenance_jobs AS j (job, last_finished_at) VALUES ('retention', clock_timestamp())
    ON CONFLICT (job) DO UPDATE SET last_finished_at = excluded.last_finished_at;

    RETURN QUERY SELECT v_dropped, v_spans, v_expired + v_evicted, v_remaining, v_log_id;
END
$$;

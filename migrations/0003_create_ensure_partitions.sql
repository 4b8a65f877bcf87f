-- Daily partitions of observability.spans, created ahead of time.

-- The name of the partition that holds the UTC day of p_day.
CREATE FUNCTION observability.span_partition_name(p_day date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN 'spans_p' || to_char(p_day, 'YYYYMMDD');

-- Creates the daily partitions from p_days_back days before p_now to p_days_ahead days
-- after it, so that spans land in their own day and not in spans_default, whose size
-- every later partition creation has to scan. It also gives a partition to every day
-- within the last 400 days that already has spans waiting in spans_default (late or
-- replayed data), so retention can later drop those days whole. Spans waiting in
-- spans_default for a day being created are moved into the new partition, in the same
-- transaction, so none is lost. Returns one row per partition created. Another session
-- running it at the same moment makes this call a no-op (advisory lock) rather than a wait.
CREATE FUNCTION observability.ensure_partitions(
    p_days_back  integer DEFAULT 1,
    p_days_ahead integer DEFAULT 3,
    p_now        timestamptz DEFAULT now()
) RETURNS TABLE (partition_name text, rows_moved bigint)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_day   date;
    v_lo    timestamptz;
    v_hi    timestamptz;
    v_name  text;
    v_moved bigint;
BEGIN
    IF p_days_back < 0 OR p_days_ahead < 0 OR p_days_back + p_days_ahead > 400 THEN
        RAISE EXCEPTION 'ensure_partitions: days back (%) and ahead (%) must be >= 0 and cover at most 400 days',
            p_days_back, p_days_ahead;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.ensure_partitions')) THEN
        RETURN;
    END IF;

    FOR v_day IN
        SELECT d::date
        FROM generate_series((p_now AT TIME ZONE 'UTC')::date - p_days_back,
                             (p_now AT TIME ZONE 'UTC')::date + p_days_ahead,
                             interval '1 day') AS d
        UNION
        SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date
        FROM observability.spans_default
        WHERE start_time >= p_now - interval '400 days'
          AND start_time < p_now + make_interval(days => p_days_ahead + 1)
        ORDER BY 1
    LOOP
        v_name := observability.span_partition_name(v_day);
        CONTINUE WHEN to_regclass(format('observability.%I', v_name)) IS NOT NULL;

        v_lo := v_day::timestamp AT TIME ZONE 'UTC';
        v_hi := (v_day + 1)::timestamp AT TIME ZONE 'UTC';

        -- The default partition may not keep rows that belong to the new range: set them
        -- aside, create the partition, and put them into it. The traces rows already count
        -- these spans; moving them changes no count.
        v_moved := 0;
        IF EXISTS (SELECT 1 FROM observability.spans_default WHERE start_time >= v_lo AND start_time < v_hi) THEN
            CREATE TEMP TABLE moving_spans (LIKE observability.spans) ON COMMIT DROP;
            WITH moved AS (
                DELETE FROM observability.spans_default
                WHERE start_time >= v_lo AND start_time < v_hi
                RETURNING *
            )
            INSERT INTO pg_temp.moving_spans SELECT * FROM moved;
            GET DIAGNOSTICS v_moved = ROW_COUNT;
        END IF;

        EXECUTE format('CREATE TABLE observability.%I PARTITION OF observability.spans FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_lo, v_hi);

        IF v_moved > 0 THEN
            EXECUTE format('INSERT INTO observability.%I SELECT * FROM pg_temp.moving_spans', v_name);
            DROP TABLE pg_temp.moving_spans;
        END IF;

        partition_name := v_name;
        rows_moved := v_moved;
        RETURN NEXT;
    END LOOP;
END
$$;


CREATE SCHEMA observability;

CREATE FUNCTION observability.ensure_partitions(p_days_back integer DEFAULT 1, p_days_ahead integer DEFAULT 3, p_now timestamp with time zone DEFAULT now()) RETURNS TABLE(partition_name text, rows_moved bigint)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION observability.hex_span_id(p_span_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lpad(to_hex(p_span_id), 16, '0'::text);

CREATE FUNCTION observability.hex_trace_id(p_trace_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace((p_trace_id)::text, '-'::text, ''::text);

CREATE FUNCTION observability.ingest_spans(p_trace_ids uuid[], p_span_ids bigint[], p_parent_span_ids bigint[], p_names text[], p_kinds text[], p_operations text[], p_targets text[], p_services text[], p_scopes text[], p_start_times timestamp with time zone[], p_end_times timestamp with time zone[], p_durations double precision[], p_statuses text[], p_status_messages text[], p_attributes text[], p_resource_attributes text[], p_events text[]) RETURNS integer
    LANGUAGE sql
    AS $$
WITH inserted AS (
    INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                     scope_name, start_time, end_time, duration_ms, status, status_message,
                                     attributes, resource_attributes, events)
    SELECT u.trace_id, u.span_id, nullif(u.parent_span_id, 0), u.name, u.kind, u.operation, nullif(u.target, ''),
           u.service_name, nullif(u.scope_name, ''), u.start_time, u.end_time, u.duration_ms, u.status,
           nullif(u.status_message, ''), u.attributes::jsonb, u.resource_attributes::jsonb, u.events::jsonb
    FROM unnest(p_trace_ids, p_span_ids, p_parent_span_ids, p_names, p_kinds, p_operations, p_targets, p_services,
                p_scopes, p_start_times, p_end_times, p_durations, p_statuses, p_status_messages, p_attributes,
                p_resource_attributes, p_events)
         AS u(trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
              start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events)
    ON CONFLICT DO NOTHING
    RETURNING trace_id, span_id, parent_span_id, name, service_name, start_time, end_time, status
),
folded AS (
    INSERT INTO observability.traces AS t
        (trace_id, root_span_id, root_name, service_name, start_time, end_time, span_count, error_count)
    SELECT b.trace_id, b.root_span_id,
           coalesce(b.root_name, f.name), coalesce(b.root_service, f.service_name),
           b.start_time, b.end_time, b.span_count, b.error_count
    FROM (
        -- Plain aggregates, hashed: counts, bounds and the root span (a trace with
        -- several roots keeps one of them).
        SELECT i.trace_id,
               max(i.span_id) FILTER (WHERE i.parent_span_id IS NULL) AS root_span_id,
               max(i.name) FILTER (WHERE i.parent_span_id IS NULL) AS root_name,
               max(i.service_name) FILTER (WHERE i.parent_span_id IS NULL) AS root_service,
               min(i.start_time) AS start_time,
               max(i.end_time) AS end_time,
               count(*)::integer AS span_count,
               (count(*) FILTER (WHERE i.status = 'error'))::integer AS error_count
        FROM inserted i
        GROUP BY i.trace_id
    ) b
    -- The earliest span, whose name stands in for the trace until its root arrives.
    JOIN (
        SELECT DISTINCT ON (i.trace_id) i.trace_id, i.name, i.service_name
        FROM inserted i
        ORDER BY i.trace_id, i.start_time
    ) f ON f.trace_id = b.trace_id
    ORDER BY b.trace_id
    ON CONFLICT (trace_id) DO UPDATE SET
        root_span_id = coalesce(t.root_span_id, excluded.root_span_id),
        root_name = CASE
            WHEN t.root_span_id IS NOT NULL THEN t.root_name
            WHEN excluded.root_span_id IS NOT NULL THEN excluded.root_name
            WHEN excluded.start_time < t.start_time THEN excluded.root_name
            ELSE t.root_name END,
        service_name = CASE
            WHEN t.root_span_id IS NOT NULL THEN t.service_name
            WHEN excluded.root_span_id IS NOT NULL THEN excluded.service_name
            WHEN excluded.start_time < t.start_time THEN excluded.service_name
            ELSE t.service_name END,
        start_time = least(t.start_time, excluded.start_time),
        end_time = greatest(t.end_time, excluded.end_time),
        span_count = t.span_count + excluded.span_count,
        error_count = t.error_count + excluded.error_count,
        updated_at = now()
    RETURNING 1
)
SELECT count(*)::integer FROM inserted
$$;

CREATE FUNCTION observability.span_id_from_hex(p_hex text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((('x'::text || lpad(p_hex, 16, '0'::text)))::bit(64))::bigint;

CREATE FUNCTION observability.span_partition_name(p_day date) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    RETURN ('spans_p'::text || to_char((p_day)::timestamp with time zone, 'YYYYMMDD'::text));

CREATE TABLE observability.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    execution_ms double precision NOT NULL
);

CREATE TABLE observability.spans (
    trace_id uuid NOT NULL,
    span_id bigint NOT NULL,
    parent_span_id bigint,
    name text NOT NULL,
    kind text NOT NULL,
    operation text NOT NULL,
    target text,
    service_name text NOT NULL,
    scope_name text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    status text NOT NULL,
    status_message text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    resource_attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
)
PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.spans IS 'One row per span; daily RANGE partitions spans_pYYYYMMDD (UTC) plus spans_default for times outside them.';

COMMENT ON COLUMN observability.spans.operation IS 'What the span did, classified once at ingest: tool_invoke, prompt_render, resource_fetch, http_request, db_query, internal.';

COMMENT ON COLUMN observability.spans.target IS 'The name dashboards group by: tool name, prompt name, resource URI, HTTP route or SQL operation.';

COMMENT ON COLUMN observability.spans.events IS 'Span events as a JSON array of {name, time, attributes}; see the span_events view for one row per event.';

CREATE VIEW observability.span_attributes AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    s.start_time,
    s.name AS span_name,
    a.key,
    a.value,
    (a.value #>> '{}'::text[]) AS value_text
   FROM (observability.spans s
     CROSS JOIN LATERAL jsonb_each(s.attributes) a(key, value));

CREATE VIEW observability.span_events AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    s.name AS span_name,
    (e.ordinality)::integer AS event_index,
    (e.event ->> 'name'::text) AS name,
    ((e.event ->> 'time'::text))::timestamp with time zone AS event_time,
    (e.event -> 'attributes'::text) AS attributes,
    ((e.event -> 'attributes'::text) ->> 'exception.type'::text) AS exception_type,
    ((e.event -> 'attributes'::text) ->> 'exception.message'::text) AS exception_message,
    ((e.event -> 'attributes'::text) ->> 'exception.stacktrace'::text) AS exception_stacktrace
   FROM (observability.spans s
     CROSS JOIN LATERAL jsonb_array_elements(s.events) WITH ORDINALITY e(event, ordinality));

CREATE VIEW observability.span_list AS
 SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
    observability.hex_span_id(s.span_id) AS span_id,
    observability.hex_span_id(s.parent_span_id) AS parent_span_id,
    s.name,
    s.kind,
    s.operation,
    s.target,
    s.service_name,
    s.start_time,
    s.end_time,
    s.duration_ms,
    s.status,
    s.status_message,
    s.attributes,
    s.resource_attributes,
    s.events
   FROM observability.spans s;

CREATE TABLE observability.spans_default (
    trace_id uuid NOT NULL,
    span_id bigint NOT NULL,
    parent_span_id bigint,
    name text NOT NULL,
    kind text NOT NULL,
    operation text NOT NULL,
    target text,
    service_name text NOT NULL,
    scope_name text,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision NOT NULL,
    status text NOT NULL,
    status_message text,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    resource_attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    events jsonb DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT spans_kind_check CHECK ((kind = ANY (ARRAY['unspecified'::text, 'internal'::text, 'server'::text, 'client'::text, 'producer'::text, 'consumer'::text]))),
    CONSTRAINT spans_operation_check CHECK ((operation = ANY (ARRAY['tool_invoke'::text, 'prompt_render'::text, 'resource_fetch'::text, 'http_request'::text, 'db_query'::text, 'internal'::text]))),
    CONSTRAINT spans_status_check CHECK ((status = ANY (ARRAY['ok'::text, 'error'::text, 'unset'::text])))
);

CREATE TABLE observability.traces (
    trace_id uuid NOT NULL,
    root_span_id bigint,
    root_name text NOT NULL,
    service_name text NOT NULL,
    start_time timestamp with time zone NOT NULL,
    end_time timestamp with time zone NOT NULL,
    duration_ms double precision GENERATED ALWAYS AS ((EXTRACT(epoch FROM (end_time - start_time)) * (1000)::numeric)) STORED,
    span_count integer NOT NULL,
    error_count integer NOT NULL,
    status text GENERATED ALWAYS AS (
CASE
    WHEN (error_count > 0) THEN 'error'::text
    ELSE 'ok'::text
END) STORED,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE observability.traces IS 'One row per trace, kept by ingest_spans(). root_span_id is NULL until the root span (no parent) has arrived; until then root_name and service_name are those of the earliest span seen.';

ALTER TABLE ONLY observability.spans ATTACH PARTITION observability.spans_default DEFAULT;

ALTER TABLE ONLY observability.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY observability.traces
    ADD CONSTRAINT traces_pkey PRIMARY KEY (trace_id);

CREATE INDEX spans_operation_target_time_idx ON ONLY observability.spans USING btree (operation, target, start_time);

CREATE INDEX spans_default_operation_target_start_time_idx ON observability.spans_default USING btree (operation, target, start_time);

CREATE INDEX spans_errors_time_idx ON ONLY observability.spans USING btree (start_time) WHERE (status = 'error'::text);

CREATE INDEX spans_default_start_time_idx ON observability.spans_default USING btree (start_time) WHERE (status = 'error'::text);

CREATE UNIQUE INDEX spans_trace_span_idx ON ONLY observability.spans USING btree (trace_id, span_id, start_time);

CREATE UNIQUE INDEX spans_default_trace_id_span_id_start_time_idx ON observability.spans_default USING btree (trace_id, span_id, start_time);

CREATE INDEX traces_errors_start_time_idx ON observability.traces USING btree (start_time DESC) WHERE (error_count > 0);

CREATE INDEX traces_start_time_idx ON observability.traces USING btree (start_time DESC);

ALTER INDEX observability.spans_operation_target_time_idx ATTACH PARTITION observability.spans_default_operation_target_start_time_idx;

ALTER INDEX observability.spans_errors_time_idx ATTACH PARTITION observability.spans_default_start_time_idx;

ALTER INDEX observability.spans_trace_span_idx ATTACH PARTITION observability.spans_default_trace_id_span_id_start_time_idx;

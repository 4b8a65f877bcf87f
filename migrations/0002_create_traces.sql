-- One row per trace, maintained from the spans themselves so the trace list never has to
-- aggregate spans. A trace's spans may arrive in several exports, in any order, from
-- several services; the upsert below merges each batch into the row.

CREATE TABLE observability.traces (
    trace_id      uuid        PRIMARY KEY,
    root_span_id  bigint,
    root_name     text        NOT NULL,
    service_name  text        NOT NULL,
    start_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    duration_ms   double precision GENERATED ALWAYS AS (extract(epoch FROM end_time - start_time) * 1000) STORED,
    span_count    integer     NOT NULL,
    error_count   integer     NOT NULL,
    status        text        GENERATED ALWAYS AS (CASE WHEN error_count > 0 THEN 'error' ELSE 'ok' END) STORED,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE observability.traces IS
    'One row per trace, kept by a trigger on spans. root_span_id is NULL until the root span (no parent) has arrived; until then root_name and service_name are those of the earliest span seen.';

-- Trace list by time, newest first.
CREATE INDEX traces_start_time_idx ON observability.traces (start_time DESC);
-- Failed traces by time.
CREATE INDEX traces_errors_start_time_idx ON observability.traces (start_time DESC) WHERE error_count > 0;

-- Folds the spans one INSERT or COPY statement wrote into their traces rows. A statement
-- trigger with a transition table runs once per batch, inside the batch's transaction,
-- so spans and traces commit together in the writer's single round trip. Rows are
-- upserted in trace_id order so that concurrent batches lock traces in the same order.
CREATE FUNCTION observability.fold_spans_into_traces() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO observability.traces AS t
        (trace_id, root_span_id, root_name, service_name, start_time, end_time, span_count, error_count)
    SELECT b.trace_id,
           b.root_span_id,
           coalesce(b.root_name, b.first_name),
           coalesce(b.root_service, b.first_service),
           b.start_time, b.end_time, b.span_count, b.error_count
    FROM (
        SELECT n.trace_id,
               (array_agg(n.span_id ORDER BY n.start_time) FILTER (WHERE n.parent_span_id IS NULL))[1] AS root_span_id,
               (array_agg(n.name ORDER BY n.start_time) FILTER (WHERE n.parent_span_id IS NULL))[1] AS root_name,
               (array_agg(n.service_name ORDER BY n.start_time) FILTER (WHERE n.parent_span_id IS NULL))[1] AS root_service,
               (array_agg(n.name ORDER BY n.start_time))[1] AS first_name,
               (array_agg(n.service_name ORDER BY n.start_time))[1] AS first_service,
               min(n.start_time) AS start_time,
               max(n.end_time) AS end_time,
               count(*)::integer AS span_count,
               (count(*) FILTER (WHERE n.status = 'error'))::integer AS error_count
        FROM new_spans n
        GROUP BY n.trace_id
    ) b
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
        updated_at = now();
    RETURN NULL;
END
$$;

CREATE TRIGGER spans_fold_into_traces
    AFTER INSERT ON observability.spans
    REFERENCING NEW TABLE AS new_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION observability.fold_spans_into_traces();

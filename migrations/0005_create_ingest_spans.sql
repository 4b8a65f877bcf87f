-- The span writer's single round trip: one call stores a batch of spans and folds them
-- into their traces rows, in one statement and so one transaction.

-- Stores a batch of spans given as parallel arrays (one element per span; PostgresNIO
-- binds arrays in binary) and merges them into observability.traces. Why arrays and not
-- COPY: the traces fold needs the batch's rows, and a statement trigger's transition
-- table copies every wide row (jsonb included) a second time, which cost more than the
-- whole array path; here the fold reads only the narrow RETURNING columns. Spans already
-- stored (a client retrying an export whose answer it never got) are skipped by the
-- unique index and not counted again, so retries are harmless. Empty strings and a zero
-- parent id stand for NULL, because array elements cannot be bound as NULL. Traces rows
-- are upserted in trace_id order so concurrent batches lock them in the same order.
-- Returns the number of spans inserted.
CREATE FUNCTION observability.ingest_spans(
    p_trace_ids           uuid[],
    p_span_ids            bigint[],
    p_parent_span_ids     bigint[],
    p_names               text[],
    p_kinds               text[],
    p_operations          text[],
    p_targets             text[],
    p_services            text[],
    p_scopes              text[],
    p_start_times         timestamptz[],
    p_end_times           timestamptz[],
    p_durations           double precision[],
    p_statuses            text[],
    p_status_messages     text[],
    p_attributes          text[],
    p_resource_attributes text[],
    p_events              text[]
) RETURNS integer
    LANGUAGE sql AS
$$
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

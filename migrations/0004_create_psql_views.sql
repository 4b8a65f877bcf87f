-- Views for people at a psql prompt: hex ids, one attribute or event per row.

-- One attribute per row, the shape of the seed's span_attributes table.
CREATE VIEW observability.span_attributes AS
SELECT observability.hex_trace_id(s.trace_id) AS trace_id,
       observability.hex_span_id(s.span_id)   AS span_id,
       s.start_time,
       s.name                                 AS span_name,
       a.key,
       a.value,
       a.value #>> '{}'                       AS value_text
FROM observability.spans s
CROSS JOIN LATERAL jsonb_each(s.attributes) AS a(key, value);

-- One event per row, the shape of the seed's span_events table, with an exception's
-- type, message and stack trace as columns.
CREATE VIEW observability.span_events AS
SELECT observability.hex_trace_id(s.trace_id)              AS trace_id,
       observability.hex_span_id(s.span_id)                AS span_id,
       s.name                                              AS span_name,
       e.ordinality::integer                               AS event_index,
       e.event ->> 'name'                                  AS name,
       (e.event ->> 'time')::timestamptz                   AS event_time,
       e.event -> 'attributes'                             AS attributes,
       e.event -> 'attributes' ->> 'exception.type'        AS exception_type,
       e.event -> 'attributes' ->> 'exception.message'     AS exception_message,
       e.event -> 'attributes' ->> 'exception.stacktrace'  AS exception_stacktrace
FROM observability.spans s
CROSS JOIN LATERAL jsonb_array_elements(s.events) WITH ORDINALITY AS e(event, ordinality);

-- Spans with hex ids, for reading at a prompt. Filter on the stored columns (start_time,
-- operation, target) rather than the hex ids, which no index covers.
CREATE VIEW observability.span_list AS
SELECT observability.hex_trace_id(s.trace_id)     AS trace_id,
       observability.hex_span_id(s.span_id)       AS span_id,
       observability.hex_span_id(s.parent_span_id) AS parent_span_id,
       s.name, s.kind, s.operation, s.target, s.service_name,
       s.start_time, s.end_time, s.duration_ms, s.status, s.status_message,
       s.attributes, s.resource_attributes, s.events
FROM observability.spans s;

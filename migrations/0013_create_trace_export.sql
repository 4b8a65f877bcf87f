-- A stored trace as an OTLP/JSON export request: the document `POST /v1/traces` accepts,
-- so a trace can be downloaded, kept, shared and sent to this or another server again.
--
-- Written in SQL so psql users get it as well (`SELECT observability.trace_otlp(...)`), and
-- because the stored attributes are jsonb: turning them into OTLP's typed values here keeps
-- every number exactly as stored (an integer stays an intValue, a double a doubleValue),
-- which a round trip through a client-side JSON parser would not.
--
-- What is stored is what is exported: attributes after redaction and truncation, times to
-- the microsecond (PostgreSQL's precision). Sent back, an export stores the same rows.

-- MARK: Values

-- One stored attribute value as an OTLP AnyValue. jsonb keeps a number's text, so a number
-- without a fraction or an exponent was an integer when it arrived (the service writes
-- doubles as Swift prints them, always with a '.' or an 'e'); one outside the 64-bit range
-- can only have been a double that jsonb normalized (1e+20 is stored as
-- 100000000000000000000), and is exported as one. Bytes were stored as base64 text and
-- non-finite doubles as the strings "NaN" and "Infinity": they come back as strings, which
-- store the same text again. intValue is a string, as OTLP/JSON writes 64-bit integers.
CREATE FUNCTION observability_internal.otlp_any_value(p_value jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    -- PL/pgSQL because arrays and maps recurse, which a SQL function's body cannot.
    CASE jsonb_typeof(p_value)
        WHEN 'string' THEN RETURN jsonb_build_object('stringValue', p_value);
        WHEN 'boolean' THEN RETURN jsonb_build_object('boolValue', p_value);
        WHEN 'number' THEN
            IF p_value::text ~ '^-?[0-9]+$' AND p_value::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
                RETURN jsonb_build_object('intValue', p_value::text);
            END IF;
            RETURN jsonb_build_object('doubleValue', p_value);
        WHEN 'array' THEN
            RETURN jsonb_build_object('arrayValue', jsonb_build_object('values',
                (SELECT coalesce(jsonb_agg(observability_internal.otlp_any_value(e.value) ORDER BY e.ordinality), '[]'::jsonb)
                 FROM jsonb_array_elements(p_value) WITH ORDINALITY e)));
        WHEN 'object' THEN
            RETURN jsonb_build_object('kvlistValue', jsonb_build_object('values',
                (SELECT coalesce(jsonb_agg(jsonb_build_object('key', a.key, 'value', observability_internal.otlp_any_value(a.value))
                                           ORDER BY a.ordinality), '[]'::jsonb)
                 FROM jsonb_each(p_value) WITH ORDINALITY a)));
        ELSE
            -- JSON null: no stored value is one; an empty AnyValue is what it would mean.
            RETURN '{}'::jsonb;
    END CASE;
END
$$;

-- A stored attribute object as OTLP's list of {key, value}, in jsonb's key order (the
-- order they are stored in again on import).
CREATE FUNCTION observability_internal.otlp_key_values(p_object jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('key', a.key, 'value', observability_internal.otlp_any_value(a.value))
                                      ORDER BY a.ordinality), '[]'::jsonb)
            FROM jsonb_each(p_object) WITH ORDINALITY a);

-- A time as OTLP's nanoseconds since the epoch, as a string (OTLP/JSON's 64-bit integers).
CREATE FUNCTION observability_internal.otlp_unix_nano(p_time timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((extract(epoch FROM p_time) * 1000000)::bigint * 1000)::text;

-- MARK: Spans

-- One stored span as an OTLP/JSON span. Times are stored to the microsecond and the
-- duration to the nanosecond, so the exported start is placed within its microsecond where
-- the end, start plus duration, falls in the stored end's microsecond: stored again, the
-- start, the end and the duration are all the same as before.
CREATE FUNCTION observability_internal.otlp_span(p_span observability.spans) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (
        WITH t AS (
            SELECT (extract(epoch FROM p_span.start_time) * 1000000)::bigint * 1000 AS start_ns,
                   (extract(epoch FROM p_span.end_time) * 1000000)::bigint * 1000 AS end_ns,
                   round(p_span.duration_ms * 1000000)::bigint AS duration_ns
        ), placed AS (
            SELECT t.start_ns + least(greatest(t.end_ns - t.start_ns - t.duration_ns, 0), 999) AS start_ns, t.duration_ns
            FROM t
        )
        SELECT jsonb_strip_nulls(jsonb_build_object(
            'traceId', observability.hex_trace_id(p_span.trace_id),
            'spanId', observability.hex_span_id(p_span.span_id),
            'parentSpanId', observability.hex_span_id(p_span.parent_span_id),
            'name', p_span.name,
            'kind', array_position(ARRAY['internal', 'server', 'client', 'producer', 'consumer'], p_span.kind),
            'startTimeUnixNano', placed.start_ns::text,
            'endTimeUnixNano', (placed.start_ns + placed.duration_ns)::text,
            'attributes', observability_internal.otlp_key_values(p_span.attributes),
            'events', (SELECT jsonb_agg(jsonb_build_object(
                                'timeUnixNano', observability_internal.otlp_unix_nano((e.value ->> 'time')::timestamptz),
                                'name', e.value ->> 'name',
                                'attributes', observability_internal.otlp_key_values(coalesce(e.value -> 'attributes', '{}'::jsonb)))
                            ORDER BY e.ordinality)
                       FROM jsonb_array_elements(p_span.events) WITH ORDINALITY e),
            'status', jsonb_build_object(
                'code', array_position(ARRAY['unset', 'ok', 'error'], p_span.status) - 1,
                'message', p_span.status_message)))
        FROM placed
    );

-- MARK: Traces

-- Every stored span of one trace as one OTLP/JSON ExportTraceServiceRequest: a
-- resourceSpans entry per distinct resource, a scopeSpans entry per scope within it, spans
-- in start order. NULL when the trace is unknown. Reads only the trace's own days (its
-- times from observability.traces), through the spans' trace index.
CREATE FUNCTION observability.trace_otlp(p_trace_id uuid) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (
        WITH trace AS (
            SELECT t.start_time, t.end_time FROM observability.traces t WHERE t.trace_id = p_trace_id
        ), span AS (
            SELECT s.resource_attributes, s.scope_name, s.start_time, s.span_id, observability_internal.otlp_span(s) AS otlp
            FROM observability.spans s, trace
            WHERE s.trace_id = p_trace_id AND s.start_time >= trace.start_time AND s.start_time <= trace.end_time
        ), scope AS (
            SELECT sp.resource_attributes, sp.scope_name, min(sp.start_time) AS first_start,
                   jsonb_strip_nulls(jsonb_build_object(
                       'scope', CASE WHEN sp.scope_name IS NOT NULL THEN jsonb_build_object('name', sp.scope_name) END,
                       'spans', jsonb_agg(sp.otlp ORDER BY sp.start_time, sp.span_id))) AS otlp
            FROM span sp
            GROUP BY sp.resource_attributes, sp.scope_name
        ), resource AS (
            SELECT min(sc.first_start) AS first_start,
                   jsonb_build_object(
                       'resource', jsonb_build_object('attributes', observability_internal.otlp_key_values(sc.resource_attributes)),
                       'scopeSpans', jsonb_agg(sc.otlp ORDER BY sc.first_start, sc.scope_name)) AS otlp
            FROM scope sc
            GROUP BY sc.resource_attributes
        )
        SELECT CASE WHEN EXISTS (SELECT 1 FROM trace)
                    THEN jsonb_build_object('resourceSpans',
                             coalesce((SELECT jsonb_agg(r.otlp ORDER BY r.first_start, r.otlp) FROM resource r), '[]'::jsonb))
               END
    );

COMMENT ON FUNCTION observability.trace_otlp(uuid) IS 'One trace as an OTLP/JSON export request (the body POST /v1/traces accepts): what is stored, times to the microsecond. NULL for an unknown trace. See docs/sql.md.';

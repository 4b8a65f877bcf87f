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

-- An array or a map as an OTLP AnyValue: PL/pgSQL because these recurse, which a SQL
-- function's body cannot (it must name only functions that exist when it is created).
CREATE FUNCTION observability_internal.otlp_nested_value(p_value jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    IF jsonb_typeof(p_value) = 'array' THEN
        RETURN jsonb_build_object('arrayValue', jsonb_build_object('values',
            (SELECT coalesce(jsonb_agg(observability_internal.otlp_any_value(e.value) ORDER BY e.ordinality), '[]'::jsonb)
             FROM jsonb_array_elements(p_value) WITH ORDINALITY e)));
    ELSIF jsonb_typeof(p_value) = 'object' THEN
        RETURN jsonb_build_object('kvlistValue', jsonb_build_object('values',
            observability_internal.otlp_key_values(p_value)));
    END IF;
    -- JSON null: no stored value is one; an empty AnyValue is what it would mean.
    RETURN '{}'::jsonb;
END
$$;

-- One stored attribute value as an OTLP AnyValue. jsonb keeps a number's text, so a number
-- without a fraction or an exponent was an integer when it arrived (the service writes
-- doubles as Swift prints them, always with a '.' or an 'e'); one outside the 64-bit range
-- can only have been a double that jsonb normalized (1e+20 is stored as
-- 100000000000000000000), and is exported as one. Bytes were stored as base64 text and
-- non-finite doubles as the strings "NaN" and "Infinity": they come back as strings, which
-- store the same text again. intValue is a string, as OTLP/JSON writes 64-bit integers.
-- Scalars, nearly every value, stay in SQL, which PostgreSQL inlines; STABLE, not
-- IMMUTABLE, because jsonb_build_object is, and an IMMUTABLE function with a STABLE body
-- is not inlined (2.3 times slower per value, measured).
CREATE FUNCTION observability_internal.otlp_any_value(p_value jsonb) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE jsonb_typeof(p_value)
        WHEN 'string' THEN jsonb_build_object('stringValue', p_value)
        WHEN 'boolean' THEN jsonb_build_object('boolValue', p_value)
        WHEN 'number' THEN
            CASE WHEN p_value::text ~ '^-?[0-9]+$'
                      AND p_value::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
                 THEN jsonb_build_object('intValue', p_value::text)
                 ELSE jsonb_build_object('doubleValue', p_value) END
        ELSE observability_internal.otlp_nested_value(p_value)
    END;

-- A stored attribute object as OTLP's list of {key, value}, in jsonb's key order (the
-- order they are stored in again on import).
CREATE FUNCTION observability_internal.otlp_key_values(p_object jsonb) RETURNS jsonb
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('key', a.key, 'value', observability_internal.otlp_any_value(a.value))
                                      ORDER BY a.ordinality), '[]'::jsonb)
            FROM jsonb_each(p_object) WITH ORDINALITY a);

-- A time as microseconds since the epoch: PostgreSQL's precision, exactly.
CREATE FUNCTION observability_internal.otlp_unix_micros(p_time timestamp with time zone) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (extract(epoch FROM p_time) * 1000000)::bigint;

-- A time as OTLP's nanoseconds since the epoch, as a string (OTLP/JSON's 64-bit integers).
CREATE FUNCTION observability_internal.otlp_unix_nano(p_time timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (observability_internal.otlp_unix_micros(p_time) * 1000)::text;

-- MARK: Spans

-- Where a span starts, in nanoseconds. Times are stored to the microsecond and the
-- duration to the nanosecond, so the start is placed within its microsecond where the
-- end, start plus duration, falls in the stored end's microsecond: stored again, the
-- start, the end and the duration are all the same as before. Not STRICT, so that
-- PostgreSQL inlines it (least and greatest are not strict); its arguments are NOT NULL columns.
CREATE FUNCTION observability_internal.otlp_start_nano(p_start timestamp with time zone, p_end timestamp with time zone,
                                                      p_duration_ms double precision) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN observability_internal.otlp_unix_micros(p_start) * 1000
           + least(greatest((observability_internal.otlp_unix_micros(p_end) - observability_internal.otlp_unix_micros(p_start)) * 1000
                            - round(p_duration_ms * 1000000)::bigint, 0), 999);

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
            -- Each span as OTLP/JSON writes it: fields without a value (a root's parent, an
            -- unspecified kind, no events, no status message) left out. Written here rather
            -- than as a function of a span: a SQL function taking a row is not inlined, and
            -- calling one per span took most of the time.
            SELECT s.resource_attributes, s.scope_name, s.start_time, s.span_id,
                   jsonb_strip_nulls(jsonb_build_object(
                       'traceId', observability.hex_trace_id(s.trace_id),
                       'spanId', observability.hex_span_id(s.span_id),
                       'parentSpanId', observability.hex_span_id(s.parent_span_id),
                       'name', s.name,
                       'kind', array_position(ARRAY['internal', 'server', 'client', 'producer', 'consumer'], s.kind),
                       'startTimeUnixNano', t.start_ns::text,
                       'endTimeUnixNano', (t.start_ns + round(s.duration_ms * 1000000)::bigint)::text))
                   || jsonb_build_object('attributes', observability_internal.otlp_key_values(s.attributes))
                   || CASE WHEN jsonb_array_length(s.events) > 0 THEN jsonb_build_object('events',
                          (SELECT jsonb_agg(jsonb_build_object(
                                      'timeUnixNano', observability_internal.otlp_unix_nano((e.value ->> 'time')::timestamptz),
                                      'name', e.value ->> 'name',
                                      'attributes',
                                          observability_internal.otlp_key_values(coalesce(e.value -> 'attributes', '{}'::jsonb)))
                                  ORDER BY e.ordinality)
                           FROM jsonb_array_elements(s.events) WITH ORDINALITY e)) ELSE '{}'::jsonb END
                   || jsonb_build_object('status', jsonb_strip_nulls(jsonb_build_object(
                          'code', array_position(ARRAY['unset', 'ok', 'error'], s.status) - 1,
                          'message', s.status_message))) AS otlp
            FROM observability.spans s, trace,
                 LATERAL (SELECT observability_internal.otlp_start_nano(s.start_time, s.end_time, s.duration_ms) AS start_ns) t
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

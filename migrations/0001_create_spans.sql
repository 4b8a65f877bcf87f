-- Spans, one row each, partitioned by day of start time so that retention drops a
-- whole day in O(1) instead of deleting millions of rows.
--
-- Ids are stored in their binary widths (uuid for the 16-byte trace id, bigint for the
-- 8-byte span ids, bit-for-bit); the hex_* functions give the W3C hex form back.

CREATE SCHEMA IF NOT EXISTS observability;

CREATE TABLE observability.spans (
    trace_id            uuid             NOT NULL,
    span_id             bigint           NOT NULL,
    parent_span_id      bigint,
    name                text             NOT NULL,
    kind                text             NOT NULL
        CHECK (kind IN ('unspecified', 'internal', 'server', 'client', 'producer', 'consumer')),
    operation           text             NOT NULL
        CHECK (operation IN ('tool_invoke', 'prompt_render', 'resource_fetch', 'http_request', 'db_query', 'internal')),
    target              text,
    service_name        text             NOT NULL,
    scope_name          text,
    start_time          timestamptz      NOT NULL,
    end_time            timestamptz      NOT NULL,
    duration_ms         double precision NOT NULL,
    status              text             NOT NULL CHECK (status IN ('ok', 'error', 'unset')),
    status_message      text,
    attributes          jsonb            NOT NULL DEFAULT '{}',
    resource_attributes jsonb            NOT NULL DEFAULT '{}',
    events              jsonb            NOT NULL DEFAULT '[]'
) PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.spans IS
    'One row per span; daily RANGE partitions spans_pYYYYMMDD (UTC) plus spans_default for times outside them.';
COMMENT ON COLUMN observability.spans.operation IS
    'What the span did, classified once at ingest: tool_invoke, prompt_render, resource_fetch, http_request, db_query, internal.';
COMMENT ON COLUMN observability.spans.target IS
    'The name dashboards group by: tool name, prompt name, resource URI, HTTP route or SQL operation.';
COMMENT ON COLUMN observability.spans.events IS
    'Span events as a JSON array of {name, time, attributes}; see the span_events view for one row per event.';

-- Catches spans whose day has no partition yet (clock skew, replays of old data), so no
-- span is ever refused for its timestamp; ensure_partitions() moves those of the last
-- 400 days into partitions of their own.
CREATE TABLE observability.spans_default PARTITION OF observability.spans DEFAULT;

-- Trace detail: every span of one trace. Unique, so that a retried export whose spans were
-- already committed is recognised and stored once.
CREATE UNIQUE INDEX spans_trace_span_idx ON observability.spans (trace_id, span_id, start_time);
-- Metrics per operation and target over a time range.
CREATE INDEX spans_operation_target_time_idx ON observability.spans (operation, target, start_time);
-- Failed spans by time.
CREATE INDEX spans_errors_time_idx ON observability.spans (start_time) WHERE status = 'error';

-- The W3C hex form of a trace id (32 lowercase hex digits).
CREATE FUNCTION observability.hex_trace_id(p_trace_id uuid) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN replace(p_trace_id::text, '-', '');

-- The W3C hex form of a span id (16 lowercase hex digits); bigint holds the 8 bytes as is.
CREATE FUNCTION observability.hex_span_id(p_span_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lpad(to_hex(p_span_id), 16, '0');

-- A hex span id back to the stored bigint, for psql users who paste ids from the UI.
CREATE FUNCTION observability.span_id_from_hex(p_hex text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('x' || lpad(p_hex, 16, '0'))::bit(64)::bigint;

-- Fills observability.spans and observability.traces of a migrated database with small
-- gateway spans, for `make bench-bytes` and `make bench-compaction`: :traces traces
-- (default 75,000) spread over the UTC day before today, four spans each, as a gateway's
-- OpenTelemetry SDK sends them:
--
--   POST /mcp              HTTP server span  (asgi instrumentation), 4 attributes
--     tools/call <tool>    MCP server span   (mcp.server), 4 attributes, one of 8 tools
--       GET api.internal   HTTP client span  (httpx), 3 attributes
--       SELECT docs        database span     (asyncpg), 3 attributes
--
-- Four gateway processes, each with an 8-key resource (service, version, instance id,
-- host, pid, SDK name, language and version: about 280 bytes), the resource of a real
-- Python process. Rows are written as a store from before migration 0018 holds them,
-- with the resource inline in every span, so that the benchmark measures the layout
-- before and after compact_span_partition() on the same rows.
--
--   psql -v traces=75000 -f sql/bench/generate_gateway_spans.sql
\set ON_ERROR_STOP on
\if :{?traces}
\else
\set traces 75000
\endif
SELECT setseed(0.17);

CREATE TEMP TABLE gen_trace AS
SELECT md5('gateway ' || n)::uuid AS trace_id,
       n,
       date_trunc('day', now() - interval '1 day') + (n::double precision / :traces) * interval '1 day' AS start_time,
       n % 4 AS process,
       n % 8 AS tool,
       random() < 0.03 AS failed,
       5 + random() * 200 AS tool_ms
FROM generate_series(0, :traces - 1) AS n;

INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                 scope_name, start_time, end_time, duration_ms, status, status_message,
                                 attributes, resource_attributes, events)
SELECT t.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.operation, s.target, 'mcp-gateway', s.scope,
       t.start_time + s.offset_ms * interval '1 millisecond',
       t.start_time + (s.offset_ms + s.duration_ms) * interval '1 millisecond',
       s.duration_ms, s.status, s.message, s.attributes,
       jsonb_build_object(
           'service.name', 'mcp-gateway',
           'service.version', '2.4.1',
           'service.instance.id', md5('instance ' || t.process)::uuid::text,
           'host.name', 'gateway-' || t.process || '.prod.internal',
           'process.pid', 4100 + t.process,
           'telemetry.sdk.name', 'opentelemetry',
           'telemetry.sdk.language', 'python',
           'telemetry.sdk.version', '1.38.0'),
       '[]'::jsonb
FROM gen_trace t
CROSS JOIN LATERAL (VALUES
    (t.n * 4 + 1, NULL::bigint, 'POST /mcp', 'server', 'http_request', 'POST /mcp',
     'opentelemetry.instrumentation.asgi', 0.0, t.tool_ms + 3, 'unset', NULL::text,
     jsonb_build_object('http.request.method', 'POST', 'http.route', '/mcp', 'url.scheme', 'https',
                        'http.response.status_code', 200)),
    (t.n * 4 + 2, t.n * 4 + 1, 'tools/call tool_' || t.tool, 'server', 'tool_invoke', 'tool_' || t.tool,
     'mcp.server', 1.0, t.tool_ms, CASE WHEN t.failed THEN 'error' ELSE 'ok' END,
     CASE WHEN t.failed THEN 'upstream timed out' END,
     jsonb_build_object('mcp.method.name', 'tools/call', 'gen_ai.tool.name', 'tool_' || t.tool,
                        'mcp.session.id', md5('session ' || t.n / 20), 'jsonrpc.request.id', t.n % 1000)),
    (t.n * 4 + 3, t.n * 4 + 2, 'GET', 'client', 'http_request', 'GET api.internal',
     'opentelemetry.instrumentation.httpx', 2.0, t.tool_ms * 0.6, 'unset', NULL,
     jsonb_build_object('http.request.method', 'GET', 'server.address', 'api.internal',
                        'http.response.status_code', 200)),
    (t.n * 4 + 4, t.n * 4 + 2, 'SELECT docs', 'client', 'db_query', 'SELECT',
     'opentelemetry.instrumentation.asyncpg', 2.0 + t.tool_ms * 0.6, t.tool_ms * 0.3, 'unset', NULL,
     jsonb_build_object('db.system.name', 'postgresql', 'db.operation.name', 'SELECT',
                        'db.query.text', 'SELECT body FROM docs WHERE id = $1'))
) AS s(span_id, parent_span_id, name, kind, operation, target, scope, offset_ms, duration_ms, status, message,
       attributes)
ORDER BY t.start_time, s.span_id;

INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time,
                                  span_count, error_count)
SELECT t.trace_id, t.n * 4 + 1, 'POST /mcp', 'mcp-gateway', t.start_time,
       t.start_time + (t.tool_ms + 3) * interval '1 millisecond', 4, CASE WHEN t.failed THEN 1 ELSE 0 END
FROM gen_trace t
ORDER BY t.start_time;

VACUUM (ANALYZE) observability.traces;
VACUUM (ANALYZE) observability.spans;

-- Fills observability.spans and observability.traces of an already migrated database with
-- MCP requests shaped the way real libraries record them (docs/sql.md "Calls",
-- /work/shared/MCP-SPAN-SHAPES.md), for the call assembly benchmark (make bench-assembly).
-- generate_spans.sql, which the dashboard benchmark uses, records each MCP operation as
-- one span of one service; here one request is two to thirteen spans in two or three
-- services, which is what assemble_calls() has to take apart.
--
--   psql "$URL" -v spans=1000000 -v hours=1 -v seed=0.42 -f sql/bench/generate_mcp_calls.sql
--
-- Variables (all optional):
--   spans   spans wanted, at least 1,000 (default 1000000); the last chunk overshoots by
--           at most a few dozen spans
--   hours   the traces start uniformly over the last :hours hours ending a minute before
--           now, 1 to 720 (default 1)
--   seed    a number in [-1, 1] for setseed() (default 0.42); trace ids derive from it, so
--           use a fresh database for each run
--
-- Trace shapes (shares of traces of the main kind; a split request adds traces):
--   * FastMCP, 50 %: root `POST /chat` (server, agent-api) or `POST /v1/messages`
--     (server, support-bot); 1 to 4 requests, one after another, each:
--       `tools/call X` (client, scope fastmcp: mcp.method.name, gen_ai.tool.name, …)
--         `MCP send tools/call X` (client, scope mcp-python-sdk: mcp.method.name, jsonrpc.request.id)
--           `tools/call X` (server, in the tool's server, e.g. weather-server: fastmcp.server.name,
--                          mcp.session.id, mcp.protocol.version, jsonrpc.request.id, …)
--             0 to 2 db_query / http_request client spans
--     80 % tools/call, 8 % prompts/get (`prompts/get X`), 12 % resources/read
--     (`resources/read`, mcp.resource.uri; the SDK's `MCP send resources/read` names no URI).
--   * FastMCP split by an ASGI instrumentation, 10 %: the same client spans, while each
--     server span sits under its own `POST /mcp` server span in a trace of its own.
--   * ContextForge gateway, 25 %: root `POST /rpc` (server, contextforge); 1 request (2 in
--     a fifth), each: tool.invoke (tool.name = gateway name, e.g. weather-server-get-weather,
--     success) > tool.lookup, tool.gateway_call > mcp.client.call (mcp.tool.name, url.full,
--     contextforge.transport) > `MCP send server/discover`, mcp.client.initialize,
--     mcp.client.request > `MCP send tools/call X` (client) > `POST` (client, http) >
--     [half the time: the upstream's FastMCP server span `tools/call X` and 0-1 child] ;
--     mcp.client.response (upstream.response.success) under mcp.client.call; tool.post_process.
--   * Plain HTTP service, 15 %: root `GET /api/orders` (server, shop-api) with 2 to 8
--     db_query / http_request children; no MCP at all.
-- About 11.5 spans per trace on average. operation and target are what ingest
-- (OperationClassifier) gives these spans: tool_invoke / prompt_render / resource_fetch
-- for the MCP spans that name their method or tool (the SDK span of a resources/read has
-- no target), http_request and db_query for the HTTP and SQL spans, internal for
-- tool.lookup, tool.gateway_call, tool.post_process, mcp.client.initialize and
-- `MCP send server/discover`. Failures per tool (0.5 % to 63 %) follow each library:
-- FastMCP marks a failed tool on its client span only (error.type tool_error), a failed
-- resource or prompt on every span; ContextForge on tool.invoke and mcp.client.response
-- (success=false, which ingest turns into status error).
--
-- traces rows: bounds, root, counts as ingest_spans() keeps them; updated_at is when the
-- last export of the trace arrived: its end plus 0.2 to 5 s (the SDK batch processor),
-- plus up to 5 s more when several services exported parts of it.
--
-- Spans go straight into observability.spans, in start order, about 20,000 traces per
-- transaction (a procedure that commits per chunk); ends with VACUUM (ANALYZE).
-- Session settings: work_mem 256MB, synchronous_commit off, jit off.

\set ON_ERROR_STOP on
\set QUIET on
\if :{?spans}
\else
    \set spans 1000000
\endif
\if :{?hours}
\else
    \set hours 1
\endif
\if :{?seed}
\else
    \set seed 0.42
\endif

SELECT (:spans::bigint >= 1000 AND :hours::integer BETWEEN 1 AND 720 AND :seed::double precision BETWEEN -1 AND 1)
    AS generate_args_ok \gset
\if :generate_args_ok
\else
    DO $$ BEGIN RAISE EXCEPTION 'generate_mcp_calls.sql: need spans >= 1000, hours between 1 and 720, seed in [-1, 1]'; END $$;
\endif

SET work_mem = '256MB';
SET temp_buffers = '256MB';
SET synchronous_commit = off;
SET jit = off;
SET client_min_messages = warning;
\pset footer off

SELECT now() - interval '1 minute' AS gen_until, clock_timestamp() AS gen_started \gset

\echo '== generating about' :spans 'spans of MCP requests over the' :hours 'hours before' :'gen_until'
SELECT count(*) AS partitions_created
FROM observability.ensure_partitions(p_days_back => :hours / 24 + 1, p_days_ahead => 1, p_now => :'gen_until');

-- MCP servers and what they offer. kind t (tool), p (prompt), r (resource); median_ms and
-- sigma of the log-normal duration, error_rate.
CREATE TEMP TABLE gen_target (
    id integer, server text, kind "char", name text, median_ms double precision, sigma double precision,
    error_rate double precision);
INSERT INTO gen_target
SELECT row_number() OVER ()::integer, v.*
FROM (VALUES
    ('weather-server', 't', 'get_weather', 140, 0.45, 0.03),
    ('weather-server', 't', 'get_forecast', 180, 0.45, 0.02),
    ('weather-server', 't', 'geocode_address', 75, 0.4, 0.02),
    ('docs-server', 't', 'search_docs', 120, 0.5, 0.01),
    ('docs-server', 't', 'read_file', 8, 0.6, 0.02),
    ('docs-server', 't', 'summarize_document', 900, 0.4, 0.03),
    ('docs-server', 't', 'list_directory', 6, 0.5, 0.005),
    ('crm-server', 't', 'get_customer', 30, 0.5, 0.01),
    ('crm-server', 't', 'update_customer', 40, 0.5, 0.03),
    ('crm-server', 't', 'legacy_crm_lookup', 2200, 0.8, 0.58),
    ('crm-server', 't', 'create_invoice', 180, 0.5, 0.02),
    ('code-server', 't', 'run_code', 3000, 0.9, 0.17),
    ('code-server', 't', 'github_search_code', 350, 0.5, 0.02),
    ('code-server', 't', 'github_create_pr', 650, 0.4, 0.06),
    ('web-server', 't', 'web_search', 1500, 0.6, 0.11),
    ('web-server', 't', 'fetch_url', 450, 0.7, 0.09),
    ('web-server', 't', 'scrape_website', 1200, 0.9, 0.63),
    ('docs-server', 'p', 'code_review', 15, 0.5, 0.02),
    ('docs-server', 'p', 'summarize_thread', 12, 0.5, 0.01),
    ('crm-server', 'p', 'draft_email', 10, 0.4, 0.08),
    ('docs-server', 'r', 'file:///docs/README.md', 3, 0.5, 0.005),
    ('docs-server', 'r', 'file:///docs/api/reference.md', 4, 0.5, 0.01),
    ('crm-server', 'r', 'db://customers/accounts', 25, 0.6, 0.02),
    ('docs-server', 'r', 'file:///docs/drafts/roadmap.md', 4, 0.5, 0.55)
) AS v(server, kind, name, median_ms, sigma, error_rate);

-- What server code calls below an MCP server span or an HTTP handler.
CREATE TEMP TABLE gen_down (id integer, kind "char", name text, target text, attrs jsonb, median_ms double precision);
INSERT INTO gen_down
SELECT row_number() OVER ()::integer, v.kind, v.name, v.target,
       CASE v.kind
           WHEN 'd' THEN jsonb_build_object('db.system.name', 'postgresql', 'db.operation.name', v.target,
                                            'db.collection.name', split_part(v.name, ' ', 2), 'db.query.text', v.text)
           ELSE jsonb_build_object('http.request.method', v.name, 'url.full', v.text,
                                   'server.address', split_part(split_part(v.text, '://', 2), '/', 1),
                                   'http.response.status_code', 200)
       END,
       v.median_ms
FROM (VALUES
    ('d', 'SELECT customers', 'SELECT', 'SELECT id, name, email FROM customers WHERE id = ?', 2),
    ('d', 'SELECT orders', 'SELECT', 'SELECT * FROM orders WHERE customer_id = ? AND status = ?', 4),
    ('d', 'INSERT audit_log', 'INSERT', 'INSERT INTO audit_log (tool, user_id, created_at) VALUES (?, ?, ?)', 2),
    ('d', 'UPDATE sessions', 'UPDATE', 'UPDATE sessions SET last_seen_at = now() WHERE id = ?', 3),
    ('h', 'GET', 'GET /v1/forecast', 'https://api.weather.example/v1/forecast', 120),
    ('h', 'POST', 'POST /v1/embeddings', 'https://api.llm.example/v1/embeddings', 90),
    ('h', 'GET', 'GET /search/code', 'https://api.github.com/search/code', 250)
) AS v(kind, name, target, text, median_ms);

-- The spans of one request, per shape: f (FastMCP), s (FastMCP split: part b is the
-- server's own trace), g (ContextForge gateway), p (plain HTTP child). parent 0 is the
-- trace's root, NULL none (a root of its own). sf, ef: start and end as fractions of the
-- request's duration. min_children: present when the request has that many children;
-- upstream: present only when the gateway's upstream is instrumented.
CREATE TEMP TABLE gen_node (
    shape "char", node integer, parent integer, part "char", sf double precision, ef double precision,
    min_children integer, upstream boolean);
INSERT INTO gen_node VALUES
    ('f', 1, 0, 'a', 0, 1, 0, false),
    ('f', 2, 1, 'a', 0.005, 0.995, 0, false),
    ('f', 3, 2, 'a', 0.03, 0.97, 0, false),
    ('f', 4, 3, 'a', 0.08, 0.45, 1, false),
    ('f', 5, 3, 'a', 0.5, 0.9, 2, false),
    ('s', 1, 0, 'a', 0, 1, 0, false),
    ('s', 2, 1, 'a', 0.005, 0.995, 0, false),
    ('s', 20, NULL, 'b', 0.025, 0.975, 0, false),
    ('s', 3, 20, 'b', 0.03, 0.97, 0, false),
    ('s', 4, 3, 'b', 0.08, 0.45, 1, false),
    ('s', 5, 3, 'b', 0.5, 0.9, 2, false),
    ('g', 41, 0, 'a', 0, 1, 0, false),
    ('g', 42, 41, 'a', 0.002, 0.02, 0, false),
    ('g', 43, 41, 'a', 0.02, 0.96, 0, false),
    ('g', 44, 43, 'a', 0.025, 0.955, 0, false),
    ('g', 45, 44, 'a', 0.03, 0.06, 0, false),
    ('g', 46, 44, 'a', 0.06, 0.1, 0, false),
    ('g', 47, 44, 'a', 0.1, 0.93, 0, false),
    ('g', 48, 47, 'a', 0.105, 0.925, 0, false),
    ('g', 49, 48, 'a', 0.11, 0.92, 0, false),
    ('g', 50, 49, 'a', 0.13, 0.9, 0, true),
    ('g', 51, 50, 'a', 0.2, 0.8, 1, true),
    ('g', 52, 44, 'a', 0.93, 0.95, 0, false),
    ('g', 53, 41, 'a', 0.96, 0.995, 0, false),
    ('p', 30, 0, 'a', 0.02, 0.98, 0, false);

-- A standard normal draw (Box-Muller), for log-normal durations.
CREATE FUNCTION pg_temp.normal() RETURNS double precision
    LANGUAGE sql VOLATILE
    RETURN sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random());

-- A span id from its place in the generated traffic: stable across the parent and child
-- rows that name it, spread over the whole 64-bit range like random ids.
CREATE FUNCTION pg_temp.span_id(p_n bigint, p_i integer, p_node integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    RETURN hashtextextended(p_n || '.' || p_i || '.' || p_node, 7);

CREATE TEMP TABLE gen_span (LIKE observability.spans);

-- Traces p_first .. p_first + p_count - 1, starting uniformly in [p_from, p_until):
-- staged in gen_span, then written to spans (start order) and traces. Returns the spans
-- written.
CREATE FUNCTION pg_temp.generate_chunk(p_prefix text, p_first bigint, p_count integer, p_from timestamptz,
                                       p_until timestamptz) RETURNS bigint
    LANGUAGE plpgsql AS
$fn$
DECLARE
    v_tools     integer[];
    v_prompts   integer[];
    v_resources integer[];
    v_downs     integer;
    v_spans     bigint;
BEGIN
    SELECT array_agg(id ORDER BY id) FILTER (WHERE kind = 't'), array_agg(id ORDER BY id) FILTER (WHERE kind = 'p'),
           array_agg(id ORDER BY id) FILTER (WHERE kind = 'r')
      INTO v_tools, v_prompts, v_resources
      FROM pg_temp.gen_target;
    SELECT count(*) INTO v_downs FROM pg_temp.gen_down;

    TRUNCATE pg_temp.gen_span;
    WITH trace AS (
        SELECT p_first + x AS n,
               p_from + (p_until - p_from) * ((x + random()) / p_count) AS t0,
               CASE WHEN r < 0.5 THEN 'f' WHEN r < 0.6 THEN 's' WHEN r < 0.85 THEN 'g' ELSE 'p' END::"char" AS shape,
               random() < 0.7 AS agent_api
        FROM (SELECT x, random() AS r FROM generate_series(0, p_count - 1) AS x) t
    ),
    -- One row per request (per child for the plain shape), with what it calls and how long it takes.
    request AS (
        SELECT t.n, t.t0, t.shape, t.agent_api, i, q.cat, q.err, q.children, q.upstream,
               CASE WHEN t.shape = 'p' THEN 2 + 30 * exp(pg_temp.normal())
                    ELSE greatest(1, g.median_ms * exp(g.sigma * pg_temp.normal()))
                         * CASE WHEN t.shape = 'g' THEN 1.3 ELSE 1 END
                         + CASE WHEN t.shape = 'g' THEN 15 ELSE 0 END
               END AS d_ms,
               g.kind, g.name, g.server
        FROM trace t
        CROSS JOIN LATERAL generate_series(1, CASE t.shape WHEN 'p' THEN 2 + floor(random() * 7)::integer
                                                            WHEN 'g' THEN 1 + (random() < 0.2)::integer
                                                            ELSE 1 + floor(random() * 4)::integer END) AS i
        CROSS JOIN LATERAL (
            SELECT c.cat, random() < (SELECT e.error_rate FROM pg_temp.gen_target e WHERE e.id = c.cat) AS err,
                   floor(random() * CASE WHEN t.shape = 'g' THEN 2 ELSE 3 END)::integer AS children,
                   random() < 0.5 AS upstream
            FROM (SELECT CASE WHEN t.shape = 'p' THEN 1 + floor(random() * v_downs)::integer
                              WHEN t.shape = 'g' OR u < 0.8 THEN v_tools[1 + floor(random() * cardinality(v_tools))::integer]
                              WHEN u < 0.88 THEN v_prompts[1 + floor(random() * cardinality(v_prompts))::integer]
                              ELSE v_resources[1 + floor(random() * cardinality(v_resources))::integer]
                         END AS cat
                  FROM (SELECT random() AS u, i) z) c
        ) q
        LEFT JOIN pg_temp.gen_target g ON g.id = q.cat AND t.shape <> 'p'
    ),
    placed AS (
        SELECT r.*,
               r.t0 + (2 + coalesce(sum(r.d_ms + 1) OVER (PARTITION BY r.n ORDER BY r.i
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))
                      * interval '1 millisecond' AS r_start,
               r.t0 + (3 + sum(r.d_ms + 1) OVER (PARTITION BY r.n)) * interval '1 millisecond' AS t_end
        FROM request r
    ),
    roots AS (
        SELECT DISTINCT ON (p.n) p.n, p.t0, p.t_end, p.shape, p.agent_api FROM placed p ORDER BY p.n
    ),
    span AS (
        -- The requests' spans.
        SELECT p.n, p.i, o.node, o.parent, o.part, p.shape, p.agent_api, p.cat, p.err, p.kind AS tkind,
               p.name AS tname, p.server, p.children,
               p.r_start + p.d_ms * o.sf * interval '1 millisecond' AS s_start,
               p.r_start + p.d_ms * o.ef * interval '1 millisecond' AS s_end,
               CASE WHEN o.node IN (4, 5, 51, 30) THEN
                        CASE WHEN p.shape = 'p' THEN p.cat ELSE 1 + floor(random() * v_downs)::integer END
               END AS down
        FROM placed p
        JOIN pg_temp.gen_node o ON o.shape = p.shape AND p.children >= o.min_children AND (p.upstream OR NOT o.upstream)
        UNION ALL
        -- The roots.
        SELECT r.n, 0, 0, NULL, 'a', r.shape, r.agent_api, NULL, false, NULL, NULL, NULL, 0, r.t0, r.t_end, NULL
        FROM roots r
    ),
    named AS (
        SELECT s.*,
               CASE WHEN s.part = 'b' THEN md5(p_prefix || s.n || 'b' || s.i) ELSE md5(p_prefix || s.n) END::uuid
                   AS trace_id,
               CASE s.tkind WHEN 't' THEN 'tools/call' WHEN 'p' THEN 'prompts/get' ELSE 'resources/read' END AS method,
               CASE s.tkind WHEN 't' THEN 'tool_invoke' WHEN 'p' THEN 'prompt_render' ELSE 'resource_fetch' END AS op,
               CASE s.tkind WHEN 't' THEN 'tools/call ' || s.tname WHEN 'p' THEN 'prompts/get ' || s.tname
                            ELSE 'resources/read' END AS call_name,
               CASE s.tkind WHEN 't' THEN jsonb_build_object('gen_ai.tool.name', s.tname, 'gen_ai.operation.name', 'execute_tool')
                            WHEN 'p' THEN jsonb_build_object('gen_ai.prompt.name', s.tname)
                            ELSE jsonb_build_object('mcp.resource.uri', s.tname) END AS names,
               CASE s.tkind WHEN 't' THEN 'tool' WHEN 'p' THEN 'prompt' ELSE 'resource' END AS component,
               s.server || '-' || replace(s.tname, '_', '-') AS gateway_name,
               'http://' || s.server || ':8000/mcp' AS upstream_url,
               CASE WHEN s.shape = 'g' THEN 'contextforge' WHEN s.shape = 'p' THEN 'shop-api' WHEN s.agent_api THEN 'agent-api'
                    ELSE 'support-bot' END AS caller,
               -- A failed tool marks FastMCP's client span only; a failed prompt or resource every span.
               s.err AND s.tkind <> 't' AS err_all,
               md5(p_prefix || 'session' || s.n) AS session
        FROM span s
    ),
    spanrow AS (
        SELECT n.trace_id,
               pg_temp.span_id(n.n, n.i, n.node) AS span_id,
               CASE WHEN n.parent IS NULL THEN NULL
                    WHEN n.parent = 0 THEN pg_temp.span_id(n.n, 0, 0)
                    ELSE pg_temp.span_id(n.n, n.i, n.parent) END AS parent_span_id,
               n.node, n.s_start, n.s_end, n.err, n.err_all, n.shape, n.caller, n.server, n.method, n.op, n.call_name,
               n.names, n.component, n.tname, n.gateway_name, n.upstream_url, n.session, n.i, d.kind AS dkind,
               d.name AS dname, d.target AS dtarget, d.attrs AS dattrs, d.median_ms AS dmedian
        FROM named n
        LEFT JOIN pg_temp.gen_down d ON d.id = n.down
    )
    INSERT INTO pg_temp.gen_span (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name,
                                  scope_name, start_time, end_time, duration_ms, status, status_message, attributes,
                                  resource_attributes, events)
    SELECT r.trace_id, r.span_id, r.parent_span_id, x.name, x.kind, x.operation, x.target, x.service,
           x.scope, r.s_start, r.s_end, extract(epoch FROM r.s_end - r.s_start) * 1000, x.status,
           CASE WHEN x.status = 'error' THEN x.message END,
           x.attributes, jsonb_build_object('service.name', x.service, 'telemetry.sdk.language', 'python'), '[]'::jsonb
    FROM spanrow r
    CROSS JOIN LATERAL (
        SELECT
            CASE r.node
                WHEN 0 THEN CASE r.shape WHEN 'g' THEN 'POST /rpc' WHEN 'p' THEN 'GET /api/orders'
                                         ELSE CASE WHEN r.caller = 'agent-api' THEN 'POST /chat' ELSE 'POST /v1/messages' END END
                WHEN 1 THEN r.call_name
                WHEN 2 THEN 'MCP send ' || r.call_name
                WHEN 3 THEN r.call_name
                WHEN 20 THEN 'POST /mcp'
                WHEN 41 THEN 'tool.invoke'
                WHEN 42 THEN 'tool.lookup'
                WHEN 43 THEN 'tool.gateway_call'
                WHEN 44 THEN 'mcp.client.call'
                WHEN 45 THEN 'MCP send server/discover'
                WHEN 46 THEN 'mcp.client.initialize'
                WHEN 47 THEN 'mcp.client.request'
                WHEN 48 THEN 'MCP send ' || r.call_name
                WHEN 49 THEN 'POST'
                WHEN 50 THEN r.call_name
                WHEN 52 THEN 'mcp.client.response'
                WHEN 53 THEN 'tool.post_process'
                ELSE r.dname
            END AS name,
            CASE WHEN r.node IN (0, 3, 20, 50) THEN 'server' WHEN r.node IN (1, 2, 45, 48, 49, 4, 5, 51, 30) THEN 'client'
                 ELSE 'internal' END AS kind,
            CASE WHEN r.node IN (0, 20, 49) THEN 'http_request'
                 WHEN r.node IN (1, 2, 3, 50) THEN r.op
                 WHEN r.node IN (41, 44, 47, 48, 52) THEN 'tool_invoke'
                 WHEN r.node IN (42, 43, 45, 46, 53) THEN 'internal'
                 WHEN r.dkind = 'd' THEN 'db_query'
                 ELSE 'http_request' END AS operation,
            CASE r.node
                WHEN 0 THEN CASE r.shape WHEN 'g' THEN 'POST /rpc' WHEN 'p' THEN 'GET /api/orders'
                                         ELSE CASE WHEN r.caller = 'agent-api' THEN 'POST /chat' ELSE 'POST /v1/messages' END END
                WHEN 2 THEN CASE WHEN r.method = 'resources/read' THEN NULL ELSE r.tname END
                WHEN 20 THEN 'POST /mcp'
                WHEN 41 THEN r.gateway_name
                WHEN 49 THEN 'POST /mcp'
                WHEN 42 THEN NULL WHEN 43 THEN NULL WHEN 45 THEN NULL WHEN 46 THEN NULL WHEN 53 THEN NULL
                WHEN 1 THEN r.tname WHEN 3 THEN r.tname WHEN 44 THEN r.tname WHEN 47 THEN r.tname
                WHEN 48 THEN r.tname WHEN 50 THEN r.tname WHEN 52 THEN r.tname
                ELSE r.dtarget
            END AS target,
            CASE WHEN r.node IN (3, 20, 50) OR (r.node IN (4, 5, 51) AND r.shape <> 'p') THEN r.server
                 ELSE r.caller END AS service,
            CASE WHEN r.node = 0 OR r.node = 20 THEN 'opentelemetry.instrumentation.asgi'
                 WHEN r.node IN (1, 3, 50) THEN 'fastmcp'
                 WHEN r.node IN (2, 45, 48) THEN 'mcp-python-sdk'
                 WHEN r.node BETWEEN 41 AND 53 AND r.node <> 49 THEN 'mcpgateway'
                 WHEN r.dkind = 'd' THEN 'opentelemetry.instrumentation.asyncpg'
                 ELSE 'opentelemetry.instrumentation.httpx' END AS scope,
            CASE WHEN r.node = 1 AND r.err THEN 'error'
                 WHEN r.node IN (2, 3) AND r.err_all THEN 'error'
                 WHEN r.node IN (41, 52) AND r.err THEN 'error'
                 WHEN r.node IN (41, 42, 43, 44, 46, 47, 52, 53) THEN 'ok'
                 ELSE 'unset' END AS status,
            CASE WHEN r.node IN (41, 52) THEN 'upstream tool returned isError'
                 WHEN r.method = 'tools/call' THEN 'tool_error'
                 WHEN r.method = 'prompts/get' THEN 'Invalid params: ''ticket'' is a required property'
                 ELSE 'Resource not found: ' || r.tname END AS message,
            CASE r.node
                WHEN 0 THEN jsonb_build_object('http.request.method', CASE r.shape WHEN 'p' THEN 'GET' ELSE 'POST' END,
                                               'http.route', CASE WHEN r.shape = 'g' THEN '/rpc' WHEN r.shape = 'p' THEN '/api/orders'
                                                                  WHEN r.caller = 'agent-api' THEN '/chat' ELSE '/v1/messages' END,
                                               'http.response.status_code', 200)
                WHEN 1 THEN jsonb_build_object('mcp.method.name', r.method, 'fastmcp.component.key', r.component || ':' || r.tname)
                            || r.names
                            || CASE WHEN r.err THEN jsonb_build_object('error.type', r.component || '_error') ELSE '{}' END
                WHEN 2 THEN jsonb_build_object('mcp.method.name', r.method, 'jsonrpc.request.id', r.i)
                            || CASE WHEN r.err_all THEN jsonb_build_object('error.type', r.component || '_error') ELSE '{}' END
                WHEN 20 THEN jsonb_build_object('http.request.method', 'POST', 'http.route', '/mcp',
                                                'http.response.status_code', 200)
                WHEN 41 THEN jsonb_build_object('tool.name', r.gateway_name, 'tool.id', left(md5(r.gateway_name), 32),
                                                'success', NOT r.err,
                                                'duration.ms', round(extract(epoch FROM r.s_end - r.s_start) * 1000))
                WHEN 42 THEN jsonb_build_object('tool.name', r.gateway_name)
                WHEN 43 THEN jsonb_build_object('tool.name', r.gateway_name, 'gateway.name', r.server)
                WHEN 44 THEN jsonb_build_object('mcp.tool.name', r.tname, 'url.full', r.upstream_url,
                                                'contextforge.transport', 'streamablehttp')
                WHEN 45 THEN jsonb_build_object('mcp.method.name', 'server/discover', 'jsonrpc.request.id', 0)
                WHEN 46 THEN jsonb_build_object('url.full', r.upstream_url)
                WHEN 47 THEN jsonb_build_object('mcp.tool.name', r.tname)
                WHEN 48 THEN jsonb_build_object('mcp.method.name', r.method, 'jsonrpc.request.id', 1)
                WHEN 49 THEN jsonb_build_object('http.request.method', 'POST', 'url.full', r.upstream_url,
                                                'server.address', r.server, 'http.response.status_code', 200)
                WHEN 52 THEN jsonb_build_object('mcp.tool.name', r.tname, 'upstream.response.success', NOT r.err)
                WHEN 53 THEN jsonb_build_object('tool.name', r.gateway_name)
                WHEN 3 THEN jsonb_build_object('fastmcp.span.seam', 'server', 'mcp.method.name', r.method,
                                               'fastmcp.server.name', r.server, 'mcp.protocol.version', '2025-11-25',
                                               'jsonrpc.request.id', r.i, 'mcp.session.id', r.session,
                                               'fastmcp.component.key', r.component || ':' || r.tname,
                                               'fastmcp.component.type', r.component, 'fastmcp.provider.type', 'local')
                            || r.names
                            || CASE WHEN r.err_all THEN jsonb_build_object('error.type', r.component || '_error') ELSE '{}' END
                WHEN 50 THEN jsonb_build_object('fastmcp.span.seam', 'server', 'mcp.method.name', r.method,
                                                'fastmcp.server.name', r.server, 'mcp.protocol.version', '2025-11-25',
                                                'jsonrpc.request.id', 1, 'mcp.session.id', md5(r.session || r.i),
                                                'fastmcp.component.key', r.component || ':' || r.tname,
                                                'fastmcp.component.type', r.component, 'fastmcp.provider.type', 'local')
                            || r.names
                ELSE r.dattrs
            END AS attributes
    ) x;

    INSERT INTO observability.spans SELECT * FROM pg_temp.gen_span ORDER BY start_time;
    GET DIAGNOSTICS v_spans = ROW_COUNT;

    INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time,
                                      span_count, error_count, updated_at)
    SELECT g.trace_id, (array_agg(g.span_id) FILTER (WHERE g.parent_span_id IS NULL))[1],
           (array_agg(g.name) FILTER (WHERE g.parent_span_id IS NULL))[1],
           (array_agg(g.service_name) FILTER (WHERE g.parent_span_id IS NULL))[1],
           min(g.start_time), max(g.end_time), count(*), count(*) FILTER (WHERE g.status = 'error'),
           max(g.end_time) + (0.2 + 4.8 * random()
                              + CASE WHEN count(DISTINCT g.service_name) > 1 THEN 5 * random() ELSE 0 END)
                             * interval '1 second'
    FROM pg_temp.gen_span g
    GROUP BY g.trace_id
    ORDER BY min(g.start_time);
    RETURN v_spans;
END
$fn$;

-- Chunk after chunk until :spans spans are written, committing each; every chunk gets
-- the slice of [p_from, p_until) of its share of the spans, so starts grow with the chunks.
CREATE PROCEDURE pg_temp.generate_all(p_prefix text, p_spans bigint, p_from timestamptz, p_until timestamptz)
    LANGUAGE plpgsql AS
$fn$
DECLARE
    v_done   bigint := 0;
    v_traces bigint := 0;
    v_mean   double precision := 11.5;
    v_count  integer;
    v_want   double precision;
    v_rows   bigint;
    v_t      timestamptz;
BEGIN
    WHILE v_done < p_spans LOOP
        v_count := least(20000, greatest(1, ceil((p_spans - v_done) / v_mean)))::integer;
        v_want := least(p_spans, v_done + v_count * v_mean);
        v_t := clock_timestamp();
        v_rows := pg_temp.generate_chunk(p_prefix, v_traces, v_count,
                                         p_from + (p_until - p_from) * (v_done::double precision / p_spans),
                                         p_from + (p_until - p_from) * (v_want / p_spans));
        COMMIT;
        v_done := v_done + v_rows;
        v_traces := v_traces + v_count;
        v_mean := v_done::double precision / v_traces;
        RAISE NOTICE '% requests'' traces, % spans so far (% s for this chunk)', v_traces, v_done,
            round(extract(epoch FROM clock_timestamp() - v_t)::numeric, 1);
    END LOOP;
END
$fn$;

SELECT setseed(:seed) AS seeded \gset
SET client_min_messages = notice;
CALL pg_temp.generate_all(md5(:'seed'), :spans, :'gen_until'::timestamptz - make_interval(hours => :hours),
                          :'gen_until'::timestamptz);
SET client_min_messages = warning;

\echo '== vacuum analyze'
VACUUM (ANALYZE) observability.traces;
VACUUM (ANALYZE) observability.spans;

SELECT (SELECT count(*) FROM observability.traces) AS traces,
       (SELECT count(*) FROM observability.spans) AS spans,
       (SELECT count(*) FROM observability.spans_default) AS in_spans_default,
       date_trunc('second', clock_timestamp() - :'gen_started'::timestamptz) AS elapsed;

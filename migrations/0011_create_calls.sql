-- Calls: one MCP request counts once.
--
-- A span is what one process recorded; real MCP libraries record one request as several
-- spans: a client chain (FastMCP's `tools/call X` with the SDK's `MCP send tools/call X`
-- under it; ContextForge's `mcp.client.call` with `mcp.client.request`, the SDK's span and
-- `mcp.client.response`) in the calling process, and a server chain in the process that
-- handled it, linked by trace context. Counting spans counted one request two to five
-- times. This migration adds observability.calls, one row per side of each request,
-- assembled from the spans by assemble_calls() (incremental, run by the maintenance
-- service); rebuilds the metric views so tools, prompts and resources count requests,
-- per server, with client and server durations apart; and keeps the service's own
-- traces (service mcp-observatory) out of users' metrics and trace cap. See docs/sql.md
-- ("Calls") and docs/classification.md ("Calls") for the rules in prose.

-- MARK: The service's own traffic

-- The service name of the service's own spans (SelfSpanExporter.resource in Swift), the
-- one place SQL names it: metrics and the trace cap leave these traces out.
CREATE FUNCTION observability_internal.self_service() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 'mcp-observatory';

-- The self traces, newest first, for their own cap in enforce_retention().
CREATE INDEX traces_self_start_time_idx ON observability.traces (start_time DESC, trace_id DESC)
    WHERE service_name = 'mcp-observatory';

-- MARK: Which spans are parts of MCP requests

-- The MCP method a span is part of, or NULL when it is not part of an MCP request. Read
-- in order: the MCP semantic conventions' mcp.method.name (FastMCP, the MCP SDK 2.x,
-- ContextForge's SDK spans); JSON-RPC rpc.method (Logfire's client spans); the span names
-- of Logfire ("MCP request: tools/call x", "MCP server handle request: tools/call") and
-- OpenLLMetry ("prompts/get.mcp"); ContextForge's "mcp.client.initialize"; and last the
-- operation ingest classified (tool_invoke, prompt_render, resource_fetch: OpenLLMetry's
-- "x.tool", OpenInference TOOL spans, ContextForge's tool.invoke and mcp.client.*).
-- Inlined into assemble_calls(), so it costs an expression per span.
CREATE FUNCTION observability_internal.call_method(p_name text, p_operation text, p_attributes jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(
        nullif(p_attributes ->> 'mcp.method.name', ''),
        CASE WHEN p_attributes ->> 'rpc.system' = 'jsonrpc' THEN nullif(p_attributes ->> 'rpc.method', '') END,
        CASE
            WHEN p_name LIKE 'MCP request: %' THEN nullif(split_part(substr(p_name, 14), ' ', 1), '')
            WHEN p_name LIKE 'MCP server handle request: %' THEN nullif(split_part(substr(p_name, 28), ' ', 1), '')
            WHEN p_name ~ '^[a-z_]+/[A-Za-z_]+\.mcp$' THEN left(p_name, -4)
            WHEN p_name = 'mcp.client.initialize' THEN 'initialize'
        END,
        CASE p_operation
            WHEN 'tool_invoke' THEN 'tools/call'
            WHEN 'prompt_render' THEN 'prompts/get'
            WHEN 'resource_fetch' THEN 'resources/read'
        END);

-- Which side of a request a span records: 'client' (the process that sent it) or
-- 'server' (the process that handled it), or NULL when the span does not say, and
-- assemble_calls() decides by the spans under it (a call span of another service under
-- it makes it the client side). Span kind first; then the names of libraries whose spans are all
-- INTERNAL: Logfire ("MCP request:" client, "MCP server handle request:" server),
-- OpenLLMetry's client spans (traceloop.span.kind, "*.mcp"), ContextForge (mcp.client.*
-- is the gateway calling its upstream; tool.invoke, prompt.render and resource.read the
-- gateway serving its caller).
CREATE FUNCTION observability_internal.call_side(p_name text, p_kind text, p_attributes jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN p_kind = 'client' THEN 'client'
        WHEN p_kind = 'server' THEN 'server'
        WHEN p_name LIKE 'MCP request: %' OR p_name LIKE 'mcp.client.%' OR p_name LIKE '%.mcp'
             OR p_attributes ? 'traceloop.span.kind' THEN 'client'
        WHEN p_name LIKE 'MCP server handle request: %'
             OR p_name IN ('tool.invoke', 'prompt.render', 'resource.read') THEN 'server'
    END;

-- The host[:port] of a URL, for naming the server a client side called.
CREATE FUNCTION observability_internal.url_host(p_url text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN nullif(substring(p_url FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#]+)'), '');

-- MARK: The calls table

CREATE TABLE observability.calls (
    trace_id            uuid             NOT NULL,
    side                text             NOT NULL CHECK (side IN ('client', 'server')),
    span_id             bigint           NOT NULL,
    span_ids            bigint[]         NOT NULL,
    client_span_id      bigint,
    server_span_id      bigint,
    method              text             NOT NULL,
    target              text,
    server_name         text,
    client_name         text,
    service_name        text             NOT NULL,
    session_id          text,
    protocol_version    text,
    transport           text,
    request_id          text,
    start_time          timestamptz      NOT NULL,
    end_time            timestamptz      NOT NULL,
    duration_ms         double precision NOT NULL,
    client_duration_ms  double precision,
    server_duration_ms  double precision,
    status              text             NOT NULL CHECK (status IN ('ok', 'error')),
    error_type          text,
    error_message       text,
    request_status      text             NOT NULL CHECK (request_status IN ('ok', 'error')),
    counted             boolean          NOT NULL,
    assembled_at        timestamptz      NOT NULL DEFAULT now()
) PARTITION BY RANGE (start_time);

COMMENT ON TABLE observability.calls IS
    'One row per side (client, server) of each MCP request, assembled from spans by assemble_calls(); daily RANGE partitions calls_pYYYYMMDD (UTC) plus calls_default. counted marks the one row per request that metrics count.';
COMMENT ON COLUMN observability.calls.span_id IS
    'The outermost span of this side''s chain: its start, end and duration are the side''s.';
COMMENT ON COLUMN observability.calls.span_ids IS
    'Every span of this side''s chain, outermost first.';
COMMENT ON COLUMN observability.calls.server_name IS
    'The MCP server of the request: the server side''s fastmcp.server.name or service name; for a client side with no server side, the host it called (server.address, url.full).';
COMMENT ON COLUMN observability.calls.counted IS
    'True on the row that stands for the request: the server side, or the client side when no server side was recorded.';
COMMENT ON COLUMN observability.calls.error_message IS
    'Why the request failed: this side''s innermost error message when this side failed, else the other side''s.';
COMMENT ON COLUMN observability.calls.request_status IS
    'error when either side of the request failed.';

CREATE TABLE observability.calls_default PARTITION OF observability.calls DEFAULT;

-- Re-assembly deletes a trace's calls; the trace page and session page read them too.
CREATE INDEX calls_trace_idx ON observability.calls (trace_id);
-- Metrics over a window: the counted rows of the three operations by time.
CREATE INDEX calls_counted_time_idx ON observability.calls (start_time) WHERE counted;
-- One session's calls in order.
CREATE INDEX calls_session_time_idx ON observability.calls (session_id, start_time) WHERE session_id IS NOT NULL;

-- One row per request: the counted side, which carries both sides' durations.
CREATE VIEW observability.mcp_requests AS
    SELECT trace_id, client_span_id, server_span_id, method, target, server_name, client_name, session_id,
           protocol_version, transport, request_id, start_time, client_duration_ms, server_duration_ms,
           client_duration_ms - server_duration_ms AS overhead_ms,
           request_status AS status, error_type, error_message
    FROM observability.calls
    WHERE counted;
COMMENT ON VIEW observability.mcp_requests IS
    'One row per MCP request: both durations where both sides were recorded, overhead_ms = client - server (transport, gateway).';

-- The daily partition of observability.calls for one UTC day, created when missing. Rows
-- of that day waiting in calls_default (assembled before the day had a partition) are
-- moved into it in the same transaction. Returns whether it created the partition.
CREATE FUNCTION observability_internal.ensure_call_partition(p_day date) RETURNS boolean
    LANGUAGE plpgsql AS
$$
DECLARE
    v_name text := 'calls_p' || to_char(p_day, 'YYYYMMDD');
    v_lo   timestamptz := p_day::timestamp AT TIME ZONE 'UTC';
    v_hi   timestamptz := (p_day + 1)::timestamp AT TIME ZONE 'UTC';
    v_moved bigint := 0;
BEGIN
    IF to_regclass(format('observability.%I', v_name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM observability.calls_default WHERE start_time >= v_lo AND start_time < v_hi) THEN
        CREATE TEMP TABLE moving_calls (LIKE observability.calls) ON COMMIT DROP;
        WITH moved AS (
            DELETE FROM observability.calls_default WHERE start_time >= v_lo AND start_time < v_hi RETURNING *
        )
        INSERT INTO pg_temp.moving_calls SELECT * FROM moved;
        GET DIAGNOSTICS v_moved = ROW_COUNT;
    END IF;
    EXECUTE format('CREATE TABLE observability.%I PARTITION OF observability.calls FOR VALUES FROM (%L) TO (%L)',
                   v_name, v_lo, v_hi);
    IF v_moved > 0 THEN
        EXECUTE format('INSERT INTO observability.%I SELECT * FROM pg_temp.moving_calls', v_name);
    END IF;
    IF to_regclass('pg_temp.moving_calls') IS NOT NULL THEN
        DROP TABLE pg_temp.moving_calls;
    END IF;
    RETURN true;
END
$$;

-- The partitions of observability.calls with their bounds, like span_partitions().
CREATE FUNCTION observability_internal.call_partitions()
    RETURNS TABLE (partition_name text, is_default boolean, lower_bound timestamptz, upper_bound timestamptz)
    LANGUAGE sql STABLE AS
$$
SELECT c.relname::text,
       b.expr = 'DEFAULT',
       b.bounds[1]::timestamptz,
       b.bounds[2]::timestamptz
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (
    SELECT e.expr, regexp_match(e.expr, '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS bounds
    FROM (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS expr) e
) b
WHERE i.inhparent = 'observability.calls'::regclass
ORDER BY 4 NULLS LAST, 1
$$;

-- Every day that has a spans partition gets a calls partition.
SELECT observability_internal.ensure_call_partition((p.lower_bound AT TIME ZONE 'UTC')::date)
FROM observability.span_partitions() p
WHERE NOT p.is_default AND p.partition_name ~ '^spans_p[0-9]{8}$';

-- MARK: Assembly

-- How far assembly has got: the (updated_at, trace_id) of the last trace assembled.
-- traces.updated_at is set whenever a batch of spans of the trace is stored, so a trace
-- with a new span sorts after the mark again and is assembled again.
CREATE TABLE observability_internal.call_assembly_state (
    name            text        PRIMARY KEY,
    assembled_until timestamptz NOT NULL,
    last_trace_id   uuid        NOT NULL
);

-- Assembly reads the traces changed since its mark, in that order.
CREATE INDEX traces_updated_at_idx ON observability.traces (updated_at, trace_id);

-- Assembles the calls of the given traces from their spans: deletes what the traces had
-- and writes them again, so running it twice over the same spans gives the same rows.
-- The rules (docs/sql.md, "Calls"):
--   * a call span is one call_method() names; its side is call_side(), else 'client'
--     when a call span of another service lies directly under it (it sent the request),
--     else 'server' (a process's record of handling it, e.g. an OpenInference TOOL span);
--   * a chain is call spans nested directly in each other with the same side, service
--     and method: one process's record of one request side. Its outermost span gives
--     start, end and duration; its target is the outermost span's that has one;
--   * a side failed when any span of its chain has status error or error.type; the
--     error type and message of a row say why the request failed: from the innermost
--     span of this side that has one, else from the other side;
--   * a server side is linked to the client side whose chain holds its nearest ancestor
--     (up to 6 levels up, through HTTP spans) with the same method;
--   * the counted row of a request is its server side, else its client side.
-- Plans are made for each call (plan_cache_mode): a generic plan, which PL/pgSQL switches
-- to after a few calls on one connection, misjudged the batch's size and ran 20 times
-- slower (docs/performance.md, "Call assembly"). Returns the number of calls written.
CREATE FUNCTION observability_internal.assemble_trace_calls(p_trace_ids uuid[], p_starts timestamptz[],
                                                            p_ends timestamptz[])
    RETURNS bigint
    LANGUAGE plpgsql
    SET jit = off
    SET plan_cache_mode = force_custom_plan AS
$$
DECLARE
    v_rows bigint;
BEGIN
    DELETE FROM observability.calls c WHERE c.trace_id = ANY (p_trace_ids);

    WITH RECURSIVE
    batch AS (
        SELECT * FROM unnest(p_trace_ids, p_starts, p_ends) AS b(trace_id, start_time, end_time)
    ),
    -- Every span of the batch (ancestors are walked through non-call spans too); only
    -- call spans keep their attributes.
    sp AS MATERIALIZED (
        SELECT s.trace_id, s.span_id, s.parent_span_id, s.service_name, s.name, s.kind, s.target,
               s.start_time, s.end_time, s.duration_ms, s.status, s.status_message,
               observability_internal.call_method(s.name, s.operation, s.attributes) AS method,
               observability_internal.call_side(s.name, s.kind, s.attributes) AS stated_side,
               s.attributes
        FROM batch b
        JOIN observability.spans s
          ON s.trace_id = b.trace_id AND s.start_time >= b.start_time AND s.start_time <= b.end_time
    ),
    -- Spans with a call span of another service directly under them: the senders.
    remote_parents AS (
        SELECT DISTINCT k.trace_id, k.parent_span_id
        FROM sp k
        JOIN sp p ON p.trace_id = k.trace_id AND p.span_id = k.parent_span_id AND p.service_name <> k.service_name
        WHERE k.method IS NOT NULL
    ),
    cs AS MATERIALIZED (
        SELECT c.trace_id, c.span_id, c.parent_span_id, c.service_name, c.target, c.start_time, c.end_time,
               c.duration_ms, c.status, c.status_message, c.method, c.attributes,
               coalesce(c.stated_side, CASE WHEN r.parent_span_id IS NOT NULL THEN 'client' ELSE 'server' END) AS side
        FROM sp c
        LEFT JOIN remote_parents r ON r.trace_id = c.trace_id AND r.parent_span_id = c.span_id
        WHERE c.method IS NOT NULL
    ),
    -- Whether a call span continues its parent's chain.
    cl AS MATERIALIZED (
        SELECT c.*, (p.span_id IS NOT NULL) AS continues
        FROM cs c
        LEFT JOIN cs p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
                      AND p.side = c.side AND p.service_name = c.service_name AND p.method = c.method
    ),
    -- Side and method ride along the recursion, so nothing below has to join them back
    -- (row estimates collapse after a recursive CTE, and such a join went quadratic).
    chain (trace_id, root_id, span_id, depth, side, method) AS (
        SELECT c.trace_id, c.span_id, c.span_id, 0, c.side, c.method FROM cl c WHERE NOT c.continues
        UNION ALL
        SELECT ch.trace_id, ch.root_id, c.span_id, ch.depth + 1, ch.side, ch.method
        FROM chain ch
        JOIN cl c ON c.trace_id = ch.trace_id AND c.parent_span_id = ch.span_id AND c.continues
        WHERE ch.depth < 32
    ),
    sides AS MATERIALIZED (
        SELECT ch.trace_id, ch.root_id,
               min(r.side) AS side, min(r.method) AS method, min(r.service_name) AS service_name,
               min(r.parent_span_id) AS root_parent, min(r.start_time) AS start_time, min(r.end_time) AS end_time,
               min(r.duration_ms) AS duration_ms,
               array_agg(ch.span_id ORDER BY ch.depth, ch.span_id) AS span_ids,
               (array_agg(m.target ORDER BY ch.depth) FILTER (WHERE m.target IS NOT NULL))[1] AS target,
               bool_or(m.status = 'error' OR m.attributes ? 'error.type') AS failed,
               (array_agg(m.attributes ->> 'error.type' ORDER BY ch.depth DESC)
                   FILTER (WHERE m.attributes ->> 'error.type' <> ''))[1] AS error_type,
               (array_agg(m.status_message ORDER BY ch.depth DESC)
                   FILTER (WHERE m.status = 'error' AND m.status_message IS NOT NULL))[1] AS error_message,
               (array_agg(m.attributes ->> 'mcp.session.id' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'mcp.session.id' <> ''))[1] AS session_id,
               (array_agg(m.attributes ->> 'mcp.protocol.version' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'mcp.protocol.version' <> ''))[1] AS protocol_version,
               (array_agg(coalesce(m.attributes ->> 'network.transport', m.attributes ->> 'mcp.transport',
                                   m.attributes ->> 'contextforge.transport') ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'network.transport', m.attributes ->> 'mcp.transport',
                                          m.attributes ->> 'contextforge.transport') <> ''))[1] AS transport,
               (array_agg(coalesce(m.attributes ->> 'jsonrpc.request.id', m.attributes ->> 'mcp.request.id')
                          ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'jsonrpc.request.id',
                                          m.attributes ->> 'mcp.request.id') <> ''))[1] AS request_id,
               (array_agg(m.attributes ->> 'fastmcp.server.name' ORDER BY ch.depth)
                   FILTER (WHERE m.attributes ->> 'fastmcp.server.name' <> ''))[1] AS server_label,
               (array_agg(coalesce(m.attributes ->> 'server.address',
                                   observability_internal.url_host(m.attributes ->> 'url.full')) ORDER BY ch.depth)
                   FILTER (WHERE coalesce(m.attributes ->> 'server.address',
                                          observability_internal.url_host(m.attributes ->> 'url.full')) <> ''))[1]
                   AS server_address
        FROM chain ch
        JOIN cl m ON m.trace_id = ch.trace_id AND m.span_id = ch.span_id
        JOIN cl r ON r.trace_id = ch.trace_id AND r.span_id = ch.root_id
        GROUP BY ch.trace_id, ch.root_id
    ),
    members AS (
        SELECT ch.trace_id, ch.span_id, ch.root_id, ch.side, ch.method
        FROM chain ch
    ),
    -- The ancestors of each server side's outermost span, nearest first.
    up (trace_id, server_root, method, span_id, depth) AS (
        SELECT s.trace_id, s.root_id, s.method, s.root_parent, 1
        FROM sides s WHERE s.side = 'server' AND s.root_parent IS NOT NULL
        UNION ALL
        SELECT u.trace_id, u.server_root, u.method, p.parent_span_id, u.depth + 1
        FROM up u JOIN sp p ON p.trace_id = u.trace_id AND p.span_id = u.span_id
        WHERE u.depth < 6 AND p.parent_span_id IS NOT NULL
    ),
    pairs AS (
        SELECT DISTINCT ON (u.trace_id, u.server_root) u.trace_id, u.server_root, m.root_id AS client_root
        FROM up u
        JOIN members m ON m.trace_id = u.trace_id AND m.span_id = u.span_id
                      AND m.side = 'client' AND m.method = u.method
        ORDER BY u.trace_id, u.server_root, u.depth
    ),
    -- Each side's peer: a server side's client side, and a client side's first server
    -- side (several server sides under one client side take a retry to happen).
    peer_of AS (
        SELECT p.trace_id, p.server_root AS root_id, p.client_root AS peer_root FROM pairs p
        UNION ALL
        (SELECT DISTINCT ON (p.trace_id, p.client_root) p.trace_id, p.client_root, p.server_root
         FROM pairs p ORDER BY p.trace_id, p.client_root, p.server_root)
    ),
    joined AS (
        SELECT s.*, peer.root_id AS peer_id, peer.failed AS peer_failed, peer.service_name AS peer_service,
               peer.target AS peer_target, peer.session_id AS peer_session, peer.protocol_version AS peer_protocol,
               peer.transport AS peer_transport, peer.request_id AS peer_request, peer.server_label AS peer_label,
               peer.duration_ms AS peer_duration, peer.error_type AS peer_error_type,
               peer.error_message AS peer_error_message
        FROM sides s
        LEFT JOIN peer_of po ON po.trace_id = s.trace_id AND po.root_id = s.root_id
        LEFT JOIN sides peer ON peer.trace_id = s.trace_id AND peer.root_id = po.peer_root
    )
    INSERT INTO observability.calls (trace_id, side, span_id, span_ids, client_span_id, server_span_id, method, target,
                                     server_name, client_name, service_name, session_id, protocol_version, transport,
                                     request_id, start_time, end_time, duration_ms, client_duration_ms,
                                     server_duration_ms, status, error_type, error_message, request_status, counted)
    SELECT j.trace_id, j.side, j.root_id, j.span_ids,
           CASE WHEN j.side = 'client' THEN j.root_id ELSE j.peer_id END,
           CASE WHEN j.side = 'server' THEN j.root_id ELSE j.peer_id END,
           j.method,
           CASE WHEN j.side = 'server' THEN coalesce(j.target, j.peer_target) ELSE coalesce(j.peer_target, j.target) END,
           CASE WHEN j.side = 'server' THEN coalesce(j.server_label, j.service_name)
                WHEN j.peer_id IS NOT NULL THEN coalesce(j.peer_label, j.peer_service)
                ELSE j.server_address END,
           CASE WHEN j.side = 'client' THEN j.service_name ELSE j.peer_service END,
           j.service_name,
           coalesce(j.session_id, j.peer_session),
           coalesce(j.protocol_version, j.peer_protocol),
           coalesce(j.transport, j.peer_transport),
           coalesce(j.request_id, j.peer_request),
           j.start_time, j.end_time, j.duration_ms,
           CASE WHEN j.side = 'client' THEN j.duration_ms ELSE j.peer_duration END,
           CASE WHEN j.side = 'server' THEN j.duration_ms ELSE j.peer_duration END,
           CASE WHEN j.failed THEN 'error' ELSE 'ok' END,
           CASE WHEN j.failed THEN j.error_type WHEN j.peer_failed THEN j.peer_error_type END,
           CASE WHEN j.failed THEN j.error_message WHEN j.peer_failed THEN j.peer_error_message END,
           CASE WHEN j.failed OR coalesce(j.peer_failed, false) THEN 'error' ELSE 'ok' END,
           j.side = 'server' OR j.peer_id IS NULL
    FROM joined j;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

-- Assembles the calls of every trace that changed since the last run and has been quiet
-- for p_settle, oldest change first, at most p_max_traces traces per call (NULL: all).
-- The settle margin lets the spans of one request, exported by several processes a few
-- seconds apart, arrive before their trace is assembled; a span that arrives later still
-- (a slow exporter, a retry) moves its trace's updated_at past the mark, so the next run
-- assembles that trace again, from all its spans. The mark only moves forward, to the
-- last trace assembled. Advisory-locked: a concurrent call returns at once (ran = false).
-- The maintenance service calls it every few seconds; psql users and tests may call it
-- with p_settle => interval '0'.
CREATE FUNCTION observability.assemble_calls(
    p_now        timestamptz DEFAULT now(),
    p_settle     interval    DEFAULT interval '10 seconds',
    p_max_traces integer     DEFAULT 20000
) RETURNS TABLE (ran boolean, traces_assembled bigint, calls_written bigint, assembled_until timestamptz)
    LANGUAGE plpgsql
    SET jit = off AS
$$
DECLARE
    v_until  timestamptz;
    v_last   uuid;
    v_ids    uuid[];
    v_starts timestamptz[];
    v_ends   timestamptz[];
    v_marks  timestamptz[];
    v_n      integer;
    v_calls  bigint;
BEGIN
    IF p_max_traces IS NOT NULL AND p_max_traces < 1 THEN
        RAISE EXCEPTION 'assemble_calls: max traces must be at least 1 or NULL, not %', p_max_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.assemble_calls')) THEN
        RETURN QUERY SELECT false, 0::bigint, 0::bigint, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT s.assembled_until, s.last_trace_id INTO v_until, v_last
    FROM observability_internal.call_assembly_state s WHERE s.name = 'calls';
    v_until := coalesce(v_until, '-infinity');
    v_last := coalesce(v_last, '00000000-0000-0000-0000-000000000000');

    SELECT array_agg(t.trace_id ORDER BY t.updated_at, t.trace_id), array_agg(t.start_time ORDER BY t.updated_at, t.trace_id),
           array_agg(t.end_time ORDER BY t.updated_at, t.trace_id), array_agg(t.updated_at ORDER BY t.updated_at, t.trace_id)
      INTO v_ids, v_starts, v_ends, v_marks
    FROM (
        SELECT t.trace_id, t.start_time, t.end_time, t.updated_at
        FROM observability.traces t
        WHERE (t.updated_at, t.trace_id) > (v_until, v_last)
          AND t.updated_at <= p_now - p_settle
        ORDER BY t.updated_at, t.trace_id
        LIMIT p_max_traces
    ) t;
    v_n := coalesce(cardinality(v_ids), 0);
    IF v_n = 0 THEN
        RETURN QUERY SELECT true, 0::bigint, 0::bigint, CASE WHEN v_until = '-infinity' THEN NULL ELSE v_until END;
        RETURN;
    END IF;

    v_calls := observability_internal.assemble_trace_calls(v_ids, v_starts, v_ends);

    INSERT INTO observability_internal.call_assembly_state AS s (name, assembled_until, last_trace_id)
    VALUES ('calls', v_marks[v_n], v_ids[v_n])
    ON CONFLICT (name) DO UPDATE SET assembled_until = excluded.assembled_until, last_trace_id = excluded.last_trace_id;

    RETURN QUERY SELECT true, v_n::bigint, v_calls, v_marks[v_n];
END
$$;

-- Calls of the spans already stored: assembled now, all of them (about a minute per
-- million spans on two cores; see docs/performance.md).
SELECT * FROM observability.assemble_calls(p_now => now(), p_settle => interval '0', p_max_traces => NULL);

-- MARK: Partitions and retention know calls

-- Creates the daily partitions from p_days_back days before p_now to p_days_ahead days
-- after it, so that spans land in their own day and not in spans_default, whose size
-- every later partition creation has to scan. It also gives a partition to every day
-- within the last 400 days that already has spans waiting in spans_default (late or
-- replayed data), so retention can later drop those days whole. Spans waiting in
-- spans_default for a day being created are moved into the new partition, in the same
-- transaction, so none is lost. Returns one row per partition created. Another session
-- running it at the same moment makes this call a no-op (advisory lock) rather than a wait.
-- Since 0011 each daily spans partition gets a calls partition of the same day too.
CREATE OR REPLACE FUNCTION observability.ensure_partitions(
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
        v_name := observability_internal.span_partition_name(v_day);
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

    -- Every daily spans partition has its calls partition (0011); not reported, so the
    -- rows returned still count span partitions only.
    PERFORM observability_internal.ensure_call_partition((p.lower_bound AT TIME ZONE 'UTC')::date)
    FROM observability.span_partitions() p
    WHERE NOT p.is_default AND p.partition_name ~ '^spans_p[0-9]{8}$';
END
$$;

DROP FUNCTION observability.apply_retention(integer, bigint, timestamptz);
DROP FUNCTION observability_internal.enforce_retention(integer, bigint, timestamptz);

-- Keeps the store bounded in time and in size, and says what it removed; writes no log
-- row of its own, so that whoever runs it logs the run through log_maintenance_run()
-- like every other job (the service, and apply_retention() for psql users).
--
-- Future: first of all, every trace that starts or ends later than p_now plus
-- max_future_skew() goes, whole, with its spans, and every span that starts that late.
-- Ingestion refuses such times, but rows stored before it did (or before the server's
-- clock was set back) would otherwise sit on top of every list and, being the "newest",
-- outlive every current trace under the cap. Done before the cap is counted, so they are
-- never among the survivors.
--
-- Age: every span older than p_retention_days goes, and every trace that ended before
-- then. A trace that straddles the cutoff keeps its row and its newer spans: nothing
-- inside the retention window is deleted except by the cap.
--
-- Self (0011): the service's own traces (service mcp-observatory) are capped on their
-- own at p_max_self_traces, oldest first, by trace id, before the cap below, and do not
-- count toward p_max_traces: a busy service must not evict users' traces with its own.
-- Those older than the cap's bound still go with it (their spans lie in its range).
--
-- Calls (0011) follow their spans: a call never starts before its trace, so the calls
-- below the bound go by range like spans (whole calls partitions by DROP, after the span
-- partitions), and those of future traces and of running victims by trace id.
--
-- Cap: when more than p_max_traces traces remain, the oldest go, whole (first in, first
-- out by start time, then trace id, so the choice is deterministic). Finding the victims
-- one by one would cost a lookup per trace; instead, the newest victim's start time is a
-- bound below which every span belongs to a victim, because a span never starts before
-- its trace (traces.start_time is the earliest start of its spans) and every survivor
-- starts at or after that bound. So spans below the bound go by range, whole partitions
-- by DROP, and only the spans at or after it of victims still running then (end_time at
-- or after the bound) need a lookup by trace id.
--
-- Dropping a partition takes an ACCESS EXCLUSIVE lock on observability.spans (and on
-- spans_default) until the transaction ends, so the drops come last, after every row
-- deletion and count, and each waits for its lock at most 5 s (less if the session's
-- lock_timeout is shorter): behind a long dashboard query, ingestion would otherwise
-- queue behind the waiting drop. After the first drop that times out the others are not
-- attempted either (the same query holds them up). A partition not dropped (counted in
-- partitions_skipped) keeps its rows for the next run when they are only expired by age
-- (its traces rows are gone meanwhile), but is emptied row by row when the cap needs its
-- spans gone, because no later run would come back for them.
--
-- Spans stored in a partition between its count and its drop (spans that arrive older
-- than the cutoff, a moment before their day is dropped) are dropped but not counted.
-- The maintenance log is bounded here too: rows older than 90 days before p_now go.
-- Another session running retention makes this call return no row at once (advisory
-- lock). p_now is the logical clock of what to delete. details is what the log row of
-- the run records: the arguments, the bounds used and every count.
CREATE FUNCTION observability_internal.enforce_retention(
    p_retention_days   integer,
    p_max_traces       bigint,
    p_now              timestamptz DEFAULT now(),
    p_max_self_traces  bigint      DEFAULT 10000
) RETURNS TABLE (partitions_dropped integer, spans_deleted bigint, traces_deleted bigint,
                 traces_remaining bigint, details jsonb)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_cutoff        timestamptz;
    v_ceiling       timestamptz;
    v_future_ids    uuid[];
    v_future        bigint := 0;
    v_victim_start  timestamptz;
    v_victim_id     uuid;
    v_bound         timestamptz;
    v_running       uuid[];
    v_running_until timestamptz;
    v_part          record;
    v_names         text[] := '{}';
    v_uppers        timestamptz[] := '{}';
    v_counts        bigint[] := '{}';
    v_rows          bigint;
    v_lock_ms       integer;
    v_wait_ms       integer;
    v_busy          boolean := false;
    v_dropped       integer := 0;
    v_skipped       integer := 0;
    v_spans         bigint := 0;
    v_expired       bigint := 0;
    v_evicted       bigint := 0;
    v_remaining     bigint;
    v_self_start    timestamptz;
    v_self_id       uuid;
    v_self_ids      uuid[];
    v_self_from     timestamptz;
    v_self_until    timestamptz;
    v_self          bigint := 0;
    v_self_left     bigint;
    v_call_names    text[] := '{}';
    v_calls         bigint := 0;
    v_call_dropped  integer := 0;
BEGIN
    -- The messages name apply_retention(), the function people call, as they did before 0010.
    IF p_retention_days IS NULL OR p_retention_days < 1 OR p_retention_days > 3650 THEN
        RAISE EXCEPTION 'apply_retention: retention days must be between 1 and 3650, not %', p_retention_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_traces IS NULL OR p_max_traces < 1 THEN
        RAISE EXCEPTION 'apply_retention: max traces must be at least 1, not %', p_max_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_max_self_traces IS NULL OR p_max_self_traces < 0 THEN
        RAISE EXCEPTION 'apply_retention: max self traces must be at least 0, not %', p_max_self_traces
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('observability.apply_retention')) THEN
        RETURN;
    END IF;

    v_cutoff := p_now - make_interval(days => p_retention_days);
    v_ceiling := p_now + observability_internal.max_future_skew();

    -- Future: whole traces past the ceiling at either end, then their spans (by id: a
    -- trace that starts now and ends in 2554 has spans before the ceiling too), then any
    -- span starting past the ceiling whose trace row was already gone.
    WITH gone AS (
        DELETE FROM observability.traces t
        WHERE t.start_time > v_ceiling OR t.end_time > v_ceiling
        RETURNING t.trace_id
    )
    SELECT array_agg(g.trace_id), count(*) INTO v_future_ids, v_future FROM gone g;
    IF v_future_ids IS NOT NULL THEN
        DELETE FROM observability.spans s WHERE s.trace_id = ANY (v_future_ids);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_spans := v_spans + v_rows;
        DELETE FROM observability.calls c WHERE c.trace_id = ANY (v_future_ids);
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_calls := v_calls + v_rows;
    END IF;
    DELETE FROM observability.spans s WHERE s.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_spans := v_spans + v_rows;
    DELETE FROM observability.calls c WHERE c.start_time > v_ceiling;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_calls := v_calls + v_rows;

    -- Self: the newest p_max_self_traces of the service's own traces stay; the older go
    -- by trace id (the service's traces are one or a few spans each).
    SELECT t.start_time, t.trace_id INTO v_self_start, v_self_id
    FROM observability.traces t
    WHERE t.service_name = observability_internal.self_service()
    ORDER BY t.start_time DESC, t.trace_id DESC
    OFFSET p_max_self_traces LIMIT 1;
    IF v_self_id IS NOT NULL THEN
        WITH gone AS (
            DELETE FROM observability.traces t
            WHERE t.service_name = observability_internal.self_service()
              AND (t.start_time, t.trace_id) <= (v_self_start, v_self_id)
            RETURNING t.trace_id, t.start_time, t.end_time
        )
        SELECT array_agg(g.trace_id), count(*), min(g.start_time), max(g.end_time)
          INTO v_self_ids, v_self, v_self_from, v_self_until
        FROM gone g;
        DELETE FROM observability.spans s
        WHERE s.trace_id = ANY (v_self_ids) AND s.start_time >= v_self_from AND s.start_time <= v_self_until;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_spans := v_spans + v_rows;
    END IF;

    -- Age: traces that ended before the cutoff (end >= start, so the start index narrows it).
    DELETE FROM observability.traces t WHERE t.start_time < v_cutoff AND t.end_time < v_cutoff;
    GET DIAGNOSTICS v_expired = ROW_COUNT;

    -- Cap: the newest victim is the one just past the p_max_traces newest survivors.
    SELECT t.start_time, t.trace_id INTO v_victim_start, v_victim_id
    FROM observability.traces t
    WHERE t.service_name <> observability_internal.self_service()
    ORDER BY t.start_time DESC, t.trace_id DESC
    OFFSET p_max_traces LIMIT 1;

    -- Every span before v_bound goes: by age below the cutoff, as a victim's below v_victim_start.
    v_bound := greatest(v_cutoff, v_victim_start);

    IF v_victim_id IS NOT NULL THEN
        -- Victims' spans at or after the bound, which the range deletion below misses:
        -- only victims still running at the bound can have any, and none after its end.
        -- Their ids as an array, so the planner sees how few they are and probes the
        -- trace id index rather than hashing every span newer than the bound.
        SELECT array_agg(t.trace_id), max(t.end_time) INTO v_running, v_running_until
        FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id)
          AND t.end_time >= v_bound;
        IF v_running IS NOT NULL THEN
            DELETE FROM observability.spans s
            WHERE s.trace_id = ANY (v_running)
              AND s.start_time >= v_bound
              AND s.start_time <= v_running_until;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
            DELETE FROM observability.calls c
            WHERE c.trace_id = ANY (v_running)
              AND c.start_time >= v_bound
              AND c.start_time <= v_running_until;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_calls := v_calls + v_rows;
        END IF;

        DELETE FROM observability.traces t
        WHERE t.start_time <= v_victim_start
          AND (t.start_time, t.trace_id) <= (v_victim_start, v_victim_id);
        GET DIAGNOSTICS v_evicted = ROW_COUNT;
    END IF;

    -- Partitions wholly below the bound are dropped at the end (only daily partitions,
    -- by their real bounds); the others that reach below it are trimmed row by row.
    FOR v_part IN SELECT * FROM observability.span_partitions() LOOP
        IF NOT v_part.is_default AND v_part.partition_name ~ '^spans_p[0-9]{8}$'
           AND v_part.upper_bound IS NOT NULL AND v_part.upper_bound <= v_bound THEN
            v_names := v_names || v_part.partition_name;
            v_uppers := v_uppers || v_part.upper_bound;
        ELSIF v_part.is_default OR v_part.lower_bound IS NULL OR v_part.lower_bound < v_bound THEN
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_part.partition_name)
                USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    FOR v_part IN SELECT * FROM observability_internal.call_partitions() LOOP
        IF NOT v_part.is_default AND v_part.partition_name ~ '^calls_p[0-9]{8}$'
           AND v_part.upper_bound IS NOT NULL AND v_part.upper_bound <= v_bound THEN
            v_call_names := v_call_names || v_part.partition_name;
        ELSIF v_part.is_default OR v_part.lower_bound IS NULL OR v_part.lower_bound < v_bound THEN
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_part.partition_name)
                USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_calls := v_calls + v_rows;
        END IF;
    END LOOP;

    -- Everything that needs no lock on observability.spans beyond what readers take:
    -- the counts of the partitions to drop, and what remains.
    FOR i IN 1 .. cardinality(v_names) LOOP
        EXECUTE format('SELECT count(*) FROM observability.%I', v_names[i]) INTO v_rows;
        v_counts := v_counts || v_rows;
    END LOOP;
    SELECT count(*) FILTER (WHERE t.service_name <> observability_internal.self_service()),
           count(*) FILTER (WHERE t.service_name = observability_internal.self_service())
      INTO v_remaining, v_self_left
    FROM observability.traces t;

    SELECT s.setting::integer INTO v_lock_ms FROM pg_catalog.pg_settings s WHERE s.name = 'lock_timeout';
    v_wait_ms := CASE WHEN v_lock_ms > 0 THEN least(v_lock_ms, 5000) ELSE 5000 END;
    FOR i IN 1 .. cardinality(v_names) LOOP
        IF NOT v_busy THEN
            BEGIN
                PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
                EXECUTE format('DROP TABLE observability.%I', v_names[i]);
                PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
                v_dropped := v_dropped + 1;
                v_spans := v_spans + v_counts[i];
                CONTINUE;
            EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                -- The failed block's lock_timeout is rolled back with it.
                v_busy := true;
            END;
        END IF;
        v_skipped := v_skipped + 1;
        IF v_uppers[i] > v_cutoff THEN
            -- Only the cap wanted this partition gone: its traces rows are deleted already.
            EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_names[i]) USING v_bound;
            GET DIAGNOSTICS v_rows = ROW_COUNT;
            v_spans := v_spans + v_rows;
        END IF;
    END LOOP;

    -- The calls partitions below the bound, the same way; one the lock cannot be had for
    -- is emptied of its rows below the bound instead (their spans are gone).
    FOR i IN 1 .. cardinality(v_call_names) LOOP
        IF NOT v_busy THEN
            BEGIN
                PERFORM set_config('lock_timeout', v_wait_ms || 'ms', true);
                EXECUTE format('DROP TABLE observability.%I', v_call_names[i]);
                PERFORM set_config('lock_timeout', v_lock_ms || 'ms', true);
                v_call_dropped := v_call_dropped + 1;
                CONTINUE;
            EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
                v_busy := true;
            END;
        END IF;
        EXECUTE format('DELETE FROM observability.%I WHERE start_time < $1', v_call_names[i]) USING v_bound;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_calls := v_calls + v_rows;
    END LOOP;

    DELETE FROM observability.maintenance_log l WHERE l.started_at < p_now - interval '90 days';

    RETURN QUERY SELECT v_dropped, v_spans, v_expired + v_evicted + v_future + v_self, v_remaining,
        jsonb_build_object(
            'retention_days', p_retention_days,
            'max_traces', p_max_traces,
            'cutoff', v_cutoff,
            'future_bound', v_ceiling,
            'traces_future', v_future,
            'fifo_bound', v_victim_start,
            'partitions_dropped', v_dropped,
            'partitions_skipped', v_skipped,
            'spans_deleted', v_spans,
            'traces_deleted', v_expired + v_evicted + v_future + v_self,
            'traces_evicted', v_evicted,
            'traces_remaining', v_remaining,
            'max_self_traces', p_max_self_traces,
            'self_traces_evicted', v_self,
            'self_traces_remaining', v_self_left,
            'call_partitions_dropped', v_call_dropped,
            'calls_deleted', v_calls);
END
$$;

-- Retention for psql users and scripts, as in 0010, with the bound of the service's own
-- traces as a fourth argument (default 10000); three-argument calls work as before.
CREATE FUNCTION observability.apply_retention(
    p_retention_days  integer,
    p_max_traces      bigint,
    p_now             timestamptz DEFAULT now(),
    p_max_self_traces bigint      DEFAULT 10000
) RETURNS TABLE (partitions_dropped integer, spans_deleted bigint, traces_deleted bigint,
                 traces_remaining bigint, log_id bigint)
    LANGUAGE plpgsql AS
$$
DECLARE
    v_started timestamptz := clock_timestamp();
    v_owner   text := coalesce(nullif(current_setting('application_name', true), ''), session_user);
    v_done    record;
BEGIN
    SELECT * INTO v_done
    FROM observability_internal.enforce_retention(p_retention_days, p_max_traces, p_now, p_max_self_traces);
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT v_done.partitions_dropped, v_done.spans_deleted, v_done.traces_deleted, v_done.traces_remaining,
        observability_internal.log_maintenance_run('retention', v_owner, v_started, v_done.details);
END
$$;

-- MARK: Metrics over requests

-- What the metric views and rollups count, in one place: every span of the users'
-- services except the MCP operations', plus one row per MCP request (tools/call,
-- prompts/get, resources/read) from calls, with the server-side duration in duration_ms
-- (NULL when only the client side was recorded) and the client-side one apart. Spans of
-- the service itself (mcp-observatory) are left out. A filter on start_time reaches both
-- branches, and the partitions of each.
CREATE VIEW observability_internal.metric_rows AS
    SELECT sp.operation, ''::text AS server, coalesce(sp.target, '') AS target, sp.status, sp.start_time,
           sp.duration_ms, NULL::double precision AS client_duration_ms, sp.status_message AS error_message
    FROM observability.spans sp
    WHERE sp.operation NOT IN ('tool_invoke', 'prompt_render', 'resource_fetch')
      AND sp.service_name <> 'mcp-observatory'
    UNION ALL
    SELECT CASE c.method WHEN 'tools/call' THEN 'tool_invoke' WHEN 'prompts/get' THEN 'prompt_render'
                         ELSE 'resource_fetch' END,
           coalesce(c.server_name, ''), coalesce(c.target, ''), c.request_status, c.start_time,
           c.server_duration_ms, c.client_duration_ms, coalesce(c.error_message, c.error_type)
    FROM observability.calls c
    WHERE c.counted AND c.method IN ('tools/call', 'prompts/get', 'resources/read');

DROP VIEW observability.tool_metrics;
DROP VIEW observability.prompt_metrics;
DROP VIEW observability.resource_metrics;
DROP VIEW observability.operation_metrics;
DROP MATERIALIZED VIEW observability.metrics_1h;
DROP MATERIALIZED VIEW observability.metrics_24h;
DROP MATERIALIZED VIEW observability.metrics_7d;
DROP MATERIALIZED VIEW observability.metrics_30d;
DROP FUNCTION observability.window_metrics(interval);

-- Metrics of the rows of metric_rows that started in the last p_window up to
-- metrics_now(), at three levels in one pass (GROUPING SETS): per operation, server and
-- target ('target'), per operation ('operation', server and target ''), and over
-- everything ('total'). For tools, prompts and resources a row is a request, counted
-- once, failed when either side failed; avg_ms, p50_ms … max_ms are the server side's
-- durations (NULL where no server side was recorded), client_* the client side's, and
-- overhead_ms the mean of client minus server over requests seen from both sides (the
-- transport and any gateway in between). HTTP and database rows are spans, server ''.
-- Percentiles are PERCENTILE_CONT (linear interpolation), exact. The example error is the
-- most recent error message of the group. JIT off, as before (0006).
CREATE FUNCTION observability.window_metrics(p_window interval)
    RETURNS TABLE (
        level          text,
        operation      text,
        server         text,
        target         text,
        request_count  bigint,
        error_count    bigint,
        error_pct      double precision,
        avg_ms         double precision,
        p50_ms         double precision,
        p90_ms         double precision,
        p95_ms         double precision,
        p99_ms         double precision,
        max_ms         double precision,
        client_avg_ms  double precision,
        client_p50_ms  double precision,
        client_p90_ms  double precision,
        client_p95_ms  double precision,
        client_p99_ms  double precision,
        overhead_ms    double precision,
        first_seen     timestamptz,
        last_seen      timestamptz,
        example_error  text
    )
    LANGUAGE sql STABLE
    SET jit = off AS
$$
WITH figures AS (
    SELECT CASE grouping(r.operation, r.server, r.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(r.operation, '') AS operation,
           coalesce(r.server, '') AS server,
           coalesce(r.target, '') AS target,
           count(*) AS request_count,
           count(*) FILTER (WHERE r.status = 'error') AS error_count,
           avg(r.duration_ms) AS avg_ms,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[])
               WITHIN GROUP (ORDER BY r.duration_ms) AS pct,
           max(r.duration_ms) AS max_ms,
           avg(r.client_duration_ms) AS client_avg_ms,
           percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[])
               WITHIN GROUP (ORDER BY r.client_duration_ms) AS client_pct,
           avg(r.client_duration_ms - r.duration_ms) AS overhead_ms,
           min(r.start_time) AS first_seen,
           max(r.start_time) AS last_seen
    FROM observability_internal.metric_rows r
    WHERE r.start_time > observability_internal.metrics_now() - p_window
      AND r.start_time <= observability_internal.metrics_now()
    GROUP BY GROUPING SETS ((r.operation, r.server, r.target), (r.operation), ())
),
latest_errors AS (
    SELECT DISTINCT ON (r.operation, r.server, r.target) r.operation, r.server, r.target, r.error_message, r.start_time
    FROM observability_internal.metric_rows r
    WHERE r.status = 'error' AND r.error_message IS NOT NULL
      AND r.start_time > observability_internal.metrics_now() - p_window
      AND r.start_time <= observability_internal.metrics_now()
    ORDER BY r.operation, r.server, r.target, r.start_time DESC
),
examples AS (
    SELECT CASE grouping(e.operation, e.server, e.target) WHEN 0 THEN 'target' WHEN 3 THEN 'operation' ELSE 'total' END
               AS level,
           coalesce(e.operation, '') AS operation,
           coalesce(e.server, '') AS server,
           coalesce(e.target, '') AS target,
           (array_agg(e.error_message ORDER BY e.start_time DESC))[1] AS message
    FROM latest_errors e
    GROUP BY GROUPING SETS ((e.operation, e.server, e.target), (e.operation), ())
)
SELECT f.level, f.operation, f.server, f.target, f.request_count, f.error_count,
       100.0 * f.error_count / f.request_count,
       f.avg_ms, f.pct[1], f.pct[2], f.pct[3], f.pct[4], f.max_ms,
       f.client_avg_ms, f.client_pct[1], f.client_pct[2], f.client_pct[3], f.client_pct[4], f.overhead_ms,
       f.first_seen, f.last_seen, x.message
FROM figures f
LEFT JOIN examples x ON x.level = f.level AND x.operation = f.operation AND x.server = f.server AND x.target = f.target
WHERE f.request_count > 0
$$;

-- One materialized view per window, as in 0006, now keyed by server too.
CREATE MATERIALIZED VIEW observability.metrics_1h AS
    SELECT '1h'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '1 hour' AS window_start
    FROM observability.window_metrics(interval '1 hour') m;
CREATE UNIQUE INDEX metrics_1h_key ON observability.metrics_1h (level, operation, server, target);

CREATE MATERIALIZED VIEW observability.metrics_24h AS
    SELECT '24h'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '24 hours' AS window_start
    FROM observability.window_metrics(interval '24 hours') m;
CREATE UNIQUE INDEX metrics_24h_key ON observability.metrics_24h (level, operation, server, target);

CREATE MATERIALIZED VIEW observability.metrics_7d AS
    SELECT '7d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '7 days' AS window_start
    FROM observability.window_metrics(interval '7 days') m;
CREATE UNIQUE INDEX metrics_7d_key ON observability.metrics_7d (level, operation, server, target);

CREATE MATERIALIZED VIEW observability.metrics_30d AS
    SELECT '30d'::text AS time_window, m.*, observability.health(m.error_pct) AS health,
           observability_internal.metrics_now() AS computed_at,
           observability_internal.metrics_now() - interval '30 days' AS window_start
    FROM observability.window_metrics(interval '30 days') m;
CREATE UNIQUE INDEX metrics_30d_key ON observability.metrics_30d (level, operation, server, target);

CREATE VIEW observability.operation_metrics AS
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_1h
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_24h
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_7d
    UNION ALL
    SELECT time_window, level, operation, server, target, request_count, error_count, error_pct, avg_ms, p50_ms, p90_ms,
           p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms, client_p99_ms,
           overhead_ms, first_seen, last_seen, example_error, health, computed_at, window_start
    FROM observability.metrics_30d;

COMMENT ON VIEW observability.operation_metrics IS
    'Metrics per time_window (1h, 24h, 7d, 30d) and level: target = per operation, server and target; operation = per operation (server and target empty); total = everything. Tools, prompts and resources count MCP requests once (from calls); HTTP and DB count spans. p*_ms are server-side durations, client_p*_ms client-side, overhead_ms their mean difference. See docs/sql.md.';

-- Per-tool, per-prompt and per-resource metrics under the names psql users look for, one
-- row per window, server and target.
CREATE VIEW observability.tool_metrics AS
    SELECT time_window, server AS server_name, target AS tool_name, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'tool_invoke';

CREATE VIEW observability.prompt_metrics AS
    SELECT time_window, server AS server_name, target AS prompt_name, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'prompt_render';

CREATE VIEW observability.resource_metrics AS
    SELECT time_window, server AS server_name, target AS resource_uri, request_count, error_count, error_pct, health,
           avg_ms, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, client_avg_ms, client_p50_ms, client_p90_ms, client_p95_ms,
           client_p99_ms, overhead_ms, first_seen, last_seen, example_error, computed_at
    FROM observability.operation_metrics
    WHERE level = 'target' AND operation = 'resource_fetch';

-- Recomputes the buckets [p_from, p_until) of one rollup table from metric_rows (0011:
-- requests once for tools, prompts and resources, the service's own spans left out):
-- delete then insert, so a rerun over the same range gives the same rows. A request's
-- duration here is its server side's, else its client side's; the buckets are per
-- operation and target, all servers together. p_unit is 'minute' or 'hour'.
CREATE OR REPLACE FUNCTION observability_internal.rollup_range(p_unit text, p_from timestamptz, p_until timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql AS
$$
DECLARE
    v_table text;
    v_rows  bigint;
BEGIN
    IF p_unit NOT IN ('minute', 'hour') THEN
        RAISE EXCEPTION 'rollup_range: unit must be minute or hour, not %', p_unit;
    END IF;
    v_table := 'metrics_' || p_unit;
    EXECUTE format('DELETE FROM observability.%I WHERE bucket >= $1 AND bucket < $2', v_table)
        USING p_from, p_until;
    EXECUTE format($q$
        INSERT INTO observability.%I
            (bucket, level, operation, target, request_count, error_count, sum_ms, max_ms, p50_ms, p95_ms, p99_ms)
        SELECT g.bucket, g.level, g.operation, g.target, g.n, g.errors, g.sum_ms, g.max_ms,
               g.pct[1], g.pct[2], g.pct[3]
        FROM (
            SELECT s.bucket,
                   CASE WHEN grouping(s.operation) = 0 THEN 'target' ELSE 'total' END AS level,
                   coalesce(s.operation, '') AS operation,
                   coalesce(s.target, '') AS target,
                   count(*) AS n,
                   count(*) FILTER (WHERE s.status = 'error') AS errors,
                   sum(s.duration_ms) AS sum_ms,
                   max(s.duration_ms) AS max_ms,
                   percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[])
                       WITHIN GROUP (ORDER BY s.duration_ms) AS pct
            FROM (
                SELECT date_trunc(%L, r.start_time, 'UTC') AS bucket, r.operation, r.target, r.status,
                       coalesce(r.duration_ms, r.client_duration_ms) AS duration_ms
                FROM observability_internal.metric_rows r
                WHERE r.start_time >= $1 AND r.start_time < $2
            ) s
            GROUP BY GROUPING SETS ((s.bucket, s.operation, s.target), (s.bucket))
        ) g
        $q$, v_table, p_unit)
        USING p_from, p_until;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_rows;
END
$$;

-- The rollups so far counted spans: recount every kept bucket from the rows above.
SELECT observability_internal.rollup_range('minute', date_trunc('minute', now() - interval '8 days', 'UTC'),
                                           date_trunc('minute', now(), 'UTC'));
SELECT observability_internal.rollup_range('hour', date_trunc('hour', now() - interval '400 days', 'UTC'),
                                           date_trunc('hour', now(), 'UTC') + interval '1 hour');

-- Every MCP request of one session (mcp.session.id), in order: method, target, server,
-- both durations and the outcome, with the trace to open.
--
--   psql "$URL" -v session=4f1c2e9a0b7d4c55 -f sql/queries/session_calls.sql
--
-- session: the mcp.session.id (required). Live: reads observability.mcp_requests.

\if :{?session}
\else
    \echo 'session_calls.sql: set the session with -v session=<mcp.session.id>'
    \quit
\endif

SELECT start_time,
       method,
       target,
       server_name,
       client_name,
       round(client_duration_ms::numeric, 2)          AS client_ms,
       round(server_duration_ms::numeric, 2)          AS server_ms,
       status,
       error_message,
       observability.hex_trace_id(trace_id)           AS trace_id
FROM observability.mcp_requests
WHERE session_id = :'session'
ORDER BY start_time, trace_id;

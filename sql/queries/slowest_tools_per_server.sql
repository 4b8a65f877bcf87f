-- The slowest tools of each MCP server in one metrics window, by the server's p95, with
-- what the clients waited beside it. One tool name on two servers is two rows.
--
--   psql "$URL" -f sql/queries/slowest_tools_per_server.sql
--   psql "$URL" -v window=7d -v per_server=3 -f sql/queries/slowest_tools_per_server.sql
--
-- window: 1h, 24h (default), 7d or 30d. per_server: tools shown per server (default 5).
-- Reads observability.tool_metrics (requests counted once, from calls): as of computed_at.
-- A tool seen only by its clients has no server p95 and sorts by its client p95.

\if :{?window}
\else
    \set window 24h
\endif
\if :{?per_server}
\else
    \set per_server 5
\endif

SELECT server_name, tool_name, requests, p95_ms, client_p95_ms, error_pct
FROM (
    SELECT nullif(server_name, '')                 AS server_name,
           tool_name,
           request_count                           AS requests,
           round(p95_ms::numeric, 1)               AS p95_ms,
           round(client_p95_ms::numeric, 1)        AS client_p95_ms,
           round(error_pct::numeric, 2)            AS error_pct,
           row_number() OVER (PARTITION BY server_name
                              ORDER BY coalesce(p95_ms, client_p95_ms) DESC, tool_name) AS rank
    FROM observability.tool_metrics
    WHERE time_window = :'window'
) ranked
WHERE rank <= :per_server
ORDER BY server_name NULLS LAST, rank;

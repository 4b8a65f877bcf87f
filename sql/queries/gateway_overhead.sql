-- What a gateway or the transport adds per tool: for requests recorded by both their
-- client and their server, the client's wait minus the server's work.
--
--   psql "$URL" -f sql/queries/gateway_overhead.sql
--   psql "$URL" -v hours=6 -v min_requests=20 -f sql/queries/gateway_overhead.sql
--
-- hours: how far back (default 24). min_requests: tools with fewer such requests are
-- left out (default 5). Live: reads observability.mcp_requests (calls) of the period.

\if :{?hours}
\else
    \set hours 24
\endif
\if :{?min_requests}
\else
    \set min_requests 5
\endif

SELECT server_name,
       target                                                                        AS tool_name,
       count(*)                                                                      AS requests,
       round(avg(overhead_ms)::numeric, 2)                                           AS avg_overhead_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY overhead_ms)::numeric, 2)  AS p50_overhead_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY overhead_ms)::numeric, 2) AS p95_overhead_ms,
       round(avg(server_duration_ms)::numeric, 2)                                    AS avg_server_ms,
       round(avg(client_duration_ms)::numeric, 2)                                    AS avg_client_ms
FROM observability.mcp_requests
WHERE method = 'tools/call'
  AND overhead_ms IS NOT NULL
  AND start_time > now() - make_interval(hours => :hours)
GROUP BY server_name, target
HAVING count(*) >= :min_requests
ORDER BY p95_overhead_ms DESC, server_name, tool_name;

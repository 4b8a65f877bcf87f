-- One pgbench transaction of `make bench-compaction`: a batch of one span of now, through
-- ingest_spans() as the service sends it (a call of its own, in a transaction of its own).
SELECT observability_internal.ingest_spans(
    ARRAY[gen_random_uuid()], ARRAY[(random() * 9e18)::bigint], ARRAY[0::bigint], ARRAY['POST /mcp'], ARRAY['server'],
    ARRAY['http_request'], ARRAY['/mcp'], ARRAY['svc'], ARRAY['bench'], ARRAY[now()], ARRAY[now() + interval '1 ms'],
    ARRAY[1.0::float8], ARRAY['ok'], ARRAY[''], ARRAY['{"http.route": "/mcp"}'], ARRAY['{"service.name": "svc"}'],
    ARRAY['[]']);

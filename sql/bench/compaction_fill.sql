-- Yesterday's spans for `make bench-compaction`: :spans small HTTP spans stored through
-- ingest_spans() in batches of 1,000, as the service stores them. Prints the count stored.
\set ON_ERROR_STOP on
SELECT sum(b.stored) AS stored
FROM (SELECT observability_internal.ingest_spans(
                 array_agg(r.trace_id), array_agg(r.span_id), array_agg(0::bigint), array_agg('POST /mcp'::text),
                 array_agg('server'::text), array_agg('http_request'::text), array_agg('/mcp'::text),
                 array_agg('svc'::text), array_agg('bench'::text), array_agg(r.start_time),
                 array_agg(r.start_time + interval '1 ms'), array_agg(1.0::float8), array_agg('ok'::text),
                 array_agg(''::text), array_agg('{"http.route": "/mcp", "http.request.method": "POST"}'::text),
                 array_agg('{"service.name": "svc"}'::text), array_agg('[]'::text)) AS stored
      FROM (SELECT gen_random_uuid() AS trace_id, g::bigint AS span_id, g / 1000 AS batch,
                   date_trunc('day', now()) - interval '1 day' + (g % 82800) * interval '1 second' AS start_time
            FROM generate_series(1, :spans) g) r
      GROUP BY r.batch) b;

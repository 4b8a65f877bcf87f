#!/usr/bin/env bash
# `make bench-query`: dashboard pages and JSON twins at production volume. Generates
# SPANS (default 10,000,000) spans in TRACES (default 1,000,000) traces over DAYS (30)
# days into a fresh database of the private cluster (sql/bench/generate_spans.sql), times
# the metric refresh per window, then times every route of a release-built server.
# REUSE=1 keeps an existing observatory_bench_query database and skips the generation.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-prepare.sh
database=observatory_bench_query
export OBSERVABILITY_DATABASE_URL="${admin/\/postgres\?/\/$database?}"
export OBSERVABILITY_PORT="${BENCH_PORT:-54319}"
export OBSERVABILITY_GRPC_PORT=0
export OBSERVABILITY_LOG_LEVEL=warning
url="${OBSERVABILITY_DATABASE_URL%%\?*}"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -tAq "$admin" -c 'SHOW server_version')"
exists=$(psql -tAq "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$database'")
if [ "${REUSE:-0}" != 1 ] || [ "$exists" != 1 ]; then
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
  "$bin" migrate >/dev/null
  echo "generating ${SPANS:-10000000} spans in ${TRACES:-1000000} traces over ${DAYS:-30} days"
  start=$(date +%s)
  psql -q "$url" -v spans="${SPANS:-10000000}" -v traces="${TRACES:-1000000}" -v days="${DAYS:-30}" -v seed=0.42 \
    -f sql/bench/generate_spans.sql
  echo "generated in $(( $(date +%s) - start )) s"
else
  "$bin" migrate >/dev/null
  echo "reusing $database"
fi

# Since 0011 the tool, prompt and resource figures come from observability.calls. The
# migration assembles only the spans it finds; these were generated after it, so assemble
# them all now (as the maintenance service would, in one run), before the metric refresh.
# On REUSE=1 only traces not yet assembled are read.
started=$EPOCHREALTIME
assembled=$(psql -tAq "$url" -c "SELECT traces_assembled FROM observability.assemble_calls(p_settle => interval '0', p_max_traces => NULL)")
seconds="($EPOCHREALTIME - $started)"
if [ "$assembled" != 0 ]; then
  psql -tAq "$url" -c "SELECT format('assemble_calls: %s traces in %s s, %s spans/s (all spans); %s calls', $assembled, round($seconds, 1), round((SELECT count(*) FROM observability.spans) / $seconds), (SELECT count(*) FROM observability.calls))"
fi
# Settle calls as the generator settles spans and traces (statistics of the partitioned
# parent, which autovacuum never analyzes).
psql -q "$url" -c "VACUUM (ANALYZE) observability.calls"
psql -tAq "$url" -c "SELECT format('data: %s spans, %s traces, %s calls, %s on disk', (SELECT count(*) FROM observability.spans), (SELECT count(*) FROM observability.traces), (SELECT count(*) FROM observability.calls), pg_size_pretty(pg_database_size(current_database())))"

# The refresh figures: the first rollup (30-day backfill), each window's view, and the
# incremental refresh a minute later.
psql -q "$url" -c "TRUNCATE observability.metrics_minute, observability.metrics_hour, observability_internal.rollup_state, observability_internal.metric_digests" \
  -c "UPDATE observability.metric_windows SET last_refreshed_at = NULL"
"$bench" refresh

# A second 1,000-span trace for the comparison: a copy of the generated one five minutes
# later, with every duration scaled by 0.5-1.5 and about one leaf span in 30 renamed, so the two
# differ in time and in shape (spans only in one of them). Made once per database.
if [ "$(psql -tAq "$url" -c "SELECT count(*) FROM observability.traces WHERE span_count = 1000")" = 1 ]; then
  psql -q "$url" <<'SQL'
BEGIN;
CREATE TEMP TABLE wide_copy AS
SELECT md5('bench-query compare')::uuid AS trace_id, s.span_id, s.parent_span_id,
       CASE WHEN s.span_id % 30 = 7 AND NOT EXISTS (
                SELECT 1 FROM observability.spans c WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id)
            THEN s.name || ' (changed)' ELSE s.name END AS name, s.kind, s.operation, s.target,
       s.service_name, s.scope_name, s.start_time + interval '5 minutes' AS start_time,
       s.start_time + interval '5 minutes' + (s.end_time - s.start_time) * (0.5 + (abs(s.span_id) % 1000) / 1000.0) AS end_time,
       s.status, s.status_message, s.attributes, s.resource_attributes, s.events
FROM observability.spans s JOIN observability.traces t ON t.trace_id = s.trace_id AND t.span_count = 1000
WHERE s.start_time >= t.start_time AND s.start_time <= t.end_time;
INSERT INTO observability.spans (trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name,
                                 start_time, end_time, duration_ms, status, status_message, attributes, resource_attributes, events)
SELECT trace_id, span_id, parent_span_id, name, kind, operation, target, service_name, scope_name, start_time, end_time,
       extract(epoch FROM end_time - start_time) * 1000, status, status_message, attributes, resource_attributes, events
FROM wide_copy;
INSERT INTO observability.traces (trace_id, root_span_id, root_name, service_name, start_time, end_time, span_count, error_count)
SELECT c.trace_id, r.span_id, r.name, r.service_name, min(c.start_time), max(c.end_time), count(*),
       count(*) FILTER (WHERE c.status = 'error')
FROM wide_copy c JOIN wide_copy r ON r.parent_span_id IS NULL
GROUP BY c.trace_id, r.span_id, r.name, r.service_name;
COMMIT;
SQL
fi
trace=$(psql -tAq "$url" -c "SELECT observability.hex_trace_id(trace_id) FROM observability.traces WHERE span_count = 1000 AND trace_id <> md5('bench-query compare')::uuid LIMIT 1")
other=$(psql -tAq "$url" -c "SELECT observability.hex_trace_id(md5('bench-query compare')::uuid)")
tool=$(psql -tAq "$url" -c "SELECT target FROM observability.metrics_30d WHERE level = 'target' AND operation = 'tool_invoke' ORDER BY request_count DESC LIMIT 1")

# The views were just refreshed; the server's own refresh then only rolls up new minutes.
# Retention is held off: with its defaults (7 days, 100,000 traces) the server's first
# cleanup run would cut the generated store to a tenth or less while the routes are timed,
# and they would be measured on that (and during the deletion). The count of users' spans
# is compared after the routes to be sure (the service's own, from self-tracing, grow).
users_spans="SELECT count(*) FROM observability.spans WHERE service_name <> observability_internal.self_service()"
spans_before=$(psql -tAq "$url" -c "$users_spans")
OBSERVABILITY_METRICS_REFRESH_SECONDS=3600 OBSERVABILITY_TRACE_RETENTION_DAYS=365 OBSERVABILITY_MAX_TRACES=1000000000 \
  "$bin" serve > var/bench-query-serve.log 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$OBSERVABILITY_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
"$bench" query --url "http://127.0.0.1:$OBSERVABILITY_PORT" --requests "${REQUESTS:-50}" \
  ${trace:+--trace-id "$trace"} ${trace:+--compare-trace-id "$other"} ${tool:+--tool "$tool"}
spans_after=$(psql -tAq "$url" -c "$users_spans")
if [ "$spans_after" != "$spans_before" ]; then
  echo "bench-query: the store changed while the routes were timed ($spans_before spans before, $spans_after after)" >&2
  exit 1
fi
echo "routes timed over $spans_after spans"

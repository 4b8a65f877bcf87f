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

trace=$(psql -tAq "$url" -c "SELECT observability.hex_trace_id(trace_id) FROM observability.traces WHERE span_count = 1000 LIMIT 1")
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
  ${trace:+--trace-id "$trace"} ${tool:+--tool "$tool"}
spans_after=$(psql -tAq "$url" -c "$users_spans")
if [ "$spans_after" != "$spans_before" ]; then
  echo "bench-query: the store changed while the routes were timed ($spans_before spans before, $spans_after after)" >&2
  exit 1
fi
echo "routes timed over $spans_after spans"

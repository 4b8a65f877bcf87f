#!/usr/bin/env bash
# `make bench-bytes`: bytes per span before and after compact_span_partition()
# (migrations 0018-0020) on two datasets, counting every spans partition with its TOAST
# and indexes, the traces table and the resources and scopes tables:
#
# - the `make bench-query` data: SPANS (default 10,000,000) spans in TRACES (1,000,000)
#   traces over DAYS (30) days (sql/bench/generate_spans.sql);
# - small gateway spans: GATEWAY_TRACES (75,000) traces of four spans over yesterday
#   (sql/bench/generate_gateway_spans.sql), with a real Python process's 8-key resource.
#
# Both generators write rows as a store from before 0018 holds them (resource and scope
# name inline, indexes grown row by row), which is "before". "After" compacts every
# closed day, one transaction per day as the `compaction` job does, timing each. Today's partition is
# still being written and stays as it is, so the whole-store figure of the first dataset
# includes one uncompacted day; the compacted days' own figure is printed beside it.
#
# Uses the newest built `observatory` (release if present, else debug) only to migrate,
# with OBSERVABILITY_MIGRATIONS_DIR=migrations so the SQL measured is the checkout's.
# KEEP=1 keeps the databases afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-migrator.sh
load() { uptime | sed 's/.*load average: //'; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -X -tAq "$admin" -c 'SHOW server_version'); load (1, 5, 15 min) $(load)"

# Measures, compacts every closed day, measures again: database $1, dataset label $2.
measure() {
  local url="${admin/\/postgres\?/\/$1?}"
  local q=(psql -X -v ON_ERROR_STOP=1 -q "$url")
  "${q[@]}" -c "CHECKPOINT"
  "${q[@]}" -v label="$2, before" -f sql/bench/bytes_per_span.sql
  local started=$EPOCHREALTIME
  PGOPTIONS="-c client_min_messages=warning" psql -X -v ON_ERROR_STOP=1 -tAq "$url" <<'SQL'
SELECT format('SELECT format(''  %%s: %%s spans, %%s -> %%s bytes in %%s s'', c.partition_name, c.span_count, c.bytes_before, c.bytes_after, round(extract(epoch FROM clock_timestamp() - now())::numeric, 2)) FROM observability.compact_span_partition(%L) c', p.partition_name)
FROM observability.span_partitions_to_compact() p \gexec
SQL
  echo "compacted every closed day in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }") s"
  "${q[@]}" -c "CHECKPOINT"
  "${q[@]}" -v label="$2, after" -f sql/bench/bytes_per_span.sql
}

start=$(date +%s)
fresh_database observatory_bench_bytes
psql -X -q "${admin/\/postgres\?/\/observatory_bench_bytes?}" -v spans="${SPANS:-10000000}" \
  -v traces="${TRACES:-1000000}" -v days="${DAYS:-30}" -v seed=0.42 -f sql/bench/generate_spans.sql >/dev/null
echo "bench-query data generated in $(( $(date +%s) - start )) s"
measure observatory_bench_bytes "bench-query data"

start=$(date +%s)
fresh_database observatory_bench_bytes_gateway
psql -X -q "${admin/\/postgres\?/\/observatory_bench_bytes_gateway?}" -v traces="${GATEWAY_TRACES:-75000}" \
  -f sql/bench/generate_gateway_spans.sql >/dev/null
echo "gateway spans generated in $(( $(date +%s) - start )) s"
measure observatory_bench_bytes_gateway "small gateway spans"

if [ "${KEEP:-0}" != 1 ]; then
  psql -X -q "$admin" -c "DROP DATABASE observatory_bench_bytes WITH (FORCE)" \
    -c "DROP DATABASE observatory_bench_bytes_gateway WITH (FORCE)"
fi

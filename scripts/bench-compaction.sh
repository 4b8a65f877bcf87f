#!/usr/bin/env bash
# `make bench-compaction`: compact_span_partition() beside steady ingestion. Fills
# yesterday with TRACES (default 5,000) traces of four small gateway spans
# (sql/bench/generate_gateway_spans.sql), then runs CLIENTS (4) pgbench clients
# sending one-span batches through ingest_spans() for SECONDS_PER_LEG (40) twice: alone
# (the baseline), and while yesterday is rewritten REWRITES (10) times, a second apart.
# Reports each rewrite's time and whether it swapped the day in, and the batches
# PostgreSQL cancelled (deadlocks) with the throughput of each leg.
#
# UNTIL=0020 migrates only up to that migration (to compare with the swap's lock order
# before 0021). Uses the newest built `observatory` only to migrate. KEEP=1 keeps the
# database afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-migrator.sh
pgbench=/usr/lib/postgresql/15/bin/pgbench
db=observatory_bench_compaction
url="${admin/\/postgres\?/\/$db?}"
migrations="$PWD/migrations"
if [ -n "${UNTIL:-}" ]; then
  migrations="$(mktemp -d)"
  trap 'rm -rf "$migrations"' EXIT
  for file in migrations/*.sql; do
    name="$(basename "$file")"
    [[ "${name%%_*}" > "$UNTIL" ]] || cp "$file" "$migrations/"
  done
fi
echo "machine: $(nproc) cores; PostgreSQL $(psql -X -tAq "$admin" -c 'SHOW server_version'); migrations up to $(basename "$(ls "$migrations"/*.sql | tail -1)")"
fresh_database "$db" "$migrations"
psql -X -q "$url" -v traces="${TRACES:-5000}" -f sql/bench/generate_gateway_spans.sql >/dev/null
yesterday=$(psql -X -tAq "$url" -c "SELECT 'spans_p' || to_char(now() - interval '1 day', 'YYYYMMDD')")
echo "$yesterday: $(psql -X -tAq "$url" -c "SELECT count(*) FROM observability.$yesterday") spans"

# One pgbench leg; its summary goes to var/bench-compaction-$1.txt.
load() {
  "$pgbench" -n -c "${CLIENTS:-4}" -j 2 -T "${SECONDS_PER_LEG:-40}" -f sql/bench/compaction_load.sql \
    --max-tries=1 --failures-detailed "$url" > "var/bench-compaction-$1.txt" 2>&1
}
summary() {
  awk -v leg="$2" '/^number of transactions actually processed/ {done=$NF}
    /^number of deadlock failures/ {dead=$5}
    /^tps/ {tps=$3}
    END {printf "%s: %s batches, %s cancelled by a deadlock, %.0f batches/s\n", leg, done, dead, tps}' \
    "var/bench-compaction-$1.txt"
}

load alone
summary alone "ingestion alone"
load rewrites &
pid=$!
sleep 3
swapped=0
for i in $(seq 1 "${REWRITES:-10}"); do
  started=$EPOCHREALTIME
  rows=$(psql -X -tAq "$url" -c "SELECT count(*) FROM observability.compact_span_partition('$yesterday')")
  ms=$(awk "BEGIN { printf \"%d\", ($EPOCHREALTIME - $started) * 1000 }")
  if [ "$rows" = 1 ]; then swapped=$((swapped + 1)); echo "  rewrite $i: swapped in, $ms ms"; else echo "  rewrite $i: gave up, $ms ms"; fi
  sleep 1
done
wait "$pid"
echo "rewrites: $swapped of ${REWRITES:-10} swapped in"
summary rewrites "ingestion during the rewrites"
[ "${KEEP:-0}" = 1 ] || psql -X -q "$admin" -c "DROP DATABASE $db WITH (FORCE)"

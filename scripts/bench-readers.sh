#!/usr/bin/env bash
# `make bench-readers`: what migration 0022 costs the functions it makes VOLATILE (so that
# a read waiting for a compaction's swap sees the rewritten day). Fills a fresh database
# with SPANS (default 1,000,000) spans in TRACES (100,000) traces over DAYS (30) days
# (sql/bench/generate_spans.sql), assembles calls and rolls up, then times each reader
# with pgbench as 0022 leaves it and with 0022's functions set back to STABLE, the two
# alternating ROUNDS (2) times in the same run:
#   trace_otlp, trace_compare and trace_compare_typical (20 traces) on the largest
#   trace of the last day, 200 calls each; window_metrics('24 hours') and
#   merged_window_metrics('7 days'), 20 calls each.
# Uses the newest built `observatory` only to migrate. KEEP=1 keeps the database.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-migrator.sh
pgbench=/usr/lib/postgresql/15/bin/pgbench
db=observatory_bench_readers
url="${admin/\/postgres\?/\/$db?}"
echo "machine: $(nproc) cores; PostgreSQL $(psql -X -tAq "$admin" -c 'SHOW server_version')"
fresh_database "$db"
psql -X -q "$url" -v spans="${SPANS:-1000000}" -v traces="${TRACES:-100000}" -v days="${DAYS:-30}" -v seed=0.42 \
  -f sql/bench/generate_spans.sql >/dev/null
psql -X -q "$url" -c "SELECT count(*) FROM observability.assemble_calls(now(), interval '0', NULL)" \
  -c "SELECT count(*) FROM observability_internal.rollup_metrics()" \
  -c "SELECT observability_internal.refresh_rank_histograms()" -c "VACUUM ANALYZE" >/dev/null
echo "$(psql -X -tAq "$url" -c 'SELECT count(*) FROM observability.spans') spans"

# The largest trace of the last day, and the newest 20 other traces of its kind.
trace=$(psql -X -tAq "$url" -c "SELECT trace_id FROM observability.traces WHERE start_time > now() - interval '1 day'
                                ORDER BY span_count DESC, trace_id LIMIT 1")
kind="FROM observability.traces t JOIN observability.traces k USING (service_name, root_name)
      WHERE k.trace_id = '$trace' AND t.trace_id <> '$trace' AND t.start_time > now() - interval '1 day'"
other=$(psql -X -tAq "$url" -c "SELECT t.trace_id $kind ORDER BY t.start_time DESC LIMIT 1")
sample=$(psql -X -tAq "$url" -c "SELECT string_agg(trace_id::text, ',') FROM (SELECT t.trace_id $kind
                                 ORDER BY t.start_time DESC LIMIT 20) s")
echo "trace $trace: $(psql -X -tAq "$url" -c "SELECT span_count FROM observability.traces WHERE trace_id = '$trace'") spans"

readers=(trace_otlp trace_compare trace_compare_typical window_metrics merged_window_metrics)
declare -A statement=(
  [trace_otlp]="SELECT length(observability.trace_otlp('$trace')::text);"
  [trace_compare]="SELECT count(*) FROM observability.trace_compare('$trace', '$other');"
  [trace_compare_typical]="SELECT count(*) FROM observability.trace_compare_typical('$trace', '{$sample}'::uuid[]);"
  [window_metrics]="SELECT count(*) FROM observability.window_metrics('24 hours');"
  [merged_window_metrics]="SELECT count(*) FROM observability.merged_window_metrics('7 days');"
)
declare -A calls=([window_metrics]=20 [merged_window_metrics]=20)
# 0022's statements, and the same with STABLE: the functions as they were before it.
volatile=$(grep -E '^ALTER FUNCTION .* VOLATILE;$' migrations/0022_readers_see_rewritten_days.sql)
stable=${volatile//VOLATILE;/STABLE;}
script=$(mktemp)
trap 'rm -f "$script"' EXIT

printf '\n| round | reader | STABLE (before 0022), ms | VOLATILE (0022), ms |\n| --- | --- | --- | --- |\n'
for round in $(seq "${ROUNDS:-2}"); do
  for reader in "${readers[@]}"; do
    echo "${statement[$reader]}" > "$script"
    row="| $round | $reader |"
    for labels in "$stable" "$volatile"; do
      psql -X -q "$url" -c "$labels"
      latency=$("$pgbench" -n -c 1 -t "${calls[$reader]:-200}" -f "$script" "$url" 2>&1 | awk '/latency average/ {print $4}')
      row+=" $latency |"
    done
    echo "$row"
  done
done
[ -n "${KEEP:-}" ] || psql -X -q "$admin" -c "DROP DATABASE $db WITH (FORCE)"

#!/usr/bin/env bash
# `make bench-assembly`: how fast observability.assemble_calls() turns stored spans into
# calls (migrations/0011), in spans/s, against the 20,000 spans/s of sustained ingest it
# must keep up with. Generates SPANS (default 1,000,000) spans of MCP requests shaped like
# FastMCP, FastMCP behind an ASGI instrumentation, ContextForge and plain HTTP services
# (sql/bench/generate_mcp_calls.sql) over the last HOURS (1) hours into a fresh database
# of the private cluster, then calls assemble_calls(p_settle => '0', p_max_traces => BATCH)
# (default 20,000, the service's batch) one transaction after another until nothing is
# left, timing each, with the cluster's default session settings, as the service runs it.
#
# Baseline, in the same run and on the same rows: INSERT … SELECT of every generated span
# into a plain copy of observability.spans with the same indexes, i.e. the database's
# cost of storing those spans, the least any ingest pays for them. It puts the assembly
# time on the scale of the write it follows (a plain SELECT scan would be far cheaper
# than either and says nothing about keeping up). Ingest through the service costs more
# than this baseline (docs/performance.md, bench-ingest), so the ratio is optimistic for
# ingest, not for assembly.
#
# Uses the newest built `observatory` (release if present, else debug; builds the debug
# one when neither exists) only to migrate, with OBSERVABILITY_MIGRATIONS_DIR=migrations
# so that the SQL measured is the checkout's, whatever the binary embedded. KEEP=1 keeps
# the database observatory_bench_assembly afterwards (else it is dropped). CANDIDATE=file.sql
# runs that SQL file after migrating, e.g. a CREATE OR REPLACE of an assembly function, to
# measure a proposed change before it becomes a migration.
set -euo pipefail
cd "$(dirname "$0")/.."
spans="${SPANS:-1000000}"
hours="${HOURS:-1}"
batch="${BATCH:-20000}"
target_rate=20000

source scripts/bench-migrator.sh
database=observatory_bench_assembly
url="${admin/\/postgres\?/\/$database?}"
q() { PGOPTIONS="-c client_min_messages=warning" psql -X -v ON_ERROR_STOP=1 -tAq "$url" "$@"; }
load() { uptime | sed 's/.*load average: //'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -X -tAq "$admin" -c 'SHOW server_version'); load (1, 5, 15 min) $(load)"
fresh_database "$database"
if [ -n "${CANDIDATE:-}" ]; then
  echo "candidate SQL applied after migrating: $CANDIDATE"
  q -f "$CANDIDATE" >/dev/null
fi
start=$(date +%s)
psql -X -q "$url" -v spans="$spans" -v hours="$hours" -v seed=0.42 -f sql/bench/generate_mcp_calls.sql 2>&1 |
  grep -vE "NOTICE:  [0-9]+ requests' traces" || true
echo "generated in $(( $(date +%s) - start )) s"
q -c "SELECT format('data: %s spans in %s traces (%s spans per trace), %s on disk', (SELECT count(*) FROM observability.spans), count(*), round((SELECT count(*) FROM observability.spans)::numeric / count(*), 2), pg_size_pretty(pg_database_size(current_database()))) FROM observability.traces"

# Baseline: the same rows written again, into a copy with the same indexes as a day being written.
q -c "CHECKPOINT"
echo "load before the baseline: $(load)"
baseline_s=$(q <<'SQL'
CREATE SCHEMA bench_baseline;
CREATE TABLE bench_baseline.spans (LIKE observability.spans INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
-- The unique index each day's partition has while it is written (0019), not the parent's.
CREATE UNIQUE INDEX ON bench_baseline.spans (trace_id, span_id, start_time);
SELECT clock_timestamp() AS t0 \gset
INSERT INTO bench_baseline.spans SELECT * FROM observability.spans;
SELECT extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);
DROP SCHEMA bench_baseline CASCADE;
SQL
)
echo "baseline INSERT … SELECT of the same spans: ${baseline_s} s"
q -c "CHECKPOINT"

# Assembly: one transaction per batch, as the service runs it (DO commits between batches).
echo "load before assembly: $(load)"
q <<SQL
CREATE TABLE public.bench_batches (batch integer, traces bigint, calls bigint, spans bigint, seconds double precision);
SET bench.batch = '$batch';
DO \$\$
DECLARE
    v_r      record;
    v_t0     timestamptz;
    v_s      double precision;
    v_i      integer := 0;
    v_from   timestamptz := '-infinity';
    v_fromid uuid := '00000000-0000-0000-0000-000000000000';
    v_to     timestamptz;
    v_toid   uuid;
BEGIN
    LOOP
        v_t0 := clock_timestamp();
        SELECT * INTO v_r FROM observability.assemble_calls(p_now => clock_timestamp(), p_settle => interval '0',
                                                            p_max_traces => current_setting('bench.batch')::integer);
        COMMIT;
        v_s := extract(epoch FROM clock_timestamp() - v_t0);
        EXIT WHEN v_r.traces_assembled = 0;
        v_i := v_i + 1;
        SELECT s.assembled_until, s.last_trace_id INTO v_to, v_toid
        FROM observability_internal.call_assembly_state s WHERE s.name = 'calls';
        INSERT INTO public.bench_batches
        SELECT v_i, v_r.traces_assembled, v_r.calls_written, sum(t.span_count), v_s
        FROM observability.traces t
        WHERE (t.updated_at, t.trace_id) > (v_from, v_fromid) AND (t.updated_at, t.trace_id) <= (v_to, v_toid);
        COMMIT;
        v_from := v_to;
        v_fromid := v_toid;
    END LOOP;
END
\$\$;
\pset format aligned
\pset tuples_only off
\pset footer off
SELECT batch, traces, spans, calls, round(seconds::numeric, 2) AS seconds,
       round(spans / seconds) AS spans_per_s, round(calls / seconds) AS calls_per_s
FROM public.bench_batches ORDER BY batch;
SQL
echo "load after assembly: $(load)"
q <<SQL
SELECT format('assembly: %s spans, %s traces, %s calls in %s batches of up to $batch traces, %s s',
              sum(spans), sum(traces), sum(calls), count(*), round(sum(seconds)::numeric, 2))
FROM public.bench_batches;
SELECT format('  %s spans/s, %s calls/s; batch time p50 %s s, max %s s', round(sum(spans) / sum(seconds)),
              round(sum(calls) / sum(seconds)),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 2), round(max(seconds)::numeric, 2))
FROM public.bench_batches;
SELECT format('  baseline INSERT … SELECT of the same spans: %s s; assembly / baseline time: %s %%',
              round($baseline_s::numeric, 2), round((100 * sum(seconds) / $baseline_s)::numeric, 1))
FROM public.bench_batches;
SELECT format('  keeps up with $target_rate spans/s of ingest: %s (assembly busy %s s per second of such ingest)',
              CASE WHEN sum(spans) / sum(seconds) >= $target_rate THEN 'yes' ELSE 'NO' END,
              round(($target_rate * sum(seconds) / sum(spans))::numeric, 2))
FROM public.bench_batches;
SELECT format('  calls: %s rows, %s counted, %s linked (both sides), %s client-only, %s server-only',
              count(*), count(*) FILTER (WHERE counted),
              count(*) FILTER (WHERE client_span_id IS NOT NULL AND server_span_id IS NOT NULL),
              count(*) FILTER (WHERE server_span_id IS NULL), count(*) FILTER (WHERE client_span_id IS NULL))
FROM observability.calls;
SQL
if [ "${KEEP:-0}" != 1 ]; then
  psql -X -q "$admin" -c "DROP DATABASE $database WITH (FORCE)"
fi

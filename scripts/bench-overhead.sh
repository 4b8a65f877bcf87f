#!/usr/bin/env bash
# `make bench-overhead`: the throughput cost of self-tracing. Two release-built servers on
# one fresh database of the private cluster, one with OBSERVABILITY_ENABLED=true and one
# with false, take the same dashboard and ingestion load in alternating rounds.
# ROUNDS (default 20), REQUESTS (GETs per server and round, 600), SPANS (per server and
# round, 40000) and CONCURRENCY (8) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-prepare.sh
psql -q "$admin" -c "DROP DATABASE IF EXISTS observatory_bench_overhead WITH (FORCE)" -c "CREATE DATABASE observatory_bench_overhead"
export OBSERVABILITY_DATABASE_URL="${admin/\/postgres\?/\/observatory_bench_overhead?}"
export OBSERVABILITY_LOG_LEVEL=warning
# No maintenance during the rounds: it would land on one server's round and not the other's.
export OBSERVABILITY_CLEANUP_INTERVAL=7d OBSERVABILITY_METRICS_REFRESH_SECONDS=3600
"$bin" migrate >/dev/null

on_port=54331 off_port=54332
OBSERVABILITY_PORT=$on_port OBSERVABILITY_GRPC_PORT=0 OBSERVABILITY_ENABLED=true "$bin" serve > var/bench-overhead-on.log 2>&1 &
on_pid=$!
OBSERVABILITY_PORT=$off_port OBSERVABILITY_GRPC_PORT=0 OBSERVABILITY_ENABLED=false "$bin" serve > var/bench-overhead-off.log 2>&1 &
off_pid=$!
trap 'kill -TERM $on_pid $off_pid 2>/dev/null; wait $on_pid $off_pid 2>/dev/null || true' EXIT
for port in $on_port $off_port; do
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
done

# Something for the dashboard to show: a day of demo traffic, rolled up and refreshed.
"$bin" demo --url "http://127.0.0.1:$off_port" --traces 20000 --batch 200 --spread 86400 >/dev/null
"$bin" maintenance run-once --force-refresh >/dev/null

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -tAq "$admin" -c 'SHOW server_version')"
"$bench" overhead --on "http://127.0.0.1:$on_port" --off "http://127.0.0.1:$off_port" \
  --rounds "${ROUNDS:-20}" --requests "${REQUESTS:-600}" --spans "${SPANS:-40000}" --concurrency "${CONCURRENCY:-8}"
self_spans=$(psql -tAq "$OBSERVABILITY_DATABASE_URL" -c "SELECT count(*) FROM observability.spans WHERE service_name = 'mcp-observatory'")
echo "self-spans stored by the 'on' server: $self_spans"

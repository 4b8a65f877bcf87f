#!/usr/bin/env bash
# `make bench-ingest`: OTLP ingestion through a release-built server over OTLP/gRPC and
# OTLP/HTTP protobuf (the same payloads, each leg from an empty spans table) against raw COPY
# of the same rows, in one run, on a fresh database of the private cluster, for each shape
# of spans in SHAPES (default "mcp gateway": rich MCP traces, then small gateway spans),
# each with a freshly started server so its peak RSS is its own.
# SPANS (default 1000000), CONCURRENCY (default 8) and PROTOCOL (grpc, http or both, the
# default) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-prepare.sh
export OBSERVABILITY_DATABASE_URL="${admin/\/postgres\?/\/observatory_bench?}"
export OBSERVABILITY_PORT="${BENCH_PORT:-54318}"
export OBSERVABILITY_GRPC_PORT="${BENCH_GRPC_PORT:-54317}"
export OBSERVABILITY_LOG_LEVEL=warning
# Ingestion alone: the benchmark counts the spans stored, and self-spans would be among
# them. What self-tracing costs is `make bench-overhead`'s question.
export OBSERVABILITY_ENABLED=false

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL $(psql -tAq "$admin" -c 'SHOW server_version')"
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null; wait 2>/dev/null || true' EXIT
for shape in ${SHAPES:-mcp gateway}; do
  psql -q "$admin" -c "DROP DATABASE IF EXISTS observatory_bench WITH (FORCE)" -c "CREATE DATABASE observatory_bench"
  "$bin" migrate >/dev/null
  "$bin" serve > "var/bench-serve-$shape.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$OBSERVABILITY_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo
  echo "== $shape spans =="
  "$bench" ingest --url "http://127.0.0.1:$OBSERVABILITY_PORT" --grpc-port "$OBSERVABILITY_GRPC_PORT" \
    --protocol "${PROTOCOL:-both}" --spans "${SPANS:-1000000}" --shape "$shape" \
    --concurrency "${CONCURRENCY:-8}" --server-pid "$pid"
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
done

#!/usr/bin/env bash
# Brings MCP Observatory up on this machine with a populated store: installs what is
# missing, builds the release binary, starts a private PostgreSQL cluster under var/
# unless OBSERVABILITY_DATABASE_URL (or DATABASE_URL) names a database, migrates, serves,
# and sends one round of demo traffic. Runs in the foreground until Ctrl-C, which stops
# the service gracefully; DETACH=1 returns after the demo and leaves it running
# (stop it with `make down`).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

scripts/bootstrap.sh up
echo "== building (release; the first build takes several minutes)"
swift build -c release --product observatory 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]|CMakeLists.txt|unhandled; explicitly declare" || true
bin=.build/release/observatory
[ -x "$bin" ] || { echo "build failed" >&2; exit 1; }

if [ -z "${OBSERVABILITY_DATABASE_URL:-${DATABASE_URL:-}}" ]; then
  scripts/postgres.sh start
  admin="$(scripts/postgres.sh url)"
  if [ "$(psql -tAq "$admin" -c "SELECT 1 FROM pg_database WHERE datname = 'observatory'")" != 1 ]; then
    psql -q "$admin" -c "CREATE DATABASE observatory"
  fi
  export OBSERVABILITY_DATABASE_URL="${admin/\/postgres\?/\/observatory?}"
  echo "== private PostgreSQL cluster in var/postgres: $OBSERVABILITY_DATABASE_URL"
fi

"$bin" migrate

if [ -f var/observatory.pid ] && kill -0 "$(cat var/observatory.pid)" 2>/dev/null; then
  echo "stopping the instance started earlier (pid $(cat var/observatory.pid))"
  kill -TERM "$(cat var/observatory.pid)"; sleep 1
fi
"$bin" serve > >(tee var/observatory.log) 2>&1 &
pid=$!
echo "$pid" > var/observatory.pid
host="${OBSERVABILITY_HOST:-127.0.0.1}"
port="${OBSERVABILITY_PORT:-4318}"
[ "$host" = 0.0.0.0 ] && host=127.0.0.1
for _ in $(seq 1 100); do
  curl -fsS "http://$host:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "observatory serve exited; see var/observatory.log" >&2; exit 1; }
  sleep 0.2
done

"$bin" demo --url "http://$host:$port" --traces "${DEMO_TRACES:-500}"
# The demo's spans are spread over the past hour, older than the rollups' 10-minute margin
# for late spans: recount that hour and refresh every view now, so the dashboards show
# the demo at once instead of at the next scheduled refresh.
psql -q "$OBSERVABILITY_DATABASE_URL" \
  -c "UPDATE observability_internal.rollup_state SET rolled_until = least(rolled_until, now() - interval '2 hours')" \
  -c "SELECT count(*) FROM observability.refresh_metrics(p_force => true)" >/dev/null
cat <<MSG

MCP Observatory is up (pid $pid, log var/observatory.log).
  dashboards:        http://$host:$port/admin/observability
  OTLP/HTTP ingest:  http://$host:$port/v1/traces   (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  OTLP/gRPC ingest:  http://$host:${OBSERVABILITY_GRPC_PORT:-4317}   (with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc)
  JSON ingest:       http://$host:$port/api/v1/spans
  health:            http://$host:$port/healthz  http://$host:$port/readyz
  psql:              psql "$OBSERVABILITY_DATABASE_URL" -c "SELECT * FROM observability.tool_metrics WHERE time_window = '24h' ORDER BY p99_ms DESC"
MSG

if [ "${DETACH:-0}" = 1 ]; then
  echo "Left running in the background; stop it with: make down"
  exit 0
fi
echo "Ctrl-C stops it."
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"; rm -f var/observatory.pid; exit 0' INT TERM
wait "$pid"

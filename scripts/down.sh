#!/usr/bin/env bash
# Stops what `make up` started: the service (gracefully) and the private PostgreSQL cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f var/observatory.pid ]; then
  pid="$(cat var/observatory.pid)"
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped observatory (pid $pid)"
  fi
  rm -f var/observatory.pid
fi
scripts/postgres.sh stop
echo "stopped the private PostgreSQL cluster"

#!/usr/bin/env bash
# A private PostgreSQL cluster under var/postgres, for development, tests and benchmarks.
#
#   scripts/postgres.sh start    initdb on first use, then start (idempotent)
#   scripts/postgres.sh stop     fast shutdown
#   scripts/postgres.sh url      print the database URL of the cluster
#   scripts/postgres.sh status
#
# PostgreSQL refuses to run as root; as root the cluster is owned and run by the
# `postgres` system user that Debian's package creates. Listens on 127.0.0.1 only.
# OBSERVABILITY_PG_PORT (default 54329) and OBSERVABILITY_PG_DIR override the location.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${OBSERVABILITY_PG_DIR:-$root/var/postgres}"
port="${OBSERVABILITY_PG_PORT:-54329}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$bin" ] || { echo "PostgreSQL server binaries not found: apt-get install postgresql" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root, the cluster runs as `postgres`, which must be able to reach the directory. A
# checkout under a private home (/root/...) is out of its reach: then the cluster lives in
# postgres's own home instead, one per checkout.
if [ "$(id -u)" = 0 ] && [ -z "${OBSERVABILITY_PG_DIR:-}" ]; then
  mkdir -p "$dir"
  chown postgres:postgres "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    dir="$(getent passwd postgres | cut -d: -f6)/observatory-$(printf '%s' "$root" | md5sum | cut -c1-12)"
  fi
fi

case "${1:-}" in
  start)
    mkdir -p "$dir/run"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
      cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
shared_buffers = 1GB
max_wal_size = 4GB
checkpoint_timeout = 15min
max_connections = 200
CONF
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null; then
        echo "PostgreSQL did not start (is port $port taken? set OBSERVABILITY_PG_PORT); $dir/postgres.log says:" >&2
        tail -n 5 "$dir/postgres.log" >&2
        exit 1
      fi
    fi
    for _ in $(seq 1 60); do
      "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
      sleep 0.5
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { echo "PostgreSQL did not start; see $dir/postgres.log" >&2; exit 1; }
    ;;
  stop)
    [ -f "$dir/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  status)
    as_owner "$bin/pg_ctl" -D "$dir/data" status
    ;;
  url)
    echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    ;;
  *)
    echo "usage: $0 start|stop|status|url" >&2; exit 2
    ;;
esac

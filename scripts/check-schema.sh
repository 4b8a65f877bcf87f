#!/usr/bin/env bash
# Fails when sql/schema.sql differs from what the migrations produce; with --write,
# regenerates it. Needs the private cluster running (scripts/postgres.sh start) and a
# built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
admin="$(scripts/postgres.sh url)"
database="obs_schema_$$"
url="${admin/\/postgres\?/\/$database?}"
bin=.build/debug/observatory
[ -x "$bin" ] || bin=.build/release/observatory

psql -q "$admin" -c "CREATE DATABASE $database"
trap 'psql -q "$admin" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"' EXIT
log=$(OBSERVABILITY_DATABASE_URL="$url" "$bin" migrate 2>&1) || { printf "%s\n" "$log" >&2; exit 1; }

# Daily partitions are named by date, so they are left out; the rest is the schema.
dump=$(pg_dump --schema-only --no-owner --no-privileges --schema=observability --schema=observability_internal \
         --exclude-table='observability.spans_p*' --exclude-table='observability.calls_p*' "${url%%\?*}" \
       | grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' | cat -s)

if [ "${1:-}" = "--write" ]; then
  printf '%s\n' "$dump" > sql/schema.sql
  echo "wrote sql/schema.sql"
elif diff -u sql/schema.sql <(printf '%s\n' "$dump"); then
  echo "sql/schema.sql matches the migrations"
else
  echo "sql/schema.sql differs from what the migrations produce; run: make schema" >&2
  exit 1
fi

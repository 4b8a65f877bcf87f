# Sourced by the benchmarks that use `observatory` only to migrate (bench-assembly,
# bench-bytes, bench-compaction): sets `bin` to the newest built binary, release if
# present, else debug, building the debug one when neither exists, so those benchmarks
# need no release build. Starts the private PostgreSQL cluster and sets `admin` (its
# superuser URL), as bench-prepare.sh does for the others.
mkdir -p var
if [ -x .build/release/observatory ]; then
  bin=.build/release/observatory
elif [ -x .build/debug/observatory ]; then
  bin=.build/debug/observatory
else
  swift build --product observatory 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]" || true
  bin=.build/debug/observatory
fi
scripts/postgres.sh start
admin="$(scripts/postgres.sh url)"

# Drops and creates database $1 and migrates it with the migrations in $2 (default: the
# checkout's), so that the SQL measured is the checkout's, not the binary's embedded copy.
fresh_database() {
  local url="${admin/\/postgres\?/\/$1?}"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q "$admin" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
    -c "CREATE DATABASE $1"
  OBSERVABILITY_DATABASE_URL="$url" OBSERVABILITY_MIGRATIONS_DIR="${2:-$PWD/migrations}" "$bin" migrate >/dev/null 2>&1 ||
    { echo "migration failed: OBSERVABILITY_DATABASE_URL=$url $bin migrate" >&2; exit 1; }
}

#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, starts the private
# PostgreSQL cluster, builds, checks generated files, then runs the Swift tests (unit and
# PostgreSQL integration) and the live-service tests (real OpenTelemetry SDK clients,
# durability, bad input) against the built binary. Among the checks: the release binary built
# as the Dockerfile builds it, run under an empty environment (scripts/check-image-binary.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh test
scripts/postgres.sh start
export OBSERVABILITY_TEST_DATABASE_URL="$(scripts/postgres.sh url)"
export OBSERVABILITY_TEST_ADMIN_URL="$OBSERVABILITY_TEST_DATABASE_URL"

mkdir -p var
# The real MCP libraries' virtual environments (var/venvs, one per library: their `mcp`
# versions conflict) download while the build compiles; quick when they are current.
scripts/mcp-venvs.sh > var/mcp-venvs.log 2>&1 &
venvs=$!

echo "== build"
# The whole log is kept for check-warnings; the terminal gets everything but progress lines.
swift build --build-tests 2>&1 | tee var/build.log | grep -vE "^\[[0-9]+/[0-9]+\]" || true
test -x .build/debug/observatory || { echo "build failed"; swift build --build-tests; exit 1; }

echo "== checks"
scripts/check-warnings.sh var/build.log
scripts/check-format.sh
python3 scripts/check-bootstrap.py
scripts/check-schema.sh
scripts/generate-otlp.sh --check
docker-compose -f docker/compose.yaml config -q && echo "docker/compose.yaml is valid"

echo "== image binary"
scripts/check-image-binary.sh

echo "== swift test"
swift test --skip-build --disable-swift-testing 2>&1 | grep -vE "^Test Case .* (started|passed)" | tail -n 200
status=${PIPESTATUS[0]}
[ "$status" = 0 ] || { echo "swift test failed ($status)"; exit "$status"; }

echo "== live service tests"
wait "$venvs" || { cat var/mcp-venvs.log; echo "scripts/mcp-venvs.sh failed"; exit 1; }
# --durations: the slowest tests in the log, for keeping CI within its time.
OBSERVATORY_BIN="$PWD/.build/debug/observatory" python3 -m pytest Tests/python -q -p no:cacheprovider --durations=15

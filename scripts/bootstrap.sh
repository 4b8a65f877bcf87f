#!/usr/bin/env bash
# Installs what this project needs on a Debian machine that has Swift, and only what is
# missing: `scripts/bootstrap.sh up` for running the service, `scripts/bootstrap.sh test`
# for the whole test suite as well. Needs root (or sudo) only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-up}"

# libjs-chart.js: Chart.js, which the dashboards serve from /usr/share/javascript.
packages=(postgresql postgresql-contrib zlib1g-dev libcurl4-openssl-dev curl libjs-chart.js)
if [ "$mode" = test ]; then
  # chromium: the browser tests drive Debian's Chromium through Playwright.
  packages+=(protobuf-compiler docker-compose chromium)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's package starts a system cluster on 5432; ours is private (scripts/postgres.sh), so
# the system one is left as the package set it up.

if [ "$mode" = test ]; then
  if ! python3 -c "import opentelemetry.exporter.otlp.json.http, opentelemetry.exporter.otlp.proto.http, psycopg, pytest, playwright" 2>/dev/null; then
    echo "bootstrap: installing the Python test clients"
    python3 -m pip install -q --disable-pip-version-check -r Tests/python/requirements-otel.txt
    python3 -m pip install -q --disable-pip-version-check -r Tests/python/requirements.txt
  fi
fi

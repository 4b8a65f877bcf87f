#!/usr/bin/env bash
# Installs what this project needs on a Debian machine that has Swift, and only what is
# missing: `scripts/bootstrap.sh up` for running the service, `scripts/bootstrap.sh test`
# for the whole test suite as well. Needs root (or sudo) only when something is missing.
# `scripts/bootstrap.sh list up|test` prints the Debian packages of a mode, one a line:
# scripts/check-bootstrap.py compares them with what the scripts and tests really use.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-up}"
[ "$mode" = list ] && list_mode="${2:-up}" || list_mode=""

# libjs-chart.js: Chart.js, which the dashboards serve from /usr/share/javascript.
# zlib1g-dev, libcurl4-openssl-dev: what the Swift build links (CompressNIO, FoundationNetworking).
packages=(postgresql postgresql-contrib zlib1g-dev libcurl4-openssl-dev curl libjs-chart.js)
if [ "$mode" = test ] || [ "$list_mode" = test ]; then
  # protobuf-compiler: protoc, for the check that the generated OTLP code is current.
  # libprotobuf-dev: google/protobuf/*.proto under /usr/include, which proto/google/rpc imports.
  # docker-compose: validates docker/compose.yaml offline.
  # chromium: the browser tests drive Debian's Chromium through Playwright.
  packages+=(protobuf-compiler libprotobuf-dev docker-compose chromium)
  # python3-venv: scripts/mcp-venvs.sh, one virtual environment per real MCP library.
  packages+=(python3-venv)
fi

if [ -n "$list_mode" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
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
  # Compared line by line with what is installed, so a requirement added to the files is
  # installed on machines that ran an older bootstrap. Two steps: one combined install of
  # the OTel packages fails to resolve (see the file).
  for requirements in Tests/python/requirements-otel.txt Tests/python/requirements.txt; do
    if ! python3 scripts/requirements-satisfied.py "$requirements"; then
      echo "bootstrap: installing $requirements"
      python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r "$requirements"
    fi
  done
  # The real MCP libraries of Tests/python/test_mcp_libraries.py get a virtual environment
  # each (scripts/mcp-venvs.sh), made by scripts/test.sh while the Swift build runs.
fi

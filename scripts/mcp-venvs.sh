#!/usr/bin/env bash
# Makes or updates one virtual environment per real MCP library that the live tests run
# (Tests/python/test_mcp_libraries.py): var/venvs/<library> from
# Tests/python/mcp_apps/requirements-<library>.txt. The libraries need conflicting `mcp`
# versions (fastmcp 4 and the 2.x SDK against 1.30 for the instrumentations), hence one each.
# Quick when nothing changed: a venv whose stamp holds its requirements file's SHA-256 is
# left alone. `scripts/mcp-venvs.sh fastmcp logfire` does only those; no argument, all.
# Needs python3 with the venv module (Debian: python3-venv, installed by bootstrap.sh test).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${MCP_VENVS_DIR:-var/venvs}"
python="${MCP_VENVS_PYTHON:-python3}"

if [ $# -gt 0 ]; then
  libraries=("$@")
else
  libraries=()
  for requirements in Tests/python/mcp_apps/requirements-*.txt; do
    name="${requirements##*/requirements-}"
    libraries+=("${name%.txt}")
  done
fi

for library in "${libraries[@]}"; do
  requirements="Tests/python/mcp_apps/requirements-$library.txt"
  [ -f "$requirements" ] || { echo "mcp-venvs: no $requirements" >&2; exit 1; }
  venv="$root/$library"
  digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$digest" ]; then
    continue
  fi
  echo "mcp-venvs: $venv from $requirements"
  # Made anew, so a package dropped from the file does not linger in the venv.
  rm -rf "$venv"
  "$python" -m venv "$venv"
  # --no-deps: the file pins the whole resolved set, so pip neither resolves nor upgrades.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$requirements"
  "$venv/bin/python" -m pip check >/dev/null || { "$venv/bin/python" -m pip check; exit 1; }
  echo "$digest" > "$venv/.requirements.sha256"
done

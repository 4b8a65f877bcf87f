#!/usr/bin/env bash
# Fails when a Swift file is not formatted as `make fmt` formats it (swift-format, shipped
# with the toolchain; rules in .swift-format). The generated OTLP code is left as protoc
# writes it.
#   usage: scripts/check-format.sh [--write]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- 'Package.swift' 'Sources/*.swift' 'Tests/*.swift' \
  | grep -v '\.pb\.swift$')
if [ "${1:-}" = "--write" ]; then
  swift format format --in-place --parallel --configuration .swift-format "${files[@]}"
  exit 0
fi
if ! swift format lint --strict --parallel --configuration .swift-format "${files[@]}"; then
  echo "check-format: run \`make fmt\` and commit the result" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"

#!/usr/bin/env bash
# Regenerates Sources/ObservatoryOTLP/*.pb.swift from proto/.
# Needs Debian's protoc (apt-get install protobuf-compiler); builds protoc-gen-swift
# from the swift-protobuf version Package.swift already depends on.
# `scripts/generate-otlp.sh --check` fails when the committed files differ from a fresh generation.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
swift build --product protoc-gen-swift >/dev/null
plugin="$(swift build --show-bin-path)/protoc-gen-swift"

out=Sources/ObservatoryOTLP
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" -I proto -I /usr/include \
  $(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)

if [ "${1:-}" = "--check" ]; then
  for f in "$out"/*.pb.swift; do
    diff -u "Sources/ObservatoryOTLP/$(basename "$f")" "$f"
  done
  echo "generated OTLP code is up to date"
fi

#!/usr/bin/env bash
# Fails when the compiler warned about the project's own code in a build log: the project
# builds warning-free, and a new warning is a failure, not noise. Warnings about the
# dependencies (in .build/checkouts/) are allowed, and named with a count per package, as
# are SwiftPM's notes about the dependencies' own files (their CMakeLists.txt and other
# files their manifests do not declare). A log of an incremental build holds only the files
# it recompiled; CI builds from a clean clone, so there it covers every file.
#   usage: scripts/check-warnings.sh BUILD_LOG
set -euo pipefail
log="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"

own="$(grep -E "^($root/)?(Sources|Tests|Package\.swift)[^:]*:[0-9]+:([0-9]+:)? warning:" "$log" | sort -u || true)"
dependencies="$(grep -E "warning:" "$log" | grep -oE "\.build/checkouts/[^/]+" | sort | uniq -c | sed -E 's|\.build/checkouts/||' || true)"
manifest_notes="$(grep -cE "CMakeLists.txt|unhandled; explicitly declare" "$log" || true)"

if [ -n "$dependencies" ]; then
  echo "check-warnings: dependencies' warnings (allowed):" $(echo "$dependencies" | awk '{printf "%s %s,", $2, $1}' | sed 's/,$//')
fi
if [ "${manifest_notes:-0}" != 0 ]; then
  echo "check-warnings: $manifest_notes SwiftPM notes about dependencies' undeclared files (allowed)"
fi
if [ -n "$own" ]; then
  echo "check-warnings: the project's own code has compiler warnings; fix them:" >&2
  echo "$own" >&2
  exit 1
fi
echo "check-warnings: no warnings in the project's own code"

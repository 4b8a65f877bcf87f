#!/usr/bin/env bash
# What can be checked of docker/Dockerfile without a Docker engine, run by `make test`:
#   1. the image is built with the Swift toolchain the tests use;
#   2. the runtime stage installs the package that provides Chart.js at the configured default
#      path, and a package (or the base image) for every shared library the binary links;
#   3. the release binary built the way the Dockerfile builds it (--static-swift-stdlib) runs
#      `migrate`, `serve` and a round of `demo` traffic under an empty environment (env -i,
#      no toolchain on PATH) with only the image's settings, from a working directory with no
#      migrations/ in reach (they are compiled in), reading Chart.js from the image's path.
# Needs the private PostgreSQL cluster (scripts/postgres.sh start) or OBSERVABILITY_TEST_ADMIN_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
dockerfile=docker/Dockerfile
fail() { echo "check-image-binary: $*" >&2; exit 1; }

# 1. The toolchain.
image_version="$(sed -nE 's/^ARG SWIFT_IMAGE=swift:([0-9.]+)-bookworm$/\1/p' "$dockerfile")"
swift_version="$(swift --version 2>&1 | sed -nE 's/.*Swift version ([0-9.]+).*/\1/p' | head -n 1)"
[ -n "$image_version" ] || fail "no 'ARG SWIFT_IMAGE=swift:<version>-bookworm' line in $dockerfile"
[ "$image_version" = "$swift_version" ] ||
  fail "$dockerfile builds with Swift $image_version, the tests run Swift $swift_version"

# 2. The runtime stage's packages: the apt-get install list after the last FROM.
runtime_stage="$(awk '/^FROM /{text=""} {text=text $0 "\n"} END{printf "%s", text}' "$dockerfile")"
runtime_packages="$(sed -n '/apt-get -q install/,/rm -rf/p' <<<"$runtime_stage" |
  sed -nE 's/^[[:space:]]+([a-z0-9][a-z0-9.+-]+)[[:space:]]*\\$/\1/p' | sort -u)"
[ -n "$runtime_packages" ] || fail "found no apt-get install list in the runtime stage of $dockerfile"
# In debian:bookworm-slim without installing anything.
base_packages="libc6 libgcc-s1 libstdc++6"
chart_js="$(sed -nE 's|.*public var chartJSPath: String = "([^"]+)".*|\1|p' Sources/ObservatoryConfiguration/*.swift)"
[ -f "$chart_js" ] || fail "Chart.js is not at $chart_js on this machine (scripts/bootstrap.sh installs libjs-chart.js)"
chart_package="$(dpkg-query -S "$chart_js" | cut -d: -f1)"
grep -qx "$chart_package" <<<"$runtime_packages" ||
  fail "the runtime stage of $dockerfile does not install $chart_package, which provides $chart_js"

# 3. The binary, built as the Dockerfile builds it.
echo "building the release binary as docker/Dockerfile does (--static-swift-stdlib)"
swift build -c release --product observatory --static-swift-stdlib 2>&1 |
  grep -E "error|warning: .*Sources/Observatory|Compiling|Build complete" | grep -vE "^\[[0-9]+/[0-9]+\] Compiling" || true
binary="$(swift build -c release --show-bin-path)/observatory"
[ -x "$binary" ] || fail "the release build did not produce $binary"

# The package that installed a file; dpkg knows some under /lib, others under /usr/lib.
package_of() {
  local path owner
  for path in "$1" "$(readlink -f "$1")" "${1#/usr}" "/usr${1#/usr}"; do
    owner="$(dpkg-query -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)"
    [ -n "$owner" ] && { echo "$owner"; return 0; }
  done
  return 1
}
# The libraries the binary names itself (NEEDED); apt brings what those depend on.
for needed in $(readelf -d "$binary" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
  library="$(ldd "$binary" | awk -v name="$needed" '$1 == name && $3 ~ /^\// {print $3}')"
  [ -n "$library" ] || [ "$needed" = "${needed#ld-linux}" ] || continue
  [ -n "$library" ] || fail "the binary needs $needed, which is not installed here"
  package="$(package_of "$library")" || fail "$library, which the binary needs, belongs to no Debian package"
  grep -qxF "$package" <<<"$runtime_packages"$'\n'"${base_packages// /$'\n'}" ||
    fail "the binary needs $needed from $package, which the runtime stage of $dockerfile does not install"
done

# The image's file system, as far as the binary sees it: the binary and an empty home. The
# migrations are compiled in; no migrations/ folder is in reach.
root="$(mktemp -d)"
server_pid=""
database=""
admin_url="${OBSERVABILITY_TEST_ADMIN_URL:-$(scripts/postgres.sh url)}"
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$database" ] && psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$root/usr/local/bin" "$root/home/observatory"
cp "$binary" "$root/usr/local/bin/observatory"

database="obs_image_$$"
psql -q "$admin_url" -c "CREATE DATABASE $database" >/dev/null
database_url="$(sed -E "s|/postgres(\?\|$)|/$database\1|" <<<"$admin_url")"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
grpc_port="$(free_port)"

# Only what the Dockerfile's ENV sets, plus the database, a loopback address instead of
# the container's 0.0.0.0, and free ports (a local `make up` may hold 4318 and 4317).
home="$root/home/observatory"
image_env=(PATH=/usr/bin:/bin HOME="$home"
  OBSERVABILITY_DATABASE_URL="$database_url" OBSERVABILITY_HOST=127.0.0.1 OBSERVABILITY_PORT="$port"
  OBSERVABILITY_GRPC_PORT="$grpc_port")
image() { (cd "$home" && exec env -i "${image_env[@]}" "$root/usr/local/bin/observatory" "$@"); }
image migrate >"$root/migrate.log" 2>&1 || { cat "$root/migrate.log" >&2; fail "migrate failed"; }
# Started without the function, so $! is the server itself and receives the SIGTERM below.
(cd "$home" && exec env -i "${image_env[@]}" "$root/usr/local/bin/observatory" serve) >"$root/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$root/serve.log" >&2; fail "serve exited"; }
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || { cat "$root/serve.log" >&2; fail "serve never became ready"; }
image demo --url "http://127.0.0.1:$port" --traces 40 --batch 20 >"$root/demo.log" 2>&1 ||
  { cat "$root/demo.log" >&2; fail "demo failed"; }
spans="$(psql -qtA "$database_url" -c "SELECT count(*) FROM observability.spans WHERE service_name <> 'mcp-observatory'")"
[ "$spans" -gt 0 ] || fail "demo traffic was acknowledged but no span is stored"
curl -fsS "http://127.0.0.1:$port/static/vendor/chart.min.js" -o "$root/chart.js" ||
  fail "/static/vendor/chart.min.js is not served"
cmp -s "$root/chart.js" "$chart_js" || fail "/static/vendor/chart.min.js differs from $chart_js"
curl -fsS -o /dev/null "http://127.0.0.1:$port/admin/observability/metrics" || fail "the summary page does not answer"
kill -TERM "$server_pid"
wait "$server_pid" || { cat "$root/serve.log" >&2; fail "serve did not exit cleanly on SIGTERM"; }
server_pid=""
echo "release binary (static Swift runtime) ran migrate, serve and demo under env -i: $spans spans stored, Chart.js served"

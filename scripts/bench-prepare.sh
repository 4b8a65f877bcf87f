# Sourced by the bench-* scripts: what every benchmark needs before its own steps. Installs
# what is missing, builds the release binaries, starts the private PostgreSQL cluster, and
# sets `bin` (the service), `bench` (the benchmarks) and `admin` (the cluster's superuser URL).
mkdir -p var
scripts/bootstrap.sh up
swift build -c release --product observatory 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]|CMakeLists.txt|unhandled; explicitly declare" || true
swift build -c release --product observatory-bench 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]|CMakeLists.txt|unhandled; explicitly declare" || true
bin=.build/release/observatory
bench=.build/release/observatory-bench
scripts/postgres.sh start
admin="$(scripts/postgres.sh url)"

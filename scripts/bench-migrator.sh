# Sourced by the benchmarks that use `observatory` only to migrate (bench-assembly,
# bench-bytes): sets `bin` to the newest built binary, release if present, else debug,
# building the debug one when neither exists, so those benchmarks need no release build.
if [ -x .build/release/observatory ]; then
  bin=.build/release/observatory
elif [ -x .build/debug/observatory ]; then
  bin=.build/debug/observatory
else
  swift build --product observatory 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\]" || true
  bin=.build/debug/observatory
fi

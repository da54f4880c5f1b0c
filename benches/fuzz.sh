#!/usr/bin/env bash
# Fuzzing (issue 15): cargo-fuzz targets for the SQL-facing kernels (fuzz/): every string
# function on arbitrary text, sequence_match/sequence_count patterns and window_funnel /
# funnel_step_seconds windows and modes over arbitrary events. Each target runs for a bounded
# time (libFuzzer's -max_total_time) with a memory cap; a crash leaves its input in
# fuzz/artifacts/TARGET/ and fails the script: turn it into a regression test (an .slt case or
# a unit test of the kernel) before fixing it.
# Usage: benches/fuzz.sh [SECONDS_PER_TARGET]   (default 120)
# Needs the nightly toolchain (rustup toolchain install nightly); installs cargo-fuzz itself.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-120}"
# Instrumented builds differ from the normal ones: a target directory of their own.
export CARGO_TARGET_DIR="${C360_FUZZ_TARGET_DIR:-$HOME/.cache/c360-fuzz-target}"

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "benches/fuzz.sh: needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "benches/fuzz.sh: installing cargo-fuzz"
  cargo install --quiet --locked cargo-fuzz
fi

status=0
for target in string_functions sequence_patterns funnel_modes; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: ${SECONDS_PER_TARGET}s"
  if ! timeout $((SECONDS_PER_TARGET + 1800)) cargo +nightly fuzz run --sanitizer none --fuzz-dir fuzz "$target" \
      "fuzz/corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 \
      -timeout=10 -max_len=4096 2>"fuzz/$target.log"; then
    echo "   FOUND a crash, hang or leak: see fuzz/$target.log and fuzz/artifacts/$target/"
    status=1
  fi
  grep -E '^(#[0-9]+|Done|stat::number_of_executed_units)' "fuzz/$target.log" | tail -2 | sed 's/^/   /'
done
exit "$status"

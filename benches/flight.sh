#!/usr/bin/env bash
# Flight SQL benchmark (release mode): stream a ROWS-row result (default 10,000,000) from
# `c360 serve` to pyarrow through the ADBC driver, against reading the same Parquet file
# locally with pyarrow in the same run; then small-query round-trip latency p50/p99.
# Usage: benches/flight.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-10000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"

cargo build --release --quiet
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import adbc_driver_flightsql, pyarrow, numpy' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "adbc-driver-flightsql>=1.3,<2" "adbc-driver-manager>=1.3,<2" "pyarrow>=16" numpy
fi
"$VENV/bin/python" benches/flight_bench.py "$CARGO_TARGET_DIR/release/c360" "$ROWS"

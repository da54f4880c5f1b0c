#!/usr/bin/env bash
# Flight SQL benchmark (release mode): stream a ROWS-row result (default 10,000,000) from
# `c360 serve` to pyarrow through the ADBC driver, against reading the same Parquet file
# locally with pyarrow in the same run; then small-query round-trip latency p50/p99.
# Usage: benches/flight.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-10000000}"
source benches/flight_env.sh
"$VENV/bin/python" benches/flight_bench.py "$C360" "$ROWS"

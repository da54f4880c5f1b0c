#!/usr/bin/env bash
# Health under hostile load (release mode, issue 15): 16 hostile queries keep `c360 serve`
# busy at its default limits while the health action is called every 50 ms; prints health
# latency p50/p99/max idle and under load. Takes SECONDS (default 60) plus the build.
# Usage: benches/hostile.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_UNDER_LOAD="${1:-60}"
source benches/flight_env.sh
timeout $((SECONDS_UNDER_LOAD + 600)) "$VENV/bin/python" benches/hostile_bench.py \
  "$C360" "$SECONDS_UNDER_LOAD"

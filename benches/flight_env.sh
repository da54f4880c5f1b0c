# Sourced by the Flight SQL benchmarks (flight.sh, hostile.sh): the release build, and a venv
# with the ADBC Flight SQL driver, pyarrow and numpy. Sets C360 and VENV.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import adbc_driver_flightsql, pyarrow, numpy' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "adbc-driver-flightsql>=1.3,<2" "adbc-driver-manager>=1.3,<2" "pyarrow>=16" numpy
fi

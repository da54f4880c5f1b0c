#!/usr/bin/env bash
# Foundation benchmark (release mode): generation speed, staging run time and peak memory on a
# generated workspace, with DuckDB running the same staging SQL over the same files in the same
# run, reported as a ratio. Usage: benches/foundation.sh [CUSTOMERS]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
OUT="benches/out/foundation-$CUSTOMERS"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
fi

rm -rf "$OUT" && mkdir -p "$OUT"
peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f MiB", $6/1024}'; }
elapsed() { grep 'Elapsed (wall' "$1" | awk '{print $8}'; }

/usr/bin/time -v "$C360" generate --customers "$CUSTOMERS" --seed 1 --out "$OUT/data" \
  >"$OUT/generate.txt" 2>"$OUT/generate.time"
ROWS=$(head -1 "$OUT/generate.txt")

# The sample workspace's config and models, pointed at the generated data.
sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
  c360.toml >"$OUT/c360.toml"
cp -r sql "$OUT/sql"
/usr/bin/time -v "$C360" --workspace "$OUT" run >"$OUT/run.txt" 2>"$OUT/run.time"
C360_SECONDS=$(grep -o 'models in [0-9.]*s' "$OUT/run.txt" | grep -o '[0-9.]*')

DUCK_SECONDS=$("$VENV/bin/python" benches/staging_duckdb.py "$OUT")

echo "c360 foundation benchmark, $CUSTOMERS customers, $(nproc) cores"
echo "  generate:     $ROWS"
echo "                wall $(elapsed "$OUT/generate.time"), peak memory $(peak "$OUT/generate.time")"
echo "  c360 run:     ${C360_SECONDS}s for the 10 staging models (wall $(elapsed "$OUT/run.time"), peak memory $(peak "$OUT/run.time"))"
echo "  duckdb:       ${DUCK_SECONDS}s for the same SQL over the same files, written to Parquet"
awk -v a="$C360_SECONDS" -v b="$DUCK_SECONDS" 'BEGIN { printf "  ratio:        c360 / duckdb = %.2f (below 1 means c360 is faster)\n", a / b }'

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
STAGING=$(cd sql/staging && ls stg_*.sql | sed 's/\.sql$//')
# shellcheck disable=SC2086
/usr/bin/time -v "$C360" --workspace "$OUT" run --select $STAGING >"$OUT/run.txt" 2>"$OUT/run.time"
C360_SECONDS=$(grep -o 'models in [0-9.]*s' "$OUT/run.txt" | grep -o '[0-9.]*')
# The same models without the assertions (DuckDB runs no checks), in a copy of the workspace.
mkdir -p "$OUT/noassert" && cp -r "$OUT/sql" "$OUT/noassert/sql"
sed -e '/^\[assertions\./,$d' -e 's#^output = ".*"#output = "'"$PWD/$OUT"'/noassert/output"#' \
  "$OUT/c360.toml" >"$OUT/noassert/c360.toml"
# shellcheck disable=SC2086
"$C360" --workspace "$OUT/noassert" run --select $STAGING >"$OUT/run_noassert.txt"
BARE_SECONDS=$(grep -o 'models in [0-9.]*s' "$OUT/run_noassert.txt" | grep -o '[0-9.]*')
# Then every model, including the rule-based identity graph, on the staged tables.
/usr/bin/time -v "$C360" --workspace "$OUT" run >"$OUT/run_all.txt" 2>"$OUT/run_all.time"

DUCK_SECONDS=$("$VENV/bin/python" benches/staging_duckdb.py "$OUT")

echo "c360 foundation benchmark, $CUSTOMERS customers, $(nproc) cores"
echo "  generate:     $ROWS"
echo "                wall $(elapsed "$OUT/generate.time"), peak memory $(peak "$OUT/generate.time")"
echo "  c360 run:     ${C360_SECONDS}s for the $(echo $STAGING | wc -w) staging models (wall $(elapsed "$OUT/run.time"), peak memory $(peak "$OUT/run.time"))"
echo "  c360 run all: $(head -1 "$OUT/run_all.txt") (peak memory $(peak "$OUT/run_all.time"))"
echo "  duckdb:       ${DUCK_SECONDS}s for the same SQL over the same files, written to Parquet"
echo "  c360 run:     ${BARE_SECONDS}s for the same models without assertions"
awk -v a="$BARE_SECONDS" -v b="$DUCK_SECONDS" 'BEGIN { printf "  ratio:        c360 / duckdb = %.2f for the same work (below 1 means c360 is faster)\n", a / b }'

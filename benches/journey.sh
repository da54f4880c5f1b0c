#!/usr/bin/env bash
# Journey benchmark (release mode): the whole sample pipeline on a generated workspace (the
# time of customer_features reported), then window_funnel and retention over every event of
# customer_events grouped by customer, with DuckDB running equivalent SQL written without these
# functions (self-joins for the funnel, conditional aggregates for retention) over the same
# Parquet files in the same run, reported as events per second and a ratio.
# Usage: benches/journey.sh [CUSTOMERS]   (default 115000, about 10 million events)
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-115000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
OUT="benches/out/journey-$CUSTOMERS"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
fi

rm -rf "$OUT" && mkdir -p "$OUT"
peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f MiB", $6/1024}'; }
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }

"$C360" generate --customers "$CUSTOMERS" --seed 3 --out "$OUT/data" >/dev/null
sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
  -e 's#^model = "models/#model = "'"$PWD"'/models/#' c360.toml >"$OUT/c360.toml"
cp -r sql "$OUT/sql"
/usr/bin/time -v "$C360" --workspace "$OUT" run >"$OUT/run.txt" 2>"$OUT/run.time"
Q() { "$C360" --workspace "$OUT" query --format csv "$@" | tail -1; }
EVENTS=$(Q -c "SELECT count(*) AS n FROM customer_events")
EVENTS_DIR=$(ls -d "$PWD/$OUT"/output/customer_events/v*/ | tail -1)

# The funnel: page view -> product view -> add to cart -> order within one day of the view.
FUNNEL="SELECT sum(level) AS s, count(*) AS n FROM (
  SELECT customer_id, window_funnel(86400, at, event_type = 'page_view', event_type = 'product_view',
         event_type = 'add_to_cart', event_type = 'order') AS level
  FROM customer_events GROUP BY customer_id)"
# Retention by month of 2024: active in January, then in each of the next three months.
RETENTION="SELECT sum(r[1]) AS m0, sum(r[2]) AS m1, sum(r[3]) AS m2, sum(r[4]) AS m3 FROM (
  SELECT customer_id, retention(date_trunc('month', at) = TIMESTAMP '2024-01-01',
         date_trunc('month', at) = TIMESTAMP '2024-02-01', date_trunc('month', at) = TIMESTAMP '2024-03-01',
         date_trunc('month', at) = TIMESTAMP '2024-04-01') AS r
  FROM customer_events GROUP BY customer_id)"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c "$FUNNEL" >"$OUT/funnel.txt" 2>"$OUT/funnel.time"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c "$RETENTION" >"$OUT/retention.txt" 2>"$OUT/retention.time"
"$VENV/bin/python" benches/journey_duckdb.py "$EVENTS_DIR" >"$OUT/duckdb.json"

echo "journey benchmark: $CUSTOMERS customers, $EVENTS events in customer_events, $(nproc) cores"
echo "  c360 run (all models): $(head -1 "$OUT/run.txt") (peak $(peak "$OUT/run.time"))"
grep -E "customer_features|customer_events|journey_funnel|retention_cohorts|customer_segments" "$OUT/run.txt" | sed 's/^/  /'
"$VENV/bin/python" - "$OUT/duckdb.json" "$EVENTS" "$(seconds "$OUT/funnel.time")" "$(seconds "$OUT/retention.time")" \
  "$(tail -1 "$OUT/funnel.txt")" "$(tail -1 "$OUT/retention.txt")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); events = int(sys.argv[2])
for name, c360, result in (("window_funnel", float(sys.argv[3]), sys.argv[5]), ("retention", float(sys.argv[4]), sys.argv[6])):
    duck = d[name]["seconds"]
    print(f"  {name:14s} c360 {c360:6.2f}s ({events / c360 / 1e6:5.1f} M events/s)   duckdb SQL {duck:6.2f}s "
          f"({events / duck / 1e6:5.1f} M events/s)   ratio c360/duckdb {c360 / duck:.2f}")
    print(f"  {'':14s} results: c360 {result}   duckdb {','.join(str(v) for v in d[name]['result'])}")
PY

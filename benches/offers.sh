#!/usr/bin/env bash
# Next-best-offer benchmark (release mode) on a generated workspace:
# - accuracy: the sample pipeline's offer model, next_best_offers and offer_allocation judged on
#   the generator's potential outcomes (the probabilities of converting with and without every
#   offer, for every customer alive at the end), against sending everyone the same offer;
# - speed: 1,000,000 customers x 10 offers (the workspace's scoring rows repeated under new
#   customer ids), timed for scoring the uplift of all 10,000,000 pairs, next_best_offer's top 3
#   per customer and allocate_offers under a budget; DuckDB's top 3 by the same expected value
#   (a window over the same scored pairs) side by side.
# Usage: benches/offers.sh [CUSTOMERS] [NBO_CUSTOMERS]   (defaults 100000 and 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-100000}"
NBO_CUSTOMERS="${2:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
OUT="benches/out/offers-$CUSTOMERS"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb
fi

rm -rf "$OUT" && mkdir -p "$OUT"
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }
peak() { grep 'Maximum resident' "$1" | awk '{printf "%.2f GB", $6/1048576}'; }

"$C360" generate --customers "$CUSTOMERS" --seed 11 --out "$OUT/data" >/dev/null
sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
  -e 's#^model = "models/#model = "'"$PWD"'/models/#' c360.toml >"$OUT/c360.toml"
sed -i 's#^\[pipeline\]#[pipeline]\nmodels = "'"$PWD/$OUT"'/models"#' "$OUT/c360.toml"
cp -r sql "$OUT/sql"
/usr/bin/time -v "$C360" --workspace "$OUT" run >"$OUT/run.txt" 2>"$OUT/run.time" \
  || { cat "$OUT/run.txt" "$OUT/run.time"; exit 1; }
Q() { "$C360" --workspace "$OUT" query "$@"; }

echo "== offers at $CUSTOMERS customers (pipeline $(seconds "$OUT/run.time") s, peak $(peak "$OUT/run.time"))"
grep -E 'offer_|next_best' "$OUT/run.txt" || true
Q -c "SELECT set, metric, round(value, 4) AS value FROM offer_model
      WHERE metric IN ('rows', 'treated_auc', 'control_auc', 'uplift', 'qini', 'top_decile_uplift')
      ORDER BY set DESC, metric"
Q -c "
  CREATE EXTERNAL TABLE truth_offers STORED AS PARQUET LOCATION '$PWD/$OUT/data/truth/offer_outcomes/';
  CREATE VIEW true_uplift AS
    SELECT g.customer_id, t.offer_id, avg(t.p_offer - t.p_no_offer) AS uplift
    FROM truth_offers t JOIN identity_graph g ON g.source = 'shop_accounts'
      AND g.source_record_id = CAST(t.account_id AS VARCHAR)
    GROUP BY g.customer_id, t.offer_id;
  CREATE VIEW catalogue AS SELECT DISTINCT offer_id, margin, cost FROM offer_candidates;
  SELECT 'corr(predicted, true uplift)' AS what, round(corr(c.uplift, t.uplift), 4) AS value
  FROM (SELECT DISTINCT customer_id, offer_id, uplift FROM offer_candidates) c
  JOIN true_uplift t USING (customer_id, offer_id)
  UNION ALL
  SELECT 'next_best_offer rank 1: sends', count(*) FROM next_best_offers WHERE rank = 1
  UNION ALL
  SELECT 'next_best_offer rank 1: true value', round(sum(t.uplift * n.margin - n.cost), 1)
  FROM next_best_offers n JOIN true_uplift t USING (customer_id, offer_id) WHERE n.rank = 1
  UNION ALL
  SELECT 'allocate_offers (budget 250): true value', round(sum(t.uplift * a.margin - a.cost), 1)
  FROM offer_allocation a JOIN true_uplift t USING (customer_id, offer_id)
  UNION ALL
  SELECT 'best possible (one offer each, true uplift)', round(sum(v), 1) FROM (
    SELECT customer_id, max(t.uplift * c.margin - c.cost) AS v
    FROM true_uplift t JOIN catalogue c USING (offer_id) GROUP BY customer_id) WHERE v > 0;
  SELECT t.offer_id AS same_offer_for_all, round(sum(t.uplift * c.margin - c.cost), 1) AS true_value
  FROM true_uplift t JOIN catalogue c USING (offer_id) GROUP BY t.offer_id ORDER BY true_value DESC"

# 1,000,000 customers x 10 offers from the scoring rows of offer_features: the scored customers
# repeated under new ids ("id-k") until there are NBO_CUSTOMERS.
SCORED_CUSTOMERS=$(Q --format csv -c "SELECT count(DISTINCT customer_id) AS n FROM offer_features WHERE snapshot = 'score'" | tail -1)
COPIES=$(( (NBO_CUSTOMERS + SCORED_CUSTOMERS - 1) / SCORED_CUSTOMERS ))
FEATURES=$(sed -n '/offer_uplift(/,/) AS uplift/p' sql/predictions/offers/offer_candidates.sql \
  | tr -d '\n' | sed -E "s/.*offer_uplift\('offers', //; s/\) AS uplift.*//; s/ +/ /g")
Q --format parquet -o "$OUT/pairs.parquet" -c "
  WITH c AS (
    SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS rn
    FROM (SELECT DISTINCT customer_id FROM offer_features WHERE snapshot = 'score'))
  SELECT f.customer_id || '-' || CAST(k AS VARCHAR) AS customer_id, f.offer_id, $FEATURES
  FROM offer_features f JOIN c ON c.customer_id = f.customer_id
  CROSS JOIN generate_series(1, $COPIES) AS g(k)
  WHERE f.snapshot = 'score' AND f.offer_id <= 10
    AND (k - 1) * $SCORED_CUSTOMERS + c.rn <= $NBO_CUSTOMERS"
PAIRS="CREATE EXTERNAL TABLE pairs STORED AS PARQUET LOCATION '$PWD/$OUT/pairs.parquet'"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format parquet -o "$OUT/scored.parquet" -c "$PAIRS;
  SELECT p.customer_id, p.offer_id, 'email' AS channel, offer_uplift('offers', $FEATURES) AS uplift,
         c.margin, c.cost
  FROM pairs p JOIN (SELECT DISTINCT offer_id, margin, cost FROM offer_candidates) c USING (offer_id)" \
  2>"$OUT/score.time"
SCORED="CREATE EXTERNAL TABLE scored STORED AS PARQUET LOCATION '$PWD/$OUT/scored.parquet'"
N=$(Q --format csv -c "$SCORED; SELECT count(*) || ' pairs of ' || count(DISTINCT customer_id) || ' customers' FROM scored" | tail -1)
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c "$SCORED;
  SELECT count(*) AS offers, round(sum(expected_value), 1) AS value FROM next_best_offer('scored', 3)" \
  >"$OUT/nbo.csv" 2>"$OUT/nbo.time"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c "$SCORED;
  SELECT count(*) AS sends, round(sum(cost), 1) AS spent, round(sum(expected_value), 1) AS value
  FROM allocate_offers('scored', 50000.0, 1)" >"$OUT/allocate.csv" 2>"$OUT/allocate.time"
"$VENV/bin/python" - "$OUT/scored.parquet" >"$OUT/duckdb.txt" <<'PY'
import sys, time, duckdb
start = time.perf_counter()
rows = duckdb.sql(f"""
  SELECT count(*), round(sum(ev), 1) FROM (
    SELECT customer_id, uplift * margin - cost AS ev FROM '{sys.argv[1]}'
    WHERE uplift * margin - cost > 0
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY uplift * margin - cost DESC) <= 3)
""").fetchall()
print(f"{time.perf_counter() - start:.2f} {rows[0][0]} {rows[0][1]}")
PY
read -r DUCK_S DUCK_N DUCK_V <"$OUT/duckdb.txt"
NBO_S=$(seconds "$OUT/nbo.time")
echo "== next best offer at scale: $N"
echo "scoring offer_uplift:        $(seconds "$OUT/score.time") s (peak $(peak "$OUT/score.time"))"
echo "next_best_offer top 3:       $NBO_S s (peak $(peak "$OUT/nbo.time")): $(tail -1 "$OUT/nbo.csv")"
echo "allocate_offers budget 50k:  $(seconds "$OUT/allocate.time") s (peak $(peak "$OUT/allocate.time")): $(tail -1 "$OUT/allocate.csv")"
echo "DuckDB top 3 by value:       $DUCK_S s: $DUCK_N,$DUCK_V"
awk -v a="$NBO_S" -v b="$DUCK_S" 'BEGIN { printf "ratio next_best_offer / DuckDB top 3: %.2f\n", a / b }'

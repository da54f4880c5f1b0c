#!/usr/bin/env bash
# Prediction benchmark (release mode), c360 and its peers side by side in one run on the same
# generated workspace:
# - churn: c360's train_classifier against LightGBM and scikit-learn's logistic regression on
#   the same training rows and features (churn_training), each judged on the out-of-time
#   holdout (churn_holdout) and on the generator's truth (did the person churn in the 90 days
#   after the data ends?) for the customers scored at the end (churn_scoring); training time
#   and scoring throughput;
# - lifetime value: BG/NBD fitted by c360's fit_clv_model and by the lifetimes package on the
#   same customer summaries (clv_inputs), time and log-likelihood.
# Usage: benches/predict.sh [CUSTOMERS]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
OUT="benches/out/predict-$CUSTOMERS"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb, lifetimes, lightgbm, sklearn' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb lifetimes lightgbm scikit-learn
fi

rm -rf "$OUT" && mkdir -p "$OUT"
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }

"$C360" generate --customers "$CUSTOMERS" --seed 11 --out "$OUT/data" >/dev/null
sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
  -e 's#^model = "models/#model = "'"$PWD"'/models/#' c360.toml >"$OUT/c360.toml"
cp -r sql "$OUT/sql"
/usr/bin/time -v "$C360" --workspace "$OUT" run >"$OUT/run.txt" 2>"$OUT/run.time" \
  || { cat "$OUT/run.txt"; exit 1; }
Q() { "$C360" --workspace "$OUT" query "$@"; }
latest() { ls -d "$PWD/$OUT"/output/"$1"/v*/ | tail -1; }

# c360 alone, timed: training the churn model again on the published rows, and scoring.
FEATURES=$(sed -n '/churn_probability(/,/) AS churn_probability/p' sql/marts/customer_predictions.sql \
  | tr -d '\n' | sed -E "s/.*churn_probability\('churn', //; s/\) AS churn_probability.*//; s/ +/ /g")
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c \
  "SELECT set, metric, value FROM train_classifier('churn_bench', 'churn_training', 'churned', 'customer_id', 'churn_holdout') WHERE set <> 'importance'" \
  >"$OUT/c360_train.csv" 2>"$OUT/c360_train.time"
SCORING_ROWS=$(Q --format csv -c "SELECT count(*) AS n FROM churn_scoring" | tail -1)
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c \
  "SELECT sum(churn_probability('churn_bench', $FEATURES)) AS s FROM churn_scoring CROSS JOIN generate_series(1, 20)" \
  >"$OUT/c360_score.csv" 2>"$OUT/c360_score.time"
Q --format parquet -o "$OUT/c360_scores.parquet" -c \
  "SELECT customer_id, churn_probability('churn_bench', $FEATURES) AS score FROM churn_scoring"
Q --format parquet -o "$OUT/person_of.parquet" -c "
  CREATE EXTERNAL TABLE truth_records STORED AS PARQUET LOCATION '$PWD/$OUT/data/truth/record_person/';
  SELECT g.customer_id, most_frequent(r.person_id) AS person_id
  FROM identity_graph g JOIN truth_records r ON r.source = g.source AND r.record_id = g.source_record_id
  GROUP BY g.customer_id"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv -c "
  CREATE VIEW purchases AS SELECT frequency, recency, t FROM clv_inputs;
  SELECT part, parameter, value FROM fit_clv_model('clv_bench', 'purchases')" \
  >"$OUT/c360_bgnbd.csv" 2>"$OUT/c360_bgnbd.time"

"$VENV/bin/python" benches/predict_peers.py \
  "$(latest churn_training)" "$(latest churn_holdout)" "$(latest churn_scoring)" \
  "$OUT/c360_scores.parquet" "$OUT/person_of.parquet" "$PWD/$OUT/data/truth/churn" \
  "$(latest clv_inputs)" "$OUT/c360_train.csv" "$(seconds "$OUT/c360_train.time")" \
  "$(seconds "$OUT/c360_score.time")" "$((SCORING_ROWS * 20))" \
  "$OUT/c360_bgnbd.csv" "$(seconds "$OUT/c360_bgnbd.time")" | tee "$OUT/report.txt"

#!/usr/bin/env bash
# Identity benchmark (release mode): the match model (train, score every candidate pair, cluster
# at 0.99) of c360 and of Splink 5 on DuckDB, with equivalent comparisons and blocking rules, on
# the same generated identity records, in the same run; then c360's full identity pipeline.
# Reports time ratios and pairwise F1 against the truth.
# Usage: benches/identity.sh [CUSTOMERS]   (default 20000 people, about 100,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-20000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
VENV="${C360_BENCH_VENV:-$HOME/.cache/c360-bench-venv}"
OUT="benches/out/identity-$CUSTOMERS"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import duckdb, splink' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check duckdb "splink==5.0.0"
fi

rm -rf "$OUT" && mkdir -p "$OUT"
peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f MiB", $6/1024}'; }
elapsed() { grep 'Elapsed (wall' "$1" | awk '{print $8}'; }
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }

"$C360" generate --customers "$CUSTOMERS" --seed 7 --out "$OUT/data" >/dev/null
sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
  c360.toml >"$OUT/c360.toml"
cp -r sql "$OUT/sql"
UPSTREAM="$(cd sql/staging && ls stg_*.sql | sed 's/\.sql$//') identity_records"
# shellcheck disable=SC2086
"$C360" --workspace "$OUT" run --select $UPSTREAM >/dev/null
Q() { "$C360" --workspace "$OUT" query "$@"; }
RECORDS=$(Q --format csv -c "SELECT count(*) AS n FROM identity_records" | tail -1)

# c360, the match model alone: train, score all candidate pairs, connected components at 0.99.
/usr/bin/time -v "$C360" --workspace "$OUT" train identity >"$OUT/train.txt" 2>"$OUT/train.time"
/usr/bin/time -v "$C360" --workspace "$OUT" query --format parquet -o "$OUT/c360_clusters.parquet" -c "
  SELECT c['node'] AS record_key, c['component'] AS cluster
  FROM (SELECT unnest(connected_components(left_key, right_key)) AS c
        FROM (SELECT left_key, right_key FROM match_pairs('identity') WHERE match_probability >= 0.99
              UNION ALL SELECT record_key, NULL FROM identity_records))" 2>"$OUT/cluster.time"
# Scoring alone: every candidate pair of every rule through match_score.
/usr/bin/time -v "$C360" --workspace "$OUT" query --format csv \
  -c "SELECT count(*) AS n FROM match_pairs('identity')" >"$OUT/pairs.txt" 2>"$OUT/pairs.time"
PAIRS=$(tail -1 "$OUT/pairs.txt")
# The comparisons alone: the same candidate pairs (the sample's blocking rules, each pair once)
# joined without and with match_score; the difference is the time spent comparing.
pairs_sql() {
  local rules=("l.email_std = r.email_std" "l.phone_std = r.phone_std"
    "l.first_name_std = r.first_name_std AND l.last_name_std = r.last_name_std"
    "l.last_name_sound = r.last_name_sound AND l.postcode_std = r.postcode_std")
  local union="" earlier=""
  for rule in "${rules[@]}"; do
    [ -n "$union" ] && union="$union UNION ALL "
    union="$union SELECT length(l.record_key) + length(r.record_key) AS k $1
      FROM identity_records l JOIN identity_records r
      ON ($rule) AND l.record_key < r.record_key WHERE TRUE $earlier"
    earlier="$earlier AND NOT coalesce(($rule), false)"
  done
  echo "SELECT count(*) AS n, sum(k) AS k $2 FROM ($union)"
}
SCORE=", match_score('identity', l.first_name_std, r.first_name_std, l.last_name_std, r.last_name_std,
  l.email_std, r.email_std, l.phone_std, r.phone_std, l.postcode_std, r.postcode_std,
  l.birth_date, r.birth_date)['match_weight'] AS w"
/usr/bin/time -v "$C360" --workspace "$OUT" query -c "$(pairs_sql "" "")" >/dev/null 2>"$OUT/join.time"
/usr/bin/time -v "$C360" --workspace "$OUT" query -c "$(pairs_sql "$SCORE" ", sum(w) AS w")" >/dev/null 2>"$OUT/joinscore.time"
# The full identity pipeline (rules + model + clustering + stable ids) and its accuracy.
/usr/bin/time -v "$C360" --workspace "$OUT" run --select identity_edges identity_pairs identity_links identity_named_clusters identity_graph \
  >"$OUT/run.txt" 2>"$OUT/run.time"
# Rerun on unchanged records: identity_pairs carries every score over instead of rescoring.
/usr/bin/time -v "$C360" --workspace "$OUT" run --select identity_pairs >"$OUT/rerun.txt" 2>"$OUT/rerun.time"
RESCORED=$(Q --format csv -c "SELECT count(*) AS n FROM identity_pairs WHERE scored_at > (SELECT min(scored_at) FROM identity_pairs)" | tail -1)
"$C360" --workspace "$OUT" eval identity --truth "$PWD/$OUT/data/truth/record_person" >"$OUT/eval.txt"

Q --format parquet -o "$OUT/records.parquet" -c "
  SELECT record_key, first_name_std, last_name_std, email_std, phone_std, postcode_std,
         birth_date, last_name_sound FROM identity_records"
"$VENV/bin/python" benches/identity_splink.py "$OUT" >"$OUT/splink.json"

C360_MODEL=$(awk -v a="$(seconds "$OUT/train.time")" -v b="$(seconds "$OUT/cluster.time")" 'BEGIN{print a+b}')
echo "identity benchmark: $CUSTOMERS people, $RECORDS identity records, $(nproc) cores"
echo "  c360 train:            wall $(elapsed "$OUT/train.time"), peak $(peak "$OUT/train.time")"
echo "  c360 score + cluster:  wall $(elapsed "$OUT/cluster.time"), peak $(peak "$OUT/cluster.time")"
echo "  c360 scoring alone:    $PAIRS candidate pairs in $(elapsed "$OUT/pairs.time") wall"
awk -v p="$PAIRS" -v s="$(seconds "$OUT/pairs.time")" -v c="$(nproc)" \
  'BEGIN{printf "                         %.0f comparisons per second per core (whole query, start-up included)\n", p/s/c}'
awk -v p="$PAIRS" -v a="$(seconds "$OUT/join.time")" -v b="$(seconds "$OUT/joinscore.time")" -v c="$(nproc)" \
  'BEGIN{printf "  c360 comparisons alone: %.1f s on top of the blocking join: %.0f pairs per second per core\n", b-a, p/(b-a)/c}'
echo "  c360 identity pipeline: $(head -1 "$OUT/run.txt") (peak $(peak "$OUT/run.time"))"
echo "  rerun of identity_pairs on unchanged records: wall $(elapsed "$OUT/rerun.time"), peak $(peak "$OUT/rerun.time"), $RESCORED pairs rescored"
sed 's/^/    /' "$OUT/eval.txt"
"$VENV/bin/python" - "$OUT/splink.json" "$C360_MODEL" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); c360 = float(sys.argv[2])
print(f"  splink 5 (duckdb):     train {r['train_seconds']:.1f}s, predict {r['predict_seconds']:.1f}s, "
      f"cluster {r['cluster_seconds']:.1f}s = {r['total_seconds']:.1f}s")
print(f"  c360 model (same steps): {c360:.1f}s   ratio c360 / splink = {c360 / r['total_seconds']:.2f} (below 1: c360 faster)")
for tool in ("splink", "c360_model_only"):
    s = r[tool]
    print(f"  pairwise {tool:16s} P {s['precision']:.4f}  R {s['recall']:.4f}  F1 {s['f1']:.4f}")
PY

#!/usr/bin/env bash
# The whole sample pipeline embedded vs on a local Ballista cluster (issue 17), release mode:
# generate a workspace of CUSTOMERS (default 300,000; seed 11), run the pipeline embedded, then
# on `c360 scheduler` + two `c360 executor`s (one task slot each: this machine has 2 cores, so
# the cluster offers the same parallelism and the ratio is the cluster's overhead), each run
# into outputs and models of its own. Reports wall time and peak resident memory of every
# process, the ratio, and the two heaviest single models (identity_records, customer_features)
# rebuilt embedded, on 2 executors and on 1. Every run has a time limit (TIMEOUT, default 3600).
# Usage: benches/cluster.sh [CUSTOMERS]      LIMIT=4GiB TIMEOUT=3600 benches/cluster.sh 300000
set -euo pipefail
cd "$(dirname "$0")/.."
CUSTOMERS="${1:-300000}"
LIMIT="${LIMIT:-4GiB}"
TIMEOUT="${TIMEOUT:-3600}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"
cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
OUT="benches/out/cluster-$CUSTOMERS"
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }
max_rss_gib() { awk '/Maximum resident/ {printf "%.2f", $6 / 1048576}' "$1"; }
# The largest per-model resident peak of a run summary (c360 resets the high-water mark per
# model, so time's figure is only the last model's).
run_rss_gib() {
  awk '$1 == "ok" { unit["KiB"] = 1024; unit["MiB"] = 1048576; unit["GiB"] = 1073741824
         v = $10 * unit[$11]; if (v > m) m = v } END {printf "%.2f", m / 1073741824}' "$1"
}
model_seconds() { awk -v m="$2" '$1 == "ok" && $2 == m {s = $5; sub(/s$/, "", s); print s}' "$1"; }

rm -rf "$OUT" && mkdir -p "$OUT"
echo "== $CUSTOMERS customers, memory_limit $LIMIT (embedded; each executor's pool too)"
"$C360" generate --customers "$CUSTOMERS" --seed 11 --out "$OUT/data" >"$OUT/generate.txt"
echo "   generate: $(grep -o '[0-9,]* rows' "$OUT/generate.txt" | head -1)"
# One workspace folder per run, sharing the generated data.
workspace() {
  local dir="$OUT/$1"
  mkdir -p "$dir"
  sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$dir"'/output"#' \
    -e 's#^model = "models/#model = "'"$PWD/$dir"'/models/#' \
    -e 's#^memory_limit = .*#memory_limit = "'"$LIMIT"'"#' c360.toml >"$dir/c360.toml"
  sed -i 's#^\[pipeline\]#[pipeline]\nmodels = "'"$PWD/$dir"'/models"#' "$dir/c360.toml"
  cp -r sql "$dir/sql"
}
workspace embedded
workspace cluster

# c360 ARGS... under time -v and the time limit; NAME.txt / NAME.time in $OUT.
timed() {
  local name="$1"; shift
  /usr/bin/time -v timeout "$TIMEOUT" "$C360" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.time" ||
    { echo "   $name failed: see $OUT/$name.txt and $OUT/$name.time"; tail -5 "$OUT/$name.txt"; exit 1; }
}

timed embedded-run --workspace "$OUT/embedded" run
embedded="$(seconds "$OUT/embedded-run.time")"
echo "   embedded: $embedded s, peak RSS $(run_rss_gib "$OUT/embedded-run.txt") GiB; $(head -1 "$OUT/embedded-run.txt")"

# The cluster: a scheduler and two executors, each under time -v, stopped with SIGTERM.
pids=()
stop_all() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop_all EXIT
start() { # NAME ARGS...: start c360 ARGS in the background; waits for its first line
  local name="$1"; shift
  /usr/bin/time -v "$C360" --workspace "$OUT/cluster" "$@" >"$OUT/$name.txt" 2>"$OUT/$name.time" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$OUT/$name.txt" ] && break; sleep 0.1; done
  head -1 "$OUT/$name.txt" | sed 's/^/   /'
}
start scheduler scheduler --port 0
SCHEDULER="$(grep -o 'df://[^ ]*' "$OUT/scheduler.txt" | head -1)"
start executor-1 executor --scheduler "$SCHEDULER" --port 0 --grpc-port 0 --slots 1 --quiet
start executor-2 executor --scheduler "$SCHEDULER" --port 0 --grpc-port 0 --slots 1 --quiet
timed cluster-run --workspace "$OUT/cluster" --cluster "$SCHEDULER" run
clustered="$(seconds "$OUT/cluster-run.time")"
echo "   cluster: $clustered s = $(awk -v a="$clustered" -v b="$embedded" 'BEGIN {printf "%.2f", a / b}') x embedded; client peak RSS $(run_rss_gib "$OUT/cluster-run.txt") GiB; $(head -1 "$OUT/cluster-run.txt")"

echo "   the heaviest single models, rebuilt (seconds): embedded / 2 executors / 1 executor"
for model in identity_records customer_features; do
  timed "embedded-$model" --workspace "$OUT/embedded" run --select "$model"
  timed "cluster2-$model" --workspace "$OUT/cluster" --cluster "$SCHEDULER" run --select "$model"
done
kill -TERM "${pids[2]}"; wait "${pids[2]}" 2>/dev/null || true
for model in identity_records customer_features; do
  timed "cluster1-$model" --workspace "$OUT/cluster" --cluster "$SCHEDULER" run --select "$model"
  printf '     %-20s %8s %8s %8s\n' "$model" "$(model_seconds "$OUT/embedded-$model.txt" "$model")" \
    "$(model_seconds "$OUT/cluster2-$model.txt" "$model")" "$(model_seconds "$OUT/cluster1-$model.txt" "$model")"
done
stop_all
trap - EXIT
for name in scheduler executor-1 executor-2; do
  echo "   $name: peak RSS $(max_rss_gib "$OUT/$name.time") GiB; $(tail -1 "$OUT/$name.txt")"
done

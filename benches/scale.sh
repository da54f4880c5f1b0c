#!/usr/bin/env bash
# The whole sample pipeline at size (release mode, issue 16): for each CUSTOMERS, generate a
# workspace (seed 11), point the sample's c360.toml and sql/ at it with
# [engine] memory_limit = LIMIT (default 8GiB), and run it from one command (`c360 run` trains
# the match model itself). Reports wall time, peak resident memory against the limit and each
# size's ten slowest and ten most memory-hungry models, from the run summary's per-model
# peaks. Every run has a time limit (TIMEOUT seconds, default 3600) and is killed past it, and
# a watchdog kills it when its resident memory passes HARD_LIMIT_GIB (default 20) so that a
# run that breaks its limit cannot take the machine with it. After a full run that completed,
# one more day of data is generated (`c360 generate --next-day`) and the run repeated: the
# nightly incremental run, reported with its ratio to the full run.
# Usage: benches/scale.sh [CUSTOMERS...]   (default 100000 300000 1000000)
#        LIMIT=8GiB TIMEOUT=3600 benches/scale.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 300000 1000000)
LIMIT="${LIMIT:-8GiB}"
TIMEOUT="${TIMEOUT:-3600}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/c360-target}"

cargo build --release --quiet
C360="$CARGO_TARGET_DIR/release/c360"
seconds() { grep 'Elapsed (wall' "$1" | awk '{n=split($8,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}'; }
# The run summary's model lines as: seconds  pool-bytes  rss-bytes  name
models() {
  awk '$1 == "ok" {
    s = $5; sub(/s$/, "", s)
    unit["B"] = 1; unit["KiB"] = 1024; unit["MiB"] = 1048576; unit["GiB"] = 1073741824; unit["TiB"] = 1099511627776
    printf "%s %.0f %.0f %s\n", s, $7 * unit[$8], $10 * unit[$11], $2
  }' "$1"
}

HARD_LIMIT_GIB="${HARD_LIMIT_GIB:-20}"
# Kill the process running `pattern` when its resident memory passes HARD_LIMIT_GIB.
watchdog() {
  local pattern="$1" pid rss
  while sleep 1; do
    pid="$(pgrep -f -x "$pattern" | head -1)" || continue
    rss="$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)" || continue
    if [ -n "$rss" ] && [ "$rss" -gt $((HARD_LIMIT_GIB * 1048576)) ]; then
      echo "   watchdog: resident memory $((rss / 1048576)) GiB > ${HARD_LIMIT_GIB} GiB, killing the run" >&2
      kill -9 "$pid"
    fi
  done
}

# `c360 run` of workspace $OUT under the time limit and the watchdog, its output in
# $OUT/NAME.txt and its /usr/bin/time report in $OUT/NAME.time; prints "ok" or why it failed.
timed_run() {
  local name="$1" watcher status=ok
  watchdog "$C360 --workspace $OUT run" >/dev/null &
  watcher=$!
  /usr/bin/time -v timeout "$TIMEOUT" "$C360" --workspace "$OUT" run >"$OUT/$name.txt" 2>"$OUT/$name.time" \
    || status="exit $? (see $OUT/$name.txt, $OUT/$name.time)"
  kill "$watcher" 2>/dev/null || true
  echo "$status"
}

# The N models of run output FILE that come first when sorted on column KEY (1 time, 3 rss).
top_models() {
  models "$1" | sort -k"$2,$2" -rn | head -"$3" |
    awk '{printf "     %-28s %8.1f s  pool %6.2f GiB  rss %6.2f GiB\n", $4, $1, $2/1073741824, $3/1073741824}'
}

summary=()
for CUSTOMERS in "${SIZES[@]}"; do
  OUT="benches/out/scale-$CUSTOMERS"
  rm -rf "$OUT" && mkdir -p "$OUT"
  echo "== $CUSTOMERS customers, memory_limit $LIMIT"
  /usr/bin/time -v "$C360" generate --customers "$CUSTOMERS" --seed 11 --out "$OUT/data" \
    >"$OUT/generate.txt" 2>"$OUT/generate.time"
  echo "   generate: $(seconds "$OUT/generate.time") s, $(grep -o '[0-9,]* rows' "$OUT/generate.txt" | head -1)"
  sed -e 's#"data/#"'"$PWD/$OUT"'/data/#' -e 's#^output = "output"#output = "'"$PWD/$OUT"'/output"#' \
    -e 's#^model = "models/#model = "'"$PWD/$OUT"'/models/#' \
    -e 's#^memory_limit = .*#memory_limit = "'"$LIMIT"'"#' c360.toml >"$OUT/c360.toml"
  sed -i 's#^\[pipeline\]#[pipeline]\nmodels = "'"$PWD/$OUT"'/models"#' "$OUT/c360.toml"
  cp -r sql "$OUT/sql"
  status="$(timed_run run)"
  wall="$(seconds "$OUT/run.time")"
  # The peak is the largest of the models' peaks: c360 restarts the kernel's high-water mark
  # at each model (to measure it per model), which leaves time's "Maximum resident" the last
  # model's peak only.
  rss="$(models "$OUT/run.txt" | awk '$3 > m {m = $3} END {printf "%.2f", m / 1073741824}')"
  head -1 "$OUT/run.txt" | sed 's/^/   /'
  grep -E '^  (FAILED|skipped)' "$OUT/run.txt" | sed 's/^/   /' || true
  echo "   run: $wall s, peak RSS $rss GiB (limit $LIMIT), $status"
  echo "   slowest models (s, pool peak, rss peak):"
  top_models "$OUT/run.txt" 1 10
  echo "   most memory (rss peak while the model built):"
  top_models "$OUT/run.txt" 3 10
  line="$CUSTOMERS customers: run $wall s, peak RSS $rss GiB, $status"
  if [ "$status" = ok ]; then
    # The nightly run: one more day of data (c360 generate --next-day), then `c360 run` again;
    # the append models rebuild only their lookback, every other model is rebuilt whole.
    "$C360" generate --next-day --out "$OUT/data" >"$OUT/next-day.txt"
    echo "   next day: $(grep -o '[0-9,]* rows' "$OUT/next-day.txt" | head -1)"
    next="$(timed_run next-run)"
    next_wall="$(seconds "$OUT/next-run.time")"
    ratio="$(awk -v a="$next_wall" -v b="$wall" 'BEGIN {printf "%.2f", a / b}')"
    echo "   incremental run after the next day: $next_wall s = $ratio of the full run, $next"
    echo "   its slowest models:"
    top_models "$OUT/next-run.txt" 1 5
    line="$line; next day: $next_wall s ($ratio of the full run), $next"
  fi
  summary+=("$line")
done
echo "== summary (memory_limit $LIMIT)"
printf '   %s\n' "${summary[@]}"

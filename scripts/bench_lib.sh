# Shared by scripts/bench.sh and scripts/bench_s3.sh (sourced, not run).
# Every measurement is repeated REPEAT times (BENCH_REPEAT, default 2): these machines are shared
# and noisy, so the best time is kept, and the largest peak RSS.
REPEAT=${BENCH_REPEAT:-2}

# min CURRENT VALUE: the smaller of the two numbers (VALUE when CURRENT is empty).
min() { if [ -z "$1" ]; then echo "$2"; else echo "if ($2 < $1) $2 else $1" | bc -l; fi; }

# best_run WORK NAME COMMAND...: runs COMMAND REPEAT times under /usr/bin/time -v, its stderr in
# WORK/NAME.err (printed, and the script exits 1, when it fails). Sets BEST_S (the fastest wall
# time, seconds), BEST_CPU_S (user + system seconds of that run) and PEAK_RSS_MB (the largest peak
# resident set, MB).
best_run() {
  local work=$1 name=$2
  shift 2
  local i s rss
  BEST_S=
  BEST_CPU_S=
  PEAK_RSS_MB=0
  for ((i = 0; i < REPEAT; i++)); do
    /usr/bin/time -v -o "$work/time.txt" "$@" 2>"$work/$name.err" || {
      echo "bench: $name failed:" >&2
      cat "$work/$name.err" >&2
      exit 1
    }
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' \
      "$work/time.txt")
    if [ -z "$BEST_S" ] || [ "$(echo "$s < $BEST_S" | bc -l)" = 1 ]; then
      BEST_S=$s
      BEST_CPU_S=$(awk -F': ' '/User time|System time/ { t += $2 } END { print t }' "$work/time.txt")
    fi
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/time.txt")
    PEAK_RSS_MB=$((rss > PEAK_RSS_MB ? rss : PEAK_RSS_MB))
  done
}

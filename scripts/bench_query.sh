#!/usr/bin/env bash
# The query part of `make bench`: scripts/bench_query.sh BIN CORPUS_DIR START STOP
#
# Digests CORPUS_DIR once into a stored digest (.log.gz) and its rows sidecar (.rows.gz), then
# measures in the same run, each REPEAT times (best time kept; peak RSS the largest):
#   - igzip -dc of the stored digest (the reference: the issue's target is a query in at most
#     2x that time),
#   - `BIN view` queries over the stored digest and over the sidecar: a filter (rows stream
#     out), a group-by with top-N as json, and an svg of the top 300 edges (Graphviz `dot`),
# and prints a markdown table with the ratios.
set -euo pipefail

BIN=${1:?usage: scripts/bench_query.sh BIN CORPUS_DIR START STOP}
CORPUS=${2:?usage}
START=${3:?usage}
STOP=${4:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$HERE/bench_lib.sh"  # REPEAT, min, best_run
MAX_RATIO=2.0

for tool in igzip dot /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench-query: $tool is required" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench-query.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

stored="$WORK/digest.log.gz"
rows="$WORK/digest.rows.gz"
best_run "$WORK" digest-with-sidecar "$BIN" --source "$CORPUS" --start "$START" --stop "$STOP" \
  --output "$stored" --rows-output "$rows"
digest_s=$BEST_S
keys=$(igzip -dc "$stored" | wc -l)

igzip_s=
for ((i = 0; i < REPEAT; i++)); do
  t0=$(date +%s.%N)
  igzip -dc "$stored" >/dev/null
  t1=$(date +%s.%N)
  igzip_s=$(min "$igzip_s" "$(echo "$t1 - $t0" | bc -l)")
done

# name | view arguments (the input file is added first)
QUERIES=(
  "filter|--filter|action=REJECT and dstport in (22,3389)"
  "group-by top 10 json|--group-by|srcaddr/24|--top|10|--format|json"
  "svg top 300|--format|svg"
)
rows_out=()
for file in "$stored" "$rows"; do
  kind=$([ "$file" = "$stored" ] && echo "log.gz (text)" || echo "rows.gz (sidecar)")
  for spec in "${QUERIES[@]}"; do
    IFS='|' read -r -a parts <<<"$spec"
    name=${parts[0]}
    args=("${parts[@]:1}")
    best_run "$WORK" "query" sh -c 'exec "$0" "$@" >/dev/null' "$BIN" view "$file" "${args[@]}"
    ratio=$(echo "$BEST_S / $igzip_s" | bc -l)
    verdict=$(awk -v v="$ratio" -v max="$MAX_RATIO" 'BEGIN { print (v <= max) ? "PASS" : "MISS" }')
    [[ $name == svg* ]] && verdict="-"
    rows_out+=("$(printf '| %s | %s | %.2f | %.2f | %d | %s |' "$kind" "$name" "$BEST_S" "$ratio" \
      "$PEAK_RSS_MB" "$verdict")")
  done
done

echo
echo "Queries over the digest of $(basename "$CORPUS") ($keys rows): stored $(du -k "$stored" | cut -f1) KB," \
  "sidecar $(du -k "$rows" | cut -f1) KB; digest + sidecar written in ${digest_s} s;" \
  "igzip -dc of the digest $(printf '%.2f' "$igzip_s") s"
echo
echo "| input | query | s | query/igzip | peak RSS MB | <= ${MAX_RATIO}x |"
echo "| --- | --- | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows_out[@]}"

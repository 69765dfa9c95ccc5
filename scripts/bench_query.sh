#!/usr/bin/env bash
# The query part of `make bench`: scripts/bench_query.sh BIN CORPUS_DIR START STOP
#
# Digests CORPUS_DIR once into a stored digest (.log.gz) and its rows sidecar (.rows.gz), then
# measures in the same run, each REPEAT times (best time kept; peak RSS the largest):
#   - igzip -dc of the stored digest (the reference: the issue's target is a query in at most
#     2x that time),
#   - `BIN view` queries over the stored digest and over the sidecar: a filter (rows stream
#     out), a group-by with top-N as json, and an svg of the top 300 edges (Graphviz `dot`),
#   - the same digest and sidecar served by vpcflow-digesterd (beside BIN) over loopback: timed
#     `curl` GETs of the stored gzip, a filter, a group-by, conversations, top, and an svg,
# and prints markdown tables with the ratios.
set -euo pipefail

BIN=${1:?usage: scripts/bench_query.sh BIN CORPUS_DIR START STOP}
CORPUS=${2:?usage}
START=${3:?usage}
STOP=${4:?usage}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$HERE/bench_lib.sh"  # REPEAT, min, best_run
# shellcheck source=scripts/daemon_lib.sh
. "$HERE/daemon_lib.sh"  # digesterd_port, stop_pid
MAX_RATIO=2.0
DIGESTERD=$(dirname "$BIN")/vpcflow-digesterd

for tool in igzip dot curl /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench-query: $tool is required" >&2; exit 1; }
done
[ -x "$DIGESTERD" ] || { echo "bench-query: $DIGESTERD is missing (make build)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench-query.XXXXXX")
service_pid=
cleanup() {
  [ -z "$service_pid" ] || stop_pid "$service_pid" vpcflow-digesterd
  rm -rf "$WORK"
}
trap cleanup EXIT

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

# The same queries over HTTP: the service on a data directory holding this digest (under the id
# of its window, in DATA_DIR/digests) and its sidecar, as a job of the service stores them.
data="$WORK/data"
mkdir -p "$data"
LISTEN_ADDRESS=127.0.0.1 PORT=0 DATA_DIR="$data" STATSD_ADDRESS= DIGEST_THREADS=2 \
  "$DIGESTERD" >"$WORK/service.log" 2>&1 &
service_pid=$!
base="http://127.0.0.1:$(digesterd_port "$WORK/service.log" "$service_pid")"
window="start=$START&stop=$STOP"
id=$(curl -sf "$base/status?$window" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
[ -n "$id" ] || { echo "bench-query: no digest id from $base/status" >&2; exit 1; }
cp "$stored" "$data/digests/$id.log.gz"
cp "$rows" "$data/digests/$id.rows.gz"
echo "{\"id\":\"$id\"}" >"$data/digests/$id.manifest.json"

# name | query parameters (spaces as %20)
HTTP_QUERIES=(
  "the stored gzip|"
  "filter|filter=action%3DREJECT%20and%20dstport%20in%20(22,3389)"
  "group_by srcaddr/24 top 10 json|group_by=srcaddr/24&top=10&format=json"
  "group_by srcaddr,dstaddr top 10 json|group_by=srcaddr,dstaddr&top=10&format=json"
  "conversation top 10 json|conversation=true&top=10&format=json"
  "top 100 ndjson|top=100&format=ndjson"
  "svg top 300|format=svg"
)
http_out=()
for spec in "${HTTP_QUERIES[@]}"; do
  name=${spec%%|*}
  params=${spec#*|}
  url="$base/?$window${params:+&$params}"
  best=
  for ((i = 0; i < REPEAT; i++)); do
    read -r code seconds bytes < <(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' "$url")
    [ "$code" = 200 ] || { echo "bench-query: GET $url answered $code" >&2; exit 1; }
    best=$(min "$best" "$seconds")
  done
  ratio=$(echo "$best / $igzip_s" | bc -l)
  verdict=$(awk -v v="$ratio" -v max="$MAX_RATIO" 'BEGIN { print (v <= max) ? "PASS" : "MISS" }')
  http_out+=("$(printf '| %s | %.2f | %.2f | %d | %s |' "$name" "$best" "$ratio" "$bytes" "$verdict")")
done
service_rss_mb=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$service_pid/status")

echo
echo "The same over HTTP: vpcflow-digesterd on the digest and its sidecar, GET over loopback" \
  "(curl's total time; igzip -dc of the digest $(printf '%.2f' "$igzip_s") s); service peak RSS" \
  "${service_rss_mb} MB"
echo
echo "| GET / with | s | GET/igzip | bytes | <= ${MAX_RATIO}x |"
echo "| --- | ---: | ---: | ---: | --- |"
printf '%s\n' "${http_out[@]}"

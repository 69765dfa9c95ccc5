#!/usr/bin/env bash
# The service part of `make bench` (issue 14: "the same speed through the service (a job on the
# embedded default) within 10% of the CLI, and from the Ceph RGW within 1.5x of local"):
#   scripts/bench_service.sh BIN_DIR START STOP NAME=CORPUS_DIR...
#
# For each corpus (a tree of `vpcflow-digest generate`), in the same run, each REPEAT times (best
# wall time kept with its CPU; peak RSS the largest):
#   - BIN_DIR/vpcflow-digest digesting the window to a .gz, plain (the goal's reference: the
#     issue's CLI run) and with --rows-output (the service also writes the rows sidecar and a
#     manifest: shown so the comparison is fair);
#   - BIN_DIR/vpcflow-digesterd on the embedded default (a fresh DATA_DIR: file source and stores,
#     the default DIGEST_WORKERS and DIGEST_THREADS), one process per run: the time from POST / to
#     the job's last object published (the rows sidecar, which Commit publishes after the manifest
#     and the digest; watched with a shell test every 10 ms so the polling costs the service no
#     CPU; then GET / must answer 200), the CPU the process spent meanwhile (/proc/PID/stat) and
#     its peak RSS (VmHWM);
#   - the same job with the flow logs in a bucket of a Ceph RGW of its own (VPC_FLOW_LOGS_BUCKET,
#     default prefetch settings; the stores stay local), when Ceph is installed (scripts/rgw.sh,
#     as bench_s3.sh starts it; BENCH_SERVICE_S3=0 skips it).
# Every digest the service stores must be byte-identical (decompressed) to the CLI's, and its rows
# sidecar to the CLI's --rows-output; a difference fails the script (exit 1) after the table.
# Prints a markdown table; a missed goal is reported, not an error.
set -euo pipefail

BIN_DIR=${1:?usage: scripts/bench_service.sh BIN_DIR START STOP NAME=CORPUS_DIR...}
START=${2:?usage}
STOP=${3:?usage}
shift 3
[ $# -gt 0 ] || { echo "usage: scripts/bench_service.sh BIN_DIR START STOP NAME=CORPUS_DIR..." >&2; exit 2; }
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$SCRIPTS/bench_lib.sh"  # REPEAT, min, best_run
# shellcheck source=scripts/daemon_lib.sh
. "$SCRIPTS/daemon_lib.sh"  # digesterd_port
AWS=/usr/bin/aws  # Debian's awscli; `aws` on PATH may be another install
JOB_TIMEOUT_S=${BENCH_SERVICE_TIMEOUT:-600}  # a job not stored by then fails the bench
SERVICE_GOAL=1.10  # service / CLI (plain: the issue's CLI run)
S3_GOAL=1.5        # service reading the RGW / service reading the local directory
CLK_TCK=$(getconf CLK_TCK)

for tool in curl igzip /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench_service: $tool is required" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench-service.XXXXXX")
SERVICE_PID=
cleanup() {
  [ -n "$SERVICE_PID" ] && kill -KILL "$SERVICE_PID" 2>/dev/null
  [ -d "$WORK/rgw" ] && { "$SCRIPTS/rgw.sh" stop "$WORK/rgw" >/dev/null 2>&1 || true; }
  rm -rf "$WORK" "$WORK/rgw.logs"
}
trap cleanup EXIT
# A descriptor nothing ever writes to: `read -t` on it waits without starting a process.
exec {TICK}<> <(:)

with_s3=${BENCH_SERVICE_S3:-1}
if [ "$with_s3" != 0 ]; then
  for tool in radosgw ceph-mon ceph-osd "$AWS"; do
    if ! command -v "$tool" >/dev/null; then
      echo "bench_service: $tool is missing; the RGW rows are skipped (VPCFLOW_WITH_S3=1 scripts/bootstrap.sh)" >&2
      with_s3=0
      break
    fi
  done
fi
if [ "$with_s3" != 0 ]; then
  "$SCRIPTS/rgw.sh" start "$WORK/rgw" >"$WORK/rgw.out" 2>&1 || { cat "$WORK/rgw.out" >&2; exit 1; }
  RGW_ENDPOINT=$(sed -n 's/^VPCFLOW_RGW_ENDPOINT=//p' "$WORK/rgw/env")
  RGW_ACCESS_KEY=$(sed -n 's/^VPCFLOW_RGW_ACCESS_KEY=//p' "$WORK/rgw/env")
  RGW_SECRET_KEY=$(sed -n 's/^VPCFLOW_RGW_SECRET_KEY=//p' "$WORK/rgw/env")
  RGW_REGION=$(sed -n 's/^VPCFLOW_RGW_REGION=//p' "$WORK/rgw/env")
fi

# CPU seconds (user + system) process PID has used so far.
cpu_seconds() {
  local stat
  read -r stat <"/proc/$1/stat"
  stat=${stat##*) }  # the fields after "(comm)": state is field 1, utime 12, stime 13
  # shellcheck disable=SC2086 # split on purpose
  set -- $stat
  echo "(${12} + ${13}) / $CLK_TCK" | bc -l
}

# peak_rss_mb PID: the process's peak resident set (VmHWM), MB.
peak_rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Waits until FILE exists, while PID lives, for at most JOB_TIMEOUT_S. Returns 1 otherwise.
wait_for_file() {
  local file=$1 pid=$2 deadline state
  deadline=$((${EPOCHREALTIME%.*} + JOB_TIMEOUT_S))
  until [ -e "$file" ]; do
    read -r _ _ state _ <"/proc/$pid/stat" 2>/dev/null || return 1
    [ "$state" != Z ] || return 1
    [ "${EPOCHREALTIME%.*}" -lt "$deadline" ] || return 1
    read -r -t 0.01 -u "$TICK" || true
  done
}

# service_run NAME VAR=VALUE...: vpcflow-digesterd on a fresh DATA_DIR digesting the window,
# REPEAT times, each in a fresh process started with the given environment (the flow logs'
# source) on top of the embedded default. Sets BEST_S, BEST_CPU_S, PEAK_RSS_MB; leaves the last digest in
# $WORK/NAME.gz and its sidecar in $WORK/NAME.rows.gz.
service_run() {
  local name=$1
  shift
  local r data log port t0 t1 cpu0 cpu1 answer id s rss code
  BEST_S=
  BEST_CPU_S=
  PEAK_RSS_MB=0
  for ((r = 0; r < REPEAT; r++)); do
    data="$WORK/data-$name"
    rm -rf "$data"
    mkdir -p "$data"
    log="$WORK/$name.log"
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
      -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3 -u VPC_FLOW_LOGS_BUCKET \
      DATA_DIR="$data" LISTEN_ADDRESS=127.0.0.1 PORT=0 \
      STATSD_ADDRESS='' "$@" "$BIN_DIR/vpcflow-digesterd" >"$log" 2>&1 &
    SERVICE_PID=$!
    port=$(digesterd_port "$log" "$SERVICE_PID") || exit 1
    cpu0=$(cpu_seconds "$SERVICE_PID")
    t0=$EPOCHREALTIME
    answer=$(curl -sS -X POST -w ' %{http_code}' "http://127.0.0.1:$port/?start=$START&stop=$STOP")
    code=${answer##* }
    [ "$code" = 202 ] || { echo "bench_service: $name: POST answered $answer" >&2; cat "$log" >&2; exit 1; }
    id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$answer")
    if ! wait_for_file "$data/digests/$id.rows.gz" "$SERVICE_PID"; then
      echo "bench_service: $name: no digest stored within ${JOB_TIMEOUT_S} s" >&2
      cat "$log" >&2
      exit 1
    fi
    t1=$EPOCHREALTIME
    cpu1=$(cpu_seconds "$SERVICE_PID")
    rss=$(peak_rss_mb "$SERVICE_PID")
    code=$(curl -sS -o "$WORK/$name.gz" -w '%{http_code}' "http://127.0.0.1:$port/?start=$START&stop=$STOP")
    [ "$code" = 200 ] || { echo "bench_service: $name: GET answered $code after the store" >&2; exit 1; }
    cp "$data/digests/$id.rows.gz" "$WORK/$name.rows.gz"
    kill -TERM "$SERVICE_PID"
    wait "$SERVICE_PID" || true
    SERVICE_PID=
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$BEST_S" ] || [ "$(echo "$s < $BEST_S" | bc -l)" = 1 ]; then
      BEST_S=$s
      BEST_CPU_S=$(echo "$cpu1 - $cpu0" | bc -l)
    fi
    PEAK_RSS_MB=$((rss > PEAK_RSS_MB ? rss : PEAK_RSS_MB))
    rm -rf "$data"
  done
}

# same A B: "identical" when the decompressed gzip files are equal.
same() { cmp -s <(igzip -dc "$1") <(igzip -dc "$2") && echo identical || echo DIFFERS; }
# row NAME RUN S CPU RSS RATIO GOAL CHECK
row() {
  rows+=("$(printf '| %s | %s | %.2f | %.2f | %d | %s | %s | %s |' "$@")")
}
verdict() { awk -v v="$1" -v max="$2" 'BEGIN { printf "<= %s: %s", max, (v <= max) ? "PASS" : "MISS" }'; }

rows=()
failures=0
for spec in "$@"; do
  name=${spec%%=*}
  corpus=${spec#*=}
  find "$corpus" -name '*.log.gz' -print0 | xargs -0 cat >/dev/null  # warm the page cache
  window=(--start "$START" --stop "$STOP")

  best_run "$WORK" "cli-$name" "$BIN_DIR/vpcflow-digest" --source "$corpus" "${window[@]}" \
    --output "$WORK/cli-$name.gz"
  cli_s=$BEST_S
  row "$name" "CLI" "$BEST_S" "$BEST_CPU_S" "$PEAK_RSS_MB" "-" "" "the goal's reference"
  best_run "$WORK" "cli-rows-$name" "$BIN_DIR/vpcflow-digest" --source "$corpus" "${window[@]}" \
    --output "$WORK/cli-rows-$name.gz" --rows-output "$WORK/cli-rows-$name.rows.gz"
  cli_rows_s=$BEST_S
  row "$name" "CLI --rows-output" "$BEST_S" "$BEST_CPU_S" "$PEAK_RSS_MB" \
    "$(printf '%.2f x CLI' "$(echo "$BEST_S / $cli_s" | bc -l)")" "" "-"

  service_run "svc-$name" VPC_FLOW_LOGS_DIR="$corpus"
  local_s=$BEST_S
  check="digest $(same "$WORK/svc-$name.gz" "$WORK/cli-$name.gz"), rows $(same "$WORK/svc-$name.rows.gz" "$WORK/cli-rows-$name.rows.gz")"
  [[ "$check" == *DIFFERS* ]] && failures=$((failures + 1))
  ratio=$(echo "$BEST_S / $cli_s" | bc -l)
  row "$name" "service, local" "$BEST_S" "$BEST_CPU_S" "$PEAK_RSS_MB" \
    "$(printf '%.2f x CLI (%.2f x CLI --rows-output)' "$ratio" "$(echo "$BEST_S / $cli_rows_s" | bc -l)")" \
    "$(verdict "$ratio" "$SERVICE_GOAL")" "$check"

  if [ "$with_s3" != 0 ]; then
    bucket="bench-service-$name"
    t0=$EPOCHREALTIME
    AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY \
      AWS_DEFAULT_REGION=$RGW_REGION \
      "$AWS" --endpoint-url "$RGW_ENDPOINT" s3api create-bucket --bucket "$bucket" >/dev/null
    AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY \
      AWS_DEFAULT_REGION=$RGW_REGION \
      "$AWS" --endpoint-url "$RGW_ENDPOINT" s3 cp --recursive --quiet --exclude '.*' \
      "$corpus/" "s3://$bucket/"
    echo "bench_service: uploaded $name to the RGW in $(printf '%.0f' "$(echo "$EPOCHREALTIME - $t0" | bc -l)") s" >&2
    service_run "svc-s3-$name" VPC_FLOW_LOGS_BUCKET="$bucket" \
      VPC_FLOW_LOGS_BUCKET_REGION="$RGW_REGION" AWS_ACCESS_KEY_ID="$RGW_ACCESS_KEY" \
      AWS_SECRET_ACCESS_KEY="$RGW_SECRET_KEY" AWS_ENDPOINT_URL="$RGW_ENDPOINT"
    check="digest $(same "$WORK/svc-s3-$name.gz" "$WORK/cli-$name.gz"), rows $(same "$WORK/svc-s3-$name.rows.gz" "$WORK/cli-rows-$name.rows.gz")"
    [[ "$check" == *DIFFERS* ]] && failures=$((failures + 1))
    ratio=$(echo "$BEST_S / $local_s" | bc -l)
    row "$name" "service, flow logs on the RGW" "$BEST_S" "$BEST_CPU_S" "$PEAK_RSS_MB" \
      "$(printf '%.2f x service local' "$ratio")" "$(verdict "$ratio" "$S3_GOAL")" "$check"
    # The next corpus's upload needs the memory (the OSD keeps its data in RAM).
    AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY \
      AWS_DEFAULT_REGION=$RGW_REGION \
      "$AWS" --endpoint-url "$RGW_ENDPOINT" s3 rm --recursive --quiet "s3://$bucket/" >/dev/null
  fi
done

echo
echo "The digest through vpcflow-digesterd (a job on the embedded default: file source and stores," \
  "DIGEST_WORKERS and DIGEST_THREADS default, $(nproc) cores) against vpcflow-digest, best of $REPEAT;" \
  "service time = POST / to the job's last object stored, its CPU and peak RSS those of the service process"
echo
echo "| corpus | run | s | CPU s | peak RSS MB | ratio | goal | check |"
echo "| --- | --- | ---: | ---: | ---: | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
if [ "$failures" != 0 ]; then
  echo "bench_service: $failures service digests differ from the CLI's" >&2
  exit 1
fi

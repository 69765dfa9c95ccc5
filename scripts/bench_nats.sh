#!/usr/bin/env bash
# Issue 10 bench (b): one digest on NATS with 1, 2 and 3 worker processes against the
# single-process CLI on the same corpus: scripts/bench_nats.sh BIN_DIR CORPUS START STOP
#
# Starts a nats-server of its own (scripts/nats.sh), then for each worker count one api and N
# worker processes of BIN_DIR/vpcflow-digesterd on a fresh DATA_DIR (file stores), with
# DIGEST_SHARD_TARGET (BENCH_SHARD_TARGET, default 64M) so the job is split into shard tasks;
# times POST to the first 200 of GET (polled every 0.1 s), checks the digest equals the CLI's,
# and prints a markdown table with the ratio to the CLI's wall time (the sharding overhead).
set -euo pipefail

BIN_DIR=${1:?usage: scripts/bench_nats.sh BIN_DIR CORPUS START STOP}
CORPUS=${2:?usage: scripts/bench_nats.sh BIN_DIR CORPUS START STOP}
START=${3:?usage: scripts/bench_nats.sh BIN_DIR CORPUS START STOP}
STOP=${4:?usage: scripts/bench_nats.sh BIN_DIR CORPUS START STOP}
SHARD_TARGET=${BENCH_SHARD_TARGET:-64M}
THREADS=${BENCH_WORKER_THREADS:-2}
SCRIPTS=$(dirname "$0")
# shellcheck source=scripts/bench_lib.sh
. "$SCRIPTS/bench_lib.sh"  # REPEAT, min, best_run
# shellcheck source=scripts/daemon_lib.sh
. "$SCRIPTS/daemon_lib.sh"  # alive, digesterd_port

for tool in curl igzip /usr/bin/time bc nats-server; do
  command -v "$tool" >/dev/null || { echo "bench_nats: $tool is required" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpcflow-bench-nats.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  "$SCRIPTS/nats.sh" stop "$WORK/nats" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SCRIPTS/nats.sh" start "$WORK/nats" >/dev/null
URL=$(sed -n 's/^VPCFLOW_NATS_URL=//p' "$WORK/nats/env")

best_run "$WORK" cli "$BIN_DIR/vpcflow-digest" --source "$CORPUS" --start "$START" --stop "$STOP" \
  --output "$WORK/cli.gz"
CLI_S=$BEST_S
igzip -dc "$WORK/cli.gz" >"$WORK/cli.txt"

# start_service LOG ROLE DATA_DIR: starts one process in the background (its pid in PIDS) and
# waits for its startup line; its port in SERVICE_PORT (not a subshell: PIDS must keep the pid).
start_service() {
  local log=$1 role=$2 data=$3
  DATA_DIR=$data VPC_FLOW_LOGS_DIR=$CORPUS DIGEST_QUEUE_URL=$URL DIGEST_ROLE=$role \
    DIGEST_WORKERS=1 DIGEST_THREADS=$THREADS DIGEST_SHARD_TARGET=$SHARD_TARGET \
    LISTEN_ADDRESS=127.0.0.1 PORT=0 STATSD_ADDRESS='' \
    "$BIN_DIR/vpcflow-digesterd" >"$log" 2>&1 &
  PIDS+=($!)
  SERVICE_PORT=$(digesterd_port "$log" "$!") || { echo "bench_nats: $role did not start" >&2; exit 1; }
}

rows=()
for workers in 1 2 3; do
  best=
  for ((r = 0; r < REPEAT; r++)); do
    data="$WORK/data-$workers-$r"
    mkdir -p "$data"
    PIDS=()
    start_service "$WORK/api.log" api "$data"
    port=$SERVICE_PORT
    for ((w = 0; w < workers; w++)); do
      start_service "$WORK/worker-$w.log" worker "$data"
    done
    query="start=$START&stop=$STOP"
    t0=$(date +%s.%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/?$query")
    [ "$code" = 202 ] || { echo "bench_nats: POST answered $code" >&2; exit 1; }
    until [ "$(curl -s -o "$WORK/got.gz" -w '%{http_code}' "http://127.0.0.1:$port/?$query")" = 200 ]; do
      sleep 0.1
    done
    t1=$(date +%s.%N)
    best=$(min "$best" "$(echo "$t1 - $t0" | bc -l)")
    shards=$(grep -h '"job-sharded"' "$WORK"/worker-*.log | grep -o '"shards":[0-9]*' | head -n 1 |
      cut -d: -f2)
    same=$(cmp -s <(igzip -dc "$WORK/got.gz") "$WORK/cli.txt" && echo "same digest" ||
      echo "DIGEST DIFFERS")
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
  done
  rows+=("$(printf '| %d | %s | %.2f | %.2f | %.2f | %s |' "$workers" "${shards:-1}" "$best" "$CLI_S" \
    "$(echo "$best / $CLI_S" | bc -l)" "$same")")
done

echo
echo "One digest on NATS (DIGEST_SHARD_TARGET=$SHARD_TARGET, DIGEST_THREADS=$THREADS per worker," \
  "$(nproc) cores) against vpcflow-digest on the same corpus ($CORPUS)"
echo
echo "| workers | shards | POST to digest s | CLI s | ratio | check |"
echo "| ---: | ---: | ---: | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"

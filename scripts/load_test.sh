#!/usr/bin/env bash
# Load test of vpcflow-digesterd (not part of `make test`): generates a sample corpus, starts the
# service, stores one digest, then has wrk poll GET of that digest with 200 connections for 30 s
# and prints requests/s, p99 latency and errors. Exits non-zero on any error or non-2xx answer.
#
#   scripts/load_test.sh [BUILD_DIR]        (default: build)
#   CONNECTIONS=200 DURATION=30s THREADS=2 SIZE_MB=20 LOG_LEVEL=info scripts/load_test.sh
set -euo pipefail

# shellcheck source=scripts/daemon_lib.sh
. "$(dirname "$0")/daemon_lib.sh"  # digesterd_port

BUILD_DIR=${1:-build}
CONNECTIONS=${CONNECTIONS:-200}
DURATION=${DURATION:-30s}
THREADS=${THREADS:-2}
SIZE_MB=${SIZE_MB:-20}
LOG_LEVEL=${LOG_LEVEL:-info}
START=2019-01-01T00:00:00Z
STOP=2019-01-01T01:00:00Z

for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "load_test: $tool is not installed (make bootstrap)" >&2; exit 2; }
done
for bin in vpcflow-digest vpcflow-digesterd; do
  [[ -x "$BUILD_DIR/bin/$bin" ]] || { echo "load_test: $BUILD_DIR/bin/$bin missing (make build)" >&2; exit 2; }
done

work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD_DIR/bin/vpcflow-digest" generate --out "$work/flowlogs" --start "$START" --stop "$STOP" \
  --size-mb "$SIZE_MB" --seed 1

LISTEN_ADDRESS=127.0.0.1 PORT=0 DATA_DIR="$work" STATSD_ADDRESS= LOG_LEVEL="$LOG_LEVEL" \
  "$BUILD_DIR/bin/vpcflow-digesterd" >"$work/service.log" 2>&1 &
pid=$!

port=$(digesterd_port "$work/service.log" "$pid")
url="http://127.0.0.1:$port/?start=$START&stop=$STOP"

curl -sf -X POST "$url" >/dev/null
for _ in $(seq 1 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [[ "$code" == 200 ]] && break
  [[ "$code" == 204 ]] || { echo "load_test: GET answered $code" >&2; exit 1; }
  sleep 0.1
done
[[ "$code" == 200 ]] || { echo "load_test: the digest was not ready in time" >&2; exit 1; }
bytes=$(curl -s "$url" | wc -c)
echo "load_test: digest stored ($bytes bytes); wrk -t$THREADS -c$CONNECTIONS -d$DURATION"

wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" | tee "$work/wrk.txt"

rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
errors=$(awk '/Socket errors:/ {sum = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) sum += $i; print sum}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/wrk.txt")
echo "load_test: requests/s ${rps:-?}  p99 ${p99:-?}  socket errors ${errors:-0}  non-2xx ${non2xx:-0}"
[[ "${errors:-0}" == 0 && "${non2xx:-0}" == 0 ]]

#!/usr/bin/env bash
# The soak test of vpcflow-digesterd (`make soak`; not part of `make test`): starts a throw-away
# Ceph RGW (scripts/rgw.sh) and runs BUILD_DIR/bin/vpcflow-soak against it (tests/soak/soak_main.cpp:
# 200 clients for SOAK_SECONDS, SIGKILL and restart of the service every 2 minutes, one restart of
# the gateway, then every accepted digest checked against the CLI's). Everything it started is
# stopped when it ends, fails or is interrupted (Ctrl-C). Exits with the driver's status.
#
#   scripts/soak.sh [BUILD_DIR]                     (default: build; 10 minutes + set-up)
#   SOAK_SECONDS=60 scripts/soak.sh                 (the short run, for development)
#   SOAK_WORK=DIR (default BUILD_DIR/soak: corpus, service logs), SOAK_CLIENTS, SOAK_KILL_EVERY,
#   SOAK_RSS_LIMIT_MB (400), SOAK_DRAIN_SECONDS, SOAK_CORPUS_MB, ...: see tests/soak/soak_main.cpp.
set -euo pipefail

BUILD_DIR=${1:-build}
readonly DRIVER="$BUILD_DIR/bin/vpcflow-soak"
[[ -x "$DRIVER" ]] || { echo "soak: $DRIVER missing (make build)" >&2; exit 2; }
SOAK_WORK=$(realpath -m -- "${SOAK_WORK:-$BUILD_DIR/soak}")
export SOAK_WORK SOAK_RGW_DIR="$SOAK_WORK/rgw"
readonly RGW="$(dirname "$0")/rgw.sh"
DIGESTERD=$(realpath -- "$BUILD_DIR/bin/vpcflow-digesterd")
readonly DIGESTERD

driver=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$driver" ]] && kill -0 "$driver" 2>/dev/null; then
    kill -TERM "$driver" 2>/dev/null || true
    wait "$driver" 2>/dev/null || true
  fi
  # A service the driver left running (it died without stopping it): ours only, by its binary.
  local pid
  pid=$(cat "$SOAK_WORK/service.pid" 2>/dev/null) || pid=""
  if [[ "$pid" =~ ^[0-9]+$ && "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$DIGESTERD" ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SOAK_WORK/service.pid"
  "$RGW" stop "$SOAK_RGW_DIR" >/dev/null 2>&1 || echo "soak: rgw.sh stop failed" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$SOAK_WORK"
rm -f "$SOAK_WORK"/service-*.log
"$RGW" start "$SOAK_RGW_DIR"
# In the background so that a signal to this script reaches the trap at once (a foreground
# child would delay it until the child ends); the driver handles SIGINT/SIGTERM itself.
"$DRIVER" &
driver=$!
rc=0
wait "$driver" || rc=$?
driver=""
exit "$rc"

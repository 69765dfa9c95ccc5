#!/usr/bin/env bash
# A throw-away NATS server with JetStream on 127.0.0.1, for tests (../shared/docs/SCALE.md). Its
# streams (file storage), log, pid and port files live in DIR. Needs nats-server (bootstrap).
#
#   scripts/nats.sh start DIR    start nats-server -js on a free loopback port (-p -1), wait until
#                                it writes its ports file, write DIR/env (VPCFLOW_NATS_URL=...).
#                                Stops a previous server in DIR first.
#   scripts/nats.sh stop DIR     stop it (TERM, then KILL) and remove DIR; the log is kept in
#                                DIR.log. Succeeds when nothing runs.
#   scripts/nats.sh restart DIR  stop it and start it again on the same port with the same store
#                                (tests of "the server went away and came back").
#   scripts/nats.sh status DIR   exit 0 when it runs.
#
# NATS_START_TIMEOUT (seconds, default 20) bounds the wait of `start`.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/daemon_lib.sh"

readonly TIMEOUT=${NATS_START_TIMEOUT:-20}

die() {
  echo "nats.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 {start|stop|restart|status} DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
readonly CMD=$1
DIR=$2
[[ -n "$DIR" && "$DIR" != / ]] || usage
DIR=$(realpath -m -- "$DIR")
readonly DIR

# Directories this script made carry a marker; it removes no other.
readonly MARKER=.vpcflow-nats
ours() { [[ ! -e "$1" || -e "$1/$MARKER" ]] || rmdir -- "$1" 2>/dev/null; }

# The pid in DIR/pid when that process is alive and is our nats-server (its command line names
# our store directory); empty otherwise.
server_pid() { pid_in_file "$DIR/pid" "$DIR/js"; }

stop_server() {
  local pid
  pid=$(server_pid)
  [[ -z "$pid" ]] || stop_pid "$pid" "nats.sh: nats-server"
  rm -f "$DIR/pid"
}

# launch PORT: runs nats-server in the background, detached from our stdio (CTest waits for its
# pipes to close), and waits for its ports file; writes DIR/env.
launch() {
  local port=$1 pid deadline url
  rm -f "$DIR"/nats-server_*.ports
  nats-server -js -sd "$DIR/js" -a 127.0.0.1 -p "$port" --ports_file_dir "$DIR" \
    </dev/null >>"$DIR/log" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/pid"
  deadline=$(($(date +%s) + TIMEOUT))
  while [[ ! -s "$DIR/nats-server_$pid.ports" ]]; do
    if ! alive "$pid"; then
      tail -n 25 "$DIR/log" >&2
      die "nats-server exited at start"
    fi
    if (($(date +%s) >= deadline)); then
      tail -n 25 "$DIR/log" >&2
      stop_server
      die "nats-server did not write its ports file within ${TIMEOUT}s"
    fi
    sleep 0.05
  done
  url=$(grep -o 'nats://[^"]*' "$DIR/nats-server_$pid.ports" | head -n 1)
  [[ -n "$url" ]] || die "no URL in $DIR/nats-server_$pid.ports"
  echo "VPCFLOW_NATS_URL=$url" >"$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"
}

case "$CMD" in
  start)
    command -v nats-server >/dev/null || die "nats-server is not installed (scripts/bootstrap.sh)"
    ours "$DIR" || die "$DIR was not made by nats.sh; not using it"
    stop_server
    rm -rf -- "$DIR"
    mkdir -p "$DIR"
    touch "$DIR/$MARKER"
    launch -1
    echo "nats.sh: $(cat "$DIR/env")"
    ;;
  restart)
    [[ -s "$DIR/env" ]] || die "no server was started in $DIR"
    port=$(sed -n 's|^VPCFLOW_NATS_URL=nats://127.0.0.1:\([0-9]*\)$|\1|p' "$DIR/env")
    [[ -n "$port" ]] || die "no port in $DIR/env"
    stop_server
    launch "$port"
    ;;
  stop)
    ours "$DIR" || die "$DIR was not made by nats.sh; not removing it"
    stop_server
    if [[ -d "$DIR" ]]; then
      [[ -f "$DIR/log" ]] && cp -- "$DIR/log" "$DIR.log"
      rm -rf -- "$DIR"
    fi
    ;;
  status)
    [[ -n "$(server_pid)" ]]
    ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# A throw-away one-host Ceph cluster with a RADOS Gateway (S3) on 127.0.0.1, for tests. Everything
# (config, monitor store, logs, pid files) lives in DIR; the OSD keeps its data in RAM (memstore).
# Recipe and settings: ../shared/docs/REAL-S3.md. Needs ceph-mon ceph-osd radosgw ceph-common
# (VPCFLOW_WITH_S3=1 scripts/bootstrap.sh).
#
#   scripts/rgw.sh start DIR          start mon, osd, radosgw on free loopback ports, create an S3
#                                     user, write DIR/env (VPCFLOW_RGW_ENDPOINT, _ACCESS_KEY,
#                                     _SECRET_KEY, _REGION). Stops a previous cluster in DIR first.
#                                     On failure: prints the log tails, stops what it started.
#   scripts/rgw.sh stop DIR           stop radosgw, osd, mon (TERM, then KILL) and remove DIR; the
#                                     logs are kept in DIR.logs. Succeeds when nothing runs.
#   scripts/rgw.sh status DIR         exit 0 when all three run and the gateway answers.
#   scripts/rgw.sh stop-gateway DIR   stop only radosgw (tests of "server went away").
#   scripts/rgw.sh start-gateway DIR  start radosgw again on the same port.
#
# RGW_START_TIMEOUT (seconds, default 60) bounds each wait of `start`.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/daemon_lib.sh"

readonly TIMEOUT=${RGW_START_TIMEOUT:-60}
readonly REGION=us-east-1
readonly DAEMONS=(rgw osd mon)  # stop order

die() {
  echo "rgw.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 {start|stop|status|stop-gateway|start-gateway} DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
readonly CMD=$1
DIR=$2
[[ -n "$DIR" && "$DIR" != / ]] || usage
DIR=$(realpath -m -- "$DIR")
readonly DIR CONF="$DIR/ceph.conf"

now() { date +%s.%N; }

# Directories this script made carry a marker; it removes no other (`rgw.sh start ~` must not
# wipe a home directory).
readonly MARKER=.vpcflow-rgw
ours() { [[ ! -e "$1" || -e "$1/$MARKER" ]] || rmdir -- "$1" 2>/dev/null; }
remove_ours() {
  ours "$1" || die "$1 was not made by rgw.sh; not removing it"
  rm -rf -- "$1"
}

# pid_of NAME: the pid in DIR/NAME.pid when that process is alive and is ours (its command line
# names our ceph.conf).
pid_of() { pid_in_file "$DIR/$1.pid" "$CONF"; }

# stop_daemon NAME: SIGTERM, wait up to 10 s, then SIGKILL.
stop_daemon() {
  local pid
  pid=$(pid_of "$1")
  [[ -z "$pid" ]] || stop_pid "$pid" "rgw.sh: $1"
  rm -f "$DIR/$1.pid"
}

stop_all() {
  local d
  for d in "${DAEMONS[@]}"; do stop_daemon "$d"; done
}

# A loopback TCP port that nobody listens on, below the ephemeral range (so no outgoing
# connection takes it meanwhile) and outside the OSDs' 6800-7300. A clash with another starter
# is still possible; the callers retry with new ports.
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if [[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]]; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# listens PID PORT: PID owns a listening socket on 127.0.0.1:PORT.
listens() {
  ss -Hltnp "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

log_tails() {
  local f
  for f in "$DIR"/log/*; do
    [[ -f "$f" ]] || continue
    echo "----- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
}

ceph_cli() { timeout 10 ceph -c "$CONF" --connect-timeout 5 "$@"; }

# launch NAME CMD...: runs a ceph daemon in the foreground (-f) in the background, detached from
# our stdio (CTest waits for its pipes to close), and records its pid. Returns once the daemon
# runs its own command (or has exited): until the child execs, its command line is this shell's,
# and pid_of, which checks it, would take the daemon for gone; wait_for then started a second
# one on new ports and the first, never stopped, outlived the run (seen once under `make bench`).
launch() {
  local name=$1 pid i
  shift
  "$@" </dev/null >>"$DIR/log/$name.out" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/$name.pid"
  for ((i = 0; i < 500; i++)); do
    [[ -n "$(pid_of "$name")" ]] && return 0
    alive "$pid" || return 0
    sleep 0.01
  done
}

# wait_for NAME DESCRIPTION CMD...: polls CMD until it succeeds. Returns 1 on timeout, 2 when the
# daemon NAME has exited.
wait_for() {
  local name=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + TIMEOUT))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -z "$(pid_of "$name")" ]]; then
      echo "rgw.sh: $name exited while waiting for $what" >&2
      return 2
    fi
    if (($(date +%s) >= deadline)); then
      echo "rgw.sh: timed out after ${TIMEOUT}s waiting for $what" >&2
      return 1
    fi
    sleep 0.05
  done
}

write_conf() {
  local fsid=$1 mon_v2=$2 mon_v1=$3 rgw_port=$4
  # \$cluster, \$name and \$id are ceph's metavariables, not shell ones.
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$cluster-\$name.asok
log file = $DIR/log/\$cluster-\$name.log
crash dir = $DIR/crash
pid file =
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.05
paxos min wait = 0.01
# One bind attempt (not 3 with 5 s between): on a port clash we retry with other ports.
ms bind retry count = 1

[mon]
mon data = $DIR/mon/\$cluster-\$id

[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296

[client.rgw]
ms mon client mode = crc secure
# tcp_nodelay: without it, small answers wait 40 ms for the client's delayed ACK (Nagle).
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $DIR/rgw
rgw gc obj min wait = 5
rgw gc processor period = 5
EOF
}

# The anonymous GET / of our gateway answers ListAllMyBucketsResult, and the listening socket is
# our radosgw's (not another server's on the same port).
gateway_answers() {
  local pid port
  pid=$(pid_of rgw)
  port=$(cat "$DIR/rgw.port")
  [[ -n "$pid" ]] && listens "$pid" "$port" &&
    curl -fsS --max-time 5 "http://127.0.0.1:$port/" | grep -q ListAllMyBucketsResult
}

# A radosgw that exits on a port clash leaves its watches on the notify objects; every metadata
# change (bucket creation) would then wait 30 s for them to time out. Blocklisting the dead
# client drops its watches at once. Call only while no radosgw runs.
drop_dead_watches() {
  local obj addr
  for obj in $(timeout 10 rados -c "$CONF" -p default.rgw.control ls 2>/dev/null); do
    for addr in $(timeout 10 rados -c "$CONF" -p default.rgw.control listwatchers "$obj" \
      2>/dev/null | sed -n 's/^watcher=\([^ ]*\) .*/\1/p'); do
      ceph_cli osd blocklist add "$addr" >/dev/null 2>&1 || true
    done
  done
}

# start_gateway: starts radosgw on the port in DIR/rgw.port and waits until it answers. Returns 2
# when radosgw exited (e.g. its port was taken).
start_gateway() {
  launch rgw radosgw -c "$CONF" -n client.rgw -f
  wait_for rgw "radosgw on port $(cat "$DIR/rgw.port")" gateway_answers
}

# The monitor listens (checked first: the ceph CLI waits seconds for an absent monitor) and
# answers.
mon_answers() {
  local pid
  pid=$(pid_of mon)
  [[ -n "$pid" ]] && listens "$pid" "$(cat "$DIR/mon.port")" && ceph_cli mon stat
}

# A new free port for radosgw, in ceph.conf and DIR/rgw.port.
new_gateway_port() {
  local port
  port=$(free_port)
  sed -i "s/^rgw frontends = .*/rgw frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1/" "$CONF"
  echo "$port" >"$DIR/rgw.port"
}

# with_port_retries NAME START: runs START up to 3 times while the daemon NAME exits during it
# (status 2: most likely another starter took the port between our check and its bind), with new
# ports each time. START of the monitor picks its own; radosgw's are picked here.
with_port_retries() {
  local name=$1 start=$2 attempt rc
  for attempt in 1 2 3; do
    rc=0
    "$start" || rc=$?
    ((rc == 0)) && return 0
    stop_daemon "$name"
    ((rc == 2 && attempt < 3)) || return 1
    echo "rgw.sh: $name exited (port clash?); retrying with new ports" >&2
    if [[ "$name" == rgw ]]; then
      drop_dead_watches
      new_gateway_port
    fi
  done
}

# start_mon: one attempt with fresh ports. Returns 2 when ceph-mon exited (e.g. a port clash).
start_mon() {
  local fsid mon_v2 mon_v1
  fsid=$(cat /proc/sys/kernel/random/uuid)
  mon_v2=$(free_port)
  mon_v1=$(free_port)
  [[ "$mon_v1" != "$mon_v2" ]] || return 2
  rm -rf "$DIR/mon" "$DIR/monmap"
  mkdir -p "$DIR/mon"
  write_conf "$fsid" "$mon_v2" "$mon_v1" "$(cat "$DIR/rgw.port")"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" \
    "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1
  launch mon ceph-mon -c "$CONF" -i a -f
  echo "$mon_v2" >"$DIR/mon.port"
  wait_for mon "the monitor" mon_answers
}

osd_up() { ceph_cli osd dump | grep -q '^osd\.0 up'; }

start_osd() {
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph_cli osd new "$uuid")
  [[ "$id" == 0 ]] || die "ceph osd new answered '$id', expected 0"
  mkdir -p "$DIR/osd/ceph-0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >>"$DIR/log/mkfs.out" 2>&1
  launch osd ceph-osd -c "$CONF" -i 0 -f
  wait_for osd "osd.0 up" osd_up
}

random_string() {  # random_string ALPHABET LENGTH
  local s
  s=$(LC_ALL=C tr -dc "$1" </dev/urandom | head -c "$2") || true
  echo "$s"
}

cmd_start() {
  local t0 access secret
  t0=$(now)
  for tool in ceph rados ceph-mon ceph-osd radosgw radosgw-admin monmaptool curl ss; do
    command -v "$tool" >/dev/null ||
      die "$tool is not installed (VPCFLOW_WITH_S3=1 scripts/bootstrap.sh)"
  done
  stop_all
  remove_ours "$DIR"
  mkdir -p "$DIR"/{log,run,crash,rgw}
  touch "$DIR/$MARKER" "$DIR/log/$MARKER"
  trap 'rc=$?; if ((rc != 0)); then log_tails; stop_all; fi' EXIT

  free_port >"$DIR/rgw.port"
  with_port_retries mon start_mon || die "the monitor did not start"
  start_osd || die "osd.0 did not come up"

  # The user is created before radosgw starts: a notify from radosgw-admin to a radosgw that died
  # on a port clash would wait 30 s for the dead one's watch to time out.
  access=$(random_string 'A-Z0-9' 20)
  secret=$(random_string 'A-Za-z0-9' 40)
  timeout "$TIMEOUT" radosgw-admin -c "$CONF" user create --uid=vpcflow-test \
    --display-name="vpcflow tests" --access-key="$access" --secret-key="$secret" \
    >/dev/null 2>>"$DIR/log/radosgw-admin.out" || die "radosgw-admin user create failed"
  with_port_retries rgw start_gateway || die "radosgw did not start"

  local env_tmp="$DIR/env.tmp"
  (
    umask 077
    cat >"$env_tmp" <<EOF
VPCFLOW_RGW_ENDPOINT=http://127.0.0.1:$(cat "$DIR/rgw.port")
VPCFLOW_RGW_ACCESS_KEY=$access
VPCFLOW_RGW_SECRET_KEY=$secret
VPCFLOW_RGW_REGION=$REGION
EOF
  )
  mv "$env_tmp" "$DIR/env"
  trap - EXIT
  printf 'rgw.sh: S3 on http://127.0.0.1:%s (pids mon %s, osd %s, rgw %s) in %.1f s\n' \
    "$(cat "$DIR/rgw.port")" "$(pid_of mon)" "$(pid_of osd)" "$(pid_of rgw)" \
    "$(echo "$(now) - $t0" | bc)"
}

cmd_stop() {
  local t0
  t0=$(now)
  [[ -d "$DIR" ]] || return 0
  ours "$DIR" || die "$DIR was not made by rgw.sh"
  stop_all
  if [[ -d "$DIR/log" ]] && ours "$DIR.logs"; then
    rm -rf -- "$DIR.logs"
    mv "$DIR/log" "$DIR.logs"
  fi
  remove_ours "$DIR"
  printf 'rgw.sh: stopped in %.1f s (logs in %s)\n' "$(echo "$(now) - $t0" | bc)" "$DIR.logs"
}

cmd_status() {
  local d pid ok=0
  for d in mon osd rgw; do
    pid=$(pid_of "$d")
    if [[ -n "$pid" ]]; then
      echo "$d: running (pid $pid)"
    else
      echo "$d: not running"
      ok=1
    fi
  done
  if [[ -f "$DIR/rgw.port" ]] && gateway_answers; then
    echo "gateway: answers on http://127.0.0.1:$(cat "$DIR/rgw.port")"
  else
    echo "gateway: not answering"
    ok=1
  fi
  return "$ok"
}

cmd_start_gateway() {
  [[ -n "$(pid_of mon)" && -n "$(pid_of osd)" ]] || die "no cluster runs in $DIR (rgw.sh start)"
  [[ -z "$(pid_of rgw)" ]] || return 0
  if ! start_gateway; then
    log_tails
    stop_daemon rgw
    drop_dead_watches
    die "radosgw did not start"
  fi
}

case "$CMD" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  stop-gateway) stop_daemon rgw ;;
  start-gateway) cmd_start_gateway ;;
  *) usage ;;
esac

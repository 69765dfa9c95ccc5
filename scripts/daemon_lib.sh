# Process helpers shared by the throw-away test servers (rgw.sh, nats.sh) and the scripts that
# start vpcflow-digesterd (load_test.sh, bench_query.sh). Sourced, not run.

# pid_in_file FILE PATTERN: the pid in FILE when that process is alive and its command line
# contains PATTERN (a path of ours, so a recycled pid is never signalled); empty otherwise.
pid_in_file() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$2"; then
    echo "$pid"
  fi
}

# alive PID: the process exists and is not a zombie (an orphaned daemon's zombie waits for
# init, which may reap it only seconds later).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# stop_pid PID LABEL: SIGTERM, wait up to 10 s, then SIGKILL and wait up to 5 s more.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    echo "$2 (pid $pid) ignored SIGTERM for 10 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
  fi
}

# digesterd_port LOG PID: the port vpcflow-digesterd (pid PID, its log in LOG) listens on, from
# its "startup" log line; waits up to 10 s. Prints the log and returns 1 when it exits first or
# does not start in time.
digesterd_port() {
  local log=$1 pid=$2 port i
  for ((i = 0; i < 100; i++)); do
    port=$(grep -m1 '"event":"startup"' "$log" 2>/dev/null |
      sed -n 's/.*"port":\([0-9]*\).*/\1/p' || true)
    if [[ -n "$port" ]]; then
      echo "$port"
      return 0
    fi
    alive "$pid" || break
    sleep 0.1
  done
  echo "vpcflow-digesterd did not start:" >&2
  cat "$log" >&2
  return 1
}

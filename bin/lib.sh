# shellcheck shell=bash
# Shared helpers for the project's shell entry points (bin/test, demo/run.sh, bench/run.sh,
# docker/test.sh): installing what is missing, running in a namespace, waiting (bounded), stopping
# by pid, HTTP over /dev/tcp, and cleanup on every exit. Source it; it defines functions only and
# changes no shell option, and every function is safe under `set -e`. Each script keeps only its
# own story.
#
# Cleanup, for a script that makes namespaces or starts processes:
#   cleanup_on_exit NAME [HOOK]   once, early: on any exit (failure, Ctrl-C, SIGTERM) stop every
#                                 tracked process, delete every tracked namespace, run HOOK
#   track_pid PID                 a process this script started (the only ones cleanup signals)
#   new_ns NS                     makes a namespace with lo up, deleted on exit
# stop_pid and reap forget a pid, so cleanup never signals a pid the kernel has since reused.

LIB_PIDS=()
LIB_NSES=()

# need_commands PREFIX CMD=PACKAGE...: installs, by Debian package name, the packages whose command
# is missing (root only), so each entry point works alone on a fresh machine. Prints what it
# installs on stderr, prefixed with PREFIX. No package may start a service meanwhile (docker.io
# would start the system's dockerd, which rewrites the host's iptables; haproxy a system HAProxy).
need_commands() {
  local prefix=$1 pair cmd pkg missing=()
  shift
  for pair in "$@"; do
    cmd=${pair%%=*} pkg=${pair#*=}
    command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]]; then
    echo "$prefix: missing ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
    return 3
  fi
  echo "$prefix: installing ${missing[*]}" >&2
  # policy-rc.d is Debian's switch that forbids package scripts to start services.
  local guard="" log rc=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# temporary, %s: no service starts during its installs\nexit 101\n' "$prefix" >"$guard"
    chmod 0755 "$guard"
  fi
  # apt's chatter goes to a log, shown only when the install fails.
  log=$(mktemp)
  { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 || rc=3
  [[ -z $guard ]] || rm -f "$guard"
  if ((rc)); then
    cat "$log" >&2
    echo "$prefix: could not install ${missing[*]}" >&2
  fi
  rm -f "$log"
  return "$rc"
}

# env_int PREFIX NAME DEFAULT: prints the environment variable NAME (DEFAULT when unset), which must
# be a whole number from 1 to 9999999 in ASCII digits; anything else (empty included) is one line
# on stderr naming NAME and exit 2. Use as X=$(env_int ...) under set -e.
env_int() {
  local v=${!2-$3}
  [[ $v =~ ^[1-9][0-9]{0,6}$ ]] || { echo "$1: $2 must be a whole number from 1 to 9999999, got '$v'" >&2; exit 2; }
  printf '%s\n' "$v"
}

# in_ns NS|PID CMD...: runs CMD in a named network namespace, or in the network namespace of a
# process (a container's). Both exec CMD in place, but `in_ns ... &` would leave a subshell's pid
# in $!: start background processes with start_in_ns.
in_ns() {
  local where=$1
  shift
  if [[ $where =~ ^[0-9]+$ ]]; then
    nsenter -t "$where" -n "$@"
  else
    ip netns exec "$where" "$@"
  fi
}

# new_ns NS: a fresh network namespace with lo up, deleted on exit (see cleanup_on_exit).
new_ns() {
  ip netns add "$1" || return
  LIB_NSES+=("$1")
  ip -n "$1" link set lo up
}

# del_ns NS: deletes a namespace now and forgets it.
del_ns() {
  ip netns delete "$1" 2>/dev/null || true
  local keep=() n
  for n in "${LIB_NSES[@]}"; do [[ $n == "$1" ]] || keep+=("$n"); done
  LIB_NSES=("${keep[@]}")
}

# start_in_ns LOG NS|PID CMD...: CMD in the background inside the namespace, its output to the
# file LOG (- keeps the script's own output); its pid is tracked and left in $BG_PID.
start_in_ns() {
  local log=$1 ns=$2 enter
  shift 2
  if [[ $ns =~ ^[0-9]+$ ]]; then enter=(nsenter -t "$ns" -n); else enter=(ip netns exec "$ns"); fi
  if [[ $log == - ]]; then
    "${enter[@]}" "$@" &
  else
    "${enter[@]}" "$@" >"$log" 2>&1 &
  fi
  BG_PID=$!
  track_pid "$BG_PID"
}

track_pid() { LIB_PIDS+=("$1"); }

# reap PID: waits for a process this shell started (if it is its child) and forgets it.
reap() {
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${LIB_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  LIB_PIDS=("${keep[@]}")
  return 0
}

# stop_pid PID [GRACE]: SIGTERM, up to GRACE seconds (default 5) for it to exit, then SIGKILL;
# reaped and forgotten. Only for pids this script started.
stop_pid() {
  local pid=$1 grace=${2:-5} i
  [[ -n $pid ]] || return 0
  if kill -TERM "$pid" 2>/dev/null; then
    for ((i = 0; i < grace * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  reap "$pid"
}

# variant_checkout DIR JAR [JVM_OPTIONS_FILE]: a checkout of one build in DIR, for running several
# builds side by side (bench/cpu-ab.sh, bench/startup-ab.sh): the launcher and its helpers, the JVM
# options (this checkout's unless given) and JAR where the launcher looks for its jar.
variant_checkout() {
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  mkdir -p "$1/bin" "$1/proxy/target" "$1/docker/image"
  cp "$root/bin/sidecar" "$root/bin/sidecar-cds" "$root/bin/lib.sh" "$1/bin/"
  cp "${3:-$root/docker/image/jvm.options}" "$1/docker/image/jvm.options"
  cp "$2" "$1/proxy/target/sidecar.jar"
}

# variant_checkouts NAME DIR LABEL=JAR[@JVM_OPTIONS_FILE]...: a variant_checkout for each argument,
# in DIR/v0, DIR/v1, ... (this checkout's JVM options unless a file is given); their labels in
# VARIANT_LABELS. No argument, a malformed one or a missing file ends the script (exit 2).
variant_checkouts() {
  local name=$1 dir=$2 arg spec jar opts root
  shift 2
  (($#)) || { echo "usage: $name.sh LABEL=JAR[@JVM_OPTIONS_FILE] ..." >&2; exit 2; }
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  VARIANT_LABELS=()
  for arg in "$@"; do
    spec=${arg#*=} jar=${spec%@*} opts=$root/docker/image/jvm.options
    [[ $spec == *@* ]] && opts=${spec#*@}
    [[ $arg == *=* && -f $jar && -f $opts ]] || { echo "$name: '$arg' is not LABEL=JAR[@OPTIONS] with existing files" >&2; exit 2; }
    variant_checkout "$dir/v${#VARIANT_LABELS[@]}" "$jar" "$opts"
    VARIANT_LABELS+=("${arg%%=*}")
  done
}

# wait_for [-p PID] SECONDS CMD...: runs CMD (output discarded) every 0.1 s until it succeeds
# (returns 0) or SECONDS pass (returns 1). With -p, gives up at once (returns 2) when the process
# PID, the one meant to make CMD succeed, has exited.
wait_for() {
  local alive=""
  if [[ $1 == -p ]]; then alive=$2; shift 2; fi
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [[ -z $alive ]] || kill -0 "$alive" 2>/dev/null || return 2
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# listening NS|PID PORT: something listens on TCP PORT in that namespace. (No `| grep -q`: under
# pipefail the writer's SIGPIPE would turn a match into a failure.)
listening() { [[ -n $(in_ns "$1" ss -Htln "sport = :$2") ]]; }

# http_get NS|PID HOST PORT PATH: GET over bash's /dev/tcp (no curl needed) from inside a network
# namespace, at most 5 s. Prints the body; succeeds only on status 200.
http_get() {
  local resp
  # shellcheck disable=SC2016 # expanded by the inner bash
  resp=$(in_ns "$1" timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" &&
    printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 && cat <&3' "$2" "$3" "$4" 2>/dev/null) || return 1
  printf '%s' "${resp#*$'\r\n\r\n'}"
  [[ $resp == HTTP/1.?\ 200\ * ]]
}

# cleanup_on_exit NAME [HOOK]: on any exit, with the script's exit status kept: stops the tracked
# processes (a process keeps its namespace alive), deletes the tracked namespaces and says if one
# is left, then runs HOOK with the exit status (the script's own teardown). Ctrl-C exits 130,
# SIGTERM 143.
cleanup_on_exit() {
  LIB_NAME=$1 LIB_HOOK=${2:-}
  trap lib_cleanup EXIT
  trap 'echo "$LIB_NAME: interrupted, cleaning up" >&2; exit 130' INT
  trap 'exit 143' TERM
}

lib_cleanup() {
  local rc=$? pid ns left
  trap - EXIT INT TERM
  set +e
  for pid in "${LIB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${LIB_PIDS[@]}"; do stop_pid "$pid" 5; done
  for ns in "${LIB_NSES[@]}"; do ip netns delete "$ns" 2>/dev/null; done
  left=$(for ns in "${LIB_NSES[@]}"; do [[ -e /run/netns/$ns ]] && echo "$ns"; done)
  [[ -z $left ]] || echo "$LIB_NAME: namespaces left behind: $left" >&2
  [[ -z $LIB_HOOK ]] || "$LIB_HOOK" "$rc"
  exit "$rc"
}

#!/usr/bin/env bash
# System calls per relayed connection, per transport: starts `sidecar run --transport T` in a pod
# namespace (rules installed, dropped to 2102), warms it up with short connections to an echo server
# in a server namespace, then counts with `strace -f -c` on every proxy thread while a fixed number
# of further connections go through, and prints the counts divided by that number. Also prints the
# connection rate of a short bounded run (no strace) for each transport.
#
#   sudo bench/syscalls.sh [TRANSPORT...]      default: epoll io_uring
#   env: CONNS=2000 (counted connections)  WARMUP=3000  RATE_SECONDS=3  SIDECAR_JAVA_OPTS (as bin/sidecar)
#        LOOPS=N: run the relay on N event loops (the launcher's JVM flags plus
#        -XX:ActiveProcessorCount=N, which the loop count follows; it also sizes the JVM's own
#        GC and compiler threads)
#
# Everything stays inside two namespaces made here (198.18.40.0/24) and is removed on exit; every
# load is bounded in count and time. Output: one table per transport on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
source "$root/bin/lib.sh"
need_commands syscalls iptables-legacy=iptables strace=strace gcc=gcc ip=iproute2 ss=iproute2

CONNS=$(env_int syscalls CONNS 2000)
WARMUP=$(env_int syscalls WARMUP 3000)
RATE_SECONDS=$(env_int syscalls RATE_SECONDS 3)
if [[ -n ${LOOPS+set} ]]; then
  LOOPS=$(env_int syscalls LOOPS 1)
  export SIDECAR_JAVA_OPTS="${SIDECAR_JAVA_OPTS:-$(sed -e 's/#.*//' "$root/docker/image/jvm.options" | tr -s ' \t\n' ' ')} -XX:ActiveProcessorCount=$LOOPS"
fi
TRANSPORTS=("$@")
((${#TRANSPORTS[@]})) || TRANSPORTS=(epoll io_uring)
for t in "${TRANSPORTS[@]}"; do
  [[ $t == epoll || $t == io_uring ]] || { echo "syscalls: '$t' is not a transport; use epoll or io_uring" >&2; exit 2; }
done

tools=$(mktemp -d)
pod=scs-pod-$$
server=scs-server-$$
remove_tools() { rm -rf "$tools"; }
cleanup_on_exit syscalls remove_tools # stops what start_in_ns started, deletes the namespaces

gcc -O2 -Wall -o "$tools/loadgen" "$here/native/loadgen.c" -lpthread
gcc -O2 -Wall -o "$tools/echod" "$here/native/echod.c" -lpthread
[[ -f $root/proxy/target/sidecar.jar ]] || (cd "$root" && mvn -B -q -o -pl proxy -am -DskipTests package)

new_ns "$pod"
new_ns "$server"
ip link add to-server netns "$pod" type veth peer name to-pod netns "$server"
ip -n "$pod" addr add 198.18.40.1/24 dev to-server
ip -n "$server" addr add 198.18.40.2/24 dev to-pod
ip -n "$pod" link set to-server up
ip -n "$server" link set to-pod up
ip netns exec "$pod" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
ip netns exec "$pod" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2 2>/dev/null || true
start_in_ns - "$server" "$tools/echod" rr 7001 -T 1
wait_for 30 listening "$server" 7001 || { echo "syscalls: nothing listens on 7001 in $server" >&2; exit 1; }

load() { # load MAX SECONDS: short connections (100 bytes each way) through the outbound redirect
  ip netns exec "$pod" timeout $(($2 + 20)) "$tools/loadgen" rate 198.18.40.2 7001 -n 16 -t "$2" -m "$1" -s 100 -T 1
}

for t in "${TRANSPORTS[@]}"; do
  log=$tools/sidecar-$t.log
  start_in_ns "$log" "$pod" "$root/bin/sidecar" run --transport "$t" --no-ipv6
  sidecar_pid=$BG_PID
  wait_for -p "$sidecar_pid" 60 grep -q "redirect self-test passed" "$log" || { cat "$log" >&2; exit 1; }
  java_pid=$(pgrep -P "$sidecar_pid" java || echo "$sidecar_pid")
  load "$WARMUP" 20 >/dev/null
  echo "== $t: $(grep -o 'transport: .*' "$log" | head -1); event loops: ${LOOPS:-one per core}"
  echo "rate (no strace): $(load 1000000 "$RATE_SECONDS")"
  load 200 5 >/dev/null # let the loops settle after the rate run
  strace -f -c -o "$tools/strace-$t.txt" -p "$java_pid" 2>/dev/null & # -p with -f: every thread
  strace_pid=$!
  sleep 1 # strace attaches to every thread before the counted connections start
  counted=$(load "$CONNS" 30)
  sleep 0.5
  kill -INT "$strace_pid"
  wait "$strace_pid" 2>/dev/null || true
  done_conns=$(tr ' ' '\n' <<<"$counted" | awk -F= '$1 == "conns" {print $2}')
  echo "counted: $counted"
  echo "system calls per connection over $done_conns connections (futex and the event loop's wait included):"
  awk -v n="$done_conns" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { name = $NF; calls = $4; printf "  %-16s %6.2f\n", name, calls / n; total += calls }
    END { printf "  %-16s %6.2f\n", "total", total / n }' "$tools/strace-$t.txt"
  stop_pid "$sidecar_pid"
  ip netns exec "$pod" "$root/bin/sidecar" iptables remove >/dev/null 2>&1 || true
done

#!/usr/bin/env bash
# Proxy CPU per connection, A/B: runs one `sidecar run` per jar given, each in a pod namespace of
# its own (rules installed, dropped to 2102) with an echo server behind it, warms them all up,
# then measures them in turn, ROUNDS times: utime + stime of the proxy's JVM (/proc/PID/stat, all
# threads) over CONNS short connections (100 bytes each way, 16 in flight) through the outbound
# redirect, divided by the connections completed. Alternating the variants round by round spreads
# the noise of a busy machine over all of them; per-op CPU is steadier than a rate.
#
#   sudo bench/cpu-ab.sh LABEL=JAR[@JVM_OPTIONS_FILE] ...
#        e.g. base=/tmp/a.jar new=proxy/target/sidecar.jar, or c2=proxy/target/sidecar.jar@/tmp/c2.options
#   env: CONNS=6000  ROUNDS=7  WARMUP=20000  TRANSPORT=io_uring  SIDECAR_JAVA_OPTS (as bin/sidecar)
#
# Everything stays inside namespaces made here (198.18.41.0/24, 198.18.42.0/24, ...) and is removed
# on exit; every load is bounded in count and time. Output: one line per round and variant, then
# the median, lowest and highest µs per connection of each variant.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
source "$root/bin/lib.sh"
need_commands cpu-ab iptables-legacy=iptables gcc=gcc ip=iproute2 ss=iproute2

CONNS=$(env_int cpu-ab CONNS 6000)
ROUNDS=$(env_int cpu-ab ROUNDS 7)
WARMUP=$(env_int cpu-ab WARMUP 20000)
TRANSPORT=${TRANSPORT:-io_uring}

tools=$(mktemp -d)
remove_tools() { rm -rf "$tools"; }
cleanup_on_exit cpu-ab remove_tools
variant_checkouts cpu-ab "$tools" "$@" # bin/sidecar in each runs the jar next to it
labels=("${VARIANT_LABELS[@]}")
gcc -O2 -Wall -o "$tools/loadgen" "$here/native/loadgen.c" -lpthread
gcc -O2 -Wall -o "$tools/echod" "$here/native/echod.c" -lpthread

ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { # load I MAX SECONDS
  ip netns exec "scab-pod-$$-$1" timeout $(($3 + 20)) "$tools/loadgen" rate "198.18.$((41 + $1)).2" 7001 -n 16 -t "$3" -m "$2" -s 100 -T 1
}

java_pids=()
for i in "${!labels[@]}"; do
  pod=scab-pod-$$-$i server=scab-srv-$$-$i net=198.18.$((41 + i))
  new_ns "$pod"
  new_ns "$server"
  ip link add to-server netns "$pod" type veth peer name to-pod netns "$server"
  ip -n "$pod" addr add "$net.1/24" dev to-server
  ip -n "$server" addr add "$net.2/24" dev to-pod
  ip -n "$pod" link set to-server up
  ip -n "$server" link set to-pod up
  ip netns exec "$pod" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  ip netns exec "$pod" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2 2>/dev/null || true
  start_in_ns - "$server" "$tools/echod" rr 7001 -T 1
  wait_for 30 listening "$server" 7001 || { echo "cpu-ab: nothing listens on 7001 in $server" >&2; exit 1; }
  log=$tools/sidecar-$i.log
  start_in_ns "$log" "$pod" "$tools/v$i/bin/sidecar" run --transport "$TRANSPORT" --no-ipv6
  wait_for -p "$BG_PID" 60 grep -q "redirect self-test passed" "$log" || { cat "$log" >&2; exit 1; }
  java_pids+=("$(pgrep -P "$BG_PID" java || echo "$BG_PID")")
  load "$i" "$WARMUP" 60 >/dev/null
  echo "${labels[$i]}: java pid ${java_pids[$i]} in $pod, warmed with $WARMUP connections"
done

declare -A results
for ((r = 1; r <= ROUNDS; r++)); do
  for i in "${!labels[@]}"; do
    load "$i" 300 5 >/dev/null # same state before each count
    before=$(cpu_ticks "${java_pids[$i]}")
    out=$(load "$i" "$CONNS" 60)
    after=$(cpu_ticks "${java_pids[$i]}")
    n=$(tr ' ' '\n' <<<"$out" | awk -F= '$1 == "conns" {print $2}')
    us=$(awk -v t=$((after - before)) -v hz="$ticks_per_s" -v n="$n" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
    results[$i]+="$us "
    echo "round $r ${labels[$i]}: $us µs/conn ($n conns; $out)"
  done
done
for i in "${!labels[@]}"; do
  # shellcheck disable=SC2086
  printf '%s\n' ${results[$i]} | sort -n | awk -v l="${labels[$i]}" '{v[NR] = $1}
    END {printf "%-10s median %6.1f µs/conn  (%.1f–%.1f, %d rounds)\n", l, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR], NR}'
done

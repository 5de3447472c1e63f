#!/usr/bin/env bash
# Does the sidecar give memory back after a burst of connections (issue 8, item 7)? Needs root.
#
#   sudo bench/rss-after-burst.sh       # 3 rounds × 2 configurations, ~9 minutes
#
# One pod namespace and one server namespace joined by a veth pair (198.18.0.0/15 only). In each
# trial a fresh `bin/sidecar run` starts in the pod (it installs the rules, drops to uid 2102); once
# /ready answers 200 the idle RSS is taken, then a burst of connections goes out of the pod through
# the proxy (loadgen hold: BURST_CONNS connections opened one after another, each with BURST_SIZE
# bytes echoed through the proxy, all held open at once and then all closed), and the RSS is
# sampled every second for AFTER_SECONDS after the close.
# Target: RSS at +60 s within 16 MiB of idle.
#
# Two configurations, measured in alternating order round by round on the same machine:
#   before  the JVM flags the sidecar had before memory was given back (BEFORE_OPTS), with the
#           memory trimmer off (-Dsidecar.heapTrimSeconds=0)
#   after   the launcher's flags (docker/image/jvm.options)
# With RSS_NMT=1 the JVM also tracks its native memory and `jcmd VM.native_memory summary` is
# written to the run directory at idle, with the burst held open and at the end of each trial.
#
# Knobs (environment): RSS_ROUNDS=3  BURST_CONNS=9000  BURST_SIZE=4096
#   AFTER_SECONDS=60  RSS_CONFIGS=before,after  RSS_NMT=  RSS_MAX_SECONDS=1500  BENCH_NO_BUILD=1
#   BEFORE_OPTS=<flags>  AFTER_OPTS=<flags> (default: the launcher's)
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=../bin/lib.sh
source "$root/bin/lib.sh"

MAX_SECONDS=$(env_int bench/rss-after-burst.sh RSS_MAX_SECONDS 1500)
if [[ -z ${SCB_BOUNDED:-} ]]; then
  # The whole run is bounded: after MAX_SECONDS the script gets SIGTERM and its trap cleans up.
  SCB_BOUNDED=1 exec timeout --foreground -k 60 "$MAX_SECONDS" "$0" "$@"
fi
if [[ $(id -u) != 0 ]]; then
  echo "bench/rss-after-burst.sh: needs root (it creates network namespaces); run it with sudo" >&2
  exit 2
fi

ROUNDS=$(env_int bench/rss-after-burst.sh RSS_ROUNDS 3)
CONNS=$(env_int bench/rss-after-burst.sh BURST_CONNS 9000)
SIZE=$(env_int bench/rss-after-burst.sh BURST_SIZE 4096)
AFTER=$(env_int bench/rss-after-burst.sh AFTER_SECONDS 60)
IFS=, read -r -a CONFIGS <<<"${RSS_CONFIGS:-before,after}"
PROXY_UID=2102
TARGET_KIB=$((16 * 1024))
((SIZE <= 65536)) || { echo "bench/rss-after-burst.sh: BURST_SIZE must be at most 65536, got '$SIZE'" >&2; exit 2; }
# The proxy holds two descriptors per connection and inherits this script's limit; how many it
# admits (less: it keeps a reserve) is what it logs at start-up, checked in each trial.
ulimit -n "$(ulimit -Hn)"
((2 * CONNS + 200 <= $(ulimit -n))) || { echo "bench/rss-after-burst.sh: BURST_CONNS=$CONNS needs $((2 * CONNS + 200)) descriptors, the limit is $(ulimit -n)" >&2; exit 2; }
((AFTER >= 60)) || { echo "bench/rss-after-burst.sh: AFTER_SECONDS must be at least 60, got '$AFTER'" >&2; exit 2; }

launcher_opts=$(sed -e 's/#.*//' "$root/docker/image/jvm.options" | tr -s ' \t\n' ' ')
# The flags of docker/image/jvm.options before memory was given back (commit 3d93e4a).
BEFORE_OPTS=${BEFORE_OPTS:-"-XX:+UseSerialGC -Xms8m -Xmx128m -Xmn3m -XX:MaxMetaspaceSize=64m -Xss256k -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:ReservedCodeCacheSize=32m -XX:+ExitOnOutOfMemoryError -Djnr.ffi.asm.enabled=false -XX:MaxDirectMemorySize=128m -Dio.netty.allocator.maxOrder=7 -Dio.netty.tryReflectionSetAccessible=true --add-opens=java.base/java.nio=ALL-UNNAMED -Dsidecar.heapTrimSeconds=0"}
AFTER_OPTS=${AFTER_OPTS:-$launcher_opts}
declare -A OPTS=([before]=$BEFORE_OPTS [after]=$AFTER_OPTS)
for c in "${CONFIGS[@]}"; do
  [[ -n ${OPTS[$c]:-} ]] || { echo "bench/rss-after-burst.sh: RSS_CONFIGS: unknown configuration '$c' (before, after)" >&2; exit 2; }
done

need_commands bench/rss-after-burst.sh iptables-legacy=iptables gcc=gcc ip=iproute2 curl=curl setpriv=util-linux timeout=coreutils
[[ -z ${RSS_NMT:-} ]] || need_commands bench/rss-after-burst.sh jcmd=openjdk-17-jdk-headless

# ---------------------------------------------------------------- run directory and cleanup
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out=$here/out/rss-$run_id
mkdir -p "$out/logs" "$out/bin"
results=$out/results.tsv
printf 'config\tround\tmetric\tvalue\n' >"$results"
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

sfx=$(printf '%04x' $((RANDOM % 65536)))$$
NS_POD=scb-rss-pod-$sfx
NS_SERVER=scb-rss-srv-$sfx
NSES=()
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  ((rc == 0)) || echo "bench/rss-after-burst.sh: failed (exit $rc); raw output in $out" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
start_bg() { # start_bg LOGNAME NS CMD... -> $BG_PID, remembered for cleanup until reaped
  local name=$1 ns=$2; shift 2
  ip netns exec "$ns" "$@" >"$out/logs/$name.log" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}
reap() {
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop_pid() { # stop_pid PID [GRACE_SECONDS]: SIGTERM, then SIGKILL
  local pid=$1 grace=${2:-5}
  kill -TERM "$pid" 2>/dev/null || { reap "$pid"; return 0; }
  for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  reap "$pid"
}

# ---------------------------------------------------------------- tools and topology
log "run rss-$run_id: configurations ${CONFIGS[*]}, $ROUNDS rounds, bursts of $CONNS connections; raw results in $out"
gcc -O2 -Wall -o "$out/bin/loadgen" "$here/native/loadgen.c" -lpthread
gcc -O2 -Wall -o "$out/bin/echod" "$here/native/echod.c" -lpthread
if [[ -z ${BENCH_NO_BUILD:-} ]]; then
  log "building proxy/target/sidecar.jar"
  (cd "$root" && mvn -B -q -pl proxy -am package -DskipTests) >"$out/logs/build.log" 2>&1 || { tail -20 "$out/logs/build.log" >&2; exit 1; }
fi
# Stages the jar for uid 2102 (and makes the class-data archive of each set of flags) before any
# trial, so no trial pays for it.
for c in "${CONFIGS[@]}"; do
  SIDECAR_JAVA_OPTS=${OPTS[$c]} "$root/bin/sidecar" --version >"$out/logs/version-$c.log" 2>&1 || { cat "$out/logs/version-$c.log" >&2; exit 1; }
done

for ns in "$NS_POD" "$NS_SERVER"; do
  ip netns add "$ns"
  NSES+=("$ns")
  in_ns "$ns" ip link set lo up
done
ip link add to-server netns "$NS_POD" type veth peer name to-pod netns "$NS_SERVER"
in_ns "$NS_POD" ip addr add 198.18.30.1/24 dev to-server
in_ns "$NS_SERVER" ip addr add 198.18.30.2/24 dev to-pod
in_ns "$NS_POD" ip link set to-server up
in_ns "$NS_SERVER" ip link set to-pod up
# Local ports for 10,000 connections at once (the app's and the proxy's side of each).
in_ns "$NS_POD" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
start_bg echod "$NS_SERVER" "$out/bin/echod" echo 7002 -T 1
ECHOD_PID=$BG_PID
for _ in $(seq 100); do in_ns "$NS_SERVER" ss -Hltn 'sport = :7002' | grep -q . && break; sleep 0.05; done

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
nmt() { # nmt PID FILE: the JVM's own account of its memory (RSS_NMT=1 only)
  [[ -n ${RSS_NMT:-} ]] || return 0
  in_ns "$NS_POD" setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups \
    timeout 20 jcmd "$1" VM.native_memory summary >"$2" 2>&1 || true
  in_ns "$NS_POD" setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups \
    timeout 20 jcmd "$1" GC.heap_info >>"$2" 2>&1 || true
  cat "/proc/$1/smaps_rollup" >>"$2" 2>/dev/null || true
}

# ---------------------------------------------------------------- one trial
trial() { # trial CONFIG ROUND
  local c=$1 r=$2 opts=${OPTS[$1]} pid idle peak now line burst_pid
  [[ -z ${RSS_NMT:-} ]] || opts="$opts -XX:NativeMemoryTracking=summary"
  SIDECAR_JAVA_OPTS=$opts start_bg "sidecar-$c-$r" "$NS_POD" "$root/bin/sidecar" run
  pid=$BG_PID
  local deadline=$((SECONDS + 60))
  until [[ $(in_ns "$NS_POD" curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://127.0.0.1:4191/ready 2>/dev/null) == 200 ]]; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
      log "$c round $r: the sidecar did not become ready (log: $out/logs/sidecar-$c-$r.log)"
      stop_pid "$pid" 40
      record "$c" "$r" failed 1
      return 0
    fi
    sleep 0.1
  done
  # The proxy's own bound (ConnectionBudget, from the descriptor limit): a burst over it is reset.
  local admits
  admits=$(sed -n 's/.*max connections \([0-9][0-9]*\).*/\1/p' "$out/logs/sidecar-$c-$r.log" | head -1)
  if [[ -n $admits ]] && ((CONNS > admits)); then
    echo "bench/rss-after-burst.sh: BURST_CONNS=$CONNS is over the $admits connections the proxy admits (its log: $out/logs/sidecar-$c-$r.log)" >&2
    exit 2
  fi
  # The JVM that bin/sidecar execs keeps the launcher's pid.
  sleep 5 # start-up's last allocations (self-test, first /ready) settle
  idle=$(rss_kib "$pid")
  record "$c" "$r" idle_kib "$idle"
  record "$c" "$r" idle_anon_kib "$(status_kib "$pid" RssAnon)"
  nmt "$pid" "$out/logs/nmt-$c-$r-idle.txt"

  # The burst: CONNS connections opened one after another, each proven with SIZE bytes echoed
  # through the proxy, all held open at once, then all closed together.
  local cmd=("$out/bin/loadgen" hold 198.18.30.2 7002 -n "$CONNS" -s "$SIZE" -t 120)
  [[ -f $out/command.txt ]] || echo "ip netns exec POD ${cmd[*]}  (SIGTERM once it printed ready: all close)" >"$out/command.txt"
  local b0=$SECONDS
  start_bg "burst-$c-$r" "$NS_POD" timeout 150 "${cmd[@]}"
  burst_pid=$BG_PID
  peak=$idle
  until grep -q ready "$out/logs/burst-$c-$r.log"; do
    if ! kill -0 "$burst_pid" 2>/dev/null || ((SECONDS > b0 + 120)); then
      log "$c round $r: the burst failed: $(tail -1 "$out/logs/burst-$c-$r.log")"
      stop_pid "$burst_pid"
      stop_pid "$pid" 40
      record "$c" "$r" failed 1
      return 0
    fi
    now=$(rss_kib "$pid")
    ((now > peak)) && peak=$now
    sleep 0.2
  done
  record "$c" "$r" burst_open_s "$((SECONDS - b0))"
  now=$(rss_kib "$pid")
  ((now > peak)) && peak=$now
  record "$c" "$r" peak_kib "$peak"
  nmt "$pid" "$out/logs/nmt-$c-$r-held.txt"
  stop_pid "$burst_pid" # its SIGTERM handler closes every connection
  line=$(tail -1 "$out/logs/burst-$c-$r.log")
  nmt "$pid" "$out/logs/nmt-$c-$r-burst.txt"
  # Once a second after the burst: +1 … +AFTER s (taken on whole seconds since the burst ended).
  local s start_ns
  start_ns=$(date +%s%N)
  for s in $(seq "$AFTER"); do
    sleep "$(awk -v t="$start_ns" -v s="$s" -v n="$(date +%s%N)" 'BEGIN {d = (t + s * 1e9 - n) / 1e9; printf "%.3f", (d > 0 ? d : 0)}')"
    now=$(rss_kib "$pid")
    record "$c" "$r" "rss_${s}s_kib" "$now"
  done
  record "$c" "$r" after_anon_kib "$(status_kib "$pid" RssAnon)"
  nmt "$pid" "$out/logs/nmt-$c-$r-end.txt"
  # What the collections cost over the whole trial (the JVM's own metrics on the admin port).
  in_ns "$NS_POD" curl -s --max-time 5 http://127.0.0.1:4191/metrics >"$out/logs/metrics-$c-$r.txt" 2>/dev/null || true
  local gc
  for gc in MarkSweepCompact Copy; do
    record "$c" "$r" "gc_${gc}_count" "$(awk -v g="$gc" '$1 == "jvm_gc_collection_seconds_count{gc=\"" g "\"}" {print $2}' "$out/logs/metrics-$c-$r.txt")"
    record "$c" "$r" "gc_${gc}_seconds" "$(awk -v g="$gc" '$1 == "jvm_gc_collection_seconds_sum{gc=\"" g "\"}" {print $2}' "$out/logs/metrics-$c-$r.txt")"
  done
  stop_pid "$pid" 40
  local at10 at30 at60
  at10=$(awk -v c="$c" -v r="$r" '$1 == c && $2 == r && $3 == "rss_10s_kib" {print $4}' "$results")
  at30=$(awk -v c="$c" -v r="$r" '$1 == c && $2 == r && $3 == "rss_30s_kib" {print $4}' "$results")
  at60=$(awk -v c="$c" -v r="$r" '$1 == c && $2 == r && $3 == "rss_60s_kib" {print $4}' "$results")
  log "$c round $r: idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB, +10 s $((at10 / 1024)), +30 s $((at30 / 1024)), +60 s $((at60 / 1024)) MiB; burst: $line"
}

for r in $(seq "$ROUNDS"); do
  # Alternate the order each round, so neither configuration always runs first.
  order=("${CONFIGS[@]:$(((r - 1) % ${#CONFIGS[@]}))}" "${CONFIGS[@]:0:$(((r - 1) % ${#CONFIGS[@]}))}")
  for c in "${order[@]}"; do trial "$c" "$r"; done
done
stop_pid "$ECHOD_PID"

# ---------------------------------------------------------------- summary
{
  echo "run rss-$run_id, $(date -u +%Y-%m-%dT%H:%M:%SZ), $ROUNDS rounds; burst: $CONNS connections held at once, $SIZE B each way"
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); git $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo '-dirty')"
  for c in "${CONFIGS[@]}"; do echo "$c: ${OPTS[$c]}"; done
  echo
  awk -F'\t' -v target="$TARGET_KIB" -v configs="${CONFIGS[*]}" '
    NR > 1 { v[$1, $3, $2] = $4; rounds[$2] = 1 }
    function med(c, m,   n, a, r, i, j, t) {
      n = 0
      for (r in rounds) if ((c, m, r) in v) a[++n] = v[c, m, r]
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      lo[c, m] = a[1]; hi[c, m] = a[n]
      return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    function mib(k) { return k == "" ? "—" : sprintf("%.1f", k / 1024) }
    function cell(c, m,   x) { x = med(c, m); return x == "" ? "—" : sprintf("%s (%s–%s)", mib(x), mib(lo[c, m]), mib(hi[c, m])) }
    END {
      n = split(configs, cs, " ")
      printf "| configuration | idle | peak | +10 s | +30 s | +60 s | +60 s − idle | within 16 MiB at +60 s |\n"
      printf "|---|---:|---:|---:|---:|---:|---:|---|\n"
      for (i = 1; i <= n; i++) {
        c = cs[i]; met = 0; tot = 0
        for (r in rounds) {
          if (!((c, "rss_60s_kib", r) in v)) continue
          d[c, r] = v[c, "rss_60s_kib", r] - v[c, "idle_kib", r]; v[c, "delta", r] = d[c, r]
          tot++; if (d[c, r] <= target) met++
        }
        printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c, cell(c, "idle_kib"), cell(c, "peak_kib"),
          cell(c, "rss_10s_kib"), cell(c, "rss_30s_kib"), cell(c, "rss_60s_kib"), cell(c, "delta"),
          sprintf("%s (%d of %d rounds)", (tot && met == tot) ? "**yes**" : "**no**", met, tot)
      }
      print ""
      print "MiB, median over rounds (lowest–highest)."
    }' "$results"
} | tee "$out/summary.md"
log "done: $out/summary.md"

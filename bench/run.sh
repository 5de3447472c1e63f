#!/usr/bin/env bash
# System benchmark of the sidecar, on each of its transports, against direct TCP and HAProxy
# (issues 4 and 9). Needs root.
#
#   sudo bench/run.sh            # all four modes and the variants, ~13 minutes, then bench/report
#
# Builds throwaway namespaces: one client, one server, and one pod per mode, each pod joined to the
# client and to the server by veth pairs (198.18.0.0/15 only):
#
#   client ── pod-direct           ── server   no rules, no proxy
#   client ── pod-sidecar-io_uring ── server   `sidecar run --transport io_uring` (rules, uid 2102)
#   client ── pod-sidecar-epoll    ── server   `sidecar run --transport epoll`
#   client ── pod-haproxy          ── server   `sidecar iptables install` + HAProxy as uid 2102
#
# The sidecars of these modes are steady: one long-lived JVM per transport, warmed by a rate
# warm-up whose figures are discarded, then measured across all rounds, as a real sidecar runs.
# Variants (BENCH_VARIANTS), each per transport:
#   c2       a second steady JVM per transport in its own pod with full C2 (the launcher's flags
#            without -XX:TieredStopAtLevel and -XX:CICompilerCount), measured in rate and latency
#   cold     every round a fresh JVM (launcher's flags) in a fresh pod: start-up to ready, then the
#            rate scenario at once, with no warm-up
#   cold_c2  the same with the C2 flags
#
# Every scenario is measured in every mode, interleaved round by round, so a noisy neighbour hurts
# all alike. Raw results go to bench/out/<run-id>/ (results.tsv, meta.env, commands.txt, logs/).
# Every loop is bounded; the whole run is bounded by BENCH_MAX_SECONDS; the namespaces and every
# process started here are removed on exit, failure, Ctrl-C or timeout.
#
# Knobs (environment): BENCH_MODES=direct,sidecar-io_uring,sidecar-epoll,haproxy
#   BENCH_VARIANTS=c2,cold,cold_c2 (empty: none)  BENCH_ROUNDS=5  BENCH_BULK_SECONDS=4
#   BENCH_RATE_SECONDS=3  BENCH_WARMUP_SECONDS=10  BENCH_PING_COUNT=20000  BENCH_HOLD_CONNS=1000
#   BENCH_START_TRIALS=5  BENCH_RULE_TRIALS=5  BENCH_MAX_SECONDS=1500  SIDECAR=bin/sidecar
#   BENCH_SIDECAR_ARGS=  BENCH_NO_BUILD=1  BENCH_NO_REPORT=1
#   BENCH_SCENARIOS=bulk_out,bulk_in,rate,latency (quick iterations: fewer)
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
. "$root/bin/lib.sh"

MAX_SECONDS=${BENCH_MAX_SECONDS:-1500}
if [[ -z ${SCB_BOUNDED:-} ]]; then
  # The whole run is bounded: after MAX_SECONDS the script gets SIGTERM and its trap cleans up.
  SCB_BOUNDED=1 exec timeout --foreground -k 60 "$MAX_SECONDS" "$0" "$@"
fi

if [[ $(id -u) != 0 ]]; then
  echo "bench/run.sh: needs root (it creates network namespaces); run it with sudo" >&2
  exit 2
fi

IFS=, read -r -a MODES <<<"${BENCH_MODES:-direct,sidecar-io_uring,sidecar-epoll,haproxy}"
IFS=, read -r -a VARIANTS <<<"${BENCH_VARIANTS-c2,cold,cold_c2}"
ROUNDS=$(env_int bench/run.sh BENCH_ROUNDS 5)
BULK_SECONDS=$(env_int bench/run.sh BENCH_BULK_SECONDS 4)
RATE_SECONDS=$(env_int bench/run.sh BENCH_RATE_SECONDS 3)
WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-10}
PING_COUNT=$(env_int bench/run.sh BENCH_PING_COUNT 20000)
HOLD_CONNS=$(env_int bench/run.sh BENCH_HOLD_CONNS 1000)
START_TRIALS=${BENCH_START_TRIALS:-5}
RULE_TRIALS=${BENCH_RULE_TRIALS:-5}
SIDECAR=${SIDECAR:-$root/bin/sidecar}
read -r -a RUN_ARGS <<<"${BENCH_SIDECAR_ARGS:-}" # extra `sidecar run` options, e.g. to compare a tuning
PROXY_UID=2102
PIN_CPU=1 # the CPU that client, proxy and server share for the round-trip latency scenario

for v in WARMUP_SECONDS START_TRIALS RULE_TRIALS; do # these may be 0
  [[ ${!v} =~ ^[0-9]{1,4}$ ]] || { echo "bench/run.sh: BENCH_$v must be a whole number from 0 to 9999, got '${!v}'" >&2; exit 2; }
done
((START_TRIALS <= 19)) || { echo "bench/run.sh: BENCH_START_TRIALS must be at most 19" >&2; exit 2; }
for m in "${MODES[@]}"; do
  case $m in
    direct | sidecar-io_uring | sidecar-epoll | haproxy) ;;
    *) echo "bench/run.sh: BENCH_MODES: unknown mode '$m' (direct, sidecar-io_uring, sidecar-epoll, haproxy)" >&2; exit 2 ;;
  esac
done
for v in "${VARIANTS[@]}"; do
  case $v in
    c2 | cold | cold_c2) ;;
    *) echo "bench/run.sh: BENCH_VARIANTS: unknown variant '$v' (c2, cold, cold_c2)" >&2; exit 2 ;;
  esac
done
has_mode() { [[ " ${MODES[*]} " == *" $1 "* ]]; }
has_variant() { [[ " ${VARIANTS[*]} " == *" $1 "* ]]; }
is_sidecar() { [[ $1 == sidecar-* ]]; }
transport_of() { local t=${1#sidecar-}; echo "${t%%-*}"; } # sidecar-io_uring-c2 -> io_uring
# The sidecar modes of BENCH_MODES, and the transports they measure.
SIDECAR_MODES=()
for m in "${MODES[@]}"; do is_sidecar "$m" && SIDECAR_MODES+=("$m"); done
# Cold trials take one fresh pod each, on subnets 198.18.100+j and 198.18.150+j.
COLD_CONFIGS=()
for m in "${SIDECAR_MODES[@]}"; do
  has_variant cold && COLD_CONFIGS+=("$m-cold")
  has_variant cold_c2 && COLD_CONFIGS+=("$m-cold-c2")
done
((ROUNDS * ${#COLD_CONFIGS[@]} <= 50)) || { echo "bench/run.sh: BENCH_ROUNDS × cold variants must be at most 50 (one fresh pod each)" >&2; exit 2; }
# For quick iterations: only some of the round scenarios (the report wants all four).
IFS=, read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-bulk_out,bulk_in,rate,latency}"
has_scenario() { [[ " ${SCENARIOS[*]} " == *" $1 "* ]]; }

# JVM flags: the launcher's (docker/image/jvm.options, or SIDECAR_JAVA_OPTS as given), and the same
# with full C2 for the c2 variants: without the C1-only -XX:TieredStopAtLevel and the one compiler
# thread that only C1 can make do with.
BASE_OPTS=${SIDECAR_JAVA_OPTS:-$(sed -e 's/#.*//' "$root/docker/image/jvm.options" | tr -s ' \t\n' ' ')}
C2_OPTS=$(sed -E -e 's/-XX:TieredStopAtLevel=[0-9]+//g' -e 's/-XX:CICompilerCount=[0-9]+//g' <<<"$BASE_OPTS" | tr -s ' ')
[[ $BASE_OPTS == *-XX:TieredStopAtLevel=1* ]] && BASE_JIT=c1 || BASE_JIT=c2
opts_of() { if [[ $1 == *-c2 ]]; then echo "$C2_OPTS"; else echo "$BASE_OPTS"; fi; }

# ---------------------------------------------------------------- packages
need_commands "bench/run.sh" iptables-legacy=iptables iperf3=iperf3 haproxy=haproxy gnuplot=gnuplot-nox gcc=gcc jq=jq ip=iproute2 \
  taskset=util-linux setpriv=util-linux || exit 3
# The benchmark runs its own HAProxy, in the pod (need_commands lets no package start a service).

# ---------------------------------------------------------------- run directory
run_id=$(date -u +%Y%m%dT%H%M%SZ)
out=$here/out/$run_id
mkdir -p "$out/logs"
results=$out/results.tsv
commands=$out/commands.txt
printf 'scenario\tmode\tround\tmetric\tvalue\n' >"$results"
: >"$commands"
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$out/run.log" >&2; }
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }
# Remembers the exact command of each scenario and mode once (the first round's).
note_cmd() {
  local key=$1; shift
  grep -q "^$key: " "$commands" 2>/dev/null || printf '%s: %s\n' "$key" "$*" >>"$commands"
}

# ---------------------------------------------------------------- cleanup
# Every namespace is named scb-*-$sfx; bin/lib.sh stops every process started here and deletes the
# namespaces on exit, failure, Ctrl-C or timeout.
sfx=$(printf '%04x' $((RANDOM % 65536)))
after_cleanup() {
  local left
  left=$(ip netns list | grep -- "-$sfx" || true)
  [[ -z $left ]] || echo "bench/run.sh: namespaces left behind: $left" >&2
  (($1 == 0)) || echo "bench/run.sh: failed (exit $1); raw output in $out" >&2
}
cleanup_on_exit "bench/run.sh" after_cleanup

# start_bg NAME NS CMD...: CMD in the background in NS, its output in logs/NAME.log, its pid in $BG_PID.
start_bg() { start_in_ns "$out/logs/$1.log" "${@:2}"; }

# ---------------------------------------------------------------- tools
log "run $run_id: modes ${MODES[*]}, $ROUNDS rounds; raw results in $out"
tools=$out/bin
mkdir -p "$tools"
gcc -O2 -Wall -o "$tools/loadgen" "$here/native/loadgen.c" -lpthread
gcc -O2 -Wall -o "$tools/echod" "$here/native/echod.c" -lpthread
LOADGEN=$tools/loadgen
ECHOD=$tools/echod
ulimit -n "$(ulimit -Hn)"

if ((${#SIDECAR_MODES[@]})) || has_mode haproxy || ((RULE_TRIALS > 0)) || ((START_TRIALS > 0)); then
  # A stale jar would silently measure old code: rebuild it from this checkout first (skip with
  # BENCH_NO_BUILD=1, or when SIDECAR names another launcher).
  if [[ -z ${BENCH_NO_BUILD:-} && $SIDECAR == "$root/bin/sidecar" ]]; then
    log "building proxy/target/sidecar.jar"
    (cd "$root" && mvn -B -q -pl proxy -am package -DskipTests) >"$out/logs/build.log" 2>&1 || { tail -20 "$out/logs/build.log" >&2; echo "bench/run.sh: the build failed (log: $out/logs/build.log)" >&2; exit 1; }
  fi
  # The launcher stages the jar for uid 2102 on its first run as root, so no trial pays for that.
  # It also makes the class-data archive for each set of JVM flags (the C2 flags have their own).
  SIDECAR_JAVA_OPTS=$BASE_OPTS "$SIDECAR" --version >"$out/logs/sidecar-version.log" 2>&1 || SIDECAR_JAVA_OPTS=$BASE_OPTS "$SIDECAR" --help >"$out/logs/sidecar-version.log" 2>&1 || { cat "$out/logs/sidecar-version.log" >&2; echo "bench/run.sh: $SIDECAR --version failed" >&2; exit 1; }
  if has_variant c2 || has_variant cold_c2; then
    SIDECAR_JAVA_OPTS=$C2_OPTS "$SIDECAR" --version >"$out/logs/sidecar-version-c2.log" 2>&1 || { cat "$out/logs/sidecar-version-c2.log" >&2; echo "bench/run.sh: $SIDECAR --version failed with the C2 flags" >&2; exit 1; }
  fi
fi

# ---------------------------------------------------------------- machine and versions
{
  echo "run_id=$run_id"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "kernel=$(uname -r)"
  echo "mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "haproxy=$(haproxy -v | head -1)"
  echo "iperf3=$(iperf3 --version | head -1)"
  echo "gcc=$(gcc --version | head -1)"
  echo "iptables=$(iptables --version)"
  echo "sidecar=$(head -1 "$out/logs/sidecar-version.log" 2>/dev/null)"
  echo "git=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo '-dirty')"
  [[ -f $root/proxy/target/sidecar.jar ]] && echo "sidecar_jar_sha256=$(sha256sum "$root/proxy/target/sidecar.jar" | cut -c1-16)"
  echo "sidecar_java_opts=${SIDECAR_JAVA_OPTS:-(launcher default)}"
  echo "base_opts=$BASE_OPTS"
  echo "base_jit=$BASE_JIT"
  echo "c2_opts=$C2_OPTS"
  echo "sidecar_run_args=${RUN_ARGS[*]}"
  echo "modes=${MODES[*]}"
  echo "variants=${VARIANTS[*]}"
  echo "rounds=$ROUNDS"
  echo "warmup_seconds=$WARMUP_SECONDS"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "bulk_seconds=$BULK_SECONDS"
  echo "rate_seconds=$RATE_SECONDS"
  echo "ping_count=$PING_COUNT"
  echo "hold_conns=$HOLD_CONNS"
  echo "pin_cpu=$PIN_CPU"
} >"$out/meta.env"

# ---------------------------------------------------------------- topology
# Mode i: client 198.18.1i.1 -- 198.18.1i.2 pod 198.18.2i.1 -- 198.18.2i.2 server
declare -A IDX=([direct]=1 [sidecar-io_uring]=2 [haproxy]=3 [sidecar-epoll]=4 [sidecar-io_uring-c2]=5 [sidecar-epoll-c2]=6)
# The steady C2 variant adds one long-lived sidecar per transport, in a pod of its own: measured in
# the rate and latency scenarios (where compiled code could matter), not in bulk.
STEADY_C2=()
if has_variant c2; then
  for m in "${SIDECAR_MODES[@]}"; do STEADY_C2+=("$m-c2"); done
fi
MODES+=("${STEADY_C2[@]}")
declare -A POD
client_ip() { echo "198.18.1${IDX[$1]}.1"; }
pod_ip() { echo "198.18.1${IDX[$1]}.2"; }
server_ip() { echo "198.18.2${IDX[$1]}.2"; }

# veth between two namespaces: link NS_A DEV_A CIDR_A NS_B DEV_B CIDR_B
link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  in_ns "$1" ip addr add "$3" dev "$2"
  in_ns "$4" ip addr add "$6" dev "$5"
  in_ns "$1" ip link set "$2" up
  in_ns "$4" ip link set "$5" up
}
# Pod namespace tuning, the same in every mode: a wide ephemeral port range for the connection
# rate, and a short conntrack TIME_WAIT so NAT entries of finished connections (proxy modes) do not
# fill the conntrack table during the rate scenario.
tune_pod() {
  in_ns "$1" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
  in_ns "$1" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=2 2>/dev/null || true
}
make_pod() { # make_pod NAME SUBNET_IN SUBNET_OUT -> pod namespace joined to client and server
  local ns=$1 a=$2 b=$3
  new_ns "$ns"
  link "$NS_CLIENT" "c-$a" "198.18.$a.1/24" "$ns" "to-client" "198.18.$a.2/24"
  link "$ns" "to-server" "198.18.$b.1/24" "$NS_SERVER" "s-$b" "198.18.$b.2/24"
  tune_pod "$ns"
}

wait_listen() { # wait_listen NS PORT SECONDS [PID that must stay alive meanwhile]
  local rc=0
  wait_for ${4:+-p "$4"} "$3" listening "$1" "$2" || rc=$?
  case $rc in
    0) ;;
    2) log "the process meant to listen on port $2 in $1 exited"; return 1 ;;
    *) log "nothing listens on port $2 in $1 after $3 s"; return 1 ;;
  esac
}

NS_CLIENT=scb-client-$sfx
NS_SERVER=scb-server-$sfx
new_ns "$NS_CLIENT"
new_ns "$NS_SERVER"
for m in "${MODES[@]}"; do
  POD[$m]=scb-pod-$m-$sfx
  make_pod "${POD[$m]}" "1${IDX[$m]}" "2${IDX[$m]}"
done

# Servers: iperf3, a short-exchange server (rr) and an echo server in the server namespace; iperf3
# and rr in every pod (the inbound application).
note_cmd "servers" "ip netns exec SERVER iperf3 -s -p 5201; ip netns exec SERVER $ECHOD rr 7001 -T 2; ip netns exec SERVER $ECHOD echo 7002; in each POD: iperf3 -s -p 5201; $ECHOD rr 7001 -T 1"
start_bg server-iperf3 "$NS_SERVER" iperf3 -s -p 5201
start_bg server-rr "$NS_SERVER" "$ECHOD" rr 7001 -T 2
start_bg server-echo "$NS_SERVER" "$ECHOD" echo 7002
ECHO_PID=$BG_PID
for m in "${MODES[@]}"; do
  start_bg "pod-$m-iperf3" "${POD[$m]}" iperf3 -s -p 5201
  start_bg "pod-$m-rr" "${POD[$m]}" "$ECHOD" rr 7001 -T 1
done
wait_listen "$NS_SERVER" 5201 10
wait_listen "$NS_SERVER" 7001 10
wait_listen "$NS_SERVER" 7002 10
for m in "${MODES[@]}"; do wait_listen "${POD[$m]}" 5201 10; wait_listen "${POD[$m]}" 7001 10; done

# ---------------------------------------------------------------- proxies
declare -A PROXY_PID
ipt_save_all() { # every variant's nat table, to find our chains whichever backend installed them
  in_ns "$1" iptables-legacy-save -t nat 2>/dev/null || true
  in_ns "$1" iptables-nft-save -t nat 2>/dev/null || true
}
has_rules() { ipt_save_all "$1" | grep -q 'PROXY_INIT_OUTPUT' && ipt_save_all "$1" | grep -q 'PROXY_INIT_REDIRECT'; }

# Proves the proxy path: with filter rules that reset any connection to port 7001 that was NOT
# redirected (outbound: not from the proxy uid; inbound: arriving on the veth unchanged), a short
# exchange must still succeed both ways. In direct mode the same rules must make it fail.
verify_path() { # verify_path MODE SECONDS
  local m=$1 t=$2 ns=${POD[$1]} ok=1
  local out_rule=(OUTPUT -p tcp -d "$(server_ip "$m")" --dport 7001 -m owner ! --uid-owner "$PROXY_UID" -j REJECT --reject-with tcp-reset)
  local in_rule=(INPUT -i to-client -p tcp --dport 7001 -j REJECT --reject-with tcp-reset)
  in_ns "$ns" iptables -w -I "${out_rule[@]}"
  in_ns "$ns" iptables -w -I "${in_rule[@]}"
  local o i
  [[ $m != direct ]] || t=1 # the negative control: these probes must fail, no need to wait long
  o=$(in_ns "$ns" "$LOADGEN" probe "$(server_ip "$m")" 7001 -t "$t" || true)
  i=$(in_ns "$NS_CLIENT" "$LOADGEN" probe "$(pod_ip "$m")" 7001 -t "$t" || true)
  in_ns "$ns" iptables -w -D "${out_rule[@]}"
  in_ns "$ns" iptables -w -D "${in_rule[@]}"
  [[ $o == *ok_realtime_ns=0* || -z $o ]] && ok=0
  [[ $i == *ok_realtime_ns=0* || -z $i ]] && ok=0
  if [[ $m == direct ]]; then
    ((ok == 0)) || { log "direct: a connection that should have been reset got through: the path check is broken"; return 1; }
    in_ns "$ns" "$LOADGEN" probe "$(server_ip "$m")" 7001 -t 2 >/dev/null || { log "direct: outbound exchange failed"; return 1; }
    in_ns "$NS_CLIENT" "$LOADGEN" probe "$(pod_ip "$m")" 7001 -t 2 >/dev/null || { log "direct: inbound exchange failed"; return 1; }
  else
    ((ok == 1)) || { log "$m: traffic does not go through the proxy (outbound: ${o:-none}; inbound: ${i:-none})"; return 1; }
  fi
}

write_haproxy_cfg() {
  cat >"$out/haproxy.cfg" <<EOF
# Written by bench/run.sh. HAProxy as a transparent sidecar: the pod's iptables rules redirect to
# 4140/4143, and "server s 0.0.0.0:0" connects to each connection's SO_ORIGINAL_DST target.
global
    maxconn 8000

defaults
    mode tcp
    timeout connect 1s
    timeout client 1h
    timeout server 1h

listen outbound
    bind 127.0.0.1:4140
    server s 0.0.0.0:0

listen inbound
    bind 0.0.0.0:4143
    server s 0.0.0.0:0
EOF
}

start_haproxy() {
  local ns=${POD[haproxy]}
  write_haproxy_cfg
  note_cmd "haproxy-rules" ip netns exec "$ns" "$SIDECAR" iptables install
  in_ns "$ns" "$SIDECAR" iptables install >"$out/logs/haproxy-rules.log" 2>&1 || { log "sidecar iptables install failed in the HAProxy pod: $(tail -1 "$out/logs/haproxy-rules.log")"; return 1; }
  has_rules "$ns" || { log "sidecar iptables install left no PROXY_INIT chains in the HAProxy pod"; return 1; }
  note_cmd "haproxy" ip netns exec "$ns" setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups haproxy -db -f "$out/haproxy.cfg"
  start_bg haproxy "$ns" setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups haproxy -db -f "$out/haproxy.cfg"
  PROXY_PID[haproxy]=$BG_PID
  wait_listen "$ns" 4140 10 "$BG_PID" && wait_listen "$ns" 4143 10 "$BG_PID"
}
# sidecar_cmd MODE: the command of a sidecar mode (steady or cold, JVM flags included) in SC_CMD.
sidecar_cmd() { SC_CMD=(env "SIDECAR_JAVA_OPTS=$(opts_of "$1")" "$SIDECAR" run --transport "$(transport_of "$1")" "${RUN_ARGS[@]}"); }
# transport_used LOG TRANSPORT: the sidecar logged that it runs on TRANSPORT (its first log lines).
transport_used() { grep -q "transport: $2 " "$1"; }
start_sidecar() { # start_sidecar MODE
  local m=$1 ns=${POD[$1]}
  sidecar_cmd "$m"
  note_cmd "$m" ip netns exec "$ns" "${SC_CMD[@]}"
  start_bg "$m" "$ns" "${SC_CMD[@]}"
  PROXY_PID[$m]=$BG_PID
  wait_listen "$ns" 4140 30 "$BG_PID" && wait_listen "$ns" 4143 30 "$BG_PID" || return 1
  transport_used "$out/logs/$m.log" "$(transport_of "$m")" || { log "$m: the sidecar does not say it runs on $(transport_of "$m"): $(grep -m1 'transport' "$out/logs/$m.log")"; return 1; }
}
declare -A STARTED=([direct]=1)
if has_mode haproxy; then start_haproxy && STARTED[haproxy]=1; fi
for m in "${MODES[@]}"; do
  if is_sidecar "$m"; then start_sidecar "$m" && STARTED[$m]=1; fi
done
# A proxy mode whose path cannot be proven is dropped (and the report says so) rather than aborting
# the run: the other modes' figures are still worth having. direct must always work.
verify_paths() { # keeps in MODES only the modes whose path is proven
  local verified=() m
  for m in "${MODES[@]}"; do
    if [[ -n ${STARTED[$m]:-} ]] && verify_path "$m" 20; then
      verified+=("$m")
    elif [[ $m == direct ]]; then
      exit 1
    else
      log "$m: DROPPED from this run: it did not start or its path check failed (logs in $out/logs/)"
      record setup "$m" 0 failed 1
      [[ -n ${PROXY_PID[$m]:-} ]] && stop_pid "${PROXY_PID[$m]}" 40
      unset "PROXY_PID[$m]"
    fi
  done
  MODES=("${verified[@]}")
}
verify_paths
# The modes measured in every scenario (bulk included), and the sidecar modes among them.
MAIN_MODES=() SIDECAR_MODES=()
for m in "${MODES[@]}"; do
  [[ $m == *-c2 ]] || MAIN_MODES+=("$m")
  [[ $m == *-c2 ]] || ! is_sidecar "$m" || SIDECAR_MODES+=("$m")
done
sed -i "s/^modes=.*/modes=${MODES[*]}/" "$out/meta.env"
echo "cold_configs=${COLD_CONFIGS[*]}" >>"$out/meta.env"
log "paths verified: ${MODES[*]}"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
proxy_modes=()
for m in "${MODES[@]}"; do [[ $m == direct ]] || proxy_modes+=("$m"); done

# ---------------------------------------------------------------- memory
# Idle RSS right after start-up and the path check, then with HOLD_CONNS idle proxied connections
# (outbound, each proven end to end with a one-byte echo), before any load.
measure_memory() { # measure_memory MODE ROUND
  local m=$1 r=$2 pid=${PROXY_PID[$1]} before after holder
  sleep 1
  before=$(rss_kib "$pid")
  note_cmd "memory-hold-$m" ip netns exec "${POD[$m]}" "$LOADGEN" hold "$(server_ip "$m")" 7002 -n "$HOLD_CONNS" -t 60
  start_bg "hold-$m-$r" "${POD[$m]}" "$LOADGEN" hold "$(server_ip "$m")" 7002 -n "$HOLD_CONNS" -t 60
  holder=$BG_PID
  local deadline=$((SECONDS + 40))
  until grep -q ready "$out/logs/hold-$m-$r.log"; do
    if ! kill -0 "$holder" 2>/dev/null || ((SECONDS > deadline)); then
      log "$m: could not hold $HOLD_CONNS connections: $(tail -1 "$out/logs/hold-$m-$r.log")"
      stop_pid "$holder"
      record memory "$m" "$r" rss_idle_kib "$before"
      return 0
    fi
    sleep 0.1
  done
  sleep 1
  after=$(rss_kib "$pid")
  stop_pid "$holder"
  record memory "$m" "$r" rss_idle_kib "$before"
  record memory "$m" "$r" rss_held_kib "$after"
  record memory "$m" "$r" per_conn_kib "$(awk -v a="$after" -v b="$before" -v n="$HOLD_CONNS" 'BEGIN {printf "%.2f", (a - b) / n}')"
  log "memory $m round $r: idle $before KiB, with $HOLD_CONNS connections $after KiB"
}
# Once per proxy, on the fresh process: allocators keep freed memory, so a second hold on the same
# process would cost almost nothing and understate the per-connection figure.
for m in "${proxy_modes[@]}"; do measure_memory "$m" 1; done

# ---------------------------------------------------------------- scenarios
# Each measure_* records its figures or, when the tool fails, a "failed" marker, and never aborts
# the run: one broken mode must not hide the others.
HZ=$(getconf CLK_TCK)
# cpu_now PID: utime + stime of every thread of the process so far, in clock ticks (empty if gone).
cpu_now() { [[ -z $1 ]] || cpu_ticks "$1" 2>/dev/null || true; }
# cpu_seconds START NOW: the difference in seconds (empty when either is unknown).
cpu_seconds() { [[ -z $1 || -z $2 ]] || awk -v a="$2" -v b="$1" -v hz="$HZ" 'BEGIN {printf "%.3f", (a - b) / hz}'; }

measure_bulk() { # measure_bulk out|in MODE ROUND
  local dir=$1 m=$2 r=$3 ns target json c0 c1 cpu
  if [[ $dir == out ]]; then ns=${POD[$m]} target=$(server_ip "$m"); else ns=$NS_CLIENT target=$(pod_ip "$m"); fi
  local cmd=(iperf3 -c "$target" -p 5201 -t "$BULK_SECONDS" -O 1 -J)
  note_cmd "bulk_$dir-$m" ip netns exec "$ns" "${cmd[@]}"
  c0=$(cpu_now "${PROXY_PID[$m]:-}")
  if json=$(in_ns "$ns" timeout $((BULK_SECONDS + 20)) "${cmd[@]}" 2>"$out/logs/bulk_$dir-$m-$r.err"); then
    c1=$(cpu_now "${PROXY_PID[$m]:-}")
    echo "$json" >"$out/logs/bulk_$dir-$m-$r.json"
    local bps retr
    bps=$(jq -r '.end.sum_received.bits_per_second' <<<"$json")
    retr=$(jq -r '.end.sum_sent.retransmits // 0' <<<"$json")
    record "bulk_$dir" "$m" "$r" gbps "$(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}')"
    record "bulk_$dir" "$m" "$r" retransmits "$retr"
    cpu=$(cpu_seconds "$c0" "$c1")
    if [[ -n $cpu ]]; then
      record "bulk_$dir" "$m" "$r" proxy_cpu_s "$cpu"
      # The CPU covers the whole iperf3 run, its omitted first second included: the bytes are taken
      # at the measured rate over the same time (an estimate; the same for every proxy).
      record "bulk_$dir" "$m" "$r" cpu_us_per_mib "$(awk -v c="$cpu" -v b="$bps" -v t="$((BULK_SECONDS + 1))" 'BEGIN {printf "%.1f", c * 1e6 / (b * t / 8 / 1048576)}')"
    fi
    log "bulk $dir $m round $r: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s${cpu:+, proxy CPU $cpu s}"
  else
    echo "$json" >"$out/logs/bulk_$dir-$m-$r.json"
    record "bulk_$dir" "$m" "$r" failed 1
    log "bulk $dir $m round $r: FAILED (see logs/bulk_$dir-$m-$r.*)"
  fi
}

# kv LINE KEY: the value of KEY in loadgen's key=value line (empty if absent).
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'; }
# Parses loadgen's key=value line into record calls: kv_record SCENARIO MODE ROUND "LINE" KEY...
kv_record() {
  local s=$1 m=$2 r=$3 line=$4 k v; shift 4
  for k in "$@"; do
    v=$(kv "$line" "$k")
    if [[ -n $v ]]; then record "$s" "$m" "$r" "$k" "$v"; fi
  done
}

# rate_run LABEL NS TARGET PID ROUND: the connection-rate scenario from NS to TARGET, recorded as
# mode LABEL, with the CPU that process PID (the proxy; empty for direct) spent on it: utime +
# stime of all its threads before and after, divided by the connections made.
rate_run() {
  local label=$1 ns=$2 target=$3 pid=$4 r=$5 line c0 c1 cpu conns
  local cmd=("$LOADGEN" rate "$target" 7001 -n 16 -t "$RATE_SECONDS" -m 1000000 -s 100 -T 1)
  note_cmd "rate-$label" ip netns exec "$ns" "${cmd[@]}"
  c0=$(cpu_now "$pid")
  if line=$(in_ns "$ns" timeout $((RATE_SECONDS + 20)) "${cmd[@]}" 2>"$out/logs/rate-$label-$r.err"); then
    c1=$(cpu_now "$pid")
    kv_record rate "$label" "$r" "$line" conns_per_s p50_us p99_us conns errors
    cpu=$(cpu_seconds "$c0" "$c1") conns=$(kv "$line" conns)
    if [[ -n $cpu && ${conns:-0} -gt 0 ]]; then
      record rate "$label" "$r" proxy_cpu_s "$cpu"
      record rate "$label" "$r" cpu_us_per_conn "$(awk -v c="$cpu" -v n="$conns" 'BEGIN {printf "%.1f", c * 1e6 / n}')"
    fi
    log "rate $label round $r: $line${cpu:+ proxy_cpu_s=$cpu}"
  else
    echo "$line" >>"$out/logs/rate-$label-$r.err"
    record rate "$label" "$r" failed 1
    log "rate $label round $r: FAILED: $line"
  fi
}
measure_rate() { rate_run "$1" "${POD[$1]}" "$(server_ip "$1")" "${PROXY_PID[$1]:-}" "$2"; } # MODE ROUND

pin() { # pin CPUS PID... : every thread of each process
  local cpus=$1; shift
  for p in "$@"; do taskset -a -p -c "$cpus" "$p" >/dev/null; done
}

measure_latency() { # measure_latency MODE ROUND
  local m=$1 r=$2 line pids=("$ECHO_PID")
  [[ -z ${PROXY_PID[$m]:-} ]] || pids+=("${PROXY_PID[$m]}")
  local cmd=(taskset -c "$PIN_CPU" "$LOADGEN" pingpong "$(server_ip "$m")" 7002 -s 64 -m "$PING_COUNT" -w 1000 -t 10)
  note_cmd "latency-$m" ip netns exec "${POD[$m]}" "${cmd[@]}" "  (server and proxy pinned: taskset -a -p -c $PIN_CPU PID)"
  pin "$PIN_CPU" "${pids[@]}"
  if line=$(in_ns "${POD[$m]}" timeout 30 "${cmd[@]}" 2>"$out/logs/latency-$m-$r.err"); then
    kv_record latency "$m" "$r" "$line" p50_us p99_us mean_us round_trips
    log "latency $m round $r: $line"
  else
    record latency "$m" "$r" failed 1
    log "latency $m round $r: FAILED: $line"
  fi
  pin "0-$(($(nproc) - 1))" "${pids[@]}"
}

# ---------------------------------------------------------------- fresh sidecars (cold, start-up)
# fresh_start NS A B MODE LOG: a fresh pod NS joined to the client on 198.18.A.0/24 and to the server
# on 198.18.B.0/24 (fresh names and subnets each time: a deleted namespace's veth ends vanish
# asynchronously), its inbound application, and reset rules that let a probe succeed only through
# the proxy (as in verify_path); then the sidecar of MODE is started. READY_MS is the time from its
# exec until one outbound and one inbound probe relayed through it (rules installed, both listeners
# relaying), empty if not within 20 s. FRESH_SC and FRESH_RR are the pids to stop (then del_ns NS).
fresh_start() {
  local ns=$1 a=$2 b=$3 m=$4 lg=$5 po pi t0 ok_out ok_in
  READY_MS=""
  new_ns "$ns"
  link "$NS_CLIENT" "c-$a" "198.18.$a.1/24" "$ns" "to-client" "198.18.$a.2/24"
  link "$ns" "to-server" "198.18.$b.1/24" "$NS_SERVER" "s-$b" "198.18.$b.2/24"
  tune_pod "$ns"
  start_bg "$lg-rr" "$ns" "$ECHOD" rr 7001 -T 1
  FRESH_RR=$BG_PID
  wait_listen "$ns" 7001 10
  in_ns "$ns" iptables -w -I OUTPUT -p tcp -d "198.18.$b.2" --dport 7001 -m owner ! --uid-owner "$PROXY_UID" -j REJECT --reject-with tcp-reset
  in_ns "$ns" iptables -w -I INPUT -i to-client -p tcp --dport 7001 -j REJECT --reject-with tcp-reset
  start_bg "$lg-probe-out" "$ns" "$LOADGEN" probe "198.18.$b.2" 7001 -t 20
  po=$BG_PID
  start_bg "$lg-probe-in" "$NS_CLIENT" "$LOADGEN" probe "198.18.$a.2" 7001 -t 20
  pi=$BG_PID
  sidecar_cmd "$m"
  t0=$(date +%s%N)
  start_bg "$lg-sidecar" "$ns" "${SC_CMD[@]}"
  FRESH_SC=$BG_PID
  echo "$t0" >"$out/logs/$lg-exec-ns" # to time the phases of a start against the sidecar's log
  reap "$po"
  reap "$pi"
  ok_out=$(grep -o 'ok_realtime_ns=[0-9]*' "$out/logs/$lg-probe-out.log" | cut -d= -f2 || true)
  ok_in=$(grep -o 'ok_realtime_ns=[0-9]*' "$out/logs/$lg-probe-in.log" | cut -d= -f2 || true)
  if [[ ${ok_out:-0} != 0 && ${ok_in:-0} != 0 ]]; then
    READY_MS=$(awk -v a="$ok_out" -v b="$ok_in" -v t="$t0" 'BEGIN {m = a > b ? a : b; printf "%.1f", (m - t) / 1e6}')
  fi
  in_ns "$ns" iptables -w -D OUTPUT -p tcp -d "198.18.$b.2" --dport 7001 -m owner ! --uid-owner "$PROXY_UID" -j REJECT --reject-with tcp-reset
  in_ns "$ns" iptables -w -D INPUT -i to-client -p tcp --dport 7001 -j REJECT --reject-with tcp-reset
}
fresh_stop() { stop_pid "$FRESH_SC" 40; stop_pid "$FRESH_RR"; del_ns "$1"; } # fresh_stop NS

# cold_trial CONFIG ROUND: a fresh JVM (CONFIG sidecar-T-cold or sidecar-T-cold-c2) in a fresh
# pod: its start-up to ready, then at once, with no warm-up, the connection-rate scenario.
COLD_J=0
cold_trial() {
  local c=$1 r=$2 j=$COLD_J ns=scb-cold-$COLD_J-$sfx lg
  COLD_J=$((COLD_J + 1))
  lg=cold-$c-$r
  sidecar_cmd "$c"
  note_cmd "cold-$c" "fresh pod per round; ip netns exec POD ${SC_CMD[*]}; when both probes relay, the rate command below"
  fresh_start "$ns" $((100 + j)) $((150 + j)) "$c" "$lg"
  if [[ -z $READY_MS ]] || ! transport_used "$out/logs/$lg-sidecar.log" "$(transport_of "$c")"; then
    record rate "$c" "$r" failed 1
    log "cold $c round $r: not ready within 20 s, or not on $(transport_of "$c") (see logs/$lg-*)"
  else
    record cold_start "$c" "$r" ready_ms "$READY_MS"
    record cold_start "$c" "$r" rss_ready_kib "$(rss_kib "$FRESH_SC")"
    log "cold $c round $r: ready after $READY_MS ms"
    rate_run "$c" "$ns" "198.18.$((150 + j)).2" "$FRESH_SC" "$r"
  fi
  fresh_stop "$ns"
}

# ---------------------------------------------------------------- steady warm-up
# The steady sidecars run as a real sidecar does, long after start-up: each gets WARMUP_SECONDS of
# the rate load (figures discarded) so its code is compiled before round 1; HAProxy needs none.
for m in "${proxy_modes[@]}"; do
  if is_sidecar "$m" && ((WARMUP_SECONDS > 0)); then
    note_cmd "warmup-$m" ip netns exec "${POD[$m]}" "$LOADGEN" rate "$(server_ip "$m")" 7001 -n 16 -t "$WARMUP_SECONDS" -m 1000000 -s 100 -T 1 "  (discarded)"
    in_ns "${POD[$m]}" timeout $((WARMUP_SECONDS + 20)) "$LOADGEN" rate "$(server_ip "$m")" 7001 -n 16 -t "$WARMUP_SECONDS" -m 1000000 -s 100 -T 1 >"$out/logs/warmup-$m.log" 2>&1 || true
    log "warm-up $m (discarded): $(tail -1 "$out/logs/warmup-$m.log")"
  fi
done

rotate() { # rotate ROUND ITEM...: the items, rotated by ROUND - 1
  local r=$1; shift
  local n=$# a=("$@")
  ((n)) || return 0
  echo "${a[@]:$(((r - 1) % n))}" "${a[@]:0:$(((r - 1) % n))}"
}
run_round() { # run_round ROUND: every chosen scenario in every mode
  local r=$1 m order main cold
  # Rotate the order each round so no mode always runs first (or right after another's load).
  read -r -a order <<<"$(rotate "$r" "${MODES[@]}")"
  read -r -a main <<<"$(rotate "$r" "${MAIN_MODES[@]}")"
  read -r -a cold <<<"$(rotate "$r" "${COLD_CONFIGS[@]}")"
  log "round $r/$ROUNDS: ${order[*]}${cold[*]:+; cold: ${cold[*]}}"
  if has_scenario bulk_out; then for m in "${main[@]}"; do measure_bulk out "$m" "$r"; done; fi
  if has_scenario bulk_in; then for m in "${main[@]}"; do measure_bulk in "$m" "$r"; done; fi
  if has_scenario rate; then
    for m in "${order[@]}"; do measure_rate "$m" "$r"; done
    for m in "${cold[@]}"; do cold_trial "$m" "$r"; done
  fi
  if has_scenario latency; then for m in "${order[@]}"; do measure_latency "$m" "$r"; done; fi
}
for r in $(seq "$ROUNDS"); do run_round "$r"; done
for m in "${proxy_modes[@]}"; do
  record memory "$m" 0 rss_after_load_kib "$(rss_kib "${PROXY_PID[$m]}")"
done

# The long-running proxies are done; stop them before the start-up trials so they cost no memory or CPU.
for m in "${proxy_modes[@]}"; do stop_pid "${PROXY_PID[$m]}" 40; done

# ---------------------------------------------------------------- start-up
# Per transport, fresh pod per trial (fresh_start); trial 0 is the uncounted warm-up.
startup_trial() { # startup_trial MODE TRANSPORT_INDEX K
  local m=$1 ti=$2 k=$3 ns=scb-start-$2-$3-$sfx lg=start-$1-$3
  fresh_start "$ns" $((30 + 20 * ti + k)) $((200 + 20 * ti + k)) "$m" "$lg"
  if [[ -n $READY_MS ]] && transport_used "$out/logs/$lg-sidecar.log" "$(transport_of "$m")"; then
    if ((k == 0)); then
      log "start-up $m warm-up trial (not counted): $READY_MS ms"
    else
      record startup "$m" "$k" ready_ms "$READY_MS"
      record startup "$m" "$k" rss_ready_kib "$(rss_kib "$FRESH_SC")"
      log "start-up $m trial $k: ready after $READY_MS ms"
    fi
  else
    ((k == 0)) || record startup "$m" "$k" failed 1
    log "start-up $m trial $k: not ready within 20 s, or not on $(transport_of "$m") (see logs/$lg-*)"
  fi
  fresh_stop "$ns"
}
if ((START_TRIALS > 0)); then
  ti=0
  for m in "${SIDECAR_MODES[@]}"; do
    for k in $(seq 0 "$START_TRIALS"); do startup_trial "$m" "$ti" "$k"; done
    sidecar_cmd "$m"
    note_cmd "startup-$m" "t0=\$(date +%s%N); ip netns exec POD ${SC_CMD[*]}  # ready = both probes (loadgen probe, outbound and inbound) succeed through the proxy"
    ti=$((ti + 1))
  done
fi

# ---------------------------------------------------------------- rule installation
# The same plan three ways, each in a fresh namespace: `sidecar iptables install` (what a user runs,
# JVM start included), one iptables process per rule (how other meshes' init containers do it), and
# one iptables-restore of the same rules (the floor: what the sidecar does after its JVM is up).
# A large plan as well (many skipped subnets and ports, as a pod with exclusions has): 80 rules.
large_plan_args() {
  local subs_out subs_in ports
  subs_out=$(for i in $(seq 0 39); do printf '198.19.%d.0/24,' "$i"; done)
  subs_in=$(for i in $(seq 40 59); do printf '198.19.%d.0/24,' "$i"; done)
  ports=$(seq -s, 8001 8020)
  echo "--skip-outbound-subnets ${subs_out%,} --skip-inbound-subnets ${subs_in%,} --skip-outbound-ports $ports --skip-inbound-ports $ports"
}
time_in_fresh_ns() { # time_in_fresh_ns NAME CMD... -> milliseconds on stdout
  local ns=scb-rules-$1-$sfx t0 t1; shift
  new_ns "$ns"
  t0=$(date +%s%N)
  in_ns "$ns" "$@" >>"$out/logs/rules-trials.log" 2>&1 || { del_ns "$ns"; return 1; }
  t1=$(date +%s%N)
  has_rules "$ns" || { del_ns "$ns"; return 1; }
  del_ns "$ns"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}'
}
restore_both() {
  "iptables-$variant-restore" --noflush <"$1-iptables.restore"
  if grep -q PROXY_INIT "$1-ip6tables.restore"; then "ip6tables-$variant-restore" --noflush <"$1-ip6tables.restore"; fi
}
# rule_trial SCENARIO K BASE [sidecar iptables install options...]: trial K of the three ways,
# BASE the prefix of the per-process script and restore files rule_trials wrote.
rule_trial() {
  local scen=$1 k=$2 base=$3 ms
  shift 3
  if ms=$(time_in_fresh_ns s "$SIDECAR" iptables install "$@"); then
    record "$scen" sidecar "$k" install_ms "$ms"
    # The same install timed inside the JVM (backend detection, read, restore; no JVM start).
    ms=$(grep -o 'install took [0-9.]* ms in the JVM' "$out/logs/rules-trials.log" | tail -1 | awk '{print $3}')
    [[ -n $ms ]] && record "$scen" sidecar_in_jvm "$k" install_ms "$ms"
  else record "$scen" sidecar "$k" failed 1; fi
  if ms=$(time_in_fresh_ns p bash "$base-per-process.sh"); then record "$scen" per_process "$k" install_ms "$ms"; else record "$scen" per_process "$k" failed 1; fi
  if ms=$(time_in_fresh_ns r bash -c "restore_both $base"); then record "$scen" restore "$k" install_ms "$ms"; else record "$scen" restore "$k" failed 1; fi
}
# rule_trials SCENARIO [sidecar iptables install options...]: the plan's rules each way, RULE_TRIALS times.
rule_trials() {
  local scen=$1 plan_ns=scb-rules-plan-$sfx base=$out/$1 nrules ms k; shift
  new_ns "$plan_ns"
  in_ns "$plan_ns" "$SIDECAR" iptables install "$@" >"$out/logs/$scen-plan.log" 2>&1 || { log "sidecar iptables install failed: $(tail -1 "$out/logs/$scen-plan.log")"; exit 1; }
  variant=nft
  in_ns "$plan_ns" iptables-legacy-save -t nat 2>/dev/null | grep -q PROXY_INIT && variant=legacy
  export variant
  {
    echo "set -e"
    for fam in iptables ip6tables; do
      in_ns "$plan_ns" "$fam-$variant-save" -t nat 2>/dev/null | awk -v bin="$fam-$variant" '
        /^:/ && $2 == "-" { sub(/^:/, "", $1); print bin " -w -t nat -N " $1 }
        /^-A/ { rules[++n] = $0 }
        END { for (i = 1; i <= n; i++) print bin " -w -t nat " rules[i] }'
    done
  } >"$base-per-process.sh"
  for fam in iptables ip6tables; do
    in_ns "$plan_ns" "$fam-$variant-save" -t nat >"$base-$fam.restore" 2>/dev/null || : >"$base-$fam.restore"
  done
  del_ns "$plan_ns"
  nrules=$(grep -c ' -A ' "$base-per-process.sh" || true)
  record "$scen" sidecar 0 rules_in_plan "$nrules"
  note_cmd "$scen-sidecar" ip netns exec NS "$SIDECAR" iptables install "$@"
  note_cmd "$scen-per-process" ip netns exec NS bash "$base-per-process.sh"
  note_cmd "$scen-restore" ip netns exec NS "iptables-$variant-restore --noflush < $scen-iptables.restore (and ip6tables-$variant-restore when the plan has IPv6 rules)"
  for k in $(seq "$RULE_TRIALS"); do rule_trial "$scen" "$k" "$base" "$@"; done
  log "rule installation ($scen): $RULE_TRIALS trials each of sidecar / per-process ($nrules rules, $variant) / iptables-restore"
}
if ((RULE_TRIALS > 0)) && { ((${#SIDECAR_MODES[@]})) || has_mode haproxy; }; then
  export -f restore_both
  rule_trials rules
  # shellcheck disable=SC2046
  rule_trials rules_large $(large_plan_args)
fi

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/meta.env"
log "done: $results"
if [[ -z ${BENCH_NO_REPORT:-} ]]; then
  "$here/report" "$out"
fi

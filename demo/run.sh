#!/usr/bin/env bash
# bin/sidecar demo: the sidecar at work in three throwaway network namespaces.
#
#   client (198.18.1.1) ── veth ── pod (198.18.1.2 | 198.18.2.2) ── veth ── server (198.18.2.1)
#
# The pod runs `sidecar run` (as root; it installs the rules and drops to uid 2102) next to an
# application (uid 1000) listening on 8080, 8081 (which expects a PROXY protocol header) and 9000.
# The demo sends inbound, outbound, skipped-port and loopback traffic, says which connections went
# through the proxy and which client address the application saw, then restarts the sidecar in
# TPROXY mode, where the application sees the client's own address without a header. It removes
# everything, even on Ctrl-C. Nothing leaves the namespaces it makes.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "sidecar demo: needs root (it creates network namespaces)" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
. "$here/bin/lib.sh"
need_commands "sidecar demo" ip=iproute2 iptables=iptables iptables-legacy=iptables java=openjdk-17-jdk-headless \
  javac=openjdk-17-jdk-headless setpriv=util-linux mvn=maven || exit 3

tag=scdemo-$$
client=$tag-client pod=$tag-pod server=$tag-server
work=$(mktemp -d /tmp/sidecar-demo.XXXXXX)
chmod 755 "$work"
remove_work() { rm -rf "$work"; }
cleanup_on_exit "sidecar demo" remove_work

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# Build the jar first (bin/sidecar would do it too, but not while the clock of a wait loop runs).
[[ -f $here/proxy/target/sidecar.jar ]] || (cd "$here" && mvn -B -q -DskipTests package -pl proxy -am)
javac -d "$work" "$here/demo/Peer.java"

say "1. Namespaces client, pod, server joined by veth pairs (198.18.0.0/15)"
for ns in "$client" "$pod" "$server"; do new_ns "$ns"; done
ip link add "dc$$" netns "$client" type veth peer name "dp$$" netns "$pod"
ip link add "ds$$" netns "$server" type veth peer name "dq$$" netns "$pod"
in_ns "$client" ip addr add 198.18.1.1/24 dev "dc$$"; in_ns "$client" ip link set "dc$$" up
in_ns "$pod" ip addr add 198.18.1.2/24 dev "dp$$"; in_ns "$pod" ip link set "dp$$" up
in_ns "$pod" ip addr add 198.18.2.2/24 dev "dq$$"; in_ns "$pod" ip link set "dq$$" up
in_ns "$server" ip addr add 198.18.2.1/24 dev "ds$$"; in_ns "$server" ip link set "ds$$" up
echo "   client 198.18.1.1  <->  198.18.1.2 pod 198.18.2.2  <->  198.18.2.1 server"

say "2. Applications: the pod's app (uid 1000) on 8080, 8081 (PROXY protocol) and 9000; the server on 9090 and 9443"
start_in_ns - "$pod" setpriv --reuid 1000 --regid 1000 --clear-groups java -cp "$work" Peer serve 8080 8081/pp 9000
start_in_ns - "$server" java -cp "$work" Peer serve 9090 9443

say "3. sidecar run in the pod (skips inbound 9000 and outbound 9443; a PROXY protocol header on 8081)"
ready() { [[ $(http_get "$pod" 127.0.0.1 4191 /ready) == ready* ]]; }
start_sidecar() { # LOG ARGS...: starts `sidecar run` in the pod, sets sidecar_pid, waits for /ready
  local log=$1; shift
  echo "   bin/sidecar $*"
  start_in_ns "$log" "$pod" "$here/bin/sidecar" "$@"
  sidecar_pid=$BG_PID
  # Bounded, but generous: a first start on a busy machine also makes the class-data archive.
  if ! wait_for -p "$sidecar_pid" 60 ready; then
    if kill -0 "$sidecar_pid" 2>/dev/null; then echo "sidecar did not become ready:"; else echo "sidecar exited:"; fi
    cat "$log"
    return 1
  fi
  echo "   /ready says ready: $(grep -o 'redirect self-test passed.*' "$log" | head -n1)"
}
stop_sidecar() {
  kill -TERM "$sidecar_pid"
  wait "$sidecar_pid" && echo "   sidecar exited 0"
  reap "$sidecar_pid"
}
log=$work/sidecar.log
start_sidecar "$log" run --skip-inbound-ports 9000 --skip-outbound-ports 9443 --inbound-proxy-protocol-ports 8081 \
  --log-level debug || exit 1
echo "   the rules in the pod's nat table:"
in_ns "$pod" iptables-save -t nat | grep -E '^-A (PREROUTING|OUTPUT|PROXY_INIT)' | sed 's/^/     /'

say "4. Traffic"
header() { printf '   %-36s %-20s %-20s %s\n' "connection" "client socket" "the app saw" "what happened"; }
header
send() { # label ns uid host port bytes
  local label=$1 ns=$2 uid=$3 host=$4 port=$5 bytes=$6 out sock seen verdict
  if out=$(in_ns "$ns" setpriv --reuid "$uid" --regid "$uid" --clear-groups java -cp "$work" Peer send "$host" "$port" "$bytes" 2>&1); then :; fi
  sock=$(sed -n 's/.*local=\([^ ]*\).*/\1/p' <<<"$out")
  seen=$(sed -n 's/.*seen=\([^ ]*\).*/\1/p' <<<"$out")
  sleep 0.3 # the proxy logs a connection when it closes
  if [[ -n $sock ]] && grep -qF "$sock" "$log"; then
    verdict="redirected: $(grep -F "$sock" "$log" | tail -n1 | sed 's/^.*\(inbound\|outbound\)/\1/I' | cut -c1-96)"
  else
    verdict="bypassed the proxy"
  fi
  printf '   %-36s %-20s %-20s %s\n' "$label" "${sock:-?}" "${seen:-?}" "$verdict"
  [[ $out == *sha256=ok* ]] || printf '     data check failed: %s\n' "$out"
}
send "inbound  client -> pod:8080" "$client" 0 198.18.1.2 8080 1048576
send "inbound  client -> pod:8081 (PROXY)" "$client" 0 198.18.1.2 8081 65536
send "inbound  client -> pod:9000 (skip)" "$client" 0 198.18.1.2 9000 65536
send "outbound pod -> server:9090" "$pod" 1000 198.18.2.1 9090 1048576
send "outbound pod -> server:9443 (skip)" "$pod" 1000 198.18.2.1 9443 65536
send "loopback pod -> 127.0.0.1:8080" "$pod" 1000 127.0.0.1 8080 65536

say "5. A few lines of /metrics"
http_get "$pod" 127.0.0.1 4191 /metrics | grep -E '^sidecar_(connections_opened_total|relayed_bytes_total|connection_errors_total)' | grep -v ' 0\.0$' | head -n 12 | sed 's/^/   /'

say "6. TPROXY mode: the app sees the client's own address, without a header"
stop_sidecar
# The redirect rules stay installed when the sidecar stops (fail closed); take them away first.
in_ns "$pod" "$here/bin/sidecar" iptables remove >>"$work/remove.log" 2>&1 || { cat "$work/remove.log"; exit 1; }
log=$work/sidecar-tproxy.log
if start_sidecar "$log" run --inbound-mode tproxy --skip-inbound-ports 9000 --skip-outbound-ports 9443 --log-level debug; then
  echo "   the rules in the pod's mangle table:"
  in_ns "$pod" iptables-save -t mangle | grep -E '^-A (PREROUTING|OUTPUT|PROXY_INIT)' | sed 's/^/     /'
  header
  send "inbound  client -> pod:8080" "$client" 0 198.18.1.2 8080 1048576
  send "outbound pod -> server:9090" "$pod" 1000 198.18.2.1 9090 65536
  say "7. Done: SIGTERM to the sidecar, then every namespace is deleted"
  stop_sidecar
else
  echo "   (TPROXY mode did not start here: the kernel needs xt_TPROXY and the socket match; see README \"TPROXY mode\")"
fi

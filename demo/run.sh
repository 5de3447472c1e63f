#!/usr/bin/env bash
# bin/sidecar demo: the sidecar at work in three throwaway network namespaces.
#
#   client (198.18.1.1) ── veth ── pod (198.18.1.2 | 198.18.2.2) ── veth ── server (198.18.2.1)
#
# The pod runs `sidecar run` (as root; it installs the rules and drops to uid 2102) next to an
# application (uid 1000) listening on 8080 and 9000. The demo sends inbound, outbound, skipped-port
# and loopback traffic, says which connections went through the proxy, and removes everything,
# even on Ctrl-C. Nothing leaves the namespaces it makes.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "sidecar demo: needs root (it creates network namespaces)" >&2; exit 2; }
# shellcheck source=../bin/lib.sh
. "$here/bin/lib.sh"
need_commands "sidecar demo" ip=iproute2 iptables=iptables iptables-legacy=iptables java=openjdk-17-jdk-headless \
  javac=openjdk-17-jdk-headless setpriv=util-linux mvn=maven || exit 3

tag=scdemo-$$
client=$tag-client pod=$tag-pod server=$tag-server
work=$(mktemp -d /tmp/sidecar-demo.XXXXXX)
chmod 755 "$work"
pids=()

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$client" "$pod" "$server"; do ip netns delete "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "interrupted: cleaning up"; exit 130' INT TERM

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Build the jar first (bin/sidecar would do it too, but not while the clock of a wait loop runs).
[[ -f $here/proxy/target/sidecar.jar ]] || (cd "$here" && mvn -B -q -DskipTests package -pl proxy -am)
javac -d "$work" "$here/demo/Peer.java"

say "1. Namespaces client, pod, server joined by veth pairs (198.18.0.0/15)"
for ns in "$client" "$pod" "$server"; do ip netns add "$ns"; inns "$ns" ip link set lo up; done
ip link add "dc$$" netns "$client" type veth peer name "dp$$" netns "$pod"
ip link add "ds$$" netns "$server" type veth peer name "dq$$" netns "$pod"
inns "$client" ip addr add 198.18.1.1/24 dev "dc$$"; inns "$client" ip link set "dc$$" up
inns "$pod" ip addr add 198.18.1.2/24 dev "dp$$"; inns "$pod" ip link set "dp$$" up
inns "$pod" ip addr add 198.18.2.2/24 dev "dq$$"; inns "$pod" ip link set "dq$$" up
inns "$server" ip addr add 198.18.2.1/24 dev "ds$$"; inns "$server" ip link set "ds$$" up
echo "   client 198.18.1.1  <->  198.18.1.2 pod 198.18.2.2  <->  198.18.2.1 server"

say "2. Applications: the pod's app (uid 1000) on 8080 and 9000; the server on 9090 and 9443"
# Background processes start without the inns function, so that $! is the process itself.
ip netns exec "$pod" setpriv --reuid 1000 --regid 1000 --clear-groups java -cp "$work" Peer serve 8080 9000 &
pids+=($!)
ip netns exec "$server" java -cp "$work" Peer serve 9090 9443 &
pids+=($!)

say "3. sidecar run in the pod (skips inbound 9000 and outbound 9443)"
run_args=(run --skip-inbound-ports 9000 --skip-outbound-ports 9443 --log-level debug)
echo "   bin/sidecar ${run_args[*]}"
ip netns exec "$pod" "$here/bin/sidecar" "${run_args[@]}" >"$work/sidecar.log" 2>&1 &
sidecar_pid=$!
pids+=("$sidecar_pid")

http_get() { # ns port path -> body (HTTP/1.0 over bash's /dev/tcp)
  inns "$1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 && printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$1" >&3 && sed "1,/^\r$/d" <&3' "$2" "$3" 2>/dev/null
}
for _ in $(seq 1 100); do
  [[ $(http_get "$pod" 4191 /ready) == ready* ]] && break
  kill -0 "$sidecar_pid" 2>/dev/null || { echo "sidecar exited:"; cat "$work/sidecar.log"; exit 1; }
  sleep 0.1
done
[[ $(http_get "$pod" 4191 /ready) == ready* ]] || { echo "sidecar did not become ready:"; cat "$work/sidecar.log"; exit 1; }
echo "   /ready says ready: $(grep -o 'redirect self-test passed.*' "$work/sidecar.log" | head -n1)"
echo "   the rules in the pod's nat table:"
inns "$pod" iptables-save -t nat | grep -E '^-A (PREROUTING|OUTPUT|PROXY_INIT)' | sed 's/^/     /'

say "4. Traffic"
printf '   %-34s %-26s %s\n' "connection" "client socket" "what happened"
send() { # label ns uid host port bytes
  local label=$1 ns=$2 uid=$3 host=$4 port=$5 bytes=$6 out local verdict
  if out=$(inns "$ns" setpriv --reuid "$uid" --regid "$uid" --clear-groups java -cp "$work" Peer send "$host" "$port" "$bytes" 2>&1); then :; fi
  local=$(sed -n 's/.*local=\([^ ]*\).*/\1/p' <<<"$out")
  sleep 0.3 # the proxy logs a connection when it closes
  if [[ -n $local ]] && grep -qF "$local" "$work/sidecar.log"; then
    verdict="redirected: $(grep -F "$local" "$work/sidecar.log" | tail -n1 | sed 's/^.*\(inbound\|outbound\)/\1/I' | cut -c1-110)"
  else
    verdict="bypassed the proxy"
  fi
  printf '   %-34s %-26s %s\n' "$label" "${local:-?}" "$verdict"
  [[ $out == *sha256=ok* ]] || printf '     data check failed: %s\n' "$out"
}
send "inbound  client -> pod:8080" "$client" 0 198.18.1.2 8080 1048576
send "inbound  client -> pod:9000 (skip)" "$client" 0 198.18.1.2 9000 65536
send "outbound pod -> server:9090" "$pod" 1000 198.18.2.1 9090 1048576
send "outbound pod -> server:9443 (skip)" "$pod" 1000 198.18.2.1 9443 65536
send "loopback pod -> 127.0.0.1:8080" "$pod" 1000 127.0.0.1 8080 65536

say "5. A few lines of /metrics"
http_get "$pod" 4191 /metrics | grep -E '^sidecar_(connections_opened_total|relayed_bytes_total|connection_errors_total)' | grep -v ' 0\.0$' | head -n 12 | sed 's/^/   /'

say "6. Done: SIGTERM to the sidecar, then every namespace is deleted"
kill -TERM "$sidecar_pid"
wait "$sidecar_pid" && echo "   sidecar exited 0"

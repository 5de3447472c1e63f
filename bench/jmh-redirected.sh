#!/usr/bin/env bash
# Runs OriginalDstBenchmark on a connection that iptables really redirected, so SO_ORIGINAL_DST finds
# and decodes a NAT entry: inside a throwaway network namespace with one REDIRECT rule (root). The
# namespace is deleted on exit. Extra arguments go to JMH.
#
#   sudo bench/jmh-redirected.sh            (after: mvn -B -q -pl bench -am package -DskipTests)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
jar=$here/target/benchmarks.jar
[[ $(id -u) == 0 ]] || { echo "bench/jmh-redirected.sh: needs root (network namespace)" >&2; exit 2; }
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
source "$here/../bin/lib.sh"
need_commands bench/jmh-redirected.sh iptables-legacy=iptables ip=iproute2 || exit 3
[[ -f $jar ]] || { echo "bench/jmh-redirected.sh: $jar missing; build it: mvn -B -q -pl bench -am package -DskipTests" >&2; exit 2; }

ns=scb-jmh-$(printf '%04x' $((RANDOM % 65536)))
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 198.18.99.1/32 dev lo
# Connections to 198.18.99.1:9 land on the benchmark's listener, 127.0.0.1:14140.
ip netns exec "$ns" iptables -w -t nat -A OUTPUT -p tcp -d 198.18.99.1 --dport 9 -j REDIRECT --to-ports 14140
ip netns exec "$ns" java -jar "$jar" OriginalDstBenchmark -p connectTo=198.18.99.1:9 -p listenPort=14140 "$@"

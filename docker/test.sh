#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions reached through trap and the checks table
# Loopback integration tests in Docker: the image built from the top-level Dockerfile, run the way
# a user runs it (--network none, NET_ADMIN + NET_RAW), checked from the inside and through a veth
# peer. Called by bin/test after `mvn verify`; needs root. Skip it only explicitly with
# SIDECAR_SKIP_DOCKER=1 (the run then says so).
#
# Safety, because the machine is shared:
#   - the Docker engine is private to this script: its own containerd, data-root, exec-root, pid
#     files and unix sockets under docker/.work, started ONLY as
#     `dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none`
#     so it never touches the host's network, and stopped by its pid on every exit (trap);
#   - no registry is contacted: the base image is made with debootstrap from the Debian mirror
#     apt already uses and `docker import`ed; it is cached in /var/cache/sidecar-docker;
#   - the container has no network but the veth this script moves into it; the peer end lives in
#     a namespace this script creates (scd-dpeer-<hash>). Test traffic uses 198.18.7.0/24 only.
#
# Prints one PASS/FAIL line per check and ends with "N passed, M failed"; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(dirname "$here")

if [[ -n ${SIDECAR_SKIP_DOCKER:-} ]]; then
  echo "docker/test.sh: SKIPPED: SIDECAR_SKIP_DOCKER is set, the Docker integration tests did not run"
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "docker/test.sh: needs root (it starts a private Docker engine and makes network namespaces);" \
    "skip it explicitly with SIDECAR_SKIP_DOCKER=1" >&2
  exit 2
fi

# ---------------------------------------------------------------------------------------------
# Settings
work=$here/.work                     # engine state, kept between runs (gitignored)
run=$work/run                        # sockets and pid files
cache=${SIDECAR_DOCKER_CACHE:-/var/cache/sidecar-docker}
image=sidecar:test
container=scd-sidecar
k8s_containers=(scd-k8s-pod scd-k8s-netns scd-k8s-init scd-k8s-sidecar)
# Per checkout, so that two checkouts can run this at once.
peer_ns=scd-dpeer-$(printf '%s' "$here" | sha256sum | cut -c1-6)
pod_if=scd-d0 peer_if=scd-d1
pod_ip=198.18.7.1 peer_ip=198.18.7.2
app_uid=1000                         # the "application" inside the pod: any uid but 2102
proxy_uid=2102
payload_bytes=$((16 * 1024 * 1024))
# Packages of the locally made base image. socat is the test traffic tool; the image the users
# build from the public JRE base does not need it.
base_suite=bookworm
base_packages=iptables,iproute2,openjdk-17-jre-headless,socat
base_recipe="v1 debootstrap --variant=minbase --include=$base_packages $base_suite"
base_key=$(printf '%s' "$base_recipe" | sha256sum | cut -c1-12)

# Unix socket paths are limited to 108 bytes; a deep checkout falls back to a short /run path.
if ((${#run} > 60)); then
  run=/run/scd-docker-$(printf '%s' "$here" | sha256sum | cut -c1-8)
fi

passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1${2:+ -- $2}"; failed=$((failed + 1)); }
note() { echo "docker/test.sh: $*" >&2; }
finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0))
  exit $?
}
elapsed() { echo "$((SECONDS - $1))s"; }

# ---------------------------------------------------------------------------------------------
# Host packages a fresh machine lacks (command -> Debian package)
install_missing() {
  declare -A wanted=(
    [dockerd]=docker.io [containerd]=containerd [runc]=runc [debootstrap]=debootstrap
    [socat]=socat [curl]=curl [ip]=iproute2 [nsenter]=util-linux [sha256sum]=coreutils
  )
  local missing=() cmd
  for cmd in "${!wanted[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${wanted[$cmd]}")
  done
  ((${#missing[@]})) || return 0
  note "installing ${missing[*]}"
  # The docker.io package would start the system's dockerd, which rewrites the host's iptables.
  # policy-rc.d is Debian's switch that forbids package scripts to start services.
  local guard=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# temporary, docker/test.sh: no service starts during its installs\nexit 101\n' >"$guard"
    chmod 0755 "$guard"
  fi
  apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  local rc=$?
  [[ -n $guard ]] && rm -f "$guard"
  return $rc
}

# ---------------------------------------------------------------------------------------------
# Cleanup: always, on any exit
containerd_pid="" dockerd_pid="" bg_pids=() rootfs_tmp=""

stop_pid() { # pid, seconds: TERM, wait, then KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
}

unmount_under() { # unmount everything mounted below a directory, deepest first
  local dir=$1
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
}

cleanup() {
  local pid
  for pid in "${bg_pids[@]}"; do stop_pid "$pid" 2; done
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    dk rm -f "$container" "${k8s_containers[@]}" >/dev/null 2>&1
  fi
  ip netns del "$peer_ns" 2>/dev/null
  stop_pid "$dockerd_pid" 20
  stop_pid "$containerd_pid" 10
  unmount_under "$work"
  [[ $run != "$work"/* ]] && unmount_under "$run"
  if [[ -n $rootfs_tmp ]]; then
    unmount_under "$rootfs_tmp"
    rm -rf "$rootfs_tmp" "$cache"/base-*.tar.tmp.$$
  fi
  rm -f "$work"/*.bin "$work"/*.back
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The private engine
dk() { DOCKER_HOST=unix://$run/docker.sock DOCKER_CONFIG=$work/client DOCKER_BUILDKIT=0 "$docker_bin" "$@"; }

kill_leftover() { # a pid file from an earlier run of this script that died without its trap
  local file=$1 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file" 2>/dev/null)
  if [[ -n $pid ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -F -- "$2" >/dev/null; then
    note "stopping leftover $(basename "$file" .pid) pid $pid of an earlier run"
    stop_pid "$pid" 20
  fi
  rm -f "$file"
}

start_engine() {
  mkdir -p "$work/data" "$work/containerd" "$work/client" "$run/containerd" "$run/docker"
  kill_leftover "$run/docker.pid" "$work/data"
  kill_leftover "$run/containerd.pid" "$work/containerd.toml"
  unmount_under "$work"

  # Our own containerd, so that dockerd neither starts one we cannot see nor uses the system's.
  cat >"$work/containerd.toml" <<EOF
version = 2
root = "$work/containerd/root"
state = "$run/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$run/containerd/containerd.sock"
[ttrpc]
  address = "$run/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/containerd/opt"
EOF
  containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
  containerd_pid=$!
  echo "$containerd_pid" >"$run/containerd.pid"

  echo '{}' >"$work/daemon.json" # never read the system's /etc/docker/daemon.json
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -S $run/containerd/containerd.sock ]] && break
    kill -0 "$containerd_pid" 2>/dev/null || break
    sleep 0.1
  done
  dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --config-file "$work/daemon.json" \
    --containerd "$run/containerd/containerd.sock" \
    --data-root "$work/data" --exec-root "$run/docker" --pidfile "$run/docker.pid" \
    -H "unix://$run/docker.sock" --log-level warn >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for ((i = 0; i < 300; i++)); do
    dk version >/dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$work/dockerd.log" "$work/containerd.log" >&2
  return 1
}

# ---------------------------------------------------------------------------------------------
# The local base image: debootstrap (no registry), cached as a tarball keyed by its recipe
debian_mirror() {
  [[ -n ${SIDECAR_DEBIAN_MIRROR:-} ]] && { echo "$SIDECAR_DEBIAN_MIRROR"; return; }
  local m
  m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
  [[ -z $m ]] && m=$(awk '/^URIs:/ && $2 !~ /security/ && $2 ~ /debian/ { print $2; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null)
  echo "${m:-http://deb.debian.org/debian}"
}

ensure_base() {
  local tarball=$cache/base-$base_key.tar
  if dk image inspect "sidecar-base:$base_key" >/dev/null 2>&1; then
    note "base image sidecar-base:$base_key already in the engine"
  else
    if [[ ! -f $tarball ]]; then
      local mirror started=$SECONDS
      mirror=$(debian_mirror)
      note "making the base image with debootstrap from $mirror (cold, about a minute)"
      mkdir -p "$cache"
      rootfs_tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
      debootstrap --variant=minbase --include="$base_packages" "$base_suite" "$rootfs_tmp" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; return 1; }
      unmount_under "$rootfs_tmp"
      rm -rf "$rootfs_tmp"/var/cache/apt/archives/*.deb "$rootfs_tmp"/var/lib/apt/lists/*
      tar --numeric-owner -C "$rootfs_tmp" -cf "$tarball.tmp.$$" . && mv -f "$tarball.tmp.$$" "$tarball" || return 1
      rm -rf "$rootfs_tmp"
      rootfs_tmp=""
      note "debootstrap and tarball took $(elapsed "$started")"
    fi
    dk import "$tarball" "sidecar-base:$base_key" >/dev/null || return 1
  fi
  dk tag "sidecar-base:$base_key" sidecar-base:local
}

ensure_jar() {
  [[ -f $repo/proxy/target/sidecar.jar ]] && return 0
  note "building proxy/target/sidecar.jar"
  (cd "$repo" && mvn -B -q -DskipTests package -pl proxy -am) >&2
}

# ---------------------------------------------------------------------------------------------
# Helpers for the checks
cx() { dk exec "$container" "$@"; }                 # as root in the container
app() { dk exec -u "$app_uid" "$container" "$@"; }  # as the application's uid
# nsenter execs in place (ip netns exec forks), so $! of a background job is the process itself.
in_peer() { nsenter --net="/run/netns/$peer_ns" "$@"; }

nat_save() { # the container's nat table with counters, from whichever backend holds our chains
  local out
  out=$(cx iptables-save -c -t nat 2>/dev/null)
  grep -q PROXY_INIT <<<"$out" || out=$(cx iptables-legacy-save -c -t nat 2>/dev/null)
  printf '%s\n' "$out"
}

# Packet counter of the rules in a chain matching a pattern. In the nat table only the first packet
# of a connection is seen, so this counts connections.
rule_count() { # chain, extended regex
  nat_save | awk -v chain="$1" -v re="$2" '
    $2 == "-A" && $3 == chain && $0 ~ re { split(substr($1, 2), c, ":"); n += c[1] }
    END { print n + 0 }'
}

wait_for() { # seconds, command...: poll every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
}

# Under pipefail, `... | grep -q` can fail on a match (grep exits early, the writer gets SIGPIPE):
# these greps read all their input.
peer_listens() { in_peer ss -Htln "sport = :$1" | grep . >/dev/null; }
app_listens() { nsenter -t "$pid" -n ss -Htln "sport = :$1" | grep . >/dev/null; }
# Why a container stopped: the CLI's one-line error when there is one, else the last log lines.
why_exited() {
  local log
  log=$(dk logs --tail 60 "$1" 2>&1)
  grep -m1 '^sidecar: ' <<<"$log" || tail -n 5 <<<"$log"
}
running() { [[ $(dk inspect -f '{{.State.Running}}' "$container" 2>/dev/null) == true ]]; }
rules_present() { nat_save | grep -- '-A PROXY_INIT_OUTPUT' >/dev/null; }
# The admin endpoint counts once `sidecar run` starts it, i.e. once code outside the admin package
# uses AdminServer. Until then the checks that need it say they did not run.
admin_expected() {
  grep -rlF 'AdminServer' "$repo/proxy/src/main/java" 2>/dev/null | grep -v '/admin/' >/dev/null
}
# `sidecar run` skips the admin port by default on top of the iptables defaults (when it has one).
run_plan_args() { admin_expected && echo --skip-inbound-ports=4191; }

# The proxy's own account of the traffic, from /metrics (scraped from the peer: 4191 is skipped).
scrape() { in_peer curl -s --max-time 3 "http://$pod_ip:4191/metrics"; }
msum() { # metrics text on stdin; metric name; label matchers such as 'direction="outbound"'
  local name=$1
  shift
  awk -v name="$name" -v want="$*" '
    BEGIN { n = split(want, w, " ") }
    /^#/ { next }
    index($0, name "{") == 1 || $1 == name {
      ok = 1
      for (i = 1; i <= n; i++) if (index($0, w[i]) == 0) ok = 0
      if (ok) s += $NF
    }
    END { printf "%d\n", s }'
}
# How much a metric grew between two scrapes saved as files.
metrics_delta() { # before-file after-file name labels...
  local before=$1 after=$2
  shift 2
  echo $(($(msum "$@" <"$after") - $(msum "$@" <"$before")))
}

# ---------------------------------------------------------------------------------------------
# The checks

# Our chain declarations and rules, one family, in a canonical order: declarations by name, then
# the rules of each chain in their own order (iptables-save lists chains in its own order).
our_rules() {
  sed -E 's/^\[[0-9]+:[0-9]+\] //' |
    grep -E '^(:PROXY_INIT_[A-Z]+ |-A PROXY_INIT_[A-Z]+ |-A (PREROUTING|OUTPUT) .*-j PROXY_INIT_)' |
    sed -E 's/^(:PROXY_INIT_[A-Z]+) .*/\1/' |
    awk '{ print ($1 ~ /^:/ ? "0 " $1 : "1 " $2), NR, $0 }' | sort -k1,1 -k2,2 -k3,3n | cut -d' ' -f4-
}

check_rules_exact() { # family: 4 or 6
  local family=$1 section save want got
  if [[ $family == 4 ]]; then section='IPv4' save=iptables-save; else section='IPv6' save=ip6tables-save; fi
  # `show` prints, per family, what install would feed iptables-restore. `sidecar run` plans the
  # same rules as `sidecar iptables install` except that its default also skips the admin port.
  # shellcheck disable=SC2046 # no argument or one
  want=$(cx sidecar iptables show $(run_plan_args) 2>/dev/null | awk -v s="# $section:" 'index($0, s) == 1 { f = 1; next } /^# IPv/ { f = 0 } f' | our_rules)
  if [[ $family == 6 && -z $want ]]; then
    echo "NOTE: no IPv6 rules checked: \`sidecar iptables show\` in the container plans none (no IPv6 there)"
    return
  fi
  got=$(cx "$save" -t nat 2>/dev/null | our_rules)
  [[ $family == 4 && $got != *PROXY_INIT* ]] && got=$(cx iptables-legacy-save -t nat 2>/dev/null | our_rules)
  [[ $family == 6 && $got != *PROXY_INIT* ]] && got=$(cx ip6tables-legacy-save -t nat 2>/dev/null | our_rules)
  local what
  what="IPv$family rules installed exactly as \`sidecar iptables show $(run_plan_args)\` prints them ($save -t nat)"
  if [[ -z $want ]]; then
    fail "$what" "show printed no IPv$family nat rules"
  elif [[ $want == "$got" ]]; then
    pass "$what: $(grep -c '^-A' <<<"$got") rules, 2 chains"
  else
    fail "$what" "diff (show vs save):"$'\n'"$(diff <(echo "$want") <(echo "$got"))"
  fi
}

check_proxy_uid() {
  local status bad="" t
  status=$(cat "/proc/$pid/status" 2>/dev/null)
  [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *sidecar.jar* ]] || bad="pid $pid is not the sidecar JVM"
  grep -qE "^Uid:\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid$" <<<"$status" || bad+=" $(grep ^Uid: <<<"$status")"
  grep -qE "^Gid:\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid$" <<<"$status" || bad+=" $(grep ^Gid: <<<"$status")"
  grep -qE '^CapEff:\s+0+$' <<<"$status" || bad+=" $(grep ^CapEff: <<<"$status")"
  for t in /proc/"$pid"/task/*/status; do
    grep -qE "^Uid:\s+$proxy_uid\s" "$t" 2>/dev/null || bad+=" thread ${t//[^0-9]/} not uid $proxy_uid;"
  done
  if [[ -z $bad ]]; then
    pass "proxy runs as uid/gid $proxy_uid with no capabilities (every thread, /proc/$pid)"
  else
    fail "proxy runs as uid/gid $proxy_uid with no capabilities" "$bad"
  fi
}

check_ready() {
  if ! admin_expected; then
    echo "NOTE: /ready and metrics checks not run: \`sidecar run\` does not start the admin endpoint in this tree yet"
    return
  fi
  local code="" before after
  before=$(rule_count PROXY_INIT_REDIRECT 'to-ports 4143')
  # Probed from the peer, as a kubelet would: the admin port is skipped, never redirected.
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    code=$(in_peer curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$pod_ip:4191/ready")
    [[ $code == 200 ]] && break
    sleep 0.5
  done
  after=$(rule_count PROXY_INIT_REDIRECT 'to-ports 4143')
  if [[ $code == 200 ]]; then
    pass "GET /ready on 4191 from the peer answers 200"
  else
    fail "GET /ready on 4191 from the peer answers 200" "last status ${code:-none}: $(in_peer curl -s --max-time 2 "http://$pod_ip:4191/ready")"
  fi
  if ((after == before)); then
    pass "probe traffic to the admin port 4191 is not redirected"
  else
    fail "probe traffic to the admin port 4191 is not redirected" "inbound redirect counter $before -> $after"
  fi
}

# Echo-through check: sends $payload_bytes random bytes, reads the echo back, compares SHA-256.
check_loopback_bypass() {
  local lo0 lo1 re0 re1 out
  app sh -c "head -c $payload_bytes /dev/urandom >/tmp/lo.bin"
  dk exec -d -u "$app_uid" "$container" socat -t 30 TCP-LISTEN:7070,bind=127.0.0.1,reuseaddr EXEC:cat
  wait_for 10 app_listens 7070
  lo0=$(rule_count PROXY_INIT_OUTPUT '-o lo .*-j RETURN')
  re0=$(rule_count PROXY_INIT_OUTPUT 'to-ports 4140')
  with_metrics && scrape >"$work/m0.txt"
  out=$(app sh -c 'timeout 60 socat -t 30 -T 30 - TCP:127.0.0.1:7070 </tmp/lo.bin >/tmp/lo.back; sha256sum </tmp/lo.bin; sha256sum </tmp/lo.back')
  lo1=$(rule_count PROXY_INIT_OUTPUT '-o lo .*-j RETURN')
  re1=$(rule_count PROXY_INIT_OUTPUT 'to-ports 4140')
  local seen=0 proof="ignore-loopback +1, outbound redirect +0"
  if with_metrics; then
    scrape >"$work/m1.txt"
    seen=$(metrics_delta "$work/m0.txt" "$work/m1.txt" sidecar_connections_opened_total)
    proof+=", proxy accepted $seen connections"
  fi
  if [[ $(sed -n 1p <<<"$out") == "$(sed -n 2p <<<"$out")" ]] && ((lo1 == lo0 + 1 && re1 == re0 && seen == 0)); then
    pass "traffic to 127.0.0.1 bypasses the proxy ($proof; 16 MiB echoed intact)"
  else
    fail "traffic to 127.0.0.1 bypasses the proxy" "ignore-loopback $lo0->$lo1, redirect $re0->$re1, proxy saw $seen, sha: $(tr '\n' ' ' <<<"$out")"
  fi
}

# A connection the proxy must refuse: the kernel completes the handshake for the listener, so a
# proxy that refuses answers with a reset once it sees the connection. Without a listener the
# kernel would say "refused" instead; the listener is checked first so that cannot pass. socat
# reports a reset on read only as a warning (-d) and still exits 0, so its words are checked.
listener() { nsenter -t "$pid" -n ss -Htln "sport = :$1" | awk '{ print $4 }' | sort | tr '\n' ' '; }

check_direct_outbound_refused() {
  local what="a direct connection to the outbound listener 127.0.0.1:4140 is reset" out bound
  bound=$(listener 4140)
  out=$(app sh -c 'echo hello | timeout 10 socat -d -t 5 - TCP:127.0.0.1:4140 2>&1')
  if [[ $bound != *127.0.0.1:4140* || $bound == *0.0.0.0:4140* || $bound == *\*:4140* ]]; then
    fail "$what" "outbound listener must be bound to loopback only, ss shows: ${bound:-nothing}"
  elif [[ $out != *hello* && $out =~ reset\ by\ peer|[Bb]roken\ pipe ]]; then
    pass "$what (listener: $bound)"
  else
    fail "$what" "$(tr '\n' ' ' <<<"$out")"
  fi
}

check_direct_inbound_refused() {
  local what="a direct connection from the peer to $pod_ip:4143 is reset" out bound
  bound=$(listener 4143)
  out=$(echo hello | in_peer timeout 10 socat -d -t 5 - "TCP:$pod_ip:4143" 2>&1)
  if [[ -z $bound ]]; then
    fail "$what" "nothing listens on 4143"
  elif [[ $out != *hello* && $out =~ reset\ by\ peer|[Bb]roken\ pipe ]]; then
    pass "$what (listener: $bound)"
  else
    fail "$what" "$(tr '\n' ' ' <<<"$out")"
  fi
}

with_metrics() { admin_expected; }

# After one echo of $payload_bytes through the proxy: exactly one connection to the port was
# accepted, and the proxy relayed the payload both ways. Sets $relayed to what it saw.
relayed_by_proxy() { # direction port
  scrape >"$work/m1.txt"
  local opened client target
  opened=$(metrics_delta "$work/m0.txt" "$work/m1.txt" sidecar_connections_opened_total "direction=\"$1\"" "port=\"$2\"")
  client=$(metrics_delta "$work/m0.txt" "$work/m1.txt" sidecar_relayed_bytes_total "direction=\"$1\"" 'from="client"')
  target=$(metrics_delta "$work/m0.txt" "$work/m1.txt" sidecar_relayed_bytes_total "direction=\"$1\"" 'from="target"')
  relayed="proxy: $opened connection to port $2, $client bytes from client, $target from target"
  ((opened == 1 && client == payload_bytes && target == payload_bytes))
}

check_outbound() {
  local re0 re1 out
  in_peer timeout 90 socat -t 30 "TCP-LISTEN:9090,bind=$peer_ip,reuseaddr" EXEC:cat &
  bg_pids+=($!)
  wait_for 10 peer_listens 9090
  app sh -c "head -c $payload_bytes /dev/urandom >/tmp/out.bin"
  re0=$(rule_count PROXY_INIT_OUTPUT 'to-ports 4140')
  with_metrics && scrape >"$work/m0.txt"
  out=$(app sh -c "timeout 60 socat -t 30 -T 30 - TCP:$peer_ip:9090 </tmp/out.bin >/tmp/out.back; sha256sum </tmp/out.bin; sha256sum </tmp/out.back; wc -c </tmp/out.back")
  re1=$(rule_count PROXY_INIT_OUTPUT 'to-ports 4140')
  local proxied="" relayed=""
  with_metrics && relayed_by_proxy outbound 9090 && proxied=1
  if [[ $(sed -n 1p <<<"$out") == "$(sed -n 2p <<<"$out")" && $(sed -n 3p <<<"$out") == "$payload_bytes" ]] &&
    ((re1 == re0 + 1)) && { [[ -n $proxied ]] || ! with_metrics; }; then
    pass "outbound: app (uid $app_uid) -> peer $peer_ip:9090 redirected to 4140 and relayed, 16 MiB each way intact${relayed:+ ($relayed)}"
  else
    fail "outbound: app (uid $app_uid) -> peer $peer_ip:9090 redirected to 4140 and relayed intact" \
      "redirect $re0->$re1, ${relayed:+metrics: $relayed, }sha/len: $(tr '\n' ' ' <<<"$out")"
  fi
}

check_inbound() {
  local re0 re1 sent back
  # The app echoes and writes down who connected: through the proxy that is the pod itself.
  # shellcheck disable=SC2016 # expanded by the container's shell, not this one
  dk exec -d -u "$app_uid" "$container" socat -t 30 TCP-LISTEN:8080,reuseaddr \
    SYSTEM:'echo "$SOCAT_PEERADDR" >/tmp/in.peer; exec cat'
  wait_for 10 app_listens 8080
  head -c "$payload_bytes" /dev/urandom >"$work/in.bin"
  re0=$(rule_count PROXY_INIT_REDIRECT 'to-ports 4143')
  with_metrics && scrape >"$work/m0.txt"
  in_peer timeout 60 socat -t 30 -T 30 - "TCP:$pod_ip:8080" <"$work/in.bin" >"$work/in.back"
  re1=$(rule_count PROXY_INIT_REDIRECT 'to-ports 4143')
  sent=$(sha256sum <"$work/in.bin") back=$(sha256sum <"$work/in.back")
  local seen proxied="" relayed=""
  seen=$(cx cat /tmp/in.peer 2>/dev/null)
  with_metrics && relayed_by_proxy inbound 8080 && proxied=1
  if [[ $sent == "$back" ]] && (($(stat -c %s "$work/in.back") == payload_bytes && re1 == re0 + 1)) &&
    { [[ -n $proxied ]] || ! with_metrics; }; then
    pass "inbound: peer -> app $pod_ip:8080 redirected to 4143 and relayed, 16 MiB each way intact (app saw $seen${relayed:+; $relayed})"
  else
    fail "inbound: peer -> app $pod_ip:8080 redirected to 4143 and relayed intact" \
      "redirect $re0->$re1, ${relayed:+metrics: $relayed, }sent $sent, back $back ($(stat -c %s "$work/in.back") bytes), app saw ${seen:-nothing}"
  fi
}

check_graceful_stop() {
  local code
  if ! running; then
    fail "docker stop (SIGTERM): the sidecar exits 0" "it was not running any more"
    return
  fi
  dk stop -t 40 "$container" >/dev/null 2>&1
  code=$(dk inspect -f '{{.State.ExitCode}}' "$container" 2>/dev/null)
  if [[ $code == 0 ]]; then
    pass "docker stop (SIGTERM): the sidecar exits 0"
  else
    fail "docker stop (SIGTERM): the sidecar exits 0" "exit code ${code:-unknown}"
  fi
}

# The two Kubernetes examples (deploy/kubernetes) replayed with Docker: the same users,
# capabilities, read-only root with a writable /tmp, and no privilege escalation.
# shellcheck disable=SC2054 # the commas belong to the tmpfs mount options
k8s_hardening=(--read-only --tmpfs /tmp:rw,exec,mode=1777 --security-opt no-new-privileges --cap-drop ALL)

ready_in() { # pid of a process in the pod's network namespace, seconds
  local deadline=$((SECONDS + $2)) code
  while ((SECONDS < deadline)) && [[ -e /proc/$1/ns/net ]]; do
    code=$(nsenter -t "$1" -n 2>/dev/null curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:4191/ready)
    [[ $code == 200 ]] && return 0
    sleep 0.5
  done
  return 1
}

listening_in() { # pid: both proxy listeners are bound in that process's network namespace
  local l
  l=$(nsenter -t "$1" -n 2>/dev/null ss -Htln)
  [[ $l == *127.0.0.1:4140* && $l == *:4143* ]]
}

dropped() { # pid: uid/gid 2102 and no effective capability
  grep -qE "^Uid:\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid$" "/proc/$1/status" 2>/dev/null &&
    grep -qE '^CapEff:\s+0+$' "/proc/$1/status"
}

pod_interface() { # pid: a Pod always has an interface besides lo, and the redirect self-test
  # probes through it. A veth pair with both ends inside the container: nothing leaves it, and
  # it disappears with the container's namespace.
  nsenter -t "$1" -n ip link add scdk0 type veth peer name scdk1 &&
    nsenter -t "$1" -n ip addr add 198.18.8.1/24 dev scdk0 &&
    nsenter -t "$1" -n ip link set scdk0 up && nsenter -t "$1" -n ip link set scdk1 up
}

check_k8s_pod() {
  local what="pod.yaml's sidecar (root; only NET_ADMIN NET_RAW SETUID SETGID; read-only root) listens as uid 2102"
  local kpid ok=""
  dk run -d --name scd-k8s-pod --network none "${k8s_hardening[@]}" -u 0 \
    --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SETUID --cap-add SETGID \
    -e XTABLES_LOCKFILE=/tmp/xtables.lock "$image" >/dev/null &&
    kpid=$(dk inspect -f '{{.State.Pid}}' scd-k8s-pod) &&
    pod_interface "$kpid" &&
    { ! admin_expected || ready_in "$kpid" 30; } && wait_for 20 listening_in "$kpid" &&
    wait_for 10 dropped "$kpid" && ok=1
  if [[ -n $ok ]]; then
    pass "$what"
  else
    fail "$what" "$(why_exited scd-k8s-pod)"
  fi
  dk rm -f scd-k8s-pod >/dev/null 2>&1
}

check_k8s_split() {
  local what="pod-split.yaml: init \`sidecar iptables install\` (NET_ADMIN NET_RAW only), then \`sidecar run --no-iptables\` as 2102 with no capability listens"
  local npid spid ok="" why=""
  # The Pod's network namespace, held by a container that only sleeps (Kubernetes' pause).
  dk run -d --name scd-k8s-netns --network none --entrypoint sleep "$image" 600 >/dev/null &&
    npid=$(dk inspect -f '{{.State.Pid}}' scd-k8s-netns) || why="no pod namespace"
  if [[ -z $why ]] && ! dk run --name scd-k8s-init --network container:scd-k8s-netns "${k8s_hardening[@]}" -u 0 \
    --cap-add NET_ADMIN --cap-add NET_RAW -e XTABLES_LOCKFILE=/tmp/xtables.lock \
    --entrypoint sidecar "$image" iptables install --skip-inbound-ports=4191 >"$work/k8s-init.log" 2>&1; then
    why="init container failed: $(tail -n 5 "$work/k8s-init.log")"
  fi
  if [[ -z $why ]]; then
    dk run -d --name scd-k8s-sidecar --network container:scd-k8s-netns "${k8s_hardening[@]}" -u 2102:2102 \
      "$image" --no-iptables >/dev/null &&
      spid=$(dk inspect -f '{{.State.Pid}}' scd-k8s-sidecar) &&
      { ! admin_expected || ready_in "$npid" 30; } && wait_for 20 listening_in "$npid" &&
      wait_for 10 dropped "$spid" && sleep 1 && dropped "$spid" && ok=1
    [[ -n $ok ]] || why="$(why_exited scd-k8s-sidecar)"
  fi
  if [[ -n $ok ]]; then
    pass "$what"
  else
    fail "$what" "$why"
  fi
  dk rm -f scd-k8s-netns scd-k8s-init scd-k8s-sidecar >/dev/null 2>&1
}

# ---------------------------------------------------------------------------------------------
# Main
t0=$SECONDS
install_missing || { fail "host packages installed"; finish; }
docker_bin=$(command -v /usr/bin/docker || command -v docker)
mkdir -p "$work"

t=$SECONDS
if start_engine; then
  pass "private Docker engine started without host networking ($(elapsed "$t"))"
else
  fail "private Docker engine started without host networking" "see $work/dockerd.log"
  finish
fi

t=$SECONDS
if ensure_base; then
  pass "local base image sidecar-base:local ($base_packages) made without a registry ($(elapsed "$t"))"
else
  fail "local base image made without a registry" "see $work/debootstrap.log"
  finish
fi

t=$SECONDS
if ensure_jar && dk build -q -t "$image" --build-arg BASE=sidecar-base:local -f "$repo/Dockerfile" "$repo" >"$work/build.log" 2>&1; then
  pass "image $image builds from the Dockerfile with BASE=sidecar-base:local ($(elapsed "$t"))"
else
  fail "image builds from the Dockerfile" "$(tail -n 15 "$work/build.log")"
  finish
fi
dk image prune -f >/dev/null 2>&1 # drop the previous run's image, now dangling

dk rm -f "$container" "${k8s_containers[@]}" >/dev/null 2>&1
ip netns del "$peer_ns" 2>/dev/null
if ! dk run -d --name "$container" --network none --cap-add NET_ADMIN --cap-add NET_RAW \
  -e SIDECAR_LOG_LEVEL=debug "$image" >/dev/null; then
  fail "container starts"
  finish
fi
pid=$(dk inspect -f '{{.State.Pid}}' "$container")

# The pod's only network: a veth whose peer end sits in a namespace of ours. Made inside that
# namespace and moved into the container's by pid, so nothing appears in the host's namespace.
# shellcheck disable=SC2015 # fail is meant to run when any step fails
ip netns add "$peer_ns" &&
  ip -n "$peer_ns" link add "$peer_if" type veth peer name "$pod_if" &&
  ip -n "$peer_ns" link set "$pod_if" netns "$pid" &&
  ip -n "$peer_ns" addr add "$peer_ip/24" dev "$peer_if" &&
  ip -n "$peer_ns" link set "$peer_if" up &&
  ip -n "$peer_ns" link set lo up &&
  nsenter -t "$pid" -n ip addr add "$pod_ip/24" dev "$pod_if" &&
  nsenter -t "$pid" -n ip link set "$pod_if" up ||
  fail "veth $pod_if moved into the container (pid $pid)"

started_ok() { ! running || rules_present; }
if wait_for 30 started_ok && running && rules_present; then
  pass "container runs with --network none and NET_ADMIN/NET_RAW; its rules appear"
else
  fail "container runs with --network none and NET_ADMIN/NET_RAW; its rules appear" "$(why_exited "$container")"
fi
# The privilege drop comes after the rules and the listeners; give it a moment.
dropped_or_dead() { ! running || grep -qE "^Uid:\s+$proxy_uid\s" "/proc/$pid/status"; }
wait_for 15 dropped_or_dead

checks=(
  "check_rules_exact 4" "check_rules_exact 6" check_proxy_uid check_ready
  check_loopback_bypass check_direct_outbound_refused check_direct_inbound_refused
  check_outbound check_inbound
)
for c in "${checks[@]}"; do
  if running; then
    $c
  else
    fail "${c#check_}" "the container is not running"
  fi
done
if running; then
  pass "container still running after the traffic checks"
else
  fail "container still running after the traffic checks"
fi
check_graceful_stop
check_k8s_pod
check_k8s_split

if ((failed)); then
  echo "---- last container log lines ----"
  dk logs --tail 40 "$container" 2>&1
fi
note "total $(elapsed "$t0")"
finish

#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions reached through trap and the checks table
# Docker integration tests: what only Docker can prove. The image built from the top-level
# Dockerfile, run the way a user runs it (--network none, NET_ADMIN + NET_RAW): the rules in the
# container are exactly what `sidecar iptables show` prints, the proxy runs as uid/gid 2102 with no
# effective capability, /ready answers, `docker stop` ends it with exit 0, and the two Kubernetes
# examples replayed (their users, capabilities, read-only root). The traffic paths (redirect,
# relay, bypasses, refused direct connections) are SidecarRunIT's, in network namespaces.
# Called by bin/test after `mvn verify`; needs root. Skip it only explicitly with
# SIDECAR_SKIP_DOCKER=1 (the run then says so).
#
# Safety, because the machine is shared:
#   - the Docker engine is private to this script: its own containerd, data-root, exec-root, pid
#     files and unix sockets under docker/.work, started ONLY as
#     `dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none`
#     so it never touches the host's network, and stopped by its pid on every exit (trap);
#   - no registry is contacted: the base image is made with debootstrap from the Debian mirror
#     apt already uses and `docker import`ed; it is cached in /var/cache/sidecar-docker;
#   - the containers have no network: each pod gets a veth pair with both ends inside it
#     (198.18.8.0/24), which disappears with the container.
#
# Prints one PASS/FAIL line per check and ends with "N passed, M failed"; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(dirname "$here")
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
. "$repo/bin/lib.sh"

if [[ -n ${SIDECAR_SKIP_DOCKER:-} ]]; then
  echo "docker/test.sh: SKIPPED: SIDECAR_SKIP_DOCKER is set, the Docker integration tests did not run"
  exit 0
fi
if [[ $(id -u) != 0 ]]; then
  echo "docker/test.sh: needs root (it starts a private Docker engine and enters container namespaces);" \
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
proxy_uid=2102
admin_skip=--skip-inbound-ports=4191 # what `sidecar run` adds to the iptables defaults
# Packages of the locally made base image.
base_suite=bookworm
base_packages=iptables,iproute2,openjdk-17-jre-headless
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
# Cleanup, on any exit (bin/lib.sh's trap): the containers, then the engine, then its mounts
containerd_pid="" dockerd_pid="" rootfs_tmp=""

unmount_under() { # unmount everything mounted below a directory, deepest first
  local dir=$1
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
}

teardown() {
  if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
    dk rm -f "$container" "${k8s_containers[@]}" >/dev/null 2>&1
  fi
  stop_pid "$dockerd_pid" 20
  stop_pid "$containerd_pid" 10
  unmount_under "$work"
  [[ $run != "$work"/* ]] && unmount_under "$run"
  if [[ -n $rootfs_tmp ]]; then
    unmount_under "$rootfs_tmp"
    rm -rf "$rootfs_tmp" "$cache"/base-*.tar.tmp.$$
  fi
}
cleanup_on_exit docker/test.sh teardown

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
  wait_for -p "$containerd_pid" 10 test -S "$run/containerd/containerd.sock"
  dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --config-file "$work/daemon.json" \
    --containerd "$run/containerd/containerd.sock" \
    --data-root "$work/data" --exec-root "$run/docker" --pidfile "$run/docker.pid" \
    -H "unix://$run/docker.sock" --log-level warn >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  wait_for -p "$dockerd_pid" 30 dk version && return 0
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
cx() { dk exec "$container" "$@"; } # as root in the container

nat_save() { # the container's nat table, from whichever backend holds our chains
  local out
  out=$(cx iptables-save -t nat 2>/dev/null)
  grep -q PROXY_INIT <<<"$out" || out=$(cx iptables-legacy-save -t nat 2>/dev/null)
  printf '%s\n' "$out"
}

# Why a container stopped: the CLI's one-line error when there is one, else the last log lines.
why_exited() {
  local log
  log=$(dk logs --tail 60 "$1" 2>&1)
  grep -m1 '^sidecar: ' <<<"$log" || tail -n 5 <<<"$log"
}
running() { [[ $(dk inspect -f '{{.State.Running}}' "$container" 2>/dev/null) == true ]]; }
rules_present() { nat_save | grep -- '-A PROXY_INIT_OUTPUT' >/dev/null; }

pod_interface() { # pid: a Pod always has an interface besides lo, and the redirect self-test
  # probes through it. A veth pair with both ends inside the container: nothing leaves it, and
  # it disappears with the container's namespace.
  in_ns "$1" ip link add scdk0 type veth peer name scdk1 &&
    in_ns "$1" ip addr add 198.18.8.1/24 dev scdk0 &&
    in_ns "$1" ip link set scdk0 up && in_ns "$1" ip link set scdk1 up
}

ready_in() { # pid of a process in the pod's network namespace: /ready answers 200 on loopback
  http_get "$1" 127.0.0.1 4191 /ready
}

listening_in() { # pid: both proxy listeners are bound in that process's network namespace
  local l
  l=$(in_ns "$1" ss -Htln 2>/dev/null)
  [[ $l == *127.0.0.1:4140* && $l == *:4143* ]]
}

dropped() { # pid: uid/gid 2102 and no effective capability
  grep -qE "^Uid:\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid\s+$proxy_uid$" "/proc/$1/status" 2>/dev/null &&
    grep -qE '^CapEff:\s+0+$' "/proc/$1/status"
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
  want=$(cx sidecar iptables show "$admin_skip" 2>/dev/null | awk -v s="# $section:" 'index($0, s) == 1 { f = 1; next } /^# IPv/ { f = 0 } f' | our_rules)
  if [[ $family == 6 && -z $want ]]; then
    echo "NOTE: no IPv6 rules checked: \`sidecar iptables show\` in the container plans none (no IPv6 there)"
    return
  fi
  got=$(cx "$save" -t nat 2>/dev/null | our_rules)
  [[ $family == 4 && $got != *PROXY_INIT* ]] && got=$(cx iptables-legacy-save -t nat 2>/dev/null | our_rules)
  [[ $family == 6 && $got != *PROXY_INIT* ]] && got=$(cx ip6tables-legacy-save -t nat 2>/dev/null | our_rules)
  local what
  what="IPv$family rules installed exactly as \`sidecar iptables show $admin_skip\` prints them ($save -t nat)"
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

accepting_after() { # how long after the container started the proxy accepted, from its own log
  local started accepting
  started=$(dk inspect -f '{{.State.StartedAt}}' "$container")
  accepting=$(dk logs "$container" 2>&1 | grep -m1 'accepting' | cut -d' ' -f1)
  [[ -n $accepting ]] || { echo "not accepting yet"; return; }
  echo "accepting $(( ($(date -d "$accepting" +%s%3N) - $(date -d "$started" +%s%3N)) )) ms after the container started"
}

check_class_data() {
  # The archive the Dockerfile made (bin/sidecar-cds --in-build) is the one the JVM maps.
  if grep -q '/opt/sidecar/sidecar.jsa' "/proc/$pid/maps" 2>/dev/null; then
    pass "the JVM maps the image's class-data archive (/opt/sidecar/sidecar.jsa; $(accepting_after))"
  else
    fail "the JVM maps the image's class-data archive" "not in /proc/$pid/maps; $(accepting_after)"
  fi
}

check_ready() {
  # /ready over the container's loopback. That a probe from outside the pod is never redirected
  # (4191 is skipped) is SidecarRunIT's (adminPortIsSkippedInboundSoProbesNeverReachTheProxy).
  local body
  if wait_for 30 ready_in "$pid"; then
    pass "GET /ready on 4191 in the container answers 200"
  else
    body=$(http_get "$pid" 127.0.0.1 4191 /ready)
    fail "GET /ready on 4191 in the container answers 200" "${body:-no answer}"
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

check_k8s_pod() {
  local what="pod.yaml's sidecar (root; only NET_ADMIN NET_RAW SETUID SETGID; read-only root) listens as uid 2102"
  local kpid ok=""
  dk run -d --name scd-k8s-pod --network none "${k8s_hardening[@]}" -u 0 \
    --cap-add NET_ADMIN --cap-add NET_RAW --cap-add SETUID --cap-add SETGID \
    -e XTABLES_LOCKFILE=/tmp/xtables.lock "$image" >/dev/null &&
    kpid=$(dk inspect -f '{{.State.Pid}}' scd-k8s-pod) &&
    pod_interface "$kpid" &&
    wait_for -p "$kpid" 30 ready_in "$kpid" && wait_for 20 listening_in "$kpid" &&
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
      wait_for -p "$npid" 30 ready_in "$npid" && wait_for 20 listening_in "$npid" &&
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
need_commands docker/test.sh dockerd=docker.io containerd=containerd runc=runc debootstrap=debootstrap \
  ip=iproute2 nsenter=util-linux sha256sum=coreutils || { fail "host packages installed"; finish; }
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
if ! dk run -d --name "$container" --network none --cap-add NET_ADMIN --cap-add NET_RAW \
  -e SIDECAR_LOG_LEVEL=debug "$image" >/dev/null; then
  fail "container starts"
  finish
fi
pid=$(dk inspect -f '{{.State.Pid}}' "$container")
pod_interface "$pid" || fail "veth pair made inside the container (pid $pid)"

started_ok() { ! running || rules_present; }
if wait_for 30 started_ok && running && rules_present; then
  pass "container runs with --network none and NET_ADMIN/NET_RAW; its rules appear"
else
  fail "container runs with --network none and NET_ADMIN/NET_RAW; its rules appear" "$(why_exited "$container")"
fi
# The privilege drop comes after the rules and the listeners; give it a moment.
dropped_or_dead() { ! running || grep -qE "^Uid:\s+$proxy_uid\s" "/proc/$pid/status"; }
wait_for 15 dropped_or_dead

checks=("check_rules_exact 4" "check_rules_exact 6" check_proxy_uid check_class_data check_ready)
for c in "${checks[@]}"; do
  if running; then
    $c
  else
    fail "${c#check_}" "the container is not running"
  fi
done
if running; then
  pass "container still running after the checks"
else
  fail "container still running after the checks"
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

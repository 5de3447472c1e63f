#!/usr/bin/env bash
# Start-up, A/B: fresh `sidecar run` starts of each jar given, alternated round by round, each in a
# namespace of its own (rules installed, dropped to 2102), timed from the launcher's exec to the
# sidecar's own log line that its redirect rules are installed (the listeners are bound by then,
# so that is when a redirected connection can first be relayed) and to "accepting". Nothing polls
# the sidecar while it starts: the times come from its log, so no prober competes for the CPU.
#
#   sudo bench/startup-ab.sh LABEL=JAR[@JVM_OPTIONS_FILE] ...
#        e.g. base=/tmp/a.jar@/tmp/old-jvm.options new=proxy/target/sidecar.jar
#   env: ROUNDS=20  TRANSPORT=auto
#
# Each variant gets a checkout of its own (the launcher, its class-data archive made once, before
# the rounds, and the JVM options file, docker/image/jvm.options unless given). Output: one line per
# start, then per variant the medians and, against the first variant, the median of the per-round
# ratios with how many rounds were faster. Namespaces are removed on exit; every wait is bounded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../bin/lib.sh
source "$root/bin/lib.sh"
need_commands startup-ab iptables-legacy=iptables ip=iproute2 python3=python3

ROUNDS=$(env_int startup-ab ROUNDS 20)
TRANSPORT=${TRANSPORT:-auto}

tools=$(mktemp -d)
remove_tools() { rm -rf "$tools"; }
cleanup_on_exit startup-ab remove_tools

variant_checkouts startup-ab "$tools" "$@"
labels=("${VARIANT_LABELS[@]}")

# start I ROUND: one start of variant I; appends "LABEL ROUND INSTALLED_MS ACCEPTING_MS" to results.
start() {
  local i=$1 r=$2 ns=sab-$$-$1 log=$tools/start-$1-$2.log t0 ms
  new_ns "$ns"
  : >"$log" # before the start: the background start may open it after the first look
  t0=$(date +%s%3N)
  start_in_ns "$log" "$ns" "$tools/v$i/bin/sidecar" run --transport "$TRANSPORT"
  wait_for -p "$BG_PID" 30 grep -q "Sidecar: accepting" "$log" || { cat "$log" >&2; exit 1; }
  stop_pid "$BG_PID" 30
  del_ns "$ns"
  ms=$(python3 - "$t0" "$log" <<'PY'
import sys, datetime
t0, found = int(sys.argv[1]), {}
for line in open(sys.argv[2]):
    for key, text in (("installed", "redirect rules installed"), ("accepting", "Sidecar: accepting")):
        if text in line and key not in found:
            t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
            found[key] = round(t.timestamp() * 1000) - t0
print(found.get("installed", -1), found.get("accepting", -1))
PY
)
  [[ $r == 0 ]] || echo "${labels[$i]} $r $ms" >>"$tools/results"
  echo "round $r ${labels[$i]}: installed, accepting after $ms ms$([[ $r == 0 ]] && echo ' (archive made; not counted)')"
}

for i in "${!labels[@]}"; do start "$i" 0; done
for ((r = 1; r <= ROUNDS; r++)); do
  for i in "${!labels[@]}"; do start "$i" "$r"; done
done
python3 - "$tools/results" "${labels[@]}" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
labels = sys.argv[2:]
at = {(l, r): (int(a), int(b)) for l, r, a, b in rows}
rounds = sorted({int(r) for _, r, _, _ in rows})
for lab in labels:
    inst = [at[(lab, str(r))][0] for r in rounds]
    acc = [at[(lab, str(r))][1] for r in rounds]
    line = f"{lab:<10} installed median {st.median(inst):5.0f} ms ({min(inst)}-{max(inst)}), accepting {st.median(acc):5.0f} ms"
    if lab != labels[0]:
        q = [at[(lab, str(r))][0] / at[(labels[0], str(r))][0] for r in rounds]
        line += f"; installed / {labels[0]} per round: median x{st.median(q):.3f}, faster in {sum(x < 1 for x in q)} of {len(q)}"
    print(line)
PY

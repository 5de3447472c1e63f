# The rules helper: the one part of `sidecar run` that stays root after the JVM drops to the proxy
# uid. Started by RulesHelper (as `sh -c <this> sidecar-rules-helper VARIANT SECONDS TABLES FAMILY...`)
# before the drop, it answers requests on stdin until stdin closes, which it does when the JVM dies.
#
# TABLES is one word of the plan's table names, separated by commas (`nat`, or `nat,mangle` in
# tproxy mode). It can do nothing but:
#   save FAMILY TABLE print `iptables-VARIANT-save -t TABLE` of the family; TABLE must be one of TABLES;
#   restore FAMILY N  read N lines and apply them with `iptables-VARIANT-restore -w --noflush`, but
#                     only if every line is allowed by the policy for FAMILY;
#   route FAMILY N    read N lines and run each, in order, as the arguments of `ip`, but only if
#                     every line is one the policy for FAMILY names (the plan's own route steps);
#                     it stops at the first that fails.
# The policy is read once, at start, from stdin up to a line `.`, while the JVM is still root:
#   FAMILY = LINE     LINE exactly (the plan's own restore lines);
#   FAMILY ~ GLOB     a line matching the shell pattern GLOB (deleting stale jumps to our chains);
#   FAMILY ip ARGS    `ip ARGS` exactly (adding or deleting one of the plan's route steps).
# Every answer is `status RC N` (the command's exit code) or `refused N`, then N lines of output.
# Anything else is refused. Commands run under `timeout` when the system has it.
set -u
nl='
'
variant=$1 seconds=$2 tables=",$3,"
shift 3
families=" $* "
case $variant in nft|legacy) ;; *) echo "rules helper: unknown variant $variant" >&2; exit 2 ;; esac
case $seconds in ''|*[!0-9]*) echo "rules helper: bad timeout $seconds" >&2; exit 2 ;; esac
case $tables in *,,*|*[!a-z,]*) echo "rules helper: bad tables $3" >&2; exit 2 ;; esac
limit=
if command -v timeout >/dev/null 2>&1; then limit="timeout -k 2 $seconds"; fi

policy=$nl
while IFS= read -r entry; do
  [ "$entry" = . ] && break
  policy=$policy$entry$nl
done

binary() { # FAMILY TOOL
  case $1 in ipv4) echo "iptables-$variant-$2" ;; ipv6) echo "ip6tables-$variant-$2" ;; esac
}

answer() { # KIND RC TEXT
  if [ "$1" = refused ]; then set -- "refused" "" "$3"; fi
  n=$(printf '%s\n' "$3" | wc -l)
  printf '%s %s%s\n%s\n' "$1" "${2:+$2 }" "$n" "$3"
}

allowed() { # FAMILY LINE
  case $policy in *"$nl$1 = $2$nl"*) return 0 ;; esac
  saved_ifs=$IFS
  IFS=$nl
  set -f
  for entry in $policy; do
    case $entry in
      "$1 ~ "*)
        # Unquoted on purpose: the policy's GLOB is a pattern.
        # shellcheck disable=SC2254
        case $2 in ${entry#"$1 ~ "}) IFS=$saved_ifs; set +f; return 0 ;; esac ;;
    esac
  done
  IFS=$saved_ifs
  set +f
  return 1
}

save() { # FAMILY TABLE
  case $tables in *",$2,"*) ;; *) answer refused "" "not a table of the plan: $2"; return ;; esac
  rc=0
  out=$($limit "$(binary "$1" save)" -t "$2" 2>&1) || rc=$?
  answer status "$rc" "$out$nl"
}

restore() { # FAMILY N
  case $2 in ''|*[!0-9]*) answer refused "" "bad line count: $2"; return ;; esac
  if [ "$2" -gt 10000 ]; then answer refused "" "too many lines: $2"; return; fi
  text="" bad="" i=0
  while [ "$i" -lt "$2" ]; do
    IFS= read -r line || exit 0
    i=$((i + 1))
    if [ -z "$bad" ] && ! allowed "$1" "$line"; then bad="not in the plan for $1: $line"; fi
    text=$text$line$nl
  done
  if [ -n "$bad" ]; then answer refused "" "$bad"; return; fi
  rc=0
  out=$(printf '%s' "$text" | $limit "$(binary "$1" restore)" -w --noflush 2>&1) || rc=$?
  answer status "$rc" "$out"
}

route() { # FAMILY N
  case $2 in ''|*[!0-9]*) answer refused "" "bad line count: $2"; return ;; esac
  if [ "$2" -gt 16 ]; then skip "$2"; answer refused "" "too many lines: $2"; return; fi
  steps="" bad="" i=0
  while [ "$i" -lt "$2" ]; do
    IFS= read -r line || exit 0
    i=$((i + 1))
    case $policy in *"$nl$1 ip $line$nl"*) ;; *) [ -n "$bad" ] || bad="not a route step of the plan for $1: $line" ;; esac
    steps=$steps$line$nl
  done
  if [ -n "$bad" ]; then answer refused "" "$bad"; return; fi
  out="" rc=0
  saved_ifs=$IFS
  set -f
  IFS=$nl
  for step in $steps; do
    IFS=' '
    # Unquoted on purpose: the step, one of the plan's own, is split into ip's arguments.
    # shellcheck disable=SC2086
    part=$($limit ip $step 2>&1) || rc=$?
    out=$out$part
    [ "$rc" -eq 0 ] || break
  done
  IFS=$saved_ifs
  set +f
  answer status "$rc" "$out"
}

skip() { # N: the lines of a request that is refused before they are read, so none is taken for a request
  case $1 in ''|*[!0-9]*) return ;; esac
  [ "$1" -le 10000 ] || return
  i=0
  while [ "$i" -lt "$1" ]; do
    IFS= read -r line || exit 0
    i=$((i + 1))
  done
}

while read -r verb family count; do
  case "$families" in
    *" $family "*) ;;
    *)
      case $verb in restore|route) skip "$count" ;; esac
      answer refused "" "unknown family: $family"
      continue ;;
  esac
  case $verb in
    save) save "$family" "$count" ;;
    restore) restore "$family" "$count" ;;
    route) route "$family" "$count" ;;
    *) answer refused "" "unknown request: $verb" ;;
  esac
done

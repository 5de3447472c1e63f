# Shared helpers for the project's shell entry points (bin/test, demo/run.sh, bench/run.sh,
# docker/test.sh). Source it; it defines functions only and changes no shell option.

# need_commands PREFIX CMD=PACKAGE...: installs, by Debian package name, the packages whose command
# is missing (root only), so each entry point works alone on a fresh machine. Prints what it
# installs on stderr, prefixed with PREFIX.
need_commands() {
  local prefix=$1 pair cmd pkg missing=()
  shift
  for pair in "$@"; do
    cmd=${pair%%=*} pkg=${pair#*=}
    command -v "$cmd" >/dev/null 2>&1 || [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]]; then
    echo "$prefix: missing ${missing[*]} (as root: apt-get install ${missing[*]})" >&2
    return 3
  fi
  echo "$prefix: installing ${missing[*]}" >&2
  # apt's chatter goes to a log, shown only when the install fails.
  local log
  log=$(mktemp)
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "$prefix: could not install ${missing[*]}" >&2
    return 3
  fi
  rm -f "$log"
}

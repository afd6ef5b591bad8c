#!/usr/bin/env bash
# Switch each default rule off, one at a time, on the fresh training seeds (design section 75).
# usage: scripts/audit-rules.sh [QSEEDS] [USEEDS] [TAG] -- field=value ...
# Raw outputs: /tmp/audit-TAG-<field>-q.txt and -u.txt (TAG "base" runs the defaults).
set -euo pipefail
QS=${1:-50..250}; US=${2:-140..240}; TAG=${3:-fresh}; shift 3 || true
[ "${1:-}" = "--" ] && shift
BIN=${CARGO_TARGET_DIR:?}/release
run() { # name, set args...
  local name=$1; shift
  "$BIN/detector-quality" --seeds "$QS" "$@" > "/tmp/audit-$TAG-$name-q.txt" 2>&1
  "$BIN/detector-unseen" --seeds "$US" "$@" > "/tmp/audit-$TAG-$name-u.txt" 2>&1
  echo "$name done $(date +%T)"
}
[ -e "/tmp/audit-$TAG-default-q.txt" ] || run default
for kv in "$@"; do run "${kv%%=*}" --set "$kv"; done

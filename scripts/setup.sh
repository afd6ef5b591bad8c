#!/usr/bin/env bash
# Installs what a fresh machine lacks for the demo and the tests. Idempotent and quiet when
# everything is already there. Called by scripts/test.sh and scripts/demo.sh.
set -euo pipefail

need=()
command -v prometheus >/dev/null || need+=(prometheus)   # parity and alert-rule tests
command -v valgrind >/dev/null || need+=(valgrind)       # C ABI test
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (apt)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null
fi

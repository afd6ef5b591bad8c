#!/usr/bin/env bash
# Installs what a fresh machine lacks for the demo and the tests. Idempotent and quiet when
# everything is already there. Called by scripts/test.sh and scripts/demo.sh.
set -euo pipefail

need=()
command -v prometheus >/dev/null || need+=(prometheus)   # parity and alert-rule tests
command -v valgrind >/dev/null || need+=(valgrind)       # C ABI test
command -v chromium >/dev/null || need+=(chromium)       # HTML report test (headless)
command -v openssl >/dev/null || need+=(openssl)         # TLS test of analyze --prometheus
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)  # the test venv (Debian splits it out)
command -v file >/dev/null || need+=(file)               # release artifact checks (scripts/dist.sh)
command -v objdump >/dev/null || need+=(binutils)        # nm, objdump, readelf: the same
command -v curl >/dev/null || need+=(curl)               # the install test's requests
command -v musl-gcc >/dev/null || need+=(musl-tools)     # the install test: Go's musl library with gcc
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} (apt)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The fuzz targets (scripts/fuzz.sh) need a nightly toolchain and cargo-fuzz.
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "setup: installing the nightly toolchain (fuzzing)"
  rustup toolchain install nightly --profile minimal >/dev/null
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

# wasm32-unknown-unknown: the pure-analysis core check; wasm32-wasip1-threads: the Node WASI build;
# x86_64-unknown-linux-musl: the static CLI and the Go module's musl library (scripts/dist.sh --host).
for target in wasm32-unknown-unknown wasm32-wasip1-threads x86_64-unknown-linux-musl; do
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "setup: adding the $target target"
    rustup target add "$target" >/dev/null
  fi
done

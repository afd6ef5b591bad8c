#!/usr/bin/env bash
# Runs every test of the project. CI calls this through .ci/run; run it yourself the same way.
# Each step prints its runner's own summary; the script stops at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

bash scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo test (workspace)"
cargo test --workspace --all-features

step "wasm32 build of the pure-analysis core"
cargo check -p leaksense-core --no-default-features --target wasm32-unknown-unknown

step "Python package: wheel, pytest (incl. the demo), stubtest, mypy"
bash bindings-python/run-tests.sh

step "Python allocation hook of the abi3 wheel on every CPython 3.9-3.13 found"
bash bindings-python/test-python-versions.sh

step "Node.js package: napi build, generated-file check, node --test (incl. the example), npm pack"
bash bindings-node/run-tests.sh

step "C ABI: header check, C test program under valgrind"
bash ffi/run-tests.sh

step "Go package: go vet, go test -race, soak, no-cgo build, go-leak example"
bash bindings-go/run-tests.sh

step "Fuzz targets (cargo-fuzz, nightly): seeds and saved regressions replayed once"
bash scripts/fuzz.sh --replay

step "Release artifacts (host): scripts/dist.sh --host (the builds above, plus the static x86_64 CLI and the Go musl library), checks, versions"
bash scripts/dist.sh --host

step "Install test: each artifact installed as a user would, in fresh projects, with no Rust on PATH"
bash scripts/install-test.sh

step "all tests passed"

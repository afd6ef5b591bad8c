#!/usr/bin/env bash
# The main job: shows leaksense at work on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bash scripts/setup.sh
cargo run -q -p leaksense-core --example live_samples -- 5 200

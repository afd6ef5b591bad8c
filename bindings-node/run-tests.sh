#!/usr/bin/env bash
# Builds the addon and the WASI fallback (scripts/dist.sh --host node, which also packs them into
# dist/npm), checks the committed generated files and runs node:test. Installing the packed
# tarballs in a fresh project is scripts/install-test.sh's job. Called from the test script.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../target}"
npm ci --no-audit --no-fund
bash ../scripts/dist.sh --host node
git diff --exit-code -- index.js index.d.ts leaksense.wasi.cjs wasi-worker.mjs ||
  { echo "generated loaders/typings differ from the committed ones" >&2; exit 1; }
node --test test/
# The example: a real Express service under load until the report names the leaking route (1–2 min).
(cd ../examples/node-leak && npm ci --no-audit --no-fund && node --test test/)

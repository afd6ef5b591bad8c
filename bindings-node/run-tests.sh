#!/usr/bin/env bash
# Builds the addon, checks the committed generated files, runs node:test, and installs the packed
# tarball into a fresh project (no Rust needed there). Called from the repository test script.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target}"
npm ci --no-audit --no-fund
npx napi build --platform --release --strip
# The WASI fallback (pure functions only); its typings lack the Monitor, so they go to a scratch file.
npx napi build --platform --release --target wasm32-wasip1-threads --no-js --dts .wasi-build.d.ts
rm -f .wasi-build.d.ts
git diff --exit-code -- index.js index.d.ts leaksense.wasi.cjs wasi-worker.mjs ||
  { echo "generated loaders/typings differ from the committed ones" >&2; exit 1; }
node --test test/
# The example: a real Express service under load until the report names the leaking route (1–2 min).
(cd ../examples/node-leak && npm ci --no-audit --no-fund && node --test test/)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tarball="$(npm pack --silent --pack-destination "$tmp")"
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund "./$tarball" >/dev/null &&
  node -e "const l=require('leaksense'); const n=Object.keys(l.catalog('node','semconv')).length; const m=new l.Monitor(); m.report(); m.close(); if(!n) process.exit(1); console.log('packed install ok:', n, 'metrics')" &&
  NAPI_RS_FORCE_WASI=error node --no-warnings -e "const l=require('leaksense'); if(l.deriv([1,2],[1,3])!==2) process.exit(1); console.log('packed install ok: WASI fallback loads')")

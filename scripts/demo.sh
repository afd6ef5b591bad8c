#!/usr/bin/env bash
# The main job: a real Flask service on 127.0.0.1 whose /orders route leaks 50 KiB per request
# and whose /invoices/<id> route leaves a file open per request, driven by a load generator,
# until leaksense has alerted each leak as its own series and named its route.
# Installs what is missing (Rust target, venv, the leaksense wheel) first. About two minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bash scripts/setup.sh
exec bash examples/python-leak/run.sh

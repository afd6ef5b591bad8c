#!/usr/bin/env bash
# Builds the leaksense wheel into a venv outside the repo and runs the Python tests.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/../target}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$here/requirements-test.txt"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$here"
cd "$here/tests"
exec "$venv/bin/python" -m pytest -q "$@"

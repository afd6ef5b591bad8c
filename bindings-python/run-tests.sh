#!/usr/bin/env bash
# Builds the leaksense wheel into a venv outside the repo and runs the Python tests
# (the demo test included; it takes about two minutes).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/venv.sh"
cd "$here/tests"
exec "$venv/bin/python" -m pytest -q "$@"

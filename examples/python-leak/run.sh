#!/usr/bin/env bash
# The leaksense demo: installs leaksense into a venv (as a user would) and runs a leaking
# Flask service under load until leaksense names the leaking route. About two minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../bindings-python/venv.sh"
exec "$venv/bin/python" "$here/demo.py"

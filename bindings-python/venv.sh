#!/usr/bin/env bash
# Sourced by run-tests.sh and examples/python-leak/run.sh: makes a venv outside the repo,
# installs the pinned test/demo requirements and builds + installs leaksense from source
# (`pip install ./bindings-python`, as a user would). Sets $venv.
here_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here_venv/../target}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here_venv/requirements-test.txt"
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$here_venv"

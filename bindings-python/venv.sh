# Sourced by run-tests.sh and examples/python-leak/run.sh: makes a venv outside the repo,
# installs the pinned test/demo requirements, and installs leaksense from the wheel the release
# ships (scripts/dist.sh --host python builds it into dist/python, so the tests and the release
# use one build). Sets $venv.
here_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${LEAKSENSE_VENV:-$HOME/.cache/leaksense-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here_venv/../target}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here_venv/requirements-test.txt"
LEAKSENSE_VENV="$venv" bash "$here_venv/../scripts/dist.sh" --host python
"$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps --no-index \
  --only-binary :all: --find-links "${LEAKSENSE_DIST:-$here_venv/../dist}/python" \
  "leaksense==$(python3 "$here_venv/../scripts/check-versions.py" --print)"

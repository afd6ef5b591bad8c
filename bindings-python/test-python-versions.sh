#!/usr/bin/env bash
# The abi3 wheel's allocation hook declares PyMem_SetAllocator and friends itself (they are not
# in the limited API): builds the wheel once and runs tests/test_profile.py under every CPython
# 3.9-3.13 that pyenv has on this machine (LEAKSENSE_PYENV_ROOT, default ~/.pyenv), printing which
# versions ran. Fails when one fails, or when none of them is there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/venv.sh"
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
"$venv/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$wheels" "$here"
root="${LEAKSENSE_PYENV_ROOT:-$HOME/.pyenv}"
ran=()
for minor in 9 10 11 12 13; do
  py="$(ls -d "$root"/versions/3."$minor".*/bin/python3 2>/dev/null | tail -1 || true)"
  [ -n "$py" ] || { echo "CPython 3.$minor: not installed here, not run"; continue; }
  v="$venv-py3.$minor"
  [ -x "$v/bin/python" ] || "$py" -m venv "$v"
  "$v/bin/pip" install -q --disable-pip-version-check pytest "opentelemetry-api>=1.20,<2"
  "$v/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheels"/*.whl
  echo "CPython $("$v/bin/python" -c 'import sys; print(sys.version.split()[0])'):"
  (cd "$here/tests" && "$v/bin/python" -m pytest -q -p no:cacheprovider test_profile.py)
  ran+=("3.$minor")
done
[ "${#ran[@]}" -gt 0 ] || { echo "no CPython 3.9-3.13 found under $root" >&2; exit 1; }
echo "the allocation hook passed on CPython ${ran[*]}"

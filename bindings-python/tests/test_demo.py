"""The README's demo: a leaking Flask app under load; leaksense must name /orders."""

import os
import pathlib
import subprocess
import sys

import pytest

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python-leak" / "demo.py"


@pytest.mark.demo
def test_the_demo_names_the_leaking_route():
    r = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=300, env=os.environ
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "1. /orders" in r.stdout, out
    assert "demo: OK: /orders retains about" in r.stdout, out
    # The live-heap profile names the line that appends to the never-evicted cache.
    assert "demo: top growing site create_order (app.py:" in r.stdout, out

"""The README's demo: a Flask app with a memory leak and a descriptor leak under load; each must
be alerted as its own series with its route named, and no healthy route ever named."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

DEMO = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python-leak" / "demo.py"


@pytest.mark.demo
def test_the_demo_alerts_each_leak_as_itself_and_names_its_route():
    r = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, timeout=300, env=os.environ
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "demo: event: memory leak" in r.stdout, out
    assert "demo: event: open_fds leak" in r.stdout, out
    assert "demo: OK: memory: /orders named" in r.stdout, out
    assert "demo: OK: open_fds: /invoices/<int:invoice_id> named" in r.stdout, out
    assert "demo: healthy route named:" not in r.stdout, out
    # Amounts per request in the core's formatter: IEC bytes, counts with a plural unit.
    assert re.search(r"demo: OK: memory: .* [\d.]+ (B|KiB|MiB) per request", r.stdout), out
    assert re.search(r"demo: OK: open_fds: .* [\d.]+ file descriptors? per request", r.stdout), out
    # The live-heap profile names the line that appends to the never-evicted cache.
    assert "demo: top growing site create_order (app.py:" in r.stdout, out

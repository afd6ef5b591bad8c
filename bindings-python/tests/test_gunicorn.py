"""gunicorn's pre-fork model: the monitor started in the master (--preload) samples in every
forked worker."""

import http.client
import json
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("gunicorn")
HERE = pathlib.Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/stats")
        return dict(json.loads(conn.getresponse().read()))
    finally:
        conn.close()


def test_preloaded_monitor_samples_in_each_worker():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--chdir", str(HERE), "gunicorn_app:application"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        seen: dict[int, list[int]] = {}
        grown: list[int] = []
        while time.monotonic() < deadline:
            try:
                r = get(port)
            except OSError:
                time.sleep(0.1)
                continue
            assert r["pid"] != r["master"], "served by a forked worker"
            assert r["running"]
            seen.setdefault(r["pid"], []).append(r["samples"])
            grown = [pid for pid, s in seen.items() if len(s) >= 2 and s[-1] > s[0]]
            if grown:
                break
            time.sleep(0.1)
        summary = {pid: (s[0], s[-1], len(s)) for pid, s in seen.items()}
        assert grown, f"no worker's sampler sampled (first, last, reads): {summary}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

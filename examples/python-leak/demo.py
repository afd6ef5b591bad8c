"""The leaksense demo: a real Flask app on a real WSGI server, a load driver hitting every
route, and leaksense naming the leaking route with its bytes per request.

Exits 0 only when the leak alert fired, a `leak` or `suspects` event carried a report naming
/orders as the top suspect, and no healthy route is named. Time is compressed through the Monitor options (sampling every 200 ms, 1 s floor
buckets and floor points at least 5 s apart for the route model, a 15 s warm-up) so the demo takes about a minute instead of hours."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

import leaksense

HERE = os.path.dirname(os.path.abspath(__file__))
LEAKING = "/orders"
HEALTHY = {"/products/<int:product_id>", "/search", "/health"}
MAX_SECONDS = float(os.environ.get("LEAKSENSE_DEMO_MAX_SECONDS", "150"))
RATE = float(os.environ.get("LEAKSENSE_DEMO_RATE", "120"))  # requests per second

# Hours compressed into seconds; every key is a core option (docs/options.md).
DEMO_OPTIONS: dict[str, Any] = {
    "interval_ms": 200,
    "slot_ms": 1000,
    "detector": {"bucket_secs": 1, "warmup_secs": 15, "min_growth_secs": 15, "for_secs": 5},
    "attribution": {"block_ms": 5000},
    # Off by default (docs/cost.md); on here so the report's `mean Δrss` column shows what a
    # per-request RSS delta would have blamed.
    "rss_per_request": True,
}


def main() -> int:
    sys.path.insert(0, HERE)
    monitor = leaksense.instrument(metrics=False, **DEMO_OPTIONS)
    # A "leak" event comes when the alert fires, a "suspects" event once the core is sure of
    # the suspect routes: the route model names none until the traffic mix tells them apart.
    start = time.monotonic()
    named: list[leaksense.Report] = []
    named_now = threading.Event()
    calls: list[tuple[float, str, int]] = []  # (seconds since start, kind, suspects named)

    def on_event(event: leaksense.Event) -> None:
        report = event.report
        calls.append((time.monotonic() - start, event.kind, len(report.suspects)))
        if report.suspects and not named:
            named.append(report)
            named_now.set()

    monitor.on("leak", on_event)
    monitor.on("suspects", on_event)

    from app import app, leaked_bytes

    WSGIRequestHandler.protocol_version = "HTTP/1.1"  # keep-alive for the load driver
    WSGIRequestHandler.log_request = lambda *a, **k: None  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"demo: Flask app on http://127.0.0.1:{port} (werkzeug, threaded); "
          f"load {RATE:.0f} req/s on /orders, /products/<id>, /search, /health", flush=True)

    load = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "load.py"), str(port), str(MAX_SECONDS), str(RATE)]
    )
    try:
        while not named_now.wait(5):
            a = monitor.analysis()
            rss = monitor.sample()["process"]["rss_bytes"]
            print(f"demo: {time.monotonic() - start:5.0f} s  rss {rss / 2**20:6.1f} MiB  "
                  f"verdict {a['verdict']:<12} alert {a['state']}", flush=True)
            if time.monotonic() - start > MAX_SECONDS or load.poll() is not None:
                break
    finally:
        load.kill()
        load.wait()
        server.shutdown()

    elapsed = time.monotonic() - start
    report = named[0] if named else monitor.report()
    monitor.close()
    when = f"fired after {calls[0][0]:.0f} s" if calls else "did NOT fire"
    got = "; ".join(f"{t:.0f} s: {kind}, {n} suspect(s)" for t, kind, n in calls)
    print(f"\ndemo: alert {when}; events: {got or 'none'}; stopped after {elapsed:.0f} s; "
          f"/orders kept {leaked_bytes() / 2**20:.1f} MiB\n")
    print(report.text)
    names = [s["route"] for s in report.suspects]
    ok = bool(named) and names[:1] == [LEAKING] and not HEALTHY & set(names)
    if ok:
        top = report.suspects[0]
        print(f"demo: OK: {top['route']} retains about {top['retained_bytes_per_request'] / 1024:.1f} KiB "
              f"per request (it keeps 50.0 KiB); no healthy route named")
    else:
        print(f"demo: FAILED: suspects {names} (from an event: {bool(named)}); "
              f"expected an event to name {LEAKING} first and no healthy route")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

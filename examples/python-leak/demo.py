"""The leaksense demo: a real Flask app on a real WSGI server, a load driver hitting every
route, and leaksense naming each leaking route with what it keeps per request.

Exits 0 only when the memory leak (/orders) and the descriptor leak (/invoices/<id>) were each
alerted as their own series (`memory`, `open_fds`) and a report (from an event or polled every
second) named their route first, and no healthy route (the garbage-heavy /exports/<id> among
them) was named by any series at any time. Time is compressed through the Monitor options
(sampling every 200 ms, 1 s floor buckets and floor points at least 5 s apart for the route
model, a 15 s warm-up) so the demo takes a minute or two instead of hours."""

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
# The route each series must name, and the routes none may.
LEAKS = {"memory": "/orders", "open_fds": "/invoices/<int:invoice_id>"}
HEALTHY = {"/products/<int:product_id>", "/exports/<int:batch>", "/search", "/health"}
MAX_SECONDS = float(os.environ.get("LEAKSENSE_DEMO_MAX_SECONDS", "180"))
RATE = float(os.environ.get("LEAKSENSE_DEMO_RATE", "150"))  # requests per second

# Hours compressed into seconds; every key is a core option (docs/options.md).
DEMO_OPTIONS: dict[str, Any] = {
    "interval_ms": 200,
    "slot_ms": 1000,
    "detector": {"bucket_secs": 1, "warmup_secs": 15, "min_growth_secs": 15, "for_secs": 5},
    "attribution": {"block_ms": 5000},
    # The live-heap profile (opt-in in Python): sampled allocations, a snapshot every second.
    "profile": {"enabled": True, "snapshot_every_ms": 1000},
    # Off by default (docs/cost.md); on here so the report's `mean Δrss` column shows what a
    # per-request RSS delta would have blamed.
    "rss_per_request": True,
}


class Watch:
    """What the events and the reports polled every second said: when each series alerted,
    when a report first named its leaking route, and every healthy route any report named."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.alerted: dict[str, float] = {}
        self.named: dict[str, tuple[float, str, leaksense.Report]] = {}
        self.accused: list[str] = []

    def secs(self) -> float:
        return time.monotonic() - self.start

    def look(self, series: str, by: str, report: leaksense.Report) -> None:
        with self.lock:
            for s in report.suspects:
                if s["route"] in HEALTHY:
                    self.accused.append(f"{series}: {s['route']} ({by} at {self.secs():.0f} s)")
            top = report.suspects[0]["route"] if report.suspects else None
            if series not in self.named and report.verdict == "leak" and top == LEAKS[series]:
                self.named[series] = (self.secs(), by, report)
                print(f"demo: {series}: {top} named ({by}) after {self.secs():.0f} s, "
                      f"{per_request(report)}", flush=True)

    def on_event(self, event: leaksense.Event) -> None:
        print(f"demo: event: {event.measure} {event.kind}, "
              f"{len(event.report.suspects)} suspect(s) named", flush=True)
        if event.kind == "leak":
            self.alerted.setdefault(event.measure, self.secs())
        self.look(event.measure, f"{event.kind} event", event.report)

    def done(self) -> bool:
        return all(s in self.alerted and s in self.named for s in LEAKS)


def per_request(report: leaksense.Report) -> str:
    """The top suspect's estimate in the series' unit (IEC bytes, or a count such as
    "1 file descriptor"), printed by the core's formatter."""
    amount = report.suspects[0]["retained_bytes_per_request"]
    return f"{leaksense.format_amount(amount, report.to_dict()['unit'])} per request"


def leaking_line() -> int:
    """The line of app.py that appends to the cache nobody evicts."""
    with open(os.path.join(HERE, "app.py")) as f:
        return next(i for i, line in enumerate(f, 1) if "# BUG: grows forever" in line)


def main() -> int:
    sys.path.insert(0, HERE)
    monitor = leaksense.instrument(metrics=False, **DEMO_OPTIONS)
    # Each series (memory, and each count such as open_fds) has its own alert: a "leak" event
    # comes when it fires, a "suspects" event once the core is sure of the suspect routes (the
    # route model names none until the traffic mix tells them apart). `measure` says which.
    watch = Watch()
    for kind in ("leak", "suspects", "resolved"):
        monitor.on(kind, watch.on_event)

    from app import app, close_files, leaked_bytes, leaked_files

    WSGIRequestHandler.protocol_version = "HTTP/1.1"  # keep-alive for the load driver
    WSGIRequestHandler.log_request = lambda *a, **k: None  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"demo: Flask app on http://127.0.0.1:{port} (werkzeug, threaded); load {RATE:.0f} "
          f"req/s on /orders, /invoices/<id>, /products/<id>, /exports/<id>, /search, /health",
          flush=True)

    load = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "load.py"), str(port), str(MAX_SECONDS), str(RATE)]
    )
    try:
        # Every second: what a user polling the reports during the alert would read.
        while not watch.done() and watch.secs() < MAX_SECONDS and load.poll() is None:
            time.sleep(1)
            for series in LEAKS:
                watch.look(series, "report", monitor.report(series))
            if int(watch.secs()) % 10 == 0:
                a = monitor.analysis()
                rss = monitor.sample()["process"]["rss_bytes"]
                print(f"demo: {watch.secs():5.0f} s  rss {rss / 2**20:6.1f} MiB  "
                      f"verdict {a['verdict']:<12} alert {a['state']}", flush=True)
    finally:
        load.kill()
        load.wait()
        server.shutdown()

    summary = monitor.report()
    monitor.close()
    print(f"\ndemo: stopped after {watch.secs():.0f} s; /orders kept "
          f"{leaked_bytes() / 2**20:.1f} MiB, /invoices/<id> left {leaked_files()} files open\n")
    close_files()
    print(summary.text)
    for accused in watch.accused:
        print(f"demo: healthy route named: {accused}")
    missing = [s for s in LEAKS if s not in watch.alerted or s not in watch.named]
    if missing or watch.accused:
        print(f"demo: FAILED: not alerted and named: {missing or 'none'}; "
              f"healthy routes named: {len(watch.accused)}")
        return 1
    # The live-heap profile of the report that named /orders: its top growing site must be the
    # line that appends to the cache nobody evicts.
    memory = watch.named["memory"][2]
    site = memory.sites[0] if memory.sites else None
    if site is not None:
        print(f"demo: top growing site {site['function']} ({os.path.basename(site['file'])}:"
              f"{site['line']}) +{site['bytes'] / 2**20:.1f} MiB, route {site['route']}")
    if not (site is not None and site["function"] == "create_order"
            and os.path.basename(site["file"]) == "app.py" and site["line"] == leaking_line()):
        print(f"demo: FAILED: the top growing site is not app.py:{leaking_line()} (create_order)")
        return 1
    for series, (t, by, report) in watch.named.items():
        print(f"demo: OK: {series}: {LEAKS[series]} named after {t:.0f} s by the {by} "
              f"(alert after {watch.alerted[series]:.0f} s), {per_request(report)}")
    print("demo: OK: no healthy route named")
    return 0


if __name__ == "__main__":
    sys.exit(main())

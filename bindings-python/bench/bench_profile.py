"""Benchmark: the cost of the live-heap profile's allocation hook, in one run, against no
profiler, tracemalloc with 1 and 16 frames, and the article's two-snapshot middleware.

    python bench/bench_profile.py [--requests 3000] [--repeats 9] [--objects 100000]

Two workloads go through leaksense's WSGI middleware: a trivial request (the request path)
and an allocation-heavy one (builds and serialises 200 rows: about 1,800 allocations). The
variants run round-robin, `--repeats` times each, so that the machine's drift hits them all
alike; the median is reported with its ratio to "off". Then the pauses: what one sampled
allocation costs (the stack capture), and how long a report and a pprof export hold the
profile's lock."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any, Callable

import leaksense
from leaksense import _native
from leaksense._monitor import HEAP_HOOK
from leaksense.middleware import WSGIMiddleware

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_middleware import ArticleMiddleware  # noqa: E402

ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/7"}


def trivial(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    leaksense.set_route("/items/{id}")
    start_response("200 OK", [])
    return [b"ok"]


def heavy(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    leaksense.set_route("/report")
    rows = [{"id": i, "name": f"item {i}", "tags": [i, i + 1, str(i)]} for i in range(200)]
    body = json.dumps(rows).encode()
    start_response("200 OK", [])
    return [body]


def start_response(status: str, headers: list[Any]) -> None:
    pass


def per_request(wsgi: Any, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        wsgi(ENVIRON, start_response)
    return (time.perf_counter() - t0) / n


class Variant:
    """A profiler setting switched on before a timed run and off after it."""

    def __init__(self, name: str, on: Callable[[], None], off: Callable[[], None]) -> None:
        self.name, self.on, self.off = name, on, off


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--article-requests", type=int, default=3)
    args = ap.parse_args()

    heap = [{"i": i} for i in range(args.objects)]
    off = leaksense.Monitor(rss_per_request=False)
    prof = leaksense.Monitor(rss_per_request=False, profile={"enabled": True})
    nothing = lambda: None  # noqa: E731

    def hook(on: bool) -> None:
        # What Monitor.start() and close() do, route tagging included.
        if on:
            prof._native.heap_profile_start()
        else:
            _native.heap_profile_stop()
        HEAP_HOOK[0] = on

    variants = [
        Variant("off (leaksense, no profile)", nothing, nothing),
        Variant("leaksense profile (512 KiB)", lambda: hook(True), lambda: hook(False)),
        Variant("tracemalloc, 1 frame", lambda: tracemalloc.start(1), tracemalloc.stop),
        Variant("tracemalloc, 16 frames", lambda: tracemalloc.start(16), tracemalloc.stop),
    ]
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for v in variants:
            for wname, app in (("request path", trivial), ("allocation-heavy", heavy)):
                mon = prof if v.name.startswith("leaksense profile") else off
                wsgi = WSGIMiddleware(app, mon)
                # A heavy request costs ~100x a trivial one (and ~100x more under tracemalloc).
                n = args.requests if app is trivial else max(50, args.requests // 20)
                v.on()
                try:
                    t = per_request(wsgi, n)
                finally:
                    v.off()
                results.setdefault((v.name, wname), []).append(t)
    # The article's middleware: tracemalloc on for the whole process, two snapshots a request.
    article: dict[str, float] = {}
    for wname, app in (("request path", trivial), ("allocation-heavy", heavy)):
        mw = ArticleMiddleware(WSGIMiddleware(app, off))
        heap = [{"i": i} for i in range(args.objects)]  # traced, as in a service
        article[wname] = per_request(mw, args.article_requests)
        tracemalloc.stop()

    print(f"python {sys.version.split()[0]}, {args.objects} live objects, "
          f"{args.requests} requests x {args.repeats} round-robin repeats (median)")
    print(f"{'variant':<32} {'request path':>14} {'ratio':>7} {'alloc-heavy':>14} {'ratio':>7}")
    base = {w: statistics.median(results[(variants[0].name, w)])
            for w in ("request path", "allocation-heavy")}
    for v in variants:
        cells = []
        for w in ("request path", "allocation-heavy"):
            m = statistics.median(results[(v.name, w)])
            cells.append(f"{m * 1e6:11.2f} µs {m / base[w]:6.3f}x")
        print(f"{v.name:<32} {cells[0]} {cells[1]}")
    cells = [f"{article[w] * 1e6:11.0f} µs {article[w] / base[w]:6.0f}x"
             for w in ("request path", "allocation-heavy")]
    print(f"{'article (2 snapshots/request)':<32} {cells[0]} {cells[1]}")

    # Pauses. One sampled allocation: every allocation sampled (rate 1 byte), minus off.
    every = leaksense.Monitor(rss_per_request=False, profile={"enabled": True, "sample_bytes": 1})
    n = 20_000
    t0 = time.perf_counter()
    for _ in range(n):
        bytearray(64)
    plain = (time.perf_counter() - t0) / n
    every._native.heap_profile_start()
    t0 = time.perf_counter()
    for _ in range(n):
        bytearray(64)
    sampled = (time.perf_counter() - t0) / n
    _native.heap_profile_stop()
    every.close()
    print(f"one sampled allocation (stack capture + record): {(sampled - plain) * 1e6:.2f} µs")
    # Report and export with a populated profile: the lock is held for the growth's summary.
    prof._native.heap_profile_start()
    prof.sample()
    kept = [bytearray(1000) for _ in range(200_000)]
    prof.sample()
    stats = prof.profile_stats()
    assert stats is not None, "the profile is on"
    t0 = time.perf_counter()
    report = prof.report()
    t_report = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        prof.write_pprof(os.path.join(d, "g.pb"), "growth")
        t_pprof = time.perf_counter() - t0
    _native.heap_profile_stop()
    print(f"profile: {stats['stacks']} stacks, {stats['live_blocks']} live sampled blocks, "
          f"{stats['heap_bytes'] / 2**20:.2f} MiB held; top site {report.sites[0]['function']}")
    print(f"report() with the profile: {t_report * 1e3:.2f} ms; write_pprof(growth): "
          f"{t_pprof * 1e3:.2f} ms")
    del kept, heap


if __name__ == "__main__":
    main()

"""Per-request cost of leaksense's WSGI middleware against the alternatives, in one run of
paired rounds: each round times every variant once (in a fresh order), so each ratio compares
figures taken moments apart; the table gives medians over the rounds, and the spread of each
ratio (min-max over the rounds) is the noise. About 100k live objects are on the heap, and
every request runs inside a recording OpenTelemetry span (as under an instrumented server).

    python bench/bench_middleware.py [--rounds 15] [--requests 20000] [--article-requests 5]

Variants: no middleware; leaksense at its defaults; leaksense with every option on; leaksense
counting only (no measure, so no span attribute); the
hand-rolled minimal middleware (two statm preads, a span attribute, a count per route); the
OpenTelemetry WSGI middleware alone, and with leaksense inside it. The article's
two-tracemalloc-snapshot middleware runs last (tracemalloc, once started, slows every
allocation of the process)."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable

from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider

import leaksense
from leaksense.middleware import WSGIMiddleware

ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/items/7",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "wsgi.url_scheme": "http",
    "SERVER_PROTOCOL": "HTTP/1.1",
}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    leaksense.set_route("/items/{id}")
    start_response("200 OK", [])
    return [b"ok"]


def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
    pass


class HandRolled:
    """What a user could write instead: RSS from a kept-open statm at both ends, the delta on
    the span, a count per path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.fd = os.open("/proc/self/statm", os.O_RDONLY)
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.counts: dict[str, int] = {}

    def rss(self) -> int:
        return int(os.pread(self.fd, 64, 0).split()[1]) * self.page

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        before = self.rss()
        response = self.app(environ, start_response)
        trace.get_current_span().set_attribute("memory.rss_delta", self.rss() - before)
        path = environ.get("PATH_INFO", "")
        self.counts[path] = self.counts.get(path, 0) + 1
        return response


class ArticleMiddleware:
    """The article's MemoryTrackingMiddleware, verbatim apart from the class name."""

    def __init__(self, app: Any) -> None:
        self.app = app
        tracemalloc.start()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        span = trace.get_current_span()
        snapshot_before = tracemalloc.take_snapshot()
        before_size = sum(stat.size for stat in snapshot_before.statistics("filename"))
        response = self.app(environ, start_response)
        snapshot_after = tracemalloc.take_snapshot()
        after_size = sum(stat.size for stat in snapshot_after.statistics("filename"))
        memory_delta = after_size - before_size
        span.set_attribute("memory.allocated_bytes", memory_delta)
        if memory_delta > 1_000_000:
            top_stats = snapshot_after.compare_to(snapshot_before, "filename")
            for i, stat in enumerate(top_stats[:5]):
                span.set_attribute(f"memory.top_allocator.{i}.file", str(stat.traceback))
                span.set_attribute(f"memory.top_allocator.{i}.size_bytes", stat.size_diff)
        return response


def per_request(wsgi: Any, n: int) -> float:
    """Mean seconds per request over `n` requests."""
    t0 = time.perf_counter()
    for _ in range(n):
        wsgi(ENVIRON, start_response)
    return (time.perf_counter() - t0) / n


def spread(xs: list[float]) -> str:
    return f"[{min(xs):.3f}..{max(xs):.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--article-requests", type=int, default=5)
    args = ap.parse_args()

    provider = TracerProvider()
    tracer = provider.get_tracer("bench")
    heap = [{"i": i} for i in range(args.objects)]
    defaults = leaksense.Monitor()
    every = leaksense.Monitor(measures=["gc_count", "allocated_blocks"], rss_per_request=True)
    on_top = leaksense.Monitor()
    # No measure, so no span attribute: leaksense's own part of the default's cost (the rest is
    # the OpenTelemetry SDK's set_attribute on a recording span).
    counts_only = leaksense.Monitor(measures=[])
    otel = OpenTelemetryMiddleware(app, tracer_provider=provider)
    variants: dict[str, Any] = {
        "no middleware": app,
        "leaksense defaults": WSGIMiddleware(app, defaults),
        "leaksense every option": WSGIMiddleware(app, every),
        "leaksense counts only (measures=[])": WSGIMiddleware(app, counts_only),
        "hand-rolled (statm pread x2)": HandRolled(app),
        "OTel WSGI middleware": otel,
        "OTel WSGI + leaksense defaults": OpenTelemetryMiddleware(
            WSGIMiddleware(app, on_top), tracer_provider=provider
        ),
    }
    # every option reads sys.getallocatedblocks(): fewer requests keep its rounds short
    counts = {name: args.requests for name in variants}
    counts["leaksense every option"] = max(1, args.requests // 20)
    times: dict[str, list[float]] = {name: [] for name in variants}
    rng = random.Random(1)
    with tracer.start_as_current_span("request"):
        for wsgi in variants.values():
            per_request(wsgi, 1000)  # warm-up: route ids, caches
        for _ in range(args.rounds):
            order = list(variants)
            rng.shuffle(order)
            for name in order:
                times[name].append(per_request(variants[name], counts[name]))
        article = ArticleMiddleware(app)
        # The article starts tracemalloc when the app is built, so the live heap (built after)
        # is traced, as it would be in a service: rebuild it once tracing is on.
        heap = [{"i": i} for i in range(args.objects)]
        article_s = statistics.median(per_request(article, args.article_requests) for _ in range(3))
        traced = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del heap

    rounds = args.rounds
    base = times["no middleware"]
    added = {n: [t - b for t, b in zip(ts, base)] for n, ts in times.items()}
    print(
        f"python {sys.version.split()[0]}, {args.objects} live objects, recording span, "
        f"{rounds} paired rounds of {args.requests} requests; medians"
    )
    print(f"{'variant':<38} {'per request':>12} {'added':>10}   added, min..max over rounds")
    for name, ts in times.items():
        a = added[name]
        tail = "" if name == "no middleware" else f"{statistics.median(a) * 1e6:7.2f} µs   [{min(a) * 1e6:.2f}..{max(a) * 1e6:.2f}]"
        print(f"{name:<38} {statistics.median(ts) * 1e6:9.2f} µs {tail}")

    def ratio(a: str, b: str) -> None:
        r = [x / y for x, y in zip(added[a], added[b])]
        print(f"added {a} / added {b}: {statistics.median(r):.3f} {spread(r)}")

    ratio("leaksense defaults", "hand-rolled (statm pread x2)")
    ratio("leaksense counts only (measures=[])", "hand-rolled (statm pread x2)")
    ratio("leaksense every option", "hand-rolled (statm pread x2)")
    over = [
        (x - y) / y
        for x, y in zip(times["OTel WSGI + leaksense defaults"], times["OTel WSGI middleware"])
    ]
    print(
        f"leaksense on top of the OTel WSGI middleware: +{statistics.median(over) * 100:.1f}% "
        f"of its cost {spread([o * 100 for o in over])} %"
    )
    art = article_s - statistics.median(base)
    print(
        f"article (2 tracemalloc snapshots, {traced / 2**20:.1f} MiB traced): {article_s * 1e6:,.0f} µs "
        f"per request; added / leaksense defaults added: {art / statistics.median(added['leaksense defaults']):,.0f}x"
    )
    for m in (defaults, every, on_top, counts_only):
        m.close()


if __name__ == "__main__":
    main()

"""Benchmark (a): added cost per request of leaksense's WSGI middleware, against no
middleware and against the article's two-tracemalloc-snapshot middleware, in one run, with
about 100k live objects on the heap and a recording OpenTelemetry span.

    python bench/bench_middleware.py [--objects 100000] [--requests 20000] [--article-requests 5]

Prints the median cost per request of each variant, the added cost over no middleware,
and the ratios. The article variant runs last because tracemalloc, once started, slows
every allocation of the process."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

import leaksense
from leaksense.middleware import WSGIMiddleware

ENVIRON = {"REQUEST_METHOD": "GET", "PATH_INFO": "/items/7"}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    leaksense.set_route("/items/{id}")
    start_response("200 OK", [])
    return [b"ok"]


def start_response(status: str, headers: list[Any]) -> None:
    pass


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


def per_request(wsgi: Any, n: int, repeats: int) -> float:
    """Median over `repeats` runs of the mean seconds per request over `n` requests."""
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            wsgi(ENVIRON, start_response)
        runs.append((time.perf_counter() - t0) / n)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--article-requests", type=int, default=5)
    args = ap.parse_args()

    tracer = TracerProvider().get_tracer("bench")
    variants: dict[str, float] = {}
    heap = [{"i": i} for i in range(args.objects)]
    with tracer.start_as_current_span("request"):
        rss_only = leaksense.Monitor()
        blocks = leaksense.Monitor(measures=["allocated_blocks"])
        counts = leaksense.Monitor(rss_per_request=False)
        variants["no middleware"] = per_request(app, args.requests, args.repeats)
        variants["leaksense (rss)"] = per_request(
            WSGIMiddleware(app, rss_only), args.requests, args.repeats
        )
        variants["leaksense (counts only)"] = per_request(
            WSGIMiddleware(app, counts), args.requests, args.repeats
        )
        variants["leaksense (rss + allocated_blocks)"] = per_request(
            WSGIMiddleware(app, blocks), args.requests, args.repeats
        )
        # The article starts tracemalloc when the app is built, so the live heap (built
        # after) is traced, as it would be in a service: rebuild it once tracing is on.
        article = ArticleMiddleware(app)
        heap = [{"i": i} for i in range(args.objects)]
        variants["article (2 tracemalloc snapshots)"] = per_request(
            article, args.article_requests, 3
        )
        traced = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del heap

    base = variants["no middleware"]
    print(f"python {sys.version.split()[0]}, {args.objects} live objects "
          f"({traced / 2**20:.1f} MiB traced for the article variant), recording span")
    print(f"{'variant':<38} {'per request':>14} {'added':>14}")
    for name, v in variants.items():
        added = "" if name == "no middleware" else f"{(v - base) * 1e6:11.2f} µs"
        print(f"{name:<38} {v * 1e6:11.2f} µs {added:>14}")
    ls = variants["leaksense (rss)"] - base
    art = variants["article (2 tracemalloc snapshots)"] - base
    print(f"article added / leaksense (rss) added: {art / ls:,.0f}x")
    lc = variants["leaksense (counts only)"] - base
    print(f"article added / leaksense (counts only) added: {art / lc:,.0f}x")
    lb = variants["leaksense (rss + allocated_blocks)"] - base
    print(f"article added / leaksense (rss + allocated_blocks) added: {art / lb:,.0f}x")


if __name__ == "__main__":
    main()

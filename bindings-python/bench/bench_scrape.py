"""Benchmark (b): one full metrics scrape (InMemoryMetricReader collect) at about 1M live
objects, in one run: leaksense's default runtime metrics, against
opentelemetry-instrumentation-system-metrics (its defaults) and against the article's
callbacks (psutil RSS, len(gc.get_objects()), GC collections, top-10 type census).

    python bench/bench_scrape.py [--objects 1000000] [--scrapes 200] [--article-scrapes 5]

Each variant has its own MeterProvider; an empty provider gives the SDK's own cost."""

from __future__ import annotations

import argparse
import collections
import gc
import os
import statistics
import sys
import time
from typing import Any, Iterable

import psutil  # type: ignore[import-untyped]
from opentelemetry import metrics
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import leaksense
from leaksense.metrics import register_metrics


def article_metrics(provider: MeterProvider) -> None:
    """The article's memory_metrics.py, on `provider` instead of the global one."""
    meter = provider.get_meter("memory-diagnostics")
    process = psutil.Process(os.getpid())

    def get_rss(options: CallbackOptions) -> Iterable[Observation]:
        yield metrics.Observation(process.memory_info().rss, {})

    def get_gc_objects(options: CallbackOptions) -> Iterable[Observation]:
        yield metrics.Observation(len(gc.get_objects()), {})

    def get_gc_collections(options: CallbackOptions) -> Iterable[Observation]:
        for i, stat in enumerate(gc.get_stats()):
            yield metrics.Observation(stat["collections"], {"gc.generation": str(i)})

    def get_type_counts(options: CallbackOptions) -> Iterable[Observation]:
        type_counts = collections.Counter(type(obj).__name__ for obj in gc.get_objects())
        for type_name, count in type_counts.most_common(10):
            yield metrics.Observation(count, {"python.object_type": type_name})

    meter.create_observable_gauge("process.runtime.python.memory.rss", [get_rss], "By")
    meter.create_observable_gauge("process.runtime.python.gc.objects", [get_gc_objects], "1")
    meter.create_observable_counter(
        "process.runtime.python.gc.collections", [get_gc_collections], "1"
    )
    meter.create_observable_gauge(
        "process.runtime.python.gc.objects.by_type", [get_type_counts], "1"
    )


def scrape_time(reader: InMemoryMetricReader, n: int) -> tuple[float, int]:
    """Median seconds of one collect over `n` scrapes, and the number of points scraped."""
    times = []
    points = 0
    for _ in range(n):
        t0 = time.perf_counter()
        data = reader.get_metrics_data()
        times.append(time.perf_counter() - t0)
    if data is not None:
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points += len(list(m.data.data_points))
    return statistics.median(times), points


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--scrapes", type=int, default=200)
    ap.add_argument("--article-scrapes", type=int, default=5)
    args = ap.parse_args()

    heap: list[Any] = [[i] for i in range(args.objects)]  # lists: tracked by the GC
    gc.collect()
    monitor = leaksense.Monitor()
    results: dict[str, tuple[float, int]] = {}

    def variant(name: str, setup: Any, n: int) -> None:
        reader = InMemoryMetricReader()
        provider = MeterProvider(metric_readers=[reader])
        setup(provider)
        reader.get_metrics_data()  # first scrape creates the streams
        results[name] = scrape_time(reader, n)

    variant("empty provider (SDK cost)", lambda p: None, args.scrapes)
    registered: list[Any] = []
    variant(
        "leaksense default",
        lambda p: registered.append(register_metrics(monitor, p)),
        args.scrapes,
    )
    # leaksense's own callbacks, without the SDK's aggregation around them.
    callbacks = list(registered[0].callbacks.values())
    times = []
    for _ in range(args.scrapes):
        t0 = time.perf_counter()
        for cb in callbacks:
            list(cb(CallbackOptions()))
        times.append(time.perf_counter() - t0)
    results["leaksense callbacks alone"] = (statistics.median(times), 0)
    # The goal's yardstick, paired with the callbacks round by round: psutil's memory_info()
    # alone (one RSS figure, without any OpenTelemetry work).
    process = psutil.Process(os.getpid())
    ours, theirs = [], []
    for _ in range(args.scrapes):
        t0 = time.perf_counter()
        for cb in callbacks:
            list(cb(CallbackOptions()))
        t1 = time.perf_counter()
        process.memory_info()
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
    ratios = sorted(a / b for a, b in zip(ours, theirs))
    results["psutil memory_info() alone"] = (statistics.median(theirs), 0)
    variant("system-metrics instrumentation", lambda p: SystemMetricsInstrumentor().instrument(meter_provider=p), args.scrapes)
    variant("article callbacks", article_metrics, args.article_scrapes)
    monitor.close()

    print(f"python {sys.version.split()[0]}, {len(gc.get_objects()):,} GC-tracked objects")
    print(f"{'variant':<34} {'one scrape':>14} {'points':>7}")
    for name, (t, pts) in results.items():
        print(f"{name:<34} {t * 1e6:11.1f} µs {pts:>7}")
    ls = results["leaksense default"][0]
    print(f"leaksense callbacks / psutil memory_info(), paired: {statistics.median(ratios):.2f} "
          f"[{ratios[len(ratios) // 10]:.2f}..{ratios[-1 - len(ratios) // 10]:.2f} (10th..90th percentile)]")
    print(f"article / leaksense: {results['article callbacks'][0] / ls:,.0f}x; "
          f"system-metrics / leaksense: {results['system-metrics instrumentation'][0] / ls:.1f}x")
    del heap


if __name__ == "__main__":
    main()

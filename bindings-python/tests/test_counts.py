"""Counts watched beside memory: Python threads (fed by the monitor's watcher thread) and open
file descriptors (counted by the core), each with its own alert, events, report and gauge."""

import random
import threading
import time

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import leaksense
from leaksense.metrics import register_metrics

# Compressed time: 1 s buckets and request slots, 5 s attribution blocks.
FAST = {
    "rss_per_request": False,
    "slot_ms": 1000,
    "detector": {"bucket_secs": 1, "warmup_secs": 10, "min_growth_secs": 10, "for_secs": 3},
    "attribution": {"block_ms": 5000},
}


def wait_for(cond, what, limit=20.0):
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def lines(m):
    return {line["series"]: line for line in m.report().to_dict()["counts"]}


def test_threads_and_descriptors_are_read_while_the_monitor_runs():
    m = leaksense.Monitor(interval_ms=10)
    assert m.counts == ["open_fds", "threads"]
    assert lines(m) == {}, "nothing read before start"
    stop = threading.Event()
    extra = [threading.Thread(target=stop.wait) for _ in range(5)]
    base = threading.active_count()
    m.start()
    try:
        for t in extra:
            t.start()
        # The five, the watcher thread, and whatever ran before.
        wait_for(lambda: lines(m).get("threads", {}).get("value", 0) >= base + 5, "threads")
        wait_for(lambda: "open_fds" in lines(m), "descriptors")
        fds = lines(m)["open_fds"]
        assert fds["unit"] == "{file_descriptor}" and fds["value"] >= 3
        assert fds["limit"] is None or fds["limit"] >= fds["value"]
        gauges = dict(m._native.gauges())
        assert gauges["cpython.threads"] >= base + 5
        assert gauges["process.open_fds"] >= 3
        own = m.report("threads")
        assert own.to_dict()["series"] == "threads" and own.to_dict()["unit"] == "{thread}"
        assert "counts\n  open_fds" in m.report().text
    finally:
        stop.set()
        for t in extra:
            t.join()
        m.close()


def test_without_counts_nothing_is_read():
    m = leaksense.Monitor(interval_ms=10, counts=[])
    m.start()
    time.sleep(0.1)
    assert lines(m) == {}
    assert not any(k in dict(m._native.gauges()) for k in ("cpython.threads", "process.open_fds"))
    m.close()


@pytest.mark.parametrize(
    "options",
    [
        {"counts": ["goroutines"]},
        {"counts": ["threads", "threads"]},
        {"counts": ["sockets"]},
        {"count_detector": {"kind": "heap"}},
        {"count_detector": {"limit": 3}},
    ],
)
def test_bad_count_options_are_typed_errors(options):
    with pytest.raises(leaksense.InvalidOptionError):
        leaksense.Monitor(**options)


def test_bad_count_readings_are_typed_errors():
    m = leaksense.Monitor(**FAST)
    m.observe_count("threads", 100.0, 4)
    with pytest.raises(leaksense.InvalidOptionError):
        m.observe_count("goroutines", 101.0, 4)
    with pytest.raises(leaksense.NonFiniteValueError):
        m.observe_count("threads", 101.0, float("nan"))
    with pytest.raises(leaksense.OutOfOrderError):
        m.observe_count("threads", 99.0, 4)
    with pytest.raises(leaksense.InvalidOptionError):
        m.report("sockets")
    m.close()
    with pytest.raises(leaksense.ClosedError):
        m.observe_count("threads", 200.0, 4)


def thread_leak_steps(seconds=150, leak_from=30.0):
    """A service whose /jobs route leaves a thread per request from `leak_from` s on, while
    /upload holds one for each running upload (2 s) and /ok none; route mixes change every
    10 s. Memory stays flat."""
    rng = random.Random(5)
    t0, leaked, uploads = 1_700_000_000_000, 0, []
    rates = (3, 2, 2)
    steps = []
    for i in range(seconds * 4):
        t = i / 4
        if i % 40 == 0:
            rates = (rng.randint(1, 7), rng.randint(0, 3), rng.randint(1, 3))
        uploads = [end for end in uploads if end > t] + [t + 2.0] * rates[2]
        requests = {"/ok": rates[0], "/upload": rates[2]}
        if t >= leak_from:
            requests["/jobs"] = rates[1]
            leaked += rates[1]
        steps.append(
            {
                "ts_ms": t0 + i * 250,
                "requests": requests,
                "baseline": 50e6 + rng.random() * 1e5,
                "counts": {"threads": 8 + leaked + len(uploads) + rng.randint(0, 2)},
            }
        )
    return steps


def test_a_thread_leak_alerts_as_threads_and_names_its_route():
    m = leaksense.Monitor(**FAST)
    events = []
    for step in thread_leak_steps():
        m.replay([step])
        events.extend(m.poll())
    kinds = [(e.kind, e.measure) for e in events]
    assert ("leak", "threads") in kinds, kinds
    assert all(e.measure == "threads" for e in events), kinds
    named = next(e for e in events if e.kind == "suspects")
    assert [s["route"] for s in named.report.suspects] == ["/jobs"], named.report.text
    assert abs(named.report.suspects[0]["retained_bytes_per_request"] - 1.0) < 0.15
    per_request = named.report.suspects[0]["retained_bytes_per_request"]
    assert f"{leaksense.format_amount(per_request, '{thread}')} per request" in named.report.text
    line = lines(m)["threads"]
    assert line["verdict"] == "leak" and line["suspects"][0]["route"] == "/jobs"
    assert m.report().verdict == "healthy", "memory is flat"


def test_count_gauges_are_exported_under_the_catalog_names():
    m = leaksense.Monitor(interval_ms=10)
    reader = InMemoryMetricReader()
    register_metrics(m, MeterProvider(metric_readers=[reader]))
    m.start()
    try:
        wait_for(lambda: {"open_fds", "threads"} <= set(lines(m)), "both counts")
        data = reader.get_metrics_data()
        points = {
            metric.name: metric.data.data_points[0].value
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
            if metric.data.data_points
        }
        assert points["process.unix.file_descriptor.count"] >= 3
        assert points["leaksense.cpython.thread.count"] >= 2
    finally:
        m.close()

"""Runtime metrics on the OpenTelemetry SDK, named from the core catalog."""

import gc

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import leaksense
from leaksense import _native
from leaksense.metrics import register_metrics


def collect(reader):
    out = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                out[m.name] = m
    return out


@pytest.fixture
def monitor():
    m = leaksense.Monitor()
    yield m
    m.close()


@pytest.mark.parametrize("naming", ["semconv", "legacy"])
def test_names_units_and_values_follow_the_catalog(naming):
    m = leaksense.Monitor(naming=naming)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    rt = register_metrics(m, provider)
    # The counts' gauges read the core's latest reading (the running monitor feeds them).
    m.observe_count("open_fds", 1_700_000_000.0, 5)
    m.observe_count("threads", 1_700_000_000.0, 2)
    try:
        before = sum(s["collections"] for s in gc.get_stats())
        got = collect(reader)
        expected = {
            c["name"]: c
            for c in leaksense.catalog("python", naming)
            if not c["deep"]
        }
        # Detector gauges have no value before the detector has an estimate; container rows
        # have one only where the cgroup reports it (the OOM-kill count is cgroup v2 only).
        optional = {"memory.limit", "memory.baseline", "memory.growth_rate", "memory.time_to_limit"}
        usage, oom_kills = m._native.memory()[3:]
        required = {"container.memory.usage": usage, "container.memory.oom_kills": oom_kills}
        optional |= {key for key, v in required.items() if v is None}
        for name, c in expected.items():
            if c["key"] in optional and name not in got:
                continue
            assert name in got, f"{name} missing; got {sorted(got)}"
            assert got[name].unit == c["unit"]
            assert got[name].description == c["description"]
        rss = got[expected_name("process.memory.usage", naming)]
        assert rss.data.data_points[0].value > 10_000_000
        peak = got[expected_name("process.memory.peak", naming)]
        assert peak.data.data_points[0].value >= rss.data.data_points[0].value // 2
        if usage is not None:
            # The cgroup holds this process, so its usage covers a good part of our RSS.
            in_cgroup = got[expected_name("container.memory.usage", naming)]
            assert in_cgroup.data.data_points[0].value >= rss.data.data_points[0].value // 2
        gen_attr = next(c for c in leaksense.catalog("python", naming) if c["key"] == "cpython.gc.collections")
        points = got[gen_attr["name"]].data.data_points
        assert sorted(p.attributes[gen_attr["attributes"][0]] for p in points) == [0, 1, 2]
        # A collection may run between the scrape and this line: bound it on both sides.
        scraped = sum(p.value for p in points)
        assert before <= scraped <= sum(s["collections"] for s in gc.get_stats())
        for c in leaksense.catalog("python", naming):
            if c["deep"]:
                assert c["name"] not in got, "O(heap) metrics only in deep mode"
    finally:
        rt.close()
        m.close()


class _Counting:
    """The native monitor, counting the calls a scrape makes."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = {}

    def __getattr__(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1
        return getattr(self.inner, name)


def test_a_scrape_reads_each_source_once(monkeypatch):
    m = leaksense.Monitor()
    reader = InMemoryMetricReader()
    rt = register_metrics(m, MeterProvider(metric_readers=[reader]))
    stats = []
    real = gc.get_stats
    monkeypatch.setattr(gc, "get_stats", lambda: stats.append(1) or real())
    counting = _Counting(m._native)
    m._native = counting
    try:
        for n in (1, 2):
            got = collect(reader)
            assert len(stats) == n, "one gc.get_stats() per scrape"
            assert counting.calls == {"memory": n, "gauges": n}, counting.calls
        state = expected_name("detector.state", "semconv")
        assert {"process.memory.usage", "cpython.gc.collections", state} <= set(got)
        assert m.analysis()["samples"] == 0, "a scrape does not feed the detector"
        m.close()
        # A closed monitor still has process memory, and no detector gauges.
        got = collect(reader)
        assert got["process.memory.usage"].data.data_points[0].value > 1_000_000
        assert state not in got or not list(got[state].data.data_points)
    finally:
        rt.close()
        m.close()


def expected_name(key, naming):
    return next(c["name"] for c in leaksense.catalog("python", naming) if c["key"] == key)


def test_legacy_naming_gives_the_article_names():
    names = {c["name"] for c in leaksense.catalog("python", "legacy")}
    assert "process.runtime.python.memory.rss" in names
    assert "process.runtime.python.gc.collections" in names
    assert "process.runtime.python.gc.objects" in names


def test_deep_mode_adds_the_census(monitor):
    reader = InMemoryMetricReader()
    rt = register_metrics(monitor, MeterProvider(metric_readers=[reader]), deep=True)
    try:
        got = collect(reader)
        objects = got["leaksense.cpython.gc.objects"].data.data_points[0].value
        assert objects > 1000
        by_type = got["leaksense.cpython.gc.objects.by_type"].data.data_points
        assert 1 <= len(by_type) <= 10
        assert got["leaksense.cpython.memory.allocated_blocks"].data.data_points[0].value > 1000
        assert all("python.object_type" in p.attributes for p in by_type)
    finally:
        rt.close()


def test_full_collections_feed_the_gc_baseline_when_asked():
    monitor = leaksense.Monitor(heap=True)
    reader = InMemoryMetricReader()
    rt = register_metrics(monitor, MeterProvider(metric_readers=[reader]))
    try:
        assert monitor.watched == "rss"
        gc.collect(1)
        assert rt.last_gc_baseline is None, "only full collections count"
        gc.collect()
        assert rt.last_gc_baseline is not None and rt.last_gc_baseline > 1e6
        assert monitor.watched == "runtime_baseline"
        assert monitor.analysis()["samples"] == 1
    finally:
        rt.close()
        monitor.close()
    n = len(gc.callbacks)
    rt.close()
    assert len(gc.callbacks) == n


def test_without_heap_the_detector_keeps_watching_rss(monitor):
    assert monitor.config["heap"] is False, "the Python preset"
    rt = register_metrics(monitor, MeterProvider(metric_readers=[InMemoryMetricReader()]))
    try:
        gc.collect()
        assert rt.last_gc_baseline is not None
        assert monitor.watched == "rss"
    finally:
        rt.close()


def test_instrument_registers_on_the_given_provider():
    reader = InMemoryMetricReader()
    hooks = len(gc.callbacks)
    m = leaksense.instrument(meter_provider=MeterProvider(metric_readers=[reader]), interval_ms=50)
    try:
        assert "process.memory.usage" in collect(reader)
        assert len(gc.callbacks) == hooks + 1
    finally:
        m.close()
        leaksense.set_default_monitor(None)
    assert len(gc.callbacks) == hooks, "close() unhooks the gc callback"

"""Runtime metrics on the host's OpenTelemetry MeterProvider, named by the core catalog."""

from __future__ import annotations

import gc
import sys
import time
from collections import Counter
from typing import Any, Callable, Iterable, Optional

from opentelemetry import metrics as otel_metrics
from opentelemetry.metrics import CallbackOptions, Observation

from leaksense import _native
from leaksense._errors import ClosedError, LeakSenseError
from leaksense._monitor import Monitor


class RuntimeMetrics:
    """The registered instruments and the gc callback; `close()` unhooks the callback."""

    def __init__(
        self,
        monitor: Monitor,
        instruments: dict[str, Any],
        callbacks: dict[str, Callable[[CallbackOptions], Iterable[Observation]]],
        gc_hook: Optional[Callable[..., None]],
    ) -> None:
        self.monitor = monitor
        self.instruments = instruments
        # The observable callbacks by catalog key (what one scrape calls).
        self.callbacks = callbacks
        self._gc_hook = gc_hook
        self.last_gc_baseline: Optional[float] = None

    def close(self) -> None:
        """Removes the gc callback (instruments stay on the provider, as OTel has no unregister)."""
        if self._gc_hook is not None and self._gc_hook in gc.callbacks:
            gc.callbacks.remove(self._gc_hook)
        self._gc_hook = None


def register_metrics(
    monitor: Monitor,
    meter_provider: Any = None,
    *,
    deep: bool = False,
    deep_min_interval_s: float = 60.0,
) -> RuntimeMetrics:
    """Registers process, detector, count and CPython metrics for `monitor` on `meter_provider`
    (the global one if None), under the catalog names of the monitor's `naming`. With the
    monitor's `heap` option, the detector is fed the process RSS read at the end of every full
    collection instead of the core's periodic RSS samples (see `_gc_callback`).

    deep: also the article's O(heap) object census (`len(gc.get_objects())`, top-10 types),
    recomputed at most once per `deep_min_interval_s`."""
    provider = meter_provider or otel_metrics.get_meter_provider()
    meter = provider.get_meter("leaksense", "0.1.0")
    probe = _native.ProcessProbe()
    naming = monitor.config["naming"]
    gc_baseline = monitor.config["heap"]

    scrape = _Scrape(monitor, probe)

    def detector_gauge(key: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def cb(_: CallbackOptions) -> Iterable[Observation]:
            v = scrape.gauges.get(key)
            return [] if v is None else [Observation(v)]

        return cb

    def gc_stats(stat: str, attr: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def cb(_: CallbackOptions) -> Iterable[Observation]:
            return [Observation(s[stat], {attr: g}) for g, s in enumerate(scrape.gc_stats)]

        return cb

    def gc_pending(attr: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def cb(_: CallbackOptions) -> Iterable[Observation]:
            return [Observation(c, {attr: g}) for g, c in enumerate(scrape.gc_count)]

        return cb

    def memory_value(index: int) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def cb(_: CallbackOptions) -> Iterable[Observation]:
            v = scrape.memory[index]
            return [] if v is None else [Observation(v)]

        return cb

    census = _Census(deep_min_interval_s)
    callbacks: dict[str, Callable[[str], Callable[[CallbackOptions], Iterable[Observation]]]] = {
        "process.memory.usage": lambda a: memory_value(0),
        "process.memory.virtual": lambda a: memory_value(1),
        "process.memory.peak": lambda a: memory_value(2),
        "container.memory.usage": lambda a: memory_value(3),
        "container.memory.oom_kills": lambda a: memory_value(4),
        "cpython.gc.collections": lambda a: gc_stats("collections", a),
        "cpython.gc.collected_objects": lambda a: gc_stats("collected", a),
        "cpython.gc.uncollectable_objects": lambda a: gc_stats("uncollectable", a),
        "cpython.gc.pending": gc_pending,
        "cpython.allocated_blocks": lambda a: lambda _: [Observation(sys.getallocatedblocks())],
        "cpython.gc.objects": lambda a: lambda _: [Observation(census.read()[0])],
        "cpython.gc.objects.by_type": lambda a: lambda _: [
            Observation(n, {a: t}) for t, n in census.read()[1]
        ],
    }
    create = {
        "ObservableCounter": meter.create_observable_counter,
        "ObservableUpDownCounter": meter.create_observable_up_down_counter,
        "ObservableGauge": meter.create_observable_gauge,
    }
    instruments: dict[str, Any] = {}
    registered: dict[str, Callable[[CallbackOptions], Iterable[Observation]]] = {}
    # The core's gauges: the detector's, and the latest reading of each watched count
    # (descriptors, threads), which is what the count detectors see.
    core_gauges = {k for k, _ in monitor._native.gauges()}
    for m in _native.catalog("python", naming):
        if m["deep"] and not deep:
            continue
        attr = m["attributes"][0] if m["attributes"] else ""
        key = m["key"]
        if key in core_gauges:
            cb = detector_gauge(key)
        elif key in callbacks:
            cb = callbacks[key](attr)
        else:
            continue  # a count the monitor does not watch: nothing reads it
        if not registered:
            cb = scrape.opening(cb)
        registered[m["key"]] = cb
        instruments[m["key"]] = create[m["kind"]](
            m["name"], callbacks=[cb], unit=m["unit"], description=m["description"]
        )

    result = RuntimeMetrics(monitor, instruments, registered, None)

    def _gc_callback(phase: str, info: dict[str, int]) -> None:
        # The baseline is the process RSS read when a full (generation 2) collection stops.
        # CPython frees most garbage at once by reference counting; a full collection also
        # frees the cyclic garbage, so RSS right after it is the process's floor for what is
        # really alive, in bytes comparable with the memory limit. sys.getallocatedblocks()
        # would count blocks, not bytes, and misses buffers over 512 bytes (malloc'd directly,
        # the usual payload of a leak); tracemalloc is far too costly to leave on.
        if phase != "stop" or info.get("generation") != 2:
            return
        rss = float(probe.read()[0])
        result.last_gc_baseline = rss
        if gc_baseline and not monitor.closed:
            try:
                monitor.observe_baseline(time.time(), rss)
            except LeakSenseError:
                pass  # two full collections in one millisecond: keep the first

    gc.callbacks.append(_gc_callback)
    result._gc_hook = _gc_callback
    return result


class _Scrape:
    """Each source read once per scrape: the callback of the first instrument registered reads
    them all (one core call for process and container memory, one `gc.get_stats()`, one
    `gc.get_count()`, the detector's gauges) and every other callback takes what it read. The
    OpenTelemetry SDK calls an instrument's callbacks in registration order on every
    collection, so the first one runs first; if it did not, a callback would see the previous
    scrape's figures, never a wrong metric."""

    def __init__(self, monitor: Monitor, probe: Any) -> None:
        self._monitor = monitor
        self._probe = probe
        self.memory: tuple[Optional[int], ...] = (None,) * 5
        self.gc_stats: list[dict[str, int]] = []
        self.gc_count: tuple[int, int, int] = (0, 0, 0)
        self.gauges: dict[str, Optional[float]] = {}

    def read(self) -> None:
        native = self._monitor._native
        try:
            self.memory = native.memory()
            self.gauges = dict(native.gauges())
        except ClosedError:
            # A closed monitor has no detector; process memory still reads.
            rss, vms = self._probe.read()
            self.memory = (rss, vms, None, None, None)
            self.gauges = {}
        self.gc_stats = gc.get_stats()
        self.gc_count = gc.get_count()

    def opening(
        self, cb: Callable[[CallbackOptions], Iterable[Observation]]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def opener(options: CallbackOptions) -> Iterable[Observation]:
            self.read()
            return cb(options)

        return opener


class _Census:
    """The article's O(heap) object census, rate-limited: at most once per `min_interval_s`."""

    def __init__(self, min_interval_s: float) -> None:
        self.min_interval_s = min_interval_s
        self._at = float("-inf")
        self._value: tuple[int, list[tuple[str, int]]] = (0, [])

    def read(self) -> tuple[int, list[tuple[str, int]]]:
        now = time.monotonic()
        if now - self._at >= self.min_interval_s:
            objs = gc.get_objects()
            top = Counter(type(o).__name__ for o in objs).most_common(10)
            self._value = (len(objs), top)
            self._at = now
            del objs
        return self._value

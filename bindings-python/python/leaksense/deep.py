"""Deep mode: the article's tracemalloc top allocators, but only on sampled requests.

tracemalloc is started when a sampled request begins and stopped when it ends, so the
snapshot holds only blocks allocated during that request and still alive at its end: what
the request retained, at a cost proportional to its own allocations rather than to the heap
(the article's two full snapshots per request cost about 1.5 s at 100k objects,
bench/bench_middleware.py). tracemalloc is process-wide: allocations of other threads during
a sampled request are traced too, so use the result as a lead, not a measurement."""

from __future__ import annotations

import threading
import time
import tracemalloc
from typing import Any, Optional

from leaksense._errors import InvalidOptionError


class DeepMode:
    """Samples 1 request in `every`, at most one at a time, spending at most `budget` of the
    wall time (tracemalloc slows every allocation while it runs). When a sampled request
    retains more than `threshold_bytes`, its `top` allocators go on the span under the
    article's names (`memory.top_allocator.{i}.file` / `.size_bytes`)."""

    def __init__(
        self,
        every: int = 100,
        budget: float = 0.01,
        threshold_bytes: int = 100_000,
        top: int = 5,
    ) -> None:
        if every < 1:
            raise InvalidOptionError(f"invalid option `every`: {every} must be >= 1")
        if not 0.0 < budget <= 1.0:
            raise InvalidOptionError(f"invalid option `budget`: {budget} must be in (0, 1]")
        if threshold_bytes < 0 or top < 1:
            raise InvalidOptionError("invalid option: threshold_bytes >= 0 and top >= 1")
        self.every, self.budget, self.threshold_bytes, self.top = every, budget, threshold_bytes, top
        self._lock = threading.Lock()
        self._seen = 0
        self._active = False
        self._started = time.monotonic()
        self._spent = 0.0
        self.sampled = 0  # requests traced so far
        self.reported = 0  # of which passed the threshold

    def begin(self) -> Optional[float]:
        """Decides whether this request is sampled; if so starts tracing and returns the time."""
        with self._lock:
            self._seen += 1
            if self._active or self._seen % self.every:
                return None
            if tracemalloc.is_tracing():
                return None  # someone else traces: leave their tracemalloc alone
            elapsed = time.monotonic() - self._started
            if self._spent > self.budget * elapsed:
                return None
            self._active = True
        tracemalloc.start()
        return time.monotonic()

    def end(self, began: float, span: Any) -> None:
        """Stops tracing; records the retained bytes and top allocators on `span`."""
        try:
            snapshot = tracemalloc.take_snapshot()
            retained = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
            with self._lock:
                self._active = False
                self._spent += time.monotonic() - began
                self.sampled += 1
        if span is None or not span.is_recording():
            return
        span.set_attribute("memory.allocated_bytes", retained)
        if retained <= self.threshold_bytes:
            return
        with self._lock:
            self.reported += 1
        for i, stat in enumerate(snapshot.statistics("lineno")[: self.top]):
            span.set_attribute(f"memory.top_allocator.{i}.file", str(stat.traceback))
            span.set_attribute(f"memory.top_allocator.{i}.size_bytes", stat.size)

"""`leaksense.Monitor`: thin glue over the core monitor (`leaksense._native.Monitor`)."""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, get_args

from leaksense import _native
from leaksense import schema as _types
from leaksense._errors import ClosedError, InvalidOptionError, LeakSenseError

if TYPE_CHECKING:
    from leaksense.deep import DeepMode

def _gc_count() -> int:
    return gc.get_count()[0]


# Per-request measures the Python runtime can read, by the name given in `measures`.
# `gc_count` (the default) is the cheapest allocation counter CPython has: the generation-0
# count, GC-tracked objects allocated minus freed since the last collection (~0.1 µs; a
# collection during the request resets it, so its delta is then negative).
# sys.getallocatedblocks() walks every memory pool in 3.11 (about 6 µs at 100k objects), so
# it is opt-in.
MEASURE_READERS: dict[str, Callable[[], float]] = {
    "gc_count": _gc_count,
    "allocated_blocks": sys.getallocatedblocks,
}

# The span attribute of a runtime measure's delta, e.g. `leaksense.memory.allocated_blocks`.
SPAN_MEASURE_PREFIX = "leaksense.memory."

# The event kinds a listener can subscribe to (the core's, from the generated types).
EVENT_KINDS: tuple[str, ...] = get_args(_types.EventKind)

# The count only Python can read, fed to the core every `interval_ms` while the monitor runs.
THREADS = "threads"


class Report:
    """The core's LeakReport: `verdict`, `state` and `suspects` at hand, `to_dict()` for all
    of it (typed as `leaksense.types.LeakReport`), `text` for logs."""

    def __init__(self, data: _types.LeakReport, text: str) -> None:
        self._data = data
        self.text = text
        self.verdict: _types.Verdict = data["verdict"]
        self.state: _types.AlertState = data["state"]
        self.suspects: list[_types.Suspect] = data["suspects"]
        profile = data.get("profile")
        # The live-heap profile's growing allocation sites, most bytes first.
        self.sites: list[_types.GrowingSite] = profile["sites"] if profile else []

    def to_dict(self) -> _types.LeakReport:
        """The full report as the core's stable JSON schema."""
        return self._data

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        top = self.suspects[0]["route"] if self.suspects else None
        return f"<leaksense.Report verdict={self.verdict!r} top_suspect={top!r}>"


# Whether the allocation hook feeds a live-heap profile (read per request by set_route, so a
# plain flag rather than a native call).
HEAP_HOOK: list[bool] = [False]


class Event:
    """One monitor event: `kind` ("leak", "suspects" or "resolved"), `ts_ms`, `measure`
    (the series that alerted: "memory", or a count such as "threads" or "open_fds") and the
    `report` the core built for it."""

    def __init__(self, data: _types.Event) -> None:
        self._data = data
        self.kind: _types.EventKind = data["kind"]
        self.ts_ms: int = data["ts_ms"]
        self.measure: str = data["measure"]
        self.report = Report(data["report"], data["report_text"])

    def to_dict(self) -> _types.Event:
        """The event as the core's stable JSON schema."""
        return self._data

    def __repr__(self) -> str:
        return f"<leaksense.Event kind={self.kind!r} ts_ms={self.ts_ms} measure={self.measure!r}>"


# Monitors whose threads must be restarted in a forked child and stopped at exit. The core
# itself takes its locks around fork() (pthread_atfork), so the parent's sampler keeps running.
_LIVE: "weakref.WeakSet[Monitor]" = weakref.WeakSet()
_FORK_LOCK = threading.Lock()


class Monitor:
    """Collects process memory, detects leaks and attributes them to routes.

    Keyword options go to the core unchanged as one JSON object (`interval_ms`, `measures`,
    `rss_per_request`, `max_routes`, `slot_ms`, `memory_limit`, `heap`, `detector`,
    `counts`, `count_detector`, `attribution`, `profile`, `naming`;
    `leaksense.types.MonitorOptions`), laid over the core's Python preset. Besides memory, the
    monitor watches the counts in `counts` (default: open file descriptors, counted by the
    core, and Python threads, fed by a background thread every `interval_ms` while the monitor
    runs), each with its own alert.
    """

    def __init__(self, **options: Any) -> None:
        for m in options.get("measures") or ():
            if m not in MEASURE_READERS:
                raise InvalidOptionError(
                    f"invalid option `measures`: no Python reader for {m!r} "
                    f"(known: {sorted(MEASURE_READERS)})"
                )
        try:
            config_json = json.dumps(options, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidOptionError(f"invalid option: {e}") from e
        self._native = _native.Monitor("python", config_json)
        self.config: _types.MonitorOptions = json.loads(self._native.config_json())
        readers = tuple(MEASURE_READERS[m] for m in self.config["measures"])
        # Per-request path (`_requests._Scope`): with at most one measure and no per-request
        # RSS (the defaults) a request reads it at each end and makes one `record` call with
        # two floats; otherwise it reads a list and makes one `record_all` call.
        self._rss_per_request: bool = self.config["rss_per_request"]
        self._fast = len(readers) <= 1 and not self._rss_per_request
        self._read_one: Callable[[], Optional[float]] = readers[0] if readers else _none
        self._read_measures: Callable[[], Sequence[float]] = (
            (lambda: [r() for r in readers]) if readers else _no_measures
        )
        self._span_keys: tuple[str, ...] = tuple(
            SPAN_MEASURE_PREFIX + m for m in self.config["measures"]
        )
        # Route name -> the core's route id, resolved once per route so no string crosses into
        # the core per request; capped like the core's table (past the cap the core counts
        # routes under `_other`, and they are looked up each time instead of cached).
        self._route_ids: dict[str, int] = {}
        self._max_routes: int = self.config["max_routes"]
        # Deep mode (`leaksense.deep.DeepMode`): tracemalloc on sampled requests; off by default.
        self.deep: Optional["DeepMode"] = None
        self._listeners: dict[str, list[Callable[[Event], None]]] = {k: [] for k in EVENT_KINDS}
        self._feeds_threads = THREADS in self.config["counts"]
        self._poller: Optional[threading.Thread] = None
        self._poll_stop = threading.Event()
        self._wanted = False  # whether start() was called and not stop()
        self._on_close: list[Callable[[], None]] = []  # e.g. unhooking gc callbacks
        # Serialises start/stop/close and the fork hooks: two threads must never both see no
        # poller (two pollers) or join one another's unstarted poller. Re-entrant because a
        # callback on the poller thread may call stop().
        self._lock = threading.RLock()
        _LIVE.add(self)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Monitor":
        """Starts the core's sampler thread, the watcher thread (which feeds the thread count
        and delivers events to listeners) and, when the live-heap profile is on, the allocation
        hook. Idempotent and safe to call from any thread."""
        with self._lock:
            self._native.start()
            if self.config["profile"]["enabled"]:
                self._native.heap_profile_start()
                HEAP_HOOK[0] = True
            self._wanted = True
            self._start_poller()
        return self

    def stop(self) -> None:
        """Stops sampling and waits for the threads. Idempotent; start() may follow."""
        with self._lock:
            self._wanted = False
            poller = self._pause()
        # Joined outside the lock: a callback running on the poller may call stop() itself.
        if poller is not None and poller is not threading.current_thread():
            poller.join()

    def close(self) -> None:
        """Stops for good; every later call raises ClosedError. Idempotent."""
        self.stop()
        with self._lock:
            if self.config["profile"]["enabled"] and not self.closed:
                # The process-wide hook feeds the monitor started last; stop it if that is this
                # one.
                self._native.heap_profile_stop()
                HEAP_HOOK[0] = _native.heap_profile_running()
            self._native.close()
            _LIVE.discard(self)
            hooks, self._on_close = self._on_close, []
        for hook in hooks:
            hook()

    @property
    def running(self) -> bool:
        """Whether the sampler thread runs."""
        return self._native.is_running()

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._native.is_closed()

    def __enter__(self) -> "Monitor":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pause(self) -> Optional[threading.Thread]:
        # Under self._lock; returns the poller for the caller to join once it is released.
        self._native.stop()
        poller, self._poller = self._poller, None
        if poller is not None:
            self._poll_stop.set()
        return poller

    def _restart_in_child(self) -> None:
        # Only the forking thread survived: the core has forgotten its sampler thread, and
        # the poller and every lock another thread held are gone or stale.
        self._lock = threading.RLock()
        self._poller = None
        if self._wanted and not self.closed:
            self._native.start()
            self._start_poller()

    # -- reading -----------------------------------------------------------------------------

    def sample(self, ts: Optional[float] = None) -> dict[str, Any]:
        """Samples process memory now and feeds the detector; `ts` in unix seconds."""
        ts_ms = None if ts is None else _ms(ts)
        result: dict[str, Any] = json.loads(self._native.sample_json(ts_ms))
        return result

    def observe_baseline(self, ts: float, nbytes: float) -> Optional[dict[str, Any]]:
        """Feeds the memory left after a full GC; from then on the detector watches it."""
        ev = self._native.observe_baseline(_ms(ts), nbytes)
        return None if ev is None else dict(json.loads(ev))

    def observe_count(self, series: str, ts: float, value: float) -> None:
        """Feeds one reading of a watched count (`ts` in unix seconds). The monitor feeds
        "threads" itself while it runs and the core counts "open_fds"; call this for replays
        and tests."""
        self._native.observe_count(series, _ms(ts), value)

    @property
    def counts(self) -> list[str]:
        """The counts watched beside memory, each with its own alert and events."""
        return list(self.config["counts"])

    def set_runtime_limit(self, limit: Optional[int]) -> None:
        """Records a memory limit in bytes reported by the runtime (None clears it)."""
        if limit is not None and limit < 0:
            raise InvalidOptionError(f"invalid option `limit`: {limit} must be positive")
        self._native.set_runtime_limit(limit)

    @property
    def watched(self) -> str:
        """The series the detector watches: "rss" or "runtime_baseline"."""
        return self._native.watched()

    @property
    def measures(self) -> list[str]:
        """Names of the per-request measures (runtime ones, then "rss")."""
        return self._native.measures()

    def analysis(self) -> _types.Analysis:
        """The detector's current analysis."""
        result: _types.Analysis = json.loads(self._native.analysis_json())
        return result

    def report(self, series: str = "memory") -> Report:
        """The leak report of memory (verdict, suspect routes with bytes per request, route
        table, a line per watched count), or of a watched count such as "threads" or
        "open_fds" (the routes whose requests leave it behind, in its unit)."""
        data, text = self._native.report(series)
        return Report(json.loads(data), text)

    def write_pprof(self, path: str, kind: str = "inuse") -> None:
        """Writes the live-heap profile as a pprof file (`go tool pprof` opens it): kind
        "inuse" (the live heap now) or "growth" (since the detector's growth start)."""
        self._native.write_pprof(os.fspath(path), kind)

    def profile_stats(self) -> Optional[dict[str, Any]]:
        """The live-heap profile's counters (stacks, frames, snapshots, live sampled blocks,
        dropped samples, bytes held), or None when the profile is off."""
        result: Optional[dict[str, Any]] = json.loads(self._native.profile_stats_json())
        return result

    def replay(self, steps: Sequence[_types.ReplayStep]) -> None:
        """Feeds recorded steps (requests per route and a post-GC baseline at injected
        times) through the core, as every language's replay does: for tests and replays."""
        try:
            steps_json = json.dumps(list(steps), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidOptionError(f"invalid option `steps`: {e}") from e
        self._native.replay_json(steps_json)

    # -- requests ----------------------------------------------------------------------------

    def _route_id(self, route: str) -> int:
        rid = self._route_ids.get(route)
        if rid is None:
            rid = self._native.route_id(route)
            if len(self._route_ids) < self._max_routes:
                self._route_ids[route] = rid
        return rid

    def begin_request(self, route: str) -> "RequestToken":
        """Starts tracking a request on `route` (a route template, never a raw path): reads
        the start measures. Pass the token to `end_request`."""
        if self._native.is_closed():
            raise ClosedError("the monitor is closed")
        return RequestToken(route, self._read_measures(), self._native.request_rss())

    def end_request(
        self, token: "RequestToken", route: Optional[str] = None
    ) -> tuple[list[float], Optional[float]]:
        """Records the request (on `route` if given) in one call into the core; returns
        (runtime measure deltas, RSS delta in bytes or None)."""
        if not isinstance(token, RequestToken):
            raise TypeError(f"expected a RequestToken from begin_request, got {type(token).__name__}")
        return self._native.record_all(
            self._route_id(route or token.route), token.start, self._read_measures(), token.rss_start
        )

    # -- events ------------------------------------------------------------------------------

    def on(self, kind: str, callback: Callable[[Event], None]) -> Callable[[Event], None]:
        """Calls `callback(event)` for each event of `kind`: "leak" (an alert went to
        firing), "suspects" (while it fires, the core is sure of the suspect routes; often
        later than the alert) or "resolved" (it left firing), for memory and for each watched
        count (`event.measure` says which). A background thread polls every `interval_ms`
        while the monitor runs; `poll()` delivers at once."""
        if kind not in self._listeners:
            raise InvalidOptionError(f"invalid option `kind`: {kind!r} is not one of {EVENT_KINDS}")
        with self._lock:
            self._listeners[kind].append(callback)
            if self._wanted:
                self._start_poller()
        return callback

    def on_leak(self, callback: Callable[[Event], None]) -> Callable[[Event], None]:
        """`on("leak", callback)`."""
        return self.on("leak", callback)

    def poll(self) -> list[Event]:
        """Drains the core's events, oldest first, and calls their listeners now."""
        events = [Event(e) for e in json.loads(self._native.poll_events_json())]
        for e in events:
            for cb in list(self._listeners[e.kind]):
                cb(e)
        return events

    def _tick(self) -> None:
        """One pass of the watcher thread: the thread count, then the events (only with
        listeners: without them, `poll()` is the caller's)."""
        if self._feeds_threads:
            try:
                self._native.observe_count(THREADS, _ms(time.time()), threading.active_count())
            except LeakSenseError:
                pass  # the clock did not move forward since the last reading: skip this one
        if any(self._listeners.values()):
            self.poll()

    def _start_poller(self) -> None:
        # Under self._lock, so stop() never sees a poller that is not started yet.
        wanted = self._feeds_threads or any(self._listeners.values())
        if not wanted or self._poller is not None:
            return
        self._poll_stop = threading.Event()
        period = self.config["interval_ms"] / 1000.0
        t = threading.Thread(
            target=_poll_loop,
            args=(weakref.ref(self), self._poll_stop, period),
            name="leaksense-events",
            daemon=True,
        )
        self._poller = t
        t.start()


def _no_measures() -> Sequence[float]:
    return ()


def _none() -> Optional[float]:
    return None


class RequestToken:
    """A request begun with `Monitor.begin_request`: its route and start readings."""

    __slots__ = ("route", "start", "rss_start")

    def __init__(self, route: str, start: Sequence[float], rss_start: float) -> None:
        self.route = route
        self.start = start
        self.rss_start = rss_start


def _poll_loop(ref: "weakref.ref[Monitor]", stop: threading.Event, period: float) -> None:
    while not stop.wait(period):
        mon = ref()
        if mon is None or mon.closed:
            return
        try:
            mon._tick()
        except Exception as e:  # a user callback must not kill the poller
            sys.stderr.write(f"leaksense: event listener failed: {e!r}\n")
        del mon


def _ms(ts: float) -> int:
    if ts != ts or ts in (float("inf"), float("-inf")):
        from leaksense._errors import NonFiniteValueError

        raise NonFiniteValueError(f"timestamp {ts} is not finite")
    return int(round(ts * 1000.0))


# The monitors whose locks the forking thread holds across fork().
_HELD: list[Monitor] = []


def _before_fork() -> None:
    # No start/stop/close may be half done when the process is copied: take every monitor's
    # lock (they are held only briefly, never while waiting for this thread).
    _FORK_LOCK.acquire()
    for m in list(_LIVE):
        m._lock.acquire()
        _HELD.append(m)


def _after_fork_in_parent() -> None:
    held, _HELD[:] = list(_HELD), []
    for m in held:
        m._lock.release()
    _FORK_LOCK.release()


def _after_fork_in_child() -> None:
    global _FORK_LOCK
    held, _HELD[:] = list(_HELD), []
    _FORK_LOCK = threading.Lock()
    for m in held:
        try:
            m._restart_in_child()
        except Exception as e:  # one monitor must not keep the others from restarting
            sys.stderr.write(f"leaksense: restarting a monitor after fork failed: {e!r}\n")


def _at_exit() -> None:
    for m in list(_LIVE):
        m.stop()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
atexit.register(_at_exit)


_DEFAULT: list[Optional[Monitor]] = [None]


def default_monitor() -> Optional[Monitor]:
    """The monitor installed by `instrument()`, used by middleware given no monitor."""
    return _DEFAULT[0]


def set_default_monitor(monitor: Optional[Monitor]) -> None:
    """Sets the monitor middleware and `track_request` use when given none."""
    _DEFAULT[0] = monitor


__all__: Sequence[str] = (
    "EVENT_KINDS",
    "MEASURE_READERS",
    "Event",
    "Monitor",
    "Report",
    "RequestToken",
    "default_monitor",
    "set_default_monitor",
)

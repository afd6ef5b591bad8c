"""Per-request tracking: `track_request`, `set_route` and the span attributes."""

from __future__ import annotations

import contextvars
import functools
import inspect
from types import TracebackType
from typing import Any, Callable, Optional, Sequence, TypeVar, cast

from opentelemetry.trace import get_current_span

from leaksense import _native
from leaksense._errors import ClosedError
from leaksense._monitor import HEAP_HOOK, Monitor, default_monitor
from leaksense.deep import DeepMode

# Route of requests the framework did not match (404s): a fixed name, never the raw path; the
# core's, so every language counts them under the same name.
UNMATCHED_ROUTE: str = _native.UNMATCHED_ROUTE

SPAN_RSS_DELTA_BYTES: str = _native.SPAN_RSS_DELTA_BYTES
SPAN_ALLOCATED_BYTES: str = _native.SPAN_ALLOCATED_BYTES
_NAN = float("nan")


# The request in flight in this thread or asyncio task (each task has its own context).
_CURRENT: contextvars.ContextVar[Optional["_Scope"]] = contextvars.ContextVar(
    "leaksense_request", default=None
)


def set_route(route: str) -> bool:
    """Names the route (template, e.g. "/users/{id}") of the request in flight.
    Returns False when no middleware tracks a request in this context."""
    scope = _CURRENT.get()
    if scope is None:
        return False
    scope.route = route
    if HEAP_HOOK[0]:
        # Allocation samples taken on this thread from now on carry the route.
        _native.set_thread_route(route)
    return True


class _Scope:
    """One tracked request: its start readings taken on entry, recorded in one call into the
    core on exit. Kept lean: it runs per request."""

    __slots__ = ("route", "_mon", "_reset", "_start", "_rss", "_deep", "_heap")

    def __init__(self, mon: Optional[Monitor], route: Optional[str]) -> None:
        self._mon = mon
        # The route: given, or filled in while the request runs (`set_route`, framework hook).
        self.route = route
        self._reset: Optional[contextvars.Token[Optional[_Scope]]] = None
        self._start: Any = None  # a float (one measure), or a list of them
        self._rss = _NAN
        self._deep: Optional[tuple[DeepMode, float]] = None  # (deep mode, start) if sampled
        self._heap = False  # whether the allocation hook was told this request began

    def __enter__(self) -> "_Scope":
        mon = self._mon
        if mon is not None:
            deep = mon.deep
            if deep is not None:
                began = deep.begin()
                if began is not None:
                    self._deep = (deep, began)
            if mon._fast:
                self._start = mon._read_one()
            else:
                self._start = mon._read_measures()
                if mon._rss_per_request:
                    self._rss = mon._native.request_rss()
            if HEAP_HOOK[0]:
                # Allocation samples on this thread carry the route while this request runs.
                _native.heap_request_begun(self.route)
                self._heap = True
            self._reset = _CURRENT.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        reset = self._reset
        if reset is None:
            return
        self._reset = None
        _CURRENT.reset(reset)
        if self._heap:
            self._heap = False
            _native.heap_request_ended()
        mon = self._mon
        assert mon is not None
        route = self.route or UNMATCHED_ROUTE
        try:
            rid = mon._route_ids.get(route)
            if rid is None:
                rid = mon._route_id(route)
            rss = None
            if mon._fast:
                delta = mon._native.record(rid, self._start, mon._read_one())
                if not mon._span_keys and self._deep is None:
                    return  # nothing to put on a span
                deltas: Sequence[float] = (delta,)
            else:
                deltas, rss = mon._native.record_all(
                    rid, self._start, mon._read_measures(), self._rss
                )
        except ClosedError:
            return  # closed while the request ran: it goes uncounted
        span = get_current_span()
        if self._deep is not None:
            self._deep[0].end(self._deep[1], span)
            self._deep = None
        if span.is_recording():
            for key, d in zip(mon._span_keys, deltas):
                span.set_attribute(key, d)
            if rss is not None:
                span.set_attribute(SPAN_RSS_DELTA_BYTES, rss)


# Scopes entered with `with track_request(...)` in this thread / asyncio task, innermost last
# (an immutable stack per context, so one instance can be entered concurrently).
_ENTERED: contextvars.ContextVar[tuple[tuple["track_request", _Scope], ...]] = (
    contextvars.ContextVar("leaksense_entered", default=())
)

F = TypeVar("F", bound=Callable[..., Any])


class track_request:
    """Tracks one request on `route`: a context manager (`with track_request("/x"):`) and a
    decorator (sync or async functions). Uses the default monitor unless one is given;
    does nothing when there is none."""

    def __init__(self, route: Optional[str] = None, monitor: Optional[Monitor] = None) -> None:
        self.route = route
        self.monitor = monitor

    def __enter__(self) -> _Scope:
        scope = _Scope(self.monitor or default_monitor(), self.route)
        scope.__enter__()
        _ENTERED.set(_ENTERED.get() + ((self, scope),))
        return scope

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        stack = _ENTERED.get()
        i = max(i for i, (owner, _) in enumerate(stack) if owner is self)
        _ENTERED.set(stack[:i] + stack[i + 1 :])
        stack[i][1].__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        route = self.route or getattr(fn, "__qualname__", None) or "_unnamed"
        monitor = self.monitor
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                with _Scope(monitor or default_monitor(), route):
                    return await fn(*args, **kwargs)

            return cast(F, awrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Scope(monitor or default_monitor(), route):
                return fn(*args, **kwargs)

        return cast(F, wrapper)

"""WSGI and ASGI middleware that track every request on its framework route."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, MutableMapping, Optional

from leaksense._monitor import Monitor, default_monitor
from leaksense._requests import UNMATCHED_ROUTE, _Scope, set_route

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class WSGIMiddleware:
    """Wraps a WSGI app. The route comes from `set_route` (called by `instrument_flask`'s
    hook, or by your framework glue); requests without one count as `_unmatched`."""

    def __init__(self, app: WSGIApp, monitor: Optional[Monitor] = None) -> None:
        self.app = app
        self.monitor = monitor

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with _Scope(self.monitor or default_monitor(), None):
            return self.app(environ, start_response)


def _flask_route() -> None:
    from flask import request

    rule = request.url_rule
    set_route(rule.rule if rule is not None else UNMATCHED_ROUTE)


def instrument_flask(app: Any, monitor: Optional[Monitor] = None) -> Any:
    """Tracks every request of a Flask app on its `url_rule` (e.g. "/orders/<int:id>")."""
    app.wsgi_app = WSGIMiddleware(app.wsgi_app, monitor)
    # Named as soon as routing is done, so that the live-heap profile's allocation samples
    # taken in the view carry the route; teardown names it again for requests that never
    # reached before_request.
    app.before_request(_flask_route)
    # teardown runs for every request, after routing, even when a before_request hook or the
    # view raised; the request context (and url_rule) is still there.
    app.teardown_request(lambda exc: _flask_route())
    return app


class ASGIMiddleware:
    """Pure ASGI middleware (Starlette, FastAPI): tracks each HTTP request on the route the
    router stored in `scope["route"]` (its `.path`, e.g. "/items/{item_id}")."""

    def __init__(self, app: ASGIApp, monitor: Optional[Monitor] = None) -> None:
        self.app = app
        self.monitor = monitor

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with _Scope(self.monitor or default_monitor(), None) as tracked:
            try:
                await self.app(scope, receive, send)
            finally:
                if tracked.route is None:
                    route = getattr(scope.get("route"), "path", None)
                    tracked.route = route if isinstance(route, str) else UNMATCHED_ROUTE


class DjangoMiddleware:
    """Django middleware (add "leaksense.middleware.DjangoMiddleware" first in MIDDLEWARE):
    tracks each request on its URL pattern, `request.resolver_match.route` (e.g.
    "orders/<int:order_id>"); unmatched requests count as `_unmatched`."""

    def __init__(self, get_response: Callable[[Any], Any], monitor: Optional[Monitor] = None) -> None:
        self.get_response = get_response
        self.monitor = monitor

    def __call__(self, request: Any) -> Any:
        with _Scope(self.monitor or default_monitor(), None) as tracked:
            try:
                return self.get_response(request)
            finally:
                if tracked.route is None:
                    match = getattr(request, "resolver_match", None)
                    route = getattr(match, "route", None)
                    tracked.route = route if isinstance(route, str) and route else UNMATCHED_ROUTE

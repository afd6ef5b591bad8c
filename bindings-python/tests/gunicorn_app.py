"""WSGI app for test_gunicorn.py: leaksense set up at import, which `--preload` runs in the
gunicorn master before it forks the workers."""

import json
import os
from typing import Any, Callable, Iterable

import leaksense
from leaksense.middleware import WSGIMiddleware

monitor = leaksense.instrument(interval_ms=20, metrics=False)
MASTER = os.getpid()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    leaksense.set_route("/stats")
    body = json.dumps(
        {
            "pid": os.getpid(),
            "master": MASTER,
            "running": monitor.running,
            "samples": monitor.analysis()["samples"],
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


application = WSGIMiddleware(app)

"""Per-request tracking: track_request, WSGI (Flask) and ASGI (Starlette, FastAPI) middleware,
span attributes, threads and asyncio."""

import asyncio
import gc
import threading
import tracemalloc

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import leaksense
from leaksense.middleware import ASGIMiddleware, WSGIMiddleware, instrument_flask


def counts(monitor):
    return {r["route"]: r["requests"] for r in monitor.report().to_dict()["routes"]}


@pytest.fixture
def monitor():
    m = leaksense.Monitor(measures=["allocated_blocks"])
    yield m
    m.close()


@pytest.fixture
def default(monitor):
    leaksense.set_default_monitor(monitor)
    yield monitor
    leaksense.set_default_monitor(None)


def test_context_manager_and_decorators_count_on_their_routes(monitor):
    with leaksense.track_request("/cm", monitor=monitor) as scope:
        keep = [bytearray(1000) for _ in range(100)]
        assert scope.route == "/cm"

    @leaksense.track_request("/sync", monitor=monitor)
    def sync():
        return 1

    @leaksense.track_request("/async", monitor=monitor)
    async def coro():
        await asyncio.sleep(0)
        return 2

    assert sync() == 1 and sync() == 1
    assert asyncio.run(coro()) == 2
    assert counts(monitor) == {"/cm": 1, "/sync": 2, "/async": 1}
    row = next(r for r in monitor.report().to_dict()["routes"] if r["route"] == "/cm")
    blocks = row["measures"][0]
    assert blocks["measure"] == "allocated_blocks" and blocks["mean"] >= 100
    del keep


def test_set_route_names_a_request_and_nesting_keeps_both(monitor):
    assert leaksense.set_route("/nowhere") is False
    with leaksense.track_request(monitor=monitor):
        assert leaksense.set_route("/later") is True
        with leaksense.track_request("/inner", monitor=monitor):
            pass
    with leaksense.track_request(monitor=monitor):
        pass
    assert counts(monitor) == {"/later": 1, "/inner": 1, leaksense.UNMATCHED_ROUTE: 1}
    # The core's name, the one Node and Go use too: not the overflow bucket `_other`.
    assert leaksense.UNMATCHED_ROUTE == "_unmatched"


def test_exceptions_still_end_the_request(monitor):
    with pytest.raises(KeyError):
        with leaksense.track_request("/boom", monitor=monitor):
            raise KeyError("x")
    assert counts(monitor) == {"/boom": 1}


def test_without_a_monitor_tracking_does_nothing():
    assert leaksense.default_monitor() is None
    with leaksense.track_request("/x") as scope:
        pass
    assert scope.route == "/x"


def test_32_threads_share_one_instance_and_every_request_counts(monitor):
    tracker = leaksense.track_request("/shared", monitor=monitor)
    per_thread = 200
    barrier = threading.Barrier(32)
    errors = []

    def work(i):
        try:
            barrier.wait()
            for _ in range(per_thread):
                with tracker:
                    with leaksense.track_request(f"/t{i % 4}", monitor=monitor):
                        bytearray(64)
        except BaseException as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    c = counts(monitor)
    assert c["/shared"] == 32 * per_thread
    assert [c[f"/t{i}"] for i in range(4)] == [8 * per_thread] * 4


def test_1000_asyncio_tasks_keep_their_own_routes(monitor):
    @leaksense.track_request("/deco", monitor=monitor)
    async def deco():
        await asyncio.sleep(0)

    async def handler(i):
        with leaksense.track_request(monitor=monitor):
            await asyncio.sleep(0)
            leaksense.set_route(f"/r{i % 10}")  # interleaved with 999 other tasks
            await asyncio.sleep(0)
            await deco()

    async def main():
        await asyncio.gather(*(handler(i) for i in range(1000)))

    asyncio.run(main())
    c = counts(monitor)
    assert c.pop("/deco") == 1000
    assert c == {f"/r{i}": 100 for i in range(10)}


class _Kept:
    pass


@pytest.mark.parametrize(
    "options,want",
    [
        ({}, {"leaksense.memory.gc_count"}),
        (
            {"measures": ["allocated_blocks"], "rss_per_request": True},
            {"leaksense.memory.allocated_blocks", leaksense.SPAN_RSS_DELTA_BYTES},
        ),
    ],
)
def test_span_attributes_on_the_current_span(options, want):
    monitor = leaksense.Monitor(**options)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    gc.disable()  # no collection in the request: the generation-0 count only grows
    try:
        with tracer.start_as_current_span("request"):
            with leaksense.track_request("/span", monitor=monitor):
                # Instances of a class: GC-tracked and never from a free list (lists, dicts and
                # tuples reused from CPython's free lists do not move the count).
                keep = [_Kept() for _ in range(50)]
    finally:
        gc.enable()
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes)
    assert set(attrs) == want
    for key in want - {leaksense.SPAN_RSS_DELTA_BYTES}:
        assert attrs[key] >= 50, key  # 50 lists (GC-tracked), 50+ blocks
    if leaksense.SPAN_RSS_DELTA_BYTES in want:
        assert isinstance(attrs[leaksense.SPAN_RSS_DELTA_BYTES], float)
    assert leaksense.SPAN_RSS_DELTA_BYTES == "leaksense.memory.rss_delta_bytes"
    monitor.close()
    del keep


def test_a_known_route_retains_nothing_per_request():
    """tracemalloc around 20,000 requests through the WSGI middleware on a known route, at the
    defaults and with every option: the traced memory does not grow. Margin: 4 KiB, for
    interpreter caches that a first use may fill (measured growth: 0-1 KiB)."""

    def app(environ, start_response):
        leaksense.set_route("/items/{id}")
        return [b"ok"]

    for options in ({}, {"measures": ["gc_count", "allocated_blocks"], "rss_per_request": True}):
        m = leaksense.Monitor(**options)
        wsgi = WSGIMiddleware(app, m)
        for _ in range(1000):  # the route id is cached, free lists are warm
            wsgi({}, None)
        tracemalloc.start()
        try:
            for _ in range(100):
                wsgi({}, None)
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(20_000):
                wsgi({}, None)
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert after - before < 4096, (options, after - before)
        assert counts(m) == {"/items/{id}": 21_100}
        m.close()


def test_flask_routes_come_from_url_rule_never_the_raw_path(default):
    flask = pytest.importorskip("flask")
    app = flask.Flask("t")
    leak = []

    @app.route("/orders/<int:order_id>")
    def order(order_id):
        leak.append(bytearray(1000))
        return {"id": order_id}

    @app.route("/health")
    def health():
        return "ok"

    @app.route("/fail")
    def fail():
        raise RuntimeError("x")

    instrument_flask(app)
    client = app.test_client()
    for i in range(5):
        assert client.get(f"/orders/{i}").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/nope/123").status_code == 404
    assert client.get("/fail").status_code == 500
    assert counts(default) == {
        "/orders/<int:order_id>": 5,
        "/health": 1,
        "/fail": 1,
        leaksense.UNMATCHED_ROUTE: 1,
    }


def test_wsgi_middleware_with_explicit_monitor_and_set_route(monitor):
    def app(environ, start_response):
        leaksense.set_route("/wsgi/{id}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wrapped = WSGIMiddleware(app, monitor)
    body = wrapped({"REQUEST_METHOD": "GET", "PATH_INFO": "/wsgi/7"}, lambda s, h: None)
    assert list(body) == [b"ok"]
    assert counts(monitor) == {"/wsgi/{id}": 1}


def test_fastapi_routes_come_from_the_route_path(default):
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    app = fastapi.FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int):
        return {"id": item_id}

    @app.get("/sync")
    def sync():
        return {}

    app.add_middleware(ASGIMiddleware)
    with TestClient(app) as client:
        for i in range(3):
            assert client.get(f"/items/{i}").status_code == 200
        assert client.get("/sync").status_code == 200
        assert client.get("/missing/1").status_code == 404
    assert counts(default) == {"/items/{item_id}": 3, "/sync": 1, leaksense.UNMATCHED_ROUTE: 1}


def test_starlette_concurrent_requests_under_asyncio(monitor):
    pytest.importorskip("starlette")
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def user(request):
        await asyncio.sleep(0.001)
        return PlainTextResponse(request.path_params["name"])

    async def ping(request):
        return PlainTextResponse("pong")

    app = ASGIMiddleware(
        Starlette(routes=[Route("/users/{name}", user), Route("/ping", ping)]), monitor
    )

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            rs = await asyncio.gather(
                *(client.get(f"/users/u{i}" if i % 2 else "/ping") for i in range(200))
            )
        assert all(r.status_code == 200 for r in rs)

    asyncio.run(main())
    assert counts(monitor) == {"/users/{name}": 100, "/ping": 100}


KEPT = []


def test_deep_mode_puts_the_retaining_lines_on_sampled_spans(monitor):
    import tracemalloc

    from leaksense.deep import DeepMode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    monitor.deep = DeepMode(every=2, budget=1.0, threshold_bytes=50_000, top=3)
    for _ in range(2):
        with tracer.start_as_current_span("request"):
            with leaksense.track_request("/deep", monitor=monitor):
                KEPT.extend(bytearray(1000) for _ in range(100))  # retains ~100 KB
    assert not tracemalloc.is_tracing()
    first, second = exporter.get_finished_spans()
    assert "memory.allocated_bytes" not in first.attributes, "1 in 2: the first is skipped"
    attrs = dict(second.attributes)
    assert attrs["memory.allocated_bytes"] >= 100_000
    assert "test_requests.py" in attrs["memory.top_allocator.0.file"]
    assert attrs["memory.top_allocator.0.size_bytes"] >= 100_000
    assert (monitor.deep.sampled, monitor.deep.reported) == (1, 1)
    KEPT.clear()


def test_deep_mode_leaves_a_running_tracemalloc_alone(monitor):
    import tracemalloc

    from leaksense.deep import DeepMode

    monitor.deep = DeepMode(every=1, budget=1.0)
    tracemalloc.start()
    try:
        with leaksense.track_request("/x", monitor=monitor):
            pass
        assert tracemalloc.is_tracing()
        assert monitor.deep.sampled == 0
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "kwargs", [{"every": 0}, {"budget": 0}, {"budget": 2}, {"threshold_bytes": -1}, {"top": 0}]
)
def test_deep_mode_options_are_checked(kwargs):
    from leaksense.deep import DeepMode

    with pytest.raises(leaksense.InvalidOptionError):
        DeepMode(**kwargs)

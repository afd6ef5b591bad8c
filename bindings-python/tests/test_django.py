"""Django through its test client: routes come from resolver_match.route."""

import pytest

import leaksense

django = pytest.importorskip("django")

from django.conf import settings  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

KEPT = []


def order(request, order_id):
    KEPT.append(bytearray(1000))
    return JsonResponse({"id": order_id})


def health(request):
    return HttpResponse("ok")


def fail(request):
    raise RuntimeError("x")


urlpatterns = [
    path("orders/<int:order_id>", order),
    path("health", health),
    path("fail", fail),
]


@pytest.fixture(scope="module")
def client():
    if not settings.configured:
        settings.configure(
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["leaksense.middleware.DjangoMiddleware"],
            ALLOWED_HOSTS=["testserver"],
            DEBUG=False,
        )
        django.setup()
    from django.test import Client

    return Client(raise_request_exception=False)


def test_django_routes_are_url_patterns(client):
    m = leaksense.Monitor()
    leaksense.set_default_monitor(m)
    try:
        for i in range(4):
            assert client.get(f"/orders/{i}").status_code == 200
        assert client.get("/health").status_code == 200
        assert client.get("/nope/1").status_code == 404
        assert client.get("/fail").status_code == 500
        counts = {r["route"]: r["requests"] for r in m.report().to_dict()["routes"]}
        assert counts == {
            "orders/<int:order_id>": 4,
            "health": 1,
            "fail": 1,
            leaksense.UNMATCHED_ROUTE: 1,
        }
    finally:
        leaksense.set_default_monitor(None)
        m.close()
        KEPT.clear()

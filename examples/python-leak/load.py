"""Load driver: drives every route of the demo app from a separate process, each route's
traffic changing level every few seconds on its own (as real traffic does)."""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time

ROUTES = ["orders", "invoices", "products", "exports", "search", "health"]


def request(conn: http.client.HTTPConnection, route: str, rng: random.Random) -> None:
    if route == "orders":
        body = json.dumps({"item": rng.randrange(1000), "qty": rng.randrange(1, 5)})
        conn.request("POST", "/orders", body, {"Content-Type": "application/json"})
    elif route == "products":
        conn.request("GET", f"/products/{rng.randrange(5000)}")
    elif route == "invoices":
        conn.request("GET", f"/invoices/{rng.randrange(100000)}")
    elif route == "exports":
        conn.request("GET", f"/exports/{rng.randrange(1000)}")
    elif route == "search":
        conn.request("GET", f"/search?q={rng.randrange(100)}")
    else:
        conn.request("GET", "/health")
    resp = conn.getresponse()
    resp.read()
    if resp.status >= 400:
        raise RuntimeError(f"{route}: HTTP {resp.status}")


# Every PHASE seconds each route gets a new traffic level, drawn on its own (endpoints of a
# real service peak at different times; no route's traffic is tied to another's). /orders
# never stops: its level stays within [0.3, 1].
PHASE = 10.0
LEVELS = [(0.3, 1.0), (0.05, 1.0), (0.05, 1.0), (0.05, 1.0), (0.05, 1.0), (0.05, 1.0)]


def weights_at(t: float, seed: int = 42) -> list[float]:
    rng = random.Random(seed * 1_000_003 + int(t // PHASE))
    return [rng.uniform(lo, hi) for lo, hi in LEVELS]


def main() -> None:
    port, seconds, rate = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    t0 = time.monotonic()
    stop = t0 + seconds
    workers = 4

    def worker(seed: int) -> None:
        wrng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        next_at = time.monotonic()
        while next_at < stop:
            w = weights_at(next_at - t0)
            route = wrng.choices(ROUTES, w)[0]
            try:
                request(conn, route, wrng)
            except (OSError, http.client.HTTPException, RuntimeError) as e:
                print(f"load: {e!r}", file=sys.stderr)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            # Each route's rate is `rate * weight / len(ROUTES)`, independent of the others.
            next_at += workers * len(ROUTES) / (rate * sum(w))
            time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

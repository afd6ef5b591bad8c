"""Load driver: drives every route of the demo app, with a traffic mix that changes every few
seconds (as real traffic does), from a separate process."""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time

ROUTES = ["orders", "products", "search", "health"]


def request(conn: http.client.HTTPConnection, route: str, rng: random.Random) -> None:
    if route == "orders":
        body = json.dumps({"item": rng.randrange(1000), "qty": rng.randrange(1, 5)})
        conn.request("POST", "/orders", body, {"Content-Type": "application/json"})
    elif route == "products":
        conn.request("GET", f"/products/{rng.randrange(5000)}")
    elif route == "search":
        conn.request("GET", f"/search?q={rng.randrange(100)}")
    else:
        conn.request("GET", "/health")
    resp = conn.getresponse()
    resp.read()
    if resp.status >= 400:
        raise RuntimeError(f"{route}: HTTP {resp.status}")


def main() -> None:
    port, seconds, rate = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    rng = random.Random(42)
    weights = [1.0] * len(ROUTES)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    workers = 4

    def worker(seed: int) -> None:
        wrng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        next_at = time.monotonic()
        while time.monotonic() < stop:
            with lock:
                w = list(weights)
            # Each route's rate is `rate * weight / len(ROUTES)`, independent of the others.
            period = workers * len(ROUTES) / (rate * sum(w))
            route = wrng.choices(ROUTES, w)[0]
            try:
                request(conn, route, wrng)
            except (OSError, http.client.HTTPException, RuntimeError) as e:
                print(f"load: {e!r}", file=sys.stderr)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        # New traffic every 15 s: each route's rate drawn on its own (so no route's traffic
        # is tied to another's), as in real services where endpoints peak at different times.
        with lock:
            # /orders never stops for long: its rate varies within [0.3, 1] of the maximum.
            weights[:] = [rng.uniform(0.3, 1.0)] + [rng.uniform(0.05, 1.0) for _ in ROUTES[1:]]
        time.sleep(15)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

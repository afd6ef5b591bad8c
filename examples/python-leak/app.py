"""A small Flask shop with one leaking route: /orders keeps every order's 50 KB receipt."""

from __future__ import annotations

import hashlib
import json

from typing import Any

from flask import Flask, Response, jsonify, request

import leaksense.middleware

app = Flask(__name__)

# The leak: a module-level cache nobody ever evicts.
_RECEIPTS: list[bytes] = []
RECEIPT_BYTES = 50 * 1024

PRODUCTS: dict[int, dict[str, Any]] = {i: {"id": i, "name": f"product {i}", "price": 10 + i % 90} for i in range(1000)}


@app.post("/orders")
def create_order() -> Response:
    order = request.get_json(force=True, silent=True) or {}
    _RECEIPTS.append(json.dumps(order).encode().ljust(RECEIPT_BYTES, b" "))  # BUG: grows forever
    resp = jsonify(id=len(_RECEIPTS))
    resp.status_code = 201
    return resp


@app.get("/products/<int:product_id>")
def product(product_id: int) -> Response:
    # Allocates a similar amount per request, but frees it: not a leak.
    page = bytearray(RECEIPT_BYTES)
    page[:16] = hashlib.md5(str(product_id).encode()).digest()
    return jsonify(dict(PRODUCTS[product_id % 1000], etag=page[:16].hex()))


@app.get("/search")
def search() -> Response:
    q = request.args.get("q", "")
    hits = [p for p in PRODUCTS.values() if q in str(p["name"])][:20]
    return jsonify(hits)


@app.get("/health")
def health() -> str:
    return "ok"


def leaked_bytes() -> int:
    """What /orders has kept so far (for the demo's summary)."""
    return len(_RECEIPTS) * RECEIPT_BYTES


leaksense.middleware.instrument_flask(app)

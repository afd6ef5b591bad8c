"""A small Flask shop with two leaks: /orders keeps every order's 50 KB receipt, and
/invoices/<id> opens a file per request that it never closes. /exports/<id> is healthy but makes
about 250 KiB of garbage per request."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, BinaryIO

from flask import Flask, Response, jsonify, request

import leaksense.middleware

app = Flask(__name__)

# The leak: a module-level cache nobody ever evicts.
_RECEIPTS: list[bytes] = []
RECEIPT_BYTES = 50 * 1024
EXPORT_ROWS = 360  # about 250 KiB at the peak (tracemalloc)

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


@app.get("/exports/<int:batch>")
def export(batch: int) -> Response:
    # Healthy but garbage-heavy: about 250 KiB of rows and JSON per request, all freed after.
    rows = [{"id": n, "sku": f"sku-{batch}-{n:05d}", "qty": n % 7} for n in range(EXPORT_ROWS)]
    body = json.dumps(rows)
    return jsonify(batch=batch, rows=len(rows), etag=hashlib.md5(body.encode()).hexdigest())


# The descriptor leak: each invoice's template is opened "to render it later", and nothing ever
# closes it.
_TEMPLATES: list[BinaryIO] = []


@app.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int) -> Response:
    _TEMPLATES.append(open(os.devnull, "rb"))  # BUG: never closed
    return jsonify(id=invoice_id, open=len(_TEMPLATES))


@app.get("/health")
def health() -> str:
    return "ok"


def leaked_bytes() -> int:
    """What /orders has kept so far (for the demo's summary)."""
    return len(_RECEIPTS) * RECEIPT_BYTES


def leaked_files() -> int:
    """How many files /invoices/<id> has left open so far."""
    return len(_TEMPLATES)


def close_files() -> None:
    while _TEMPLATES:
        _TEMPLATES.pop().close()


leaksense.middleware.instrument_flask(app)

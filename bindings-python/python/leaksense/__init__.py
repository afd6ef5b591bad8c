"""leaksense: catch memory leaks in running Python services and name the leaking route."""

from __future__ import annotations

from leaksense._errors import (
    BY_CODE,
    ClosedError,
    EmptyInputError,
    InternalError,
    InvalidOptionError,
    IoError,
    LeakSenseError,
    NonFiniteValueError,
    OutOfOrderError,
    ParseError,
    UnsupportedError,
)
import json as _json
from typing import Any, Optional, Sequence

from leaksense._native import analyze_json as _analyze_json
from leaksense._native import catalog, deriv, error_codes, find_growth_inflection, predict_linear

__all__ = [
    "BY_CODE",
    "ClosedError",
    "EmptyInputError",
    "InternalError",
    "InvalidOptionError",
    "IoError",
    "LeakSenseError",
    "NonFiniteValueError",
    "OutOfOrderError",
    "ParseError",
    "UnsupportedError",
    "analyze",
    "catalog",
    "deriv",
    "error_codes",
    "find_growth_inflection",
    "predict_linear",
]


def analyze(
    timestamps: Sequence[float], values: Sequence[float], kind: str = "heap", limit: Optional[float] = None
) -> dict[str, Any]:
    """The core detector's verdict on a series (unix seconds, values) as a dict."""
    result: dict[str, Any] = _json.loads(_analyze_json(timestamps, values, kind, limit))
    return result

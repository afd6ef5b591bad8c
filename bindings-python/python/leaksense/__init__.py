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
from leaksense._native import (
    SPAN_ALLOCATED_BYTES,
    SPAN_RSS_DELTA_BYTES,
    catalog,
    deriv,
    error_codes,
    find_growth_inflection,
    predict_linear,
)
from leaksense._monitor import (
    MEASURE_READERS,
    GrowingSite,
    Monitor,
    Report,
    Suspect,
    default_monitor,
    instrument,
    set_default_monitor,
)
from leaksense._requests import UNMATCHED_ROUTE, set_route, track_request

__all__ = [
    "BY_CODE",
    "ClosedError",
    "EmptyInputError",
    "GrowingSite",
    "InternalError",
    "InvalidOptionError",
    "IoError",
    "LeakSenseError",
    "NonFiniteValueError",
    "OutOfOrderError",
    "ParseError",
    "UnsupportedError",
    "MEASURE_READERS",
    "Monitor",
    "Report",
    "SPAN_ALLOCATED_BYTES",
    "SPAN_RSS_DELTA_BYTES",
    "Suspect",
    "UNMATCHED_ROUTE",
    "analyze",
    "default_monitor",
    "instrument",
    "set_default_monitor",
    "set_route",
    "track_request",
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

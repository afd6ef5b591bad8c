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
from typing import Any, Sequence

from leaksense.schema import Analysis

from leaksense._native import analyze_json as _analyze_json
from leaksense._native import (
    SPAN_ALLOCATED_BYTES,
    SPAN_RSS_DELTA_BYTES,
    catalog,
    deriv,
    error_codes,
    find_growth_inflection,
    format_amount,
    predict_linear,
)
from leaksense._monitor import (
    EVENT_KINDS,
    MEASURE_READERS,
    Event,
    Monitor,
    Report,
    RequestToken,
    default_monitor,
    set_default_monitor,
)
from leaksense._setup import instrument
from leaksense._requests import UNMATCHED_ROUTE, set_route, track_request

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
    "EVENT_KINDS",
    "Event",
    "MEASURE_READERS",
    "Monitor",
    "Report",
    "RequestToken",
    "SPAN_ALLOCATED_BYTES",
    "SPAN_RSS_DELTA_BYTES",
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
    "format_amount",
    "predict_linear",
]


def analyze(timestamps: Sequence[float], values: Sequence[float], **options: Any) -> Analysis:
    """The core detector's verdict on a series (unix seconds, values). Keyword options go to
    the core unchanged as one JSON object (`kind`, `limit` and every detector option;
    `leaksense.schema.AnalyzeOptions`)."""
    try:
        options_json = _json.dumps(options, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidOptionError(f"invalid option: {e}") from e
    result: Analysis = _json.loads(_analyze_json(timestamps, values, options_json))
    return result

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
    "catalog",
    "deriv",
    "error_codes",
    "find_growth_inflection",
    "predict_linear",
]

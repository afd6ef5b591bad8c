"""Typed exceptions, one per core ErrorCode; `.code` is the stable string."""

from __future__ import annotations


class LeakSenseError(Exception):
    """Base class of every leaksense error."""

    code: str = "internal"


class NonFiniteValueError(LeakSenseError, ValueError):
    """An input value was NaN or infinite."""

    code = "non_finite_value"


class OutOfOrderError(LeakSenseError, ValueError):
    """Timestamps were not strictly increasing."""

    code = "out_of_order"


class EmptyInputError(LeakSenseError, ValueError):
    """An input series was empty or the arrays had different lengths."""

    code = "empty_input"


class InvalidOptionError(LeakSenseError, ValueError):
    """An option had an invalid value or an unknown name."""

    code = "invalid_option"


class IoError(LeakSenseError):
    """Reading process or cgroup memory failed."""

    code = "io"


class ParseError(LeakSenseError):
    """A system file could not be parsed."""

    code = "parse"


class UnsupportedError(LeakSenseError):
    """The platform does not support the requested reading."""

    code = "unsupported"


class ClosedError(LeakSenseError):
    """The monitor was stopped and closed."""

    code = "closed"


class InternalError(LeakSenseError):
    """A bug in leaksense (a caught panic)."""

    code = "internal"


BY_CODE: dict[str, type[LeakSenseError]] = {
    c.code: c
    for c in (
        NonFiniteValueError,
        OutOfOrderError,
        EmptyInputError,
        InvalidOptionError,
        IoError,
        ParseError,
        UnsupportedError,
        ClosedError,
        InternalError,
    )
}

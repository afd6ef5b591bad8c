//! Core error -> Python exception mapping (one place, exhaustive over ErrorCode).

use leaksense_core::error::{ErrorCode, InputError};
use pyo3::prelude::*;

/// Name of the Python exception class (in `leaksense._errors`) for a core error code.
pub fn class_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NonFiniteValue => "NonFiniteValueError",
        ErrorCode::OutOfOrder => "OutOfOrderError",
        ErrorCode::EmptyInput => "EmptyInputError",
        ErrorCode::InvalidOption => "InvalidOptionError",
        ErrorCode::Io => "IoError",
        ErrorCode::Parse => "ParseError",
        ErrorCode::Unsupported => "UnsupportedError",
        ErrorCode::Closed => "ClosedError",
        ErrorCode::Internal => "InternalError",
    }
}

/// Builds the typed Python exception for a core error code and message.
pub fn to_py(py: Python<'_>, code: ErrorCode, msg: String) -> PyErr {
    match py
        .import("leaksense._errors")
        .and_then(|m| m.getattr(class_name(code)))
    {
        Ok(cls) => match cls.call1((msg,)) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

/// Converts a core input error into its typed Python exception.
pub fn input(py: Python<'_>, e: InputError) -> PyErr {
    to_py(py, e.code(), e.to_string())
}

/// Runs `f`, turning a Rust panic into `leaksense.InternalError` so no panic reaches Python.
pub fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(to_py(
            py,
            ErrorCode::Internal,
            "panic in leaksense core".into(),
        )),
    }
}

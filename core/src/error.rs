//! Error families of the core. Each family is its own enum; every variant maps to a stable
//! [`ErrorCode`] that the bindings surface unchanged (a Python exception class, a Node `code`,
//! a C enum value, a Go `*Error`).

use thiserror::Error;

/// Stable error codes shared by every language. Never renumber or rename a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[repr(u32)]
pub enum ErrorCode {
    /// A value is NaN or infinite.
    NonFiniteValue = 1,
    /// A timestamp is not after the previous one.
    OutOfOrder = 2,
    /// The input holds no samples, or too few for the operation.
    EmptyInput = 3,
    /// An option is unknown or outside its allowed range.
    InvalidOption = 4,
    /// The operating system refused a read.
    Io = 5,
    /// A source file could not be parsed.
    Parse = 6,
    /// The source is not available on this platform.
    Unsupported = 7,
    /// The handle was closed or stopped.
    Closed = 8,
    /// A bug inside leaksense (a caught panic, a broken invariant).
    Internal = 9,
}

impl ErrorCode {
    /// The stable string form used by the bindings (`"non_finite_value"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NonFiniteValue => "non_finite_value",
            ErrorCode::OutOfOrder => "out_of_order",
            ErrorCode::EmptyInput => "empty_input",
            ErrorCode::InvalidOption => "invalid_option",
            ErrorCode::Io => "io",
            ErrorCode::Parse => "parse",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Closed => "closed",
            ErrorCode::Internal => "internal",
        }
    }

    /// Every code, in numeric order (for bindings that generate their error classes).
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::NonFiniteValue,
        ErrorCode::OutOfOrder,
        ErrorCode::EmptyInput,
        ErrorCode::InvalidOption,
        ErrorCode::Io,
        ErrorCode::Parse,
        ErrorCode::Unsupported,
        ErrorCode::Closed,
        ErrorCode::Internal,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bad input handed to the core: samples, series and options.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    #[error("sample {index}: {what} is not finite ({value})")]
    NonFinite {
        index: usize,
        what: &'static str,
        value: f64,
    },
    #[error("sample {index}: timestamp {ts_ms} ms is not after the previous one ({prev_ms} ms)")]
    OutOfOrder {
        index: usize,
        ts_ms: i64,
        prev_ms: i64,
    },
    #[error("{what}: need at least {needed} samples, got {got}")]
    Empty {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("timestamps and values differ in length ({timestamps} vs {values})")]
    LengthMismatch { timestamps: usize, values: usize },
    #[error("option `{name}`: {reason}")]
    InvalidOption { name: &'static str, reason: String },
}

impl InputError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            InputError::NonFinite { .. } => ErrorCode::NonFiniteValue,
            InputError::OutOfOrder { .. } => ErrorCode::OutOfOrder,
            InputError::Empty { .. } => ErrorCode::EmptyInput,
            InputError::LengthMismatch { .. } | InputError::InvalidOption { .. } => {
                ErrorCode::InvalidOption
            }
        }
    }

    /// Shorthand for an [`InputError::InvalidOption`].
    pub fn invalid_option(name: &'static str, reason: impl Into<String>) -> Self {
        InputError::InvalidOption {
            name,
            reason: reason.into(),
        }
    }
}

/// A failure to read a memory source.
#[derive(Debug, Error)]
pub enum CollectError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("parsing {path}: {detail}")]
    Parse { path: String, detail: String },
    #[error("{what} is not available on this platform")]
    Unsupported { what: &'static str },
}

impl CollectError {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            CollectError::Io { .. } => ErrorCode::Io,
            CollectError::Parse { .. } => ErrorCode::Parse,
            CollectError::Unsupported { .. } => ErrorCode::Unsupported,
        }
    }

    #[cfg(feature = "collect")]
    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        CollectError::Io {
            path: path.into(),
            source,
        }
    }

    #[cfg(feature = "collect")]
    pub(crate) fn parse(path: impl Into<String>, detail: impl Into<String>) -> Self {
        CollectError::Parse {
            path: path.into(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let strs: std::collections::HashSet<_> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(strs.len(), ErrorCode::ALL.len());
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(*c as u32, i as u32 + 1);
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
    }

    #[test]
    fn input_errors_map_to_codes() {
        let e = InputError::OutOfOrder {
            index: 3,
            ts_ms: 1,
            prev_ms: 2,
        };
        assert_eq!(e.code(), ErrorCode::OutOfOrder);
        assert!(e.to_string().contains("sample 3"));
        assert_eq!(
            InputError::invalid_option("window", "must be >= 2").code(),
            ErrorCode::InvalidOption
        );
    }
}

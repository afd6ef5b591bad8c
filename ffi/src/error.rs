//! The error object every fallible function returns, and the panic boundary.

use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::OnceLock;

use leaksense_core::ErrorCode;

/// Stable error codes, equal to the core's `ErrorCode` numbers (1..=9).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum leaksense_error_code_t {
    /// A value is NaN or infinite.
    LEAKSENSE_NON_FINITE_VALUE = 1,
    /// A timestamp is not after the previous one.
    LEAKSENSE_OUT_OF_ORDER = 2,
    /// The input holds no samples, or too few for the operation.
    LEAKSENSE_EMPTY_INPUT = 3,
    /// An option or argument is unknown, NULL or outside its allowed range.
    LEAKSENSE_INVALID_OPTION = 4,
    /// The operating system refused a read.
    LEAKSENSE_IO = 5,
    /// A source could not be parsed.
    LEAKSENSE_PARSE = 6,
    /// The source is not available on this platform.
    LEAKSENSE_UNSUPPORTED = 7,
    /// The monitor was closed.
    LEAKSENSE_CLOSED = 8,
    /// A bug inside leaksense (a caught panic, a broken invariant).
    LEAKSENSE_INTERNAL = 9,
}

impl From<ErrorCode> for leaksense_error_code_t {
    fn from(code: ErrorCode) -> Self {
        use leaksense_error_code_t::*;
        match code {
            ErrorCode::NonFiniteValue => LEAKSENSE_NON_FINITE_VALUE,
            ErrorCode::OutOfOrder => LEAKSENSE_OUT_OF_ORDER,
            ErrorCode::EmptyInput => LEAKSENSE_EMPTY_INPUT,
            ErrorCode::InvalidOption => LEAKSENSE_INVALID_OPTION,
            ErrorCode::Io => LEAKSENSE_IO,
            ErrorCode::Parse => LEAKSENSE_PARSE,
            ErrorCode::Unsupported => LEAKSENSE_UNSUPPORTED,
            ErrorCode::Closed => LEAKSENSE_CLOSED,
            ErrorCode::Internal => LEAKSENSE_INTERNAL,
        }
    }
}

/// An error: a stable code and a message. Owned by the caller; free it with
/// `leaksense_error_free`.
#[derive(Debug)]
pub struct leaksense_error_t {
    pub(crate) code: ErrorCode,
    message: CString,
}

impl leaksense_error_t {
    /// An error with this code and message (interior NULs, impossible in practice, are dropped).
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let mut bytes = message.into().into_bytes();
        bytes.retain(|&b| b != 0);
        leaksense_error_t {
            code,
            message: CString::new(bytes).unwrap_or_default(),
        }
    }

    /// A bad argument from the caller (a NULL pointer, a length without a buffer).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidOption, message)
    }
}

impl From<leaksense_core::InputError> for leaksense_error_t {
    fn from(e: leaksense_core::InputError) -> Self {
        leaksense_error_t::new(e.code(), e.to_string())
    }
}

impl From<leaksense_core::monitor::MonitorError> for leaksense_error_t {
    fn from(e: leaksense_core::monitor::MonitorError) -> Self {
        leaksense_error_t::new(e.code(), e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, leaksense_error_t>;

/// Runs an entry point's body: an error or a caught panic becomes an owned error object.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> *mut leaksense_error_t {
    let error = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return ptr::null_mut(),
        Ok(Err(e)) => e,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            leaksense_error_t::new(
                ErrorCode::Internal,
                format!("panic inside leaksense: {what}"),
            )
        }
    };
    Box::into_raw(Box::new(error))
}

/// Runs an infallible entry point's body; a panic is swallowed (there is nowhere to report it)
/// rather than unwinding into C, which would be undefined behaviour.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// Runs an accessor's body; a panic (which would be a bug) gives `fallback` instead of
/// unwinding into C.
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The error's stable code.
///
/// # Safety
/// `error` must be NULL or a pointer returned by a leaksense function and not yet freed.
/// NULL gives `LEAKSENSE_INVALID_OPTION`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_error_code(
    error: *const leaksense_error_t,
) -> leaksense_error_code_t {
    let invalid = leaksense_error_code_t::LEAKSENSE_INVALID_OPTION;
    // SAFETY: the caller passes NULL or a live error.
    guard_or(invalid, || {
        unsafe { error.as_ref() }.map_or(invalid, |e| e.code.into())
    })
}

/// The error's message: NUL-terminated UTF-8, valid until `leaksense_error_free(error)`.
///
/// # Safety
/// `error` must be NULL or a live error. NULL gives a static empty string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_error_message(error: *const leaksense_error_t) -> *const c_char {
    // SAFETY: the caller passes NULL or a live error.
    guard_or(c"".as_ptr(), || {
        unsafe { error.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// The stable name of a code (`"non_finite_value"`, ...), static; `"unknown"` for a number
/// that is not a code.
///
/// # Safety
/// Always safe to call; the result must not be freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_error_code_name(code: u32) -> *const c_char {
    static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
    guard_or(c"unknown".as_ptr(), || {
        let names = NAMES.get_or_init(|| {
            ErrorCode::ALL
                .iter()
                .map(|c| CString::new(c.as_str()).unwrap_or_default())
                .collect()
        });
        ErrorCode::ALL
            .iter()
            .position(|c| *c as u32 == code)
            .and_then(|i| names.get(i))
            .map_or(c"unknown".as_ptr(), |n| n.as_ptr())
    })
}

/// Frees an error. NULL is a no-op.
///
/// # Safety
/// `error` must be NULL or a live error returned by a leaksense function; it must not be used
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_error_free(error: *mut leaksense_error_t) {
    if !error.is_null() {
        // SAFETY: the error came from Box::into_raw in `guard` and is freed once.
        guard_void(|| drop(unsafe { Box::from_raw(error) }));
    }
}

/// Frees a string returned by leaksense. NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or a string returned through a `char **out` parameter of leaksense, not
/// freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: the string came from CString::into_raw and is freed once.
        guard_void(|| drop(unsafe { CString::from_raw(s) }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_core_numbers() {
        for code in ErrorCode::ALL {
            assert_eq!(leaksense_error_code_t::from(code) as u32, code as u32);
            // SAFETY: a static string is returned.
            let name = unsafe { std::ffi::CStr::from_ptr(leaksense_error_code_name(code as u32)) };
            assert_eq!(name.to_str().unwrap(), code.as_str());
        }
        // SAFETY: as above.
        let unknown = unsafe { std::ffi::CStr::from_ptr(leaksense_error_code_name(0)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown");
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let e = guard(|| panic!("boom"));
        assert!(!e.is_null());
        // SAFETY: e is a live error, freed once.
        unsafe {
            assert_eq!(
                leaksense_error_code(e),
                leaksense_error_code_t::LEAKSENSE_INTERNAL
            );
            let msg = std::ffi::CStr::from_ptr(leaksense_error_message(e));
            assert!(msg.to_str().unwrap().contains("boom"));
            leaksense_error_free(e);
        }
    }
}

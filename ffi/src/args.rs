//! Checked conversions of C arguments: NULL pointers and bad lengths become typed errors.

use std::ffi::{CString, c_char};

use crate::error::{Result, leaksense_error_t};

/// A `(ptr, len)` UTF-8 string; NULL with length 0 is the empty string.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that outlive the returned borrow.
pub(crate) unsafe fn str_arg<'a>(what: &str, ptr: *const c_char, len: usize) -> Result<&'a str> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { slice_arg(what, ptr.cast::<u8>(), len)? };
    std::str::from_utf8(bytes)
        .map_err(|e| leaksense_error_t::invalid(format!("`{what}` is not UTF-8: {e}")))
}

/// A `(ptr, len)` buffer; NULL with length 0 is the empty slice.
///
/// # Safety
/// `ptr` must be NULL or point to `len` initialised values that outlive the returned borrow.
pub(crate) unsafe fn slice_arg<'a, T>(what: &str, ptr: *const T, len: usize) -> Result<&'a [T]> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(leaksense_error_t::invalid(format!(
                "`{what}` is NULL but its length is {len}"
            )))
        };
    }
    if !ptr.is_aligned() || len > isize::MAX as usize / size_of::<T>().max(1) {
        return Err(leaksense_error_t::invalid(format!(
            "`{what}` is misaligned or too long"
        )));
    }
    // SAFETY: non-NULL, aligned, and the caller promises `len` readable values.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A shared reference from a handle pointer, or an error naming the NULL argument.
///
/// # Safety
/// `ptr` must be NULL or point to a live value.
pub(crate) unsafe fn handle<'a, T>(what: &str, ptr: *const T) -> Result<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { ptr.as_ref() }.ok_or_else(|| leaksense_error_t::invalid(format!("`{what}` is NULL")))
}

/// Writes an out-parameter, or fails when it is NULL.
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(what: &str, out: *mut T, value: T) -> Result<()> {
    if out.is_null() {
        return Err(leaksense_error_t::invalid(format!("`{what}` is NULL")));
    }
    // SAFETY: non-NULL and writable per the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks an out-parameter before any work is done, so that a NULL one has no side effect.
pub(crate) fn check_out<T>(what: &str, out: *mut T) -> Result<()> {
    if out.is_null() {
        Err(leaksense_error_t::invalid(format!("`{what}` is NULL")))
    } else {
        Ok(())
    }
}

/// Writes an owned NUL-terminated string to `out` (free: `leaksense_string_free`).
///
/// # Safety
/// `out` must be NULL or valid for a write of a pointer.
pub(crate) unsafe fn write_string(what: &str, out: *mut *mut c_char, s: String) -> Result<()> {
    check_out(what, out)?;
    let s = CString::new(s).map_err(|_| {
        leaksense_error_t::new(leaksense_core::ErrorCode::Internal, "NUL in output")
    })?;
    // SAFETY: checked non-NULL above; writable per the caller's contract.
    unsafe { out.write(s.into_raw()) };
    Ok(())
}

/// A value as a JSON string (serialising plain data cannot fail; a failure is a bug).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| leaksense_error_t::new(leaksense_core::ErrorCode::Internal, e.to_string()))
}

/// Writes a value as a JSON string to `out` (free: `leaksense_string_free`).
///
/// # Safety
/// `out` must be NULL or valid for a write of a pointer.
pub(crate) unsafe fn write_json<T: serde::Serialize>(
    what: &str,
    out: *mut *mut c_char,
    value: &T,
) -> Result<()> {
    // SAFETY: forwarded from the caller.
    unsafe { write_string(what, out, to_json(value)?) }
}

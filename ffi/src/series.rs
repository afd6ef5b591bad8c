//! One-shot series math over unix-second timestamps: PromQL `deriv` and `predict_linear`, the
//! article's `find_growth_inflection`, and the robust detector's analysis. All of it is the
//! core's `*_secs` entry points; nothing is computed here.

use std::ffi::c_char;

use leaksense_core::InputError;
use leaksense_core::detect;
use leaksense_core::options::analyze_secs;

use crate::args::{check_out, slice_arg, str_arg, write_json, write_out};
use crate::error::{Result, guard, leaksense_error_t};

/// Borrows the two parallel arrays (the core checks that their lengths match).
///
/// # Safety
/// Each pointer must be NULL or point to its length in readable doubles.
unsafe fn series<'a>(
    timestamps: *const f64,
    timestamps_len: usize,
    values: *const f64,
    values_len: usize,
) -> Result<(&'a [f64], &'a [f64])> {
    // SAFETY: forwarded from the caller.
    unsafe {
        Ok((
            slice_arg("timestamps", timestamps, timestamps_len)?,
            slice_arg("values", values, values_len)?,
        ))
    }
}

type SeriesArgs = (*const f64, usize, *const f64, usize);

/// Runs a series function whose answer may be absent and writes it as `(value, has_value)`
/// (`value` is 0 when absent). Both out-parameters are checked before any work.
///
/// # Safety
/// The series pointers must be NULL or point to their lengths in readable doubles; the out
/// pointers NULL or writable.
unsafe fn optional_result(
    (timestamps, timestamps_len, values, values_len): SeriesArgs,
    (out_value, out_has_value): (*mut f64, *mut bool),
    f: impl FnOnce(&[f64], &[f64]) -> std::result::Result<Option<f64>, InputError>,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_value", out_value)?;
        check_out("out_has_value", out_has_value)?;
        // SAFETY: forwarded from the caller.
        let (ts, vs) = unsafe { series(timestamps, timestamps_len, values, values_len)? };
        let v = f(ts, vs)?;
        // SAFETY: both checked non-NULL; writable per the caller's contract.
        unsafe {
            write_out("out_value", out_value, v.unwrap_or(0.0))?;
            write_out("out_has_value", out_has_value, v.is_some())
        }
    })
}

/// PromQL `deriv` over the whole series: the least-squares slope per second. With fewer than two
/// samples `*out_has_value` is false (Prometheus returns no value). Timestamps are unix seconds.
/// Errors: `LEAKSENSE_NON_FINITE_VALUE`, `LEAKSENSE_OUT_OF_ORDER`, `LEAKSENSE_INVALID_OPTION`
/// (lengths differ, NULL pointers).
///
/// # Safety
/// `timestamps`/`values` must be NULL or point to their lengths in readable doubles; the out
/// pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_series_deriv(
    timestamps: *const f64,
    timestamps_len: usize,
    values: *const f64,
    values_len: usize,
    out_value: *mut f64,
    out_has_value: *mut bool,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on every pointer.
    unsafe {
        optional_result(
            (timestamps, timestamps_len, values, values_len),
            (out_value, out_has_value),
            detect::deriv_secs,
        )
    }
}

/// PromQL `predict_linear(v, horizon)` over the whole series, evaluated at `eval_time` (unix
/// seconds; x is measured from it). `*out_has_value` is false with fewer than two samples.
/// A non-finite `eval_time` or `horizon` is `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// As `leaksense_series_deriv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_series_predict_linear(
    timestamps: *const f64,
    timestamps_len: usize,
    values: *const f64,
    values_len: usize,
    eval_time: f64,
    horizon: f64,
    out_value: *mut f64,
    out_has_value: *mut bool,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on every pointer.
    unsafe {
        optional_result(
            (timestamps, timestamps_len, values, values_len),
            (out_value, out_has_value),
            |ts, vs| detect::predict_linear_secs(ts, vs, eval_time, horizon),
        )
    }
}

/// The article's `find_growth_inflection` (sliding window of `window` points, at least
/// `window * ratio` rising steps; the article uses 12 and 0.8): `*out_time` receives the unix
/// seconds where growth began, or the first timestamp when no window matches.
/// Errors: `LEAKSENSE_EMPTY_INPUT`, `LEAKSENSE_INVALID_OPTION` (`window == 0`, `ratio` outside
/// [0, 1]), `LEAKSENSE_NON_FINITE_VALUE`, `LEAKSENSE_OUT_OF_ORDER`.
///
/// # Safety
/// As `leaksense_series_deriv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_series_find_growth_inflection(
    timestamps: *const f64,
    timestamps_len: usize,
    values: *const f64,
    values_len: usize,
    window: usize,
    ratio: f64,
    out_time: *mut f64,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_time", out_time)?;
        // SAFETY: the caller's contract on every pointer.
        let (ts, vs) = unsafe { series(timestamps, timestamps_len, values, values_len)? };
        let t = detect::find_growth_inflection_secs(ts, vs, window, ratio)?;
        unsafe { write_out("out_time", out_time, t) }
    })
}

/// Replays the series through the robust leak detector with `options`, a JSON object of
/// `kind` (`"heap"` or `"count"`), `limit` and any other detector option
/// (`schema/analyze-options.schema.json`), UTF-8 of `options_len` bytes (NULL with length 0
/// means all defaults), and writes the final analysis as JSON to `*out_json` (free it with
/// `leaksense_string_free`). Errors: `LEAKSENSE_EMPTY_INPUT`, `LEAKSENSE_NON_FINITE_VALUE`,
/// `LEAKSENSE_OUT_OF_ORDER`, `LEAKSENSE_INVALID_OPTION` (unknown option, bad value).
///
/// # Safety
/// As `leaksense_series_deriv`; `options` NULL or `options_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_series_analyze(
    timestamps: *const f64,
    timestamps_len: usize,
    values: *const f64,
    values_len: usize,
    options: *const c_char,
    options_len: usize,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_json", out_json)?;
        // SAFETY: the caller's contract on every pointer.
        let (ts, vs) = unsafe { series(timestamps, timestamps_len, values, values_len)? };
        let options = unsafe { str_arg("options", options, options_len)? };
        let analysis = analyze_secs(ts, vs, options)?;
        unsafe { write_json("out_json", out_json, &analysis) }
    })
}

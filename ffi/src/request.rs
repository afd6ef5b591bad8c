//! Per-request tracking: `leaksense_request_t` is caller-allocated.
//!
//! Why not a boxed handle: the core's `RequestToken` is a 48-byte `Copy` value with no heap, and
//! a boxed one would add a malloc and a free to every request on the hot path, and leak
//! whenever a request dies without reaching `end` (a panic in a Go handler, a C longjmp). A
//! fixed-size `repr(C)` struct the caller keeps on its stack (or in a Go struct) costs nothing,
//! cannot leak, and needs no `_free`. Its bytes are private; a `state` word guards against
//! ending a request that was never begun or was already ended.

use std::ffi::{CStr, c_char};

use leaksense_core::requests::{MAX_MEASURES, RequestOutcome, RequestToken, UNMATCHED_ROUTE};

use crate::args::{check_out, handle, slice_arg, str_arg, write_out};
use crate::error::{guard, leaksense_error_t};
use crate::monitor::leaksense_monitor_t;

/// The most runtime measures a monitor takes per request (its `measures` option).
pub const LEAKSENSE_MAX_MEASURES: usize = 4;

const _: () = assert!(LEAKSENSE_MAX_MEASURES == MAX_MEASURES);
// The token must fit the private words and their alignment. It holds only integers and
// floats (any bit pattern is a valid value), and the tracker checks that a token it is handed
// was issued by it, so reading one back from caller memory is sound.
const _: () = assert!(size_of::<RequestToken>() <= size_of::<[u64; 6]>());
const _: () = assert!(align_of::<RequestToken>() <= align_of::<u64>());

/// `state` of a request between `begin` and `end`.
const BEGUN: u64 = 0x6c65_616b_7365_6e73; // "leaksens"

/// One request in flight. Allocate it yourself (on the stack is fine); fill it with
/// `leaksense_request_begin` and pass it to `leaksense_request_end` once. Treat the fields as
/// private.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct leaksense_request_t {
    /// Nonzero between begin and end.
    pub state: u64,
    /// The core's request token.
    pub opaque: [u64; 6],
}

/// What `leaksense_request_end` reports for one request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct leaksense_request_outcome_t {
    /// Growth of each runtime measure over the request, in the order of the `measures` option.
    pub deltas: [f64; LEAKSENSE_MAX_MEASURES],
    /// How many entries of `deltas` are set.
    pub deltas_len: usize,
    /// Whether `rss_delta` is set (the monitor reads RSS per request and both reads worked).
    pub has_rss_delta: bool,
    /// Change in process RSS over the request, in bytes.
    pub rss_delta: f64,
    /// When the request was counted (unix ms).
    pub ts_ms: i64,
}

/// Starts tracking one request on `route` (UTF-8, `route_len` bytes; a route template such as
/// `GET /users/{id}`, never the raw path) with the runtime measures read now (`measures_len`
/// must equal the number of names in the monitor's `measures` option). Fills `*out_request`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `route` NULL or `route_len` readable bytes;
/// `measures` NULL or `measures_len` readable doubles; `out_request` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_request_begin(
    monitor: *const leaksense_monitor_t,
    route: *const c_char,
    route_len: usize,
    measures: *const f64,
    measures_len: usize,
    out_request: *mut leaksense_request_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_request", out_request)?;
        // SAFETY: the caller's contract on every pointer.
        let monitor = unsafe { handle("monitor", monitor)? };
        let route = unsafe { str_arg("route", route, route_len)? };
        let measures = unsafe { slice_arg("measures", measures, measures_len)? };
        let token = monitor.inner.begin_request(route, measures)?;
        let mut request = leaksense_request_t {
            state: BEGUN,
            opaque: [0; 6],
        };
        // SAFETY: size and alignment are asserted above; `opaque` is plain memory.
        unsafe {
            request
                .opaque
                .as_mut_ptr()
                .cast::<RequestToken>()
                .write(token)
        };
        // SAFETY: checked non-NULL; writable per the caller's contract.
        unsafe { out_request.write(request) };
        Ok(())
    })
}

/// Ends a request with the runtime measures read now and records its deltas on its route.
/// `*request` is marked ended; ending it again is `LEAKSENSE_INVALID_OPTION`. On success
/// `*out_outcome` (if not NULL) receives the deltas, to set as span attributes.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `request` NULL or a request filled by
/// `leaksense_request_begin` on the same monitor (or zeroed); `measures` NULL or `measures_len`
/// readable doubles; `out_outcome` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_request_end(
    monitor: *const leaksense_monitor_t,
    request: *mut leaksense_request_t,
    measures: *const f64,
    measures_len: usize,
    out_outcome: *mut leaksense_request_outcome_t,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on every pointer.
        let monitor = unsafe { handle("monitor", monitor)? };
        let measures = unsafe { slice_arg("measures", measures, measures_len)? };
        // SAFETY: non-NULL after the check; the caller's contract makes it readable/writable.
        let request = unsafe { request.as_mut() }
            .ok_or_else(|| leaksense_error_t::invalid("`request` is NULL"))?;
        if request.state != BEGUN {
            return Err(leaksense_error_t::invalid(
                "`request` was not begun, or was already ended",
            ));
        }
        // SAFETY: `state == BEGUN` means `begin` wrote a token here (size/alignment asserted).
        let token = unsafe { request.opaque.as_ptr().cast::<RequestToken>().read() };
        let outcome = monitor.inner.end_request(token, measures)?;
        request.state = 0;
        // SAFETY: the caller's contract on `out_outcome`.
        unsafe { write_outcome(out_outcome, &outcome) };
        Ok(())
    })
}

/// Writes an outcome to an optional out-parameter.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn write_outcome(out: *mut leaksense_request_outcome_t, outcome: &RequestOutcome) {
    if out.is_null() {
        return;
    }
    let d = outcome.deltas();
    let mut deltas = [0.0; LEAKSENSE_MAX_MEASURES];
    deltas[..d.len()].copy_from_slice(d);
    let result = leaksense_request_outcome_t {
        deltas,
        deltas_len: d.len(),
        has_rss_delta: outcome.rss_delta.is_some(),
        rss_delta: outcome.rss_delta.unwrap_or(0.0),
        ts_ms: outcome.ts_ms,
    };
    // SAFETY: non-NULL; writable per the caller's contract.
    unsafe { out.write(result) };
}

/// The id of `route` (UTF-8, `route_len` bytes; a template, never the raw path) for
/// `leaksense_request_record`, interned now if new; past the monitor's `max_routes`, the id of
/// the `_other` bucket. Ids are small and stable for the monitor's life: resolve each route once
/// and keep its id (in a map capped at `max_routes` entries), so that no string crosses the ABI
/// per request.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `route` NULL or `route_len` readable bytes;
/// `out_id` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_route_id(
    monitor: *const leaksense_monitor_t,
    route: *const c_char,
    route_len: usize,
    out_id: *mut u32,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_id", out_id)?;
        // SAFETY: the caller's contract on every pointer.
        let monitor = unsafe { handle("monitor", monitor)? };
        let route = unsafe { str_arg("route", route, route_len)? };
        let id = monitor.inner.route_id(route)?;
        // SAFETY: checked non-NULL; writable per the caller's contract.
        unsafe { write_out("out_id", out_id, id) }
    })
}

/// Records one finished request in one call, with nothing to begin and nothing allocated: its
/// route id (`leaksense_monitor_route_id`), the runtime measures read at its start and at its
/// end (`measures_len` values each, the number of names in the `measures` option), and
/// `rss_start`, what `leaksense_monitor_request_rss` gave at its start (NaN unless the
/// `rss_per_request` option is on). On success `*out_outcome` (if not NULL) receives the
/// deltas. An unknown route id or a non-finite measure is `LEAKSENSE_INVALID_OPTION` /
/// `LEAKSENSE_NON_FINITE_VALUE`; nothing is recorded then.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `start` and `end` NULL or `measures_len` readable
/// doubles each; `out_outcome` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_request_record(
    monitor: *const leaksense_monitor_t,
    route_id: u32,
    start: *const f64,
    end: *const f64,
    measures_len: usize,
    rss_start: f64,
    out_outcome: *mut leaksense_request_outcome_t,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on every pointer.
        let monitor = unsafe { handle("monitor", monitor)? };
        let start = unsafe { slice_arg("start", start, measures_len)? };
        let end = unsafe { slice_arg("end", end, measures_len)? };
        let outcome = monitor
            .inner
            .record_request(route_id, start, end, rss_start)?;
        // SAFETY: the caller's contract on `out_outcome`.
        unsafe { write_outcome(out_outcome, &outcome) };
        Ok(())
    })
}

/// Process RSS now, in bytes, for the start of a request passed to `leaksense_request_record`;
/// NaN unless the monitor's `rss_per_request` option is on (or when the read failed).
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_bytes` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_request_rss(
    monitor: *const leaksense_monitor_t,
    out_bytes: *mut f64,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let monitor = unsafe { handle("monitor", monitor)? };
        unsafe { write_out("out_bytes", out_bytes, monitor.inner.request_rss()) }
    })
}

/// The route every middleware gives a request that no framework route matched and no user code
/// named (404s): the core's name, shared by every language (NUL-terminated, static: do not
/// free). It is an ordinary route, apart from the `_other` overflow bucket.
#[unsafe(no_mangle)]
pub extern "C" fn leaksense_unmatched_route() -> *const c_char {
    UNMATCHED.as_ptr()
}

// The core's constant, NUL-terminated at compile time, so the C name cannot drift from it.
const UNMATCHED_BYTES: [u8; UNMATCHED_ROUTE.len() + 1] = nul_terminated(UNMATCHED_ROUTE);
const UNMATCHED: &CStr = match CStr::from_bytes_with_nul(&UNMATCHED_BYTES) {
    Ok(s) => s,
    Err(_) => panic!("UNMATCHED_ROUTE holds a NUL byte"),
};

const fn nul_terminated<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_route_is_the_cores() {
        // SAFETY: the result is a static NUL-terminated string.
        let s = unsafe { CStr::from_ptr(leaksense_unmatched_route()) };
        assert_eq!(s.to_str().unwrap(), UNMATCHED_ROUTE);
    }
}

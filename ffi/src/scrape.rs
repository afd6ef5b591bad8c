//! What a metrics scrape reads, as plain structs: no JSON to build and parse once per
//! collection (the Go binding's collection spent most of its time there).

use std::ffi::c_char;

use leaksense_core::collect::Snapshot;
use leaksense_core::gauges::GAUGE_KEYS;

use crate::args::{check_out, handle, str_arg};
use crate::error::{guard, leaksense_error_t};
use crate::monitor::leaksense_monitor_t;

/// How many gauges `leaksense_monitor_gauge_values` fills.
pub const LEAKSENSE_GAUGE_COUNT: usize = 5;

const _: () = assert!(LEAKSENSE_GAUGE_COUNT == GAUGE_KEYS.len());

/// Process and container memory, one read of each source. A `has_*` flag is false where the
/// platform or the cgroup does not say; the value is then 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct leaksense_memory_t {
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// Virtual memory size, bytes.
    pub virtual_bytes: u64,
    pub has_peak_rss: bool,
    /// Peak resident set size (`ru_maxrss`), bytes.
    pub peak_rss_bytes: u64,
    pub has_container_usage: bool,
    /// cgroup memory usage, bytes.
    pub container_usage_bytes: u64,
    pub has_container_oom: bool,
    /// cgroup v2 `oom` events.
    pub container_oom: u64,
    pub has_container_oom_kill: bool,
    /// cgroup `oom_kill` events.
    pub container_oom_kill: u64,
}

impl From<&Snapshot> for leaksense_memory_t {
    fn from(s: &Snapshot) -> Self {
        let c = &s.container;
        leaksense_memory_t {
            rss_bytes: s.process.rss_bytes,
            virtual_bytes: s.process.virtual_bytes,
            has_peak_rss: s.peak_rss.is_some(),
            peak_rss_bytes: s.peak_rss.unwrap_or(0),
            has_container_usage: c.usage.is_some(),
            container_usage_bytes: c.usage.unwrap_or(0),
            has_container_oom: c.oom.is_some(),
            container_oom: c.oom.unwrap_or(0),
            has_container_oom_kill: c.oom_kill.is_some(),
            container_oom_kill: c.oom_kill.unwrap_or(0),
        }
    }
}

/// Reads what a metrics collection exports now, without feeding the detector: a statm `pread`,
/// `getrusage` for the peak, and one `pread` of the cgroup's usage and events files (not its
/// limit files).
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_memory(
    monitor: *const leaksense_monitor_t,
    out: *mut leaksense_memory_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out", out)?;
        // SAFETY: the caller's contract on `monitor`.
        let snap = unsafe { handle("monitor", monitor)? }.inner.memory()?;
        // SAFETY: checked non-NULL; writable per the caller's contract.
        unsafe { out.write(leaksense_memory_t::from(&snap)) };
        Ok(())
    })
}

/// The detector's gauges now, in the order of `leaksense_gauge_key`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct leaksense_gauges_t {
    /// Each gauge's value; meaningful where `present` is true.
    pub values: [f64; LEAKSENSE_GAUGE_COUNT],
    /// False where there is nothing to observe (no limit known, no rate while memory is flat).
    pub present: [bool; LEAKSENSE_GAUGE_COUNT],
}

/// The detector's gauges without JSON (`leaksense_monitor_gauges` gives the same by key).
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_gauge_values(
    monitor: *const leaksense_monitor_t,
    out: *mut leaksense_gauges_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out", out)?;
        // SAFETY: the caller's contract on `monitor`.
        let g = unsafe { handle("monitor", monitor)? }.inner.gauges()?;
        let mut result = leaksense_gauges_t::default();
        // The detector's; the counts' readings come from `leaksense_monitor_count_value`.
        for (i, (_, v)) in g.leak.values().into_iter().enumerate() {
            result.values[i] = v.unwrap_or(0.0);
            result.present[i] = v.is_some();
        }
        // SAFETY: checked non-NULL; writable per the caller's contract.
        unsafe { out.write(result) };
        Ok(())
    })
}

/// The latest reading of a watched count (`series`: UTF-8 of `series_len` bytes, such as
/// `"open_fds"`), without JSON: `*out_present` is false (and `*out_value` 0) until the count
/// has been read. A count that is not watched is `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `series` NULL or `series_len` readable bytes;
/// `out_value` and `out_present` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_count_value(
    monitor: *const leaksense_monitor_t,
    series: *const c_char,
    series_len: usize,
    out_value: *mut f64,
    out_present: *mut bool,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_value", out_value)?;
        check_out("out_present", out_present)?;
        // SAFETY: the caller's contract on the pointers.
        let series = unsafe { str_arg("series", series, series_len)? };
        let v = unsafe { handle("monitor", monitor)? }
            .inner
            .count_value(series)?;
        // SAFETY: both checked non-NULL; writable per the caller's contract.
        unsafe {
            out_value.write(v.unwrap_or(0.0));
            out_present.write(v.is_some());
        }
        Ok(())
    })
}

/// The catalog key of gauge `index` (NUL-terminated, static: do not free), or NULL when
/// `index >= LEAKSENSE_GAUGE_COUNT`.
#[unsafe(no_mangle)]
pub extern "C" fn leaksense_gauge_key(index: usize) -> *const c_char {
    KEYS.get(index).map_or(std::ptr::null(), |k| k.as_ptr())
}

// The core's keys, NUL-terminated (checked against the core's list below).
const KEYS: [&std::ffi::CStr; LEAKSENSE_GAUGE_COUNT] = [
    c"memory.limit",
    c"memory.baseline",
    c"memory.growth_rate",
    c"memory.time_to_limit",
    c"detector.state",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_keys_are_the_cores() {
        for (i, key) in GAUGE_KEYS.iter().enumerate() {
            // SAFETY: a non-NULL result is a static NUL-terminated string.
            let k = unsafe { std::ffi::CStr::from_ptr(leaksense_gauge_key(i)) };
            assert_eq!(k.to_str().unwrap(), *key);
        }
        assert!(leaksense_gauge_key(GAUGE_KEYS.len()).is_null());
    }
}

//! `leaksense_monitor_t`: the core monitor's lifecycle, sampling, baseline, limit, analysis,
//! events and report.

use std::ffi::c_char;

use leaksense_core::monitor::{Monitor, Watched};

use crate::args::{check_out, handle, str_arg, to_json, write_out, write_string};
use crate::error::{Result, guard, guard_void, leaksense_error_t};

/// A monitor of this process: memory collection, leak detection and per-request attribution.
/// Thread-safe: every function taking a `const leaksense_monitor_t *` may be called from any
/// thread concurrently. Free it with `leaksense_monitor_free`.
pub struct leaksense_monitor_t {
    pub(crate) inner: Monitor,
}

/// Creates a monitor for `runtime` (`"process"`, `"go"`, `"python"`, `"node"`; UTF-8 of
/// `runtime_len` bytes, NULL with length 0 means `"process"`) from a JSON object of options (the
/// keys shared by every language: `naming`, `interval_ms`, `measures`, `heap`, `detector`,
/// ...), laid over that runtime's preset. `config` is UTF-8 of `config_len` bytes, not
/// NUL-terminated; NULL with length 0 means no options. Unknown keys, bad values, an unknown
/// runtime or a `runtime` key naming another one give `LEAKSENSE_INVALID_OPTION`. On success
/// `*out` owns the new monitor.
///
/// # Safety
/// `runtime` and `config` must each be NULL or point to their length in readable bytes; `out`
/// must be NULL or valid for a pointer write. On error `*out` is not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_new(
    runtime: *const c_char,
    runtime_len: usize,
    config: *const c_char,
    config_len: usize,
    out: *mut *mut leaksense_monitor_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out", out)?;
        // SAFETY: the caller's contract on `runtime` and `config`.
        let runtime = unsafe { str_arg("runtime", runtime, runtime_len)? };
        let json = unsafe { str_arg("config", config, config_len)? };
        let runtime = if runtime.is_empty() {
            "process"
        } else {
            runtime
        };
        let inner = Monitor::for_runtime(runtime, json)?;
        let monitor = Box::into_raw(Box::new(leaksense_monitor_t { inner }));
        // SAFETY: `out` was checked non-NULL; writable per the caller's contract.
        unsafe { out.write(monitor) };
        Ok(())
    })
}

/// The options the monitor runs with, defaults filled in, as JSON (`schema/monitor-options.schema.json`);
/// free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_config(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe { monitor_string(monitor, "out_json", out_json, |m| to_json(m.config())) }
}

/// Runs `f` on the monitor and hands its string to C through `out`. The out-parameter is
/// checked first, so a NULL one has no side effect (`poll_events` must not drain the queue).
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out` NULL or writable.
unsafe fn monitor_string(
    monitor: *const leaksense_monitor_t,
    what: &str,
    out: *mut *mut c_char,
    f: impl FnOnce(&Monitor) -> Result<String>,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out(what, out)?;
        // SAFETY: the caller's contract on both pointers.
        let text = f(&unsafe { handle("monitor", monitor)? }.inner)?;
        unsafe { write_string(what, out, text) }
    })
}

/// Starts the core's sampler thread (one sample every `interval_ms`); a no-op while it runs.
///
/// # Safety
/// `monitor` must be NULL or a live monitor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_start(
    monitor: *const leaksense_monitor_t,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on `monitor`.
    guard(|| Ok(unsafe { handle("monitor", monitor)? }.inner.start()?))
}

/// Stops the sampler thread and waits for it; idempotent. A `fork` needs no stop: the core
/// takes its locks around it (`pthread_atfork`); in the child the sampler is stopped (its
/// thread did not survive), so call `leaksense_monitor_start` there to sample.
///
/// # Safety
/// `monitor` must be NULL or a live monitor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_stop(
    monitor: *const leaksense_monitor_t,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on `monitor`.
        unsafe { handle("monitor", monitor)? }.inner.stop();
        Ok(())
    })
}

/// Whether the sampler thread runs.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_running` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_is_running(
    monitor: *const leaksense_monitor_t,
    out_running: *mut bool,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let running = unsafe { handle("monitor", monitor)? }.inner.is_running();
        unsafe { write_out("out_running", out_running, running) }
    })
}

/// Stops sampling and closes the monitor: every later call on it fails with
/// `LEAKSENSE_CLOSED`. Idempotent and safe while other threads use the monitor; the memory is
/// released only by `leaksense_monitor_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_close(
    monitor: *const leaksense_monitor_t,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on `monitor`.
        unsafe { handle("monitor", monitor)? }.inner.close();
        Ok(())
    })
}

/// Stops the sampler and frees the monitor. NULL is a no-op.
///
/// # Safety
/// `monitor` must be NULL or a monitor from `leaksense_monitor_new`, not freed before, and no
/// other thread may use it during or after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_free(monitor: *mut leaksense_monitor_t) {
    if !monitor.is_null() {
        // SAFETY: the pointer came from Box::into_raw in `leaksense_monitor_new`, freed once.
        guard_void(|| drop(unsafe { Box::from_raw(monitor) }));
    }
}

/// Reads process and container memory now and feeds the detector (unless a runtime baseline
/// is fed). `*out_json` receives the snapshot as JSON (`process`, `container`, `limits`); free
/// it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_sample(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe { monitor_string(monitor, "out_json", out_json, |m| to_json(&m.sample(None)?)) }
}

/// `leaksense_monitor_sample` at an explicit time (unix ms, for replays and tests): a time that
/// does not move forward gives `LEAKSENSE_OUT_OF_ORDER`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_sample_at(
    monitor: *const leaksense_monitor_t,
    ts_ms: i64,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe {
        monitor_string(monitor, "out_json", out_json, |m| {
            to_json(&m.sample(Some(ts_ms))?)
        })
    }
}

/// Feeds the runtime's heap left after a full GC (Go: `/gc/heap/live:bytes` after a cycle) at
/// `ts_ms` (unix ms). From the first call on, the detector watches this series instead of RSS.
/// Errors: `LEAKSENSE_NON_FINITE_VALUE`, `LEAKSENSE_OUT_OF_ORDER`, `LEAKSENSE_CLOSED`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_observe_baseline(
    monitor: *const leaksense_monitor_t,
    ts_ms: i64,
    bytes: f64,
) -> *mut leaksense_error_t {
    guard(|| {
        // The event, if any, is also queued for `leaksense_monitor_poll_events`.
        // SAFETY: the caller's contract on `monitor`.
        unsafe { handle("monitor", monitor)? }
            .inner
            .observe_baseline(ts_ms, bytes)?;
        Ok(())
    })
}

/// Feeds one reading of a watched count at `ts_ms` (unix ms): `series` names it (UTF-8 of
/// `series_len` bytes: `"goroutines"` from the Go binding, `"active_resources"`, `"threads"`;
/// `"open_fds"`, which the sampler thread counts itself, for replays and tests). Each count has
/// its own detector, alert and events. Errors: `LEAKSENSE_INVALID_OPTION` (not a watched count),
/// `LEAKSENSE_NON_FINITE_VALUE`, `LEAKSENSE_OUT_OF_ORDER` (not after that count's last
/// reading), `LEAKSENSE_CLOSED`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `series` NULL or `series_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_observe_count(
    monitor: *const leaksense_monitor_t,
    series: *const c_char,
    series_len: usize,
    ts_ms: i64,
    value: f64,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let series = unsafe { str_arg("series", series, series_len)? };
        unsafe { handle("monitor", monitor)? }
            .inner
            .observe_count(series, ts_ms, value)?;
        Ok(())
    })
}

/// Records the limit the runtime reports (Go: `GOMEMLIMIT`); `has_limit == false` clears it.
/// The detector uses the smallest applicable limit. A zero limit is `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_set_runtime_limit(
    monitor: *const leaksense_monitor_t,
    has_limit: bool,
    limit: u64,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on `monitor`.
        unsafe { handle("monitor", monitor)? }
            .inner
            .set_runtime_limit(has_limit.then_some(limit))?;
        Ok(())
    })
}

/// The detector's current analysis as JSON (`verdict`, `state`, `growth_start_ms`,
/// `rate_per_sec`, ...); free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_analysis(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe { monitor_string(monitor, "out_json", out_json, |m| to_json(&m.analysis()?)) }
}

/// Drains the events since the last poll (oldest first, at most 64) as a JSON array of
/// events (`schema/event.schema.json`): `{"kind", "ts_ms", "measure", "report", "report_text"}`,
/// where `kind` is `"leak"` (the alert went to firing), `"suspects"` (while it fires, the
/// monitor is sure of its suspect routes: stricter intervals, the same top suspect in 3 looks in
/// a row) or `"resolved"` (it left firing), and `report` is the report built for the event. Free
/// it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_poll_events(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe {
        monitor_string(monitor, "out_json", out_json, |m| {
            to_json(&m.poll_events()?)
        })
    }
}

/// The gauges as a JSON object keyed by catalog key: the memory detector's (`memory.limit`,
/// `memory.baseline`, `memory.growth_rate`, `memory.time_to_limit`, `detector.state`; the state
/// is 0 inactive, 1 pending, 2 firing), then each watched count's latest reading under its
/// catalog key (`process.open_fds`, `go.goroutine.count`, ...); `null` where there is nothing to
/// observe. Free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_gauges(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe { monitor_string(monitor, "out_json", out_json, |m| to_json(&m.gauges()?)) }
}

/// Feeds recorded data at injected times (replays, tests): `steps` is a JSON array of
/// `{"ts_ms", "requests": {"route": count}, "baseline"}` (`schema/replay-step.schema.json`), UTF-8
/// of `steps_len` bytes. Each step's requests are ended, then its baseline fed, then the events
/// it caused get their reports, so the same steps give the same events in every language.
/// Errors: `LEAKSENSE_INVALID_OPTION`, `LEAKSENSE_NON_FINITE_VALUE`, `LEAKSENSE_OUT_OF_ORDER`,
/// `LEAKSENSE_CLOSED`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `steps` NULL or `steps_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_replay(
    monitor: *const leaksense_monitor_t,
    steps: *const c_char,
    steps_len: usize,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let json = unsafe { str_arg("steps", steps, steps_len)? };
        unsafe { handle("monitor", monitor)? }
            .inner
            .replay_json(json)?;
        Ok(())
    })
}

/// The leak report as stable JSON (`schema_version`, the analysis, `suspects`, `routes`, ...);
/// free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_report_json(
    monitor: *const leaksense_monitor_t,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe { monitor_string(monitor, "out_json", out_json, |m| Ok(m.report()?.to_json())) }
}

/// The leak report as plain text for terminals and logs; free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_text` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_report_text(
    monitor: *const leaksense_monitor_t,
    out_text: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on both pointers.
    unsafe {
        monitor_string(monitor, "out_text", out_text, |m| {
            Ok(m.report()?.render_text())
        })
    }
}

/// The report of one watched series as stable JSON: `series` is `"memory"` (the same as
/// `leaksense_monitor_report_json`) or a watched count (`"goroutines"`, `"open_fds"`, ...), whose
/// report gives its verdict and the routes whose requests leave it behind, in its unit. UTF-8 of
/// `series_len` bytes; an unwatched count is `LEAKSENSE_INVALID_OPTION`. Free the string with
/// `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `series` NULL or `series_len` readable bytes;
/// `out_json` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_report_for_json(
    monitor: *const leaksense_monitor_t,
    series: *const c_char,
    series_len: usize,
    out_json: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on the pointers.
    unsafe {
        monitor_string(monitor, "out_json", out_json, |m| {
            let series = str_arg("series", series, series_len)?;
            Ok(m.report_for(series)?.to_json())
        })
    }
}

/// `leaksense_monitor_report_for_json` as plain text; free it with `leaksense_string_free`.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `series` NULL or `series_len` readable bytes;
/// `out_text` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_report_for_text(
    monitor: *const leaksense_monitor_t,
    series: *const c_char,
    series_len: usize,
    out_text: *mut *mut c_char,
) -> *mut leaksense_error_t {
    // SAFETY: the caller's contract on the pointers.
    unsafe {
        monitor_string(monitor, "out_text", out_text, |m| {
            let series = str_arg("series", series, series_len)?;
            Ok(m.report_for(series)?.render_text())
        })
    }
}

/// The series the leak detector watches.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum leaksense_watched_t {
    /// Process RSS from the core's own samples (until a runtime baseline is fed).
    LEAKSENSE_WATCHED_RSS = 1,
    /// The runtime's post-GC heap fed through `leaksense_monitor_observe_baseline`.
    LEAKSENSE_WATCHED_RUNTIME_BASELINE = 2,
}

/// Which series the detector watches now.
///
/// # Safety
/// `monitor` must be NULL or a live monitor; `out_watched` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_monitor_watched(
    monitor: *const leaksense_monitor_t,
    out_watched: *mut leaksense_watched_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_watched", out_watched)?;
        // SAFETY: the caller's contract on both pointers.
        let watched = match unsafe { handle("monitor", monitor)? }.inner.watched()? {
            Watched::Rss => leaksense_watched_t::LEAKSENSE_WATCHED_RSS,
            Watched::RuntimeBaseline => leaksense_watched_t::LEAKSENSE_WATCHED_RUNTIME_BASELINE,
        };
        unsafe { write_out("out_watched", out_watched, watched) }
    })
}

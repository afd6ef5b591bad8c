//! The fuzz harnesses (issue #18): the three input readers of `leaksense analyze`, the options
//! parsers (the monitor's JSON options, the detector's and attribution's), and the C ABI. A
//! harness fails by panicking or aborting: an input reader must return a result for any bytes,
//! an options parser must refuse bad options with `invalid_option`, and no C entry point may
//! ever answer `LEAKSENSE_INTERNAL` (a caught panic or a broken invariant).

use std::ffi::c_char;

use arbitrary::Arbitrary;
use leaksense_cli::input::{Format, Input};
use leaksense_cli::stream;
use leaksense_core::ErrorCode;
use leaksense_core::detect::{DetectorConfig, SeriesKind};
use leaksense_core::monitor::MonitorConfig;
use leaksense_core::options::AnalyzeOptions;
use leaksense_ffi::*;

fn input(data: &[u8], format: Format) -> Input {
    Input::from_reader(
        "fuzz",
        format,
        None,
        Box::new(std::io::Cursor::new(data.to_vec())),
    )
}

/// Every report the CLI can render must render, whatever series came in.
fn render_all(reports: &[leaksense_cli::analyze::SeriesReport], cfg: &DetectorConfig) {
    let text = leaksense_cli::render::text("fuzz", cfg, reports, false);
    let json = leaksense_cli::render::json("fuzz", cfg, reports);
    let html = leaksense_cli::html::page("fuzz", cfg, reports);
    for out in [&text, &html] {
        let safe = leaksense_cli::safe::for_terminal(out);
        assert!(!safe.contains('\u{1b}'), "an escape reached the terminal");
    }
    let back: serde_json::Value = serde_json::from_str(&leaksense_cli::safe::for_json(&json))
        .expect("the escaped JSON report still parses");
    assert_eq!(back["series"].as_array().map(Vec::len), Some(reports.len()));
}

fn single(data: &[u8], format: Format) {
    let cfg = DetectorConfig::default();
    if let Ok((reports, _)) = stream::single(input(data, format), &cfg, None) {
        render_all(&reports, &cfg);
    }
}

/// CSV bytes through the streaming reader and the detector, then every renderer.
pub fn csv(data: &[u8]) {
    single(data, Format::Csv);
}

/// JSON bytes through the two-reader streaming parser and the detector, then every renderer.
pub fn json(data: &[u8]) {
    single(data, Format::Json);
}

/// OpenMetrics bytes through the line reader, the series grouping and the workers.
pub fn openmetrics(data: &[u8]) {
    let cfg = DetectorConfig::for_kind(SeriesKind::Count);
    if let Ok((reports, _)) = stream::openmetrics(input(data, Format::Openmetrics), &cfg, None) {
        render_all(&reports, &cfg);
    }
}

/// Option documents: the monitor's (`MonitorConfig::from_json` and each runtime's preset
/// under them, what every binding passes) and a one-shot analysis's (`AnalyzeOptions`, every
/// language's `analyze`). Accepted options must validate and round-trip; refused ones must be
/// `invalid_option`.
pub fn options(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match MonitorConfig::from_json(text) {
        Ok(cfg) => {
            cfg.validate().expect("an accepted config validates");
            let again = serde_json::to_string(&cfg).expect("serializes");
            assert_eq!(MonitorConfig::from_json(&again).ok(), Some(cfg));
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidOption, "{e}"),
    }
    for runtime in ["process", "go", "python", "node"] {
        if let Err(e) = MonitorConfig::for_runtime(runtime, text) {
            assert_eq!(e.code(), ErrorCode::InvalidOption, "{runtime}: {e}");
        }
    }
    match AnalyzeOptions::from_json(text) {
        Ok(opts) => {
            // A valid detector runs on a short series without panicking.
            let samples: Vec<leaksense_core::Sample> = (0..64)
                .map(|i| leaksense_core::Sample {
                    ts_ms: 1_700_000_000_000 + i * 15_000,
                    value: 1e8 + (i % 7) as f64 * 1e6,
                })
                .collect();
            let _ = opts.analyze(&samples);
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidOption, "{e}"),
    }
}

/// One call into the C ABI, with fuzzed arguments.
#[derive(Arbitrary, Debug)]
pub enum Call {
    /// A new monitor for this runtime from these options (replacing the current one).
    New(String, String),
    Sample,
    SampleAt(i64),
    Baseline(i64, f64),
    RuntimeLimit(bool, u64),
    Begin(String, Vec<f64>),
    /// Ends the pending request with this index (modulo their number), or a zeroed one.
    End(u8, Vec<f64>),
    Analysis,
    PollEvents,
    ReportJson,
    ReportText,
    Watched,
    Config,
    Gauges,
    /// Recorded steps (`[{"ts_ms", "requests", "baseline"}]`) fed at injected times.
    Replay(String),
    Close,
    Deriv(Vec<f64>, Vec<f64>),
    Predict(Vec<f64>, Vec<f64>, f64, f64),
    Inflection(Vec<f64>, Vec<f64>, u16, f64),
    /// The series with a JSON object of analyze options.
    Analyze(Vec<f64>, Vec<f64>, String),
    Catalog(String, String),
    /// Every monitor entry point with NULL arguments.
    Nulls,
}

/// Checks an FFI answer: never INTERNAL; frees the error.
///
/// # Safety
/// `e` is NULL or an error from the C ABI, not yet freed.
unsafe fn ok(e: *mut leaksense_error_t) -> bool {
    if e.is_null() {
        return true;
    }
    // SAFETY: a live error from the ABI; freed once below.
    unsafe {
        let code = leaksense_error_code(e);
        let message = std::ffi::CStr::from_ptr(leaksense_error_message(e));
        assert_ne!(
            code as u32,
            ErrorCode::Internal as u32,
            "LEAKSENSE_INTERNAL: {}",
            message.to_string_lossy()
        );
        leaksense_error_free(e);
    }
    false
}

/// Frees a string the ABI handed out, if the call succeeded.
///
/// # Safety
/// `s` is NULL or a string from the C ABI, not yet freed.
unsafe fn take(s: *mut c_char) {
    // SAFETY: forwarded.
    unsafe { leaksense_string_free(s) };
}

fn bytes(s: &str) -> (*const c_char, usize) {
    (s.as_ptr().cast(), s.len())
}

/// A sequence of calls on one monitor, as a binding would make them, and the stateless series
/// functions; every pointer the harness passes is valid or NULL, as the ABI's contract says.
pub fn ffi(calls: &[Call]) {
    let mut monitor: *mut leaksense_monitor_t = std::ptr::null_mut();
    // SAFETY: the defaults always give a monitor.
    unsafe {
        let none = std::ptr::null();
        assert!(ok(leaksense_monitor_new(none, 0, none, 0, &mut monitor)));
    }
    let mut pending: Vec<leaksense_request_t> = Vec::new();
    for call in calls.iter().take(64) {
        // SAFETY: `monitor` is live (replaced only by a successful new, freed at the end);
        // every other pointer is a local or a slice with its length.
        unsafe { one(call, &mut monitor, &mut pending) };
    }
    // SAFETY: ours, freed once.
    unsafe { leaksense_monitor_free(monitor) };
}

/// # Safety
/// `*monitor` is a live monitor.
unsafe fn one(
    call: &Call,
    monitor: &mut *mut leaksense_monitor_t,
    pending: &mut Vec<leaksense_request_t>,
) {
    let m = *monitor as *const leaksense_monitor_t;
    let mut s: *mut c_char = std::ptr::null_mut();
    // SAFETY: per the caller's contract and the locals' validity.
    unsafe {
        match call {
            Call::New(runtime, json) => {
                let ((rp, rn), (p, n)) = (bytes(runtime), bytes(json));
                let mut fresh = std::ptr::null_mut();
                if ok(leaksense_monitor_new(rp, rn, p, n, &mut fresh)) {
                    leaksense_monitor_free(*monitor);
                    *monitor = fresh;
                    pending.clear();
                }
            }
            Call::Sample => {
                if ok(leaksense_monitor_sample(m, &mut s)) {
                    take(s);
                }
            }
            Call::SampleAt(ts) => {
                if ok(leaksense_monitor_sample_at(m, *ts, &mut s)) {
                    take(s);
                }
            }
            Call::Baseline(ts, v) => {
                ok(leaksense_monitor_observe_baseline(m, *ts, *v));
            }
            Call::RuntimeLimit(has, limit) => {
                ok(leaksense_monitor_set_runtime_limit(m, *has, *limit));
            }
            Call::Begin(route, measures) => {
                let (p, n) = bytes(route);
                let mut r = std::mem::zeroed::<leaksense_request_t>();
                if ok(leaksense_request_begin(
                    m,
                    p,
                    n,
                    measures.as_ptr(),
                    measures.len(),
                    &mut r,
                )) && pending.len() < 16
                {
                    pending.push(r);
                }
            }
            Call::End(i, measures) => {
                let mut zeroed = std::mem::zeroed::<leaksense_request_t>();
                let r = if pending.is_empty() {
                    &mut zeroed
                } else {
                    let n = pending.len();
                    &mut pending[*i as usize % n]
                };
                let mut outcome = std::mem::zeroed::<leaksense_request_outcome_t>();
                ok(leaksense_request_end(
                    m,
                    r,
                    measures.as_ptr(),
                    measures.len(),
                    &mut outcome,
                ));
            }
            Call::Analysis => {
                if ok(leaksense_monitor_analysis(m, &mut s)) {
                    take(s);
                }
            }
            Call::PollEvents => {
                if ok(leaksense_monitor_poll_events(m, &mut s)) {
                    take(s);
                }
            }
            Call::ReportJson => {
                if ok(leaksense_monitor_report_json(m, &mut s)) {
                    take(s);
                }
            }
            Call::ReportText => {
                if ok(leaksense_monitor_report_text(m, &mut s)) {
                    take(s);
                }
            }
            Call::Watched => {
                let mut w = leaksense_watched_t::LEAKSENSE_WATCHED_RSS;
                ok(leaksense_monitor_watched(m, &mut w));
            }
            Call::Config => {
                if ok(leaksense_monitor_config(m, &mut s)) {
                    take(s);
                }
            }
            Call::Gauges => {
                if ok(leaksense_monitor_gauges(m, &mut s)) {
                    take(s);
                }
            }
            Call::Replay(steps) => {
                let (p, n) = bytes(steps);
                ok(leaksense_monitor_replay(m, p, n));
            }
            Call::Close => {
                ok(leaksense_monitor_close(m));
            }
            Call::Deriv(ts, vs) => {
                let (mut v, mut has) = (0.0, false);
                ok(leaksense_series_deriv(
                    ts.as_ptr(),
                    ts.len(),
                    vs.as_ptr(),
                    vs.len(),
                    &mut v,
                    &mut has,
                ));
            }
            Call::Predict(ts, vs, at, horizon) => {
                let (mut v, mut has) = (0.0, false);
                ok(leaksense_series_predict_linear(
                    ts.as_ptr(),
                    ts.len(),
                    vs.as_ptr(),
                    vs.len(),
                    *at,
                    *horizon,
                    &mut v,
                    &mut has,
                ));
            }
            Call::Inflection(ts, vs, window, ratio) => {
                let mut t = 0.0;
                ok(leaksense_series_find_growth_inflection(
                    ts.as_ptr(),
                    ts.len(),
                    vs.as_ptr(),
                    vs.len(),
                    *window as usize,
                    *ratio,
                    &mut t,
                ));
            }
            Call::Analyze(ts, vs, options) => {
                let (p, n) = bytes(options);
                let (tp, vp) = (ts.as_ptr(), vs.as_ptr());
                if ok(leaksense_series_analyze(tp, ts.len(), vp, vs.len(), p, n, &mut s)) {
                    take(s);
                }
            }
            Call::Catalog(runtime, naming) => {
                let ((rp, rn), (np, nn)) = (bytes(runtime), bytes(naming));
                let mut c = std::ptr::null_mut();
                if ok(leaksense_catalog_new(rp, rn, np, nn, &mut c)) {
                    let mut len = 0;
                    ok(leaksense_catalog_len(c, &mut len));
                    leaksense_catalog_free(c);
                }
            }
            Call::Nulls => nulls(m),
        }
    }
}

/// NULL where a pointer is expected: a typed error each time, never a crash.
///
/// # Safety
/// `m` is a live monitor.
unsafe fn nulls(m: *const leaksense_monitor_t) {
    let (no_str, no_f64) = (std::ptr::null::<c_char>(), std::ptr::null::<f64>());
    // SAFETY: NULL is allowed for every pointer by the ABI's contract.
    unsafe {
        assert!(!ok(leaksense_monitor_new(no_str, 0, no_str, 0, std::ptr::null_mut())));
        let mut s: *mut c_char = std::ptr::null_mut();
        assert!(!ok(leaksense_monitor_analysis(std::ptr::null(), &mut s)));
        assert!(!ok(leaksense_monitor_analysis(m, std::ptr::null_mut())));
        assert!(!ok(leaksense_monitor_report_json(m, std::ptr::null_mut())));
        let r = std::ptr::null_mut();
        assert!(!ok(leaksense_request_begin(m, no_str, 1, no_f64, 0, r)));
        assert!(!ok(leaksense_request_end(
            m,
            r,
            no_f64,
            0,
            std::ptr::null_mut()
        )));
        let (v, has) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert!(!ok(leaksense_series_deriv(no_f64, 3, no_f64, 3, v, has)));
        leaksense_monitor_free(std::ptr::null_mut());
        leaksense_string_free(std::ptr::null_mut());
        leaksense_error_free(std::ptr::null_mut());
    }
}

//! `NativeMonitor`: the core `Monitor` behind a JS class, plus a handle table for in-flight
//! request tokens (JS holds a small integer instead of the 48-byte core token).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use leaksense_core::detect::AlertEvent;
use leaksense_core::error::{ErrorCode, InputError};
use leaksense_core::monitor::{Monitor, MonitorError};
use leaksense_core::requests::RequestToken;
use napi::Error;
use napi_derive::napi;

use crate::{input_err, js_error, to_js};

/// Most requests in flight at once per monitor (the handle table's bound).
const MAX_IN_FLIGHT: usize = 1 << 20;
/// Low bits of a handle: the slot; high bits: the slot's generation (catches stale handles).
const SLOT_BITS: u32 = 20;

fn monitor_err(e: MonitorError) -> Error<String> {
    js_error(e.code(), e.to_string())
}

/// Validates a JS number meant as unix milliseconds (an integer within ±2^53).
fn to_ts_ms(name: &str, v: f64) -> napi::Result<i64, String> {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= SAFE {
        Ok(v as i64)
    } else {
        Err(js_error(
            ErrorCode::InvalidOption,
            format!("{name} must be an integer number of unix milliseconds, got {v}"),
        ))
    }
}

/// Validates a JS number meant as a positive byte count (an integer in 1..=2^53).
fn to_bytes(name: &str, v: f64) -> napi::Result<u64, String> {
    if v.is_finite() && v.fract() == 0.0 && (1.0..=9_007_199_254_740_991.0).contains(&v) {
        Ok(v as u64)
    } else {
        Err(js_error(
            ErrorCode::InvalidOption,
            format!("{name} must be a positive integer number of bytes, got {v}"),
        ))
    }
}

/// In-flight tokens by handle; freed slots are reused, with a generation per slot.
#[derive(Default)]
struct Handles {
    slots: Vec<(u32, Option<RequestToken>)>,
    free: Vec<u32>,
}

impl Handles {
    fn insert(&mut self, token: RequestToken) -> Result<u32, InputError> {
        let ix = match self.free.pop() {
            Some(ix) => ix,
            None if self.slots.len() < MAX_IN_FLIGHT => {
                self.slots.push((0, None));
                (self.slots.len() - 1) as u32
            }
            None => {
                return Err(InputError::invalid_option(
                    "requests",
                    format!("more than {MAX_IN_FLIGHT} requests in flight"),
                ));
            }
        };
        let slot = &mut self.slots[ix as usize];
        slot.1 = Some(token);
        Ok((slot.0 << SLOT_BITS) | ix)
    }

    fn get(&mut self, handle: u32) -> Result<&mut RequestToken, InputError> {
        let ix = (handle & ((1 << SLOT_BITS) - 1)) as usize;
        match self.slots.get_mut(ix) {
            Some((generation, Some(token))) if *generation == handle >> SLOT_BITS => Ok(token),
            _ => Err(InputError::invalid_option(
                "request",
                format!("handle {handle} is not a request in flight (ended twice?)"),
            )),
        }
    }

    fn remove(&mut self, handle: u32) -> Result<RequestToken, InputError> {
        let token = *self.get(handle)?;
        let ix = handle & ((1 << SLOT_BITS) - 1);
        let slot = &mut self.slots[ix as usize];
        slot.1 = None;
        slot.0 = (slot.0 + 1) & ((1 << (32 - SLOT_BITS)) - 1);
        self.free.push(ix);
        Ok(token)
    }

    fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

/// The core monitor. JS wraps it in `Monitor` (lib/index.js), which adds the events.
#[napi]
pub struct NativeMonitor {
    inner: Monitor,
    handles: Mutex<Handles>,
    last_rss_delta: AtomicU64,
}

#[napi]
impl NativeMonitor {
    /// Builds a monitor from a JSON object of the user's options (snake_case keys), laid over
    /// the core's Node preset.
    #[napi(constructor, catch_unwind)]
    pub fn new(options_json: String) -> napi::Result<Self, String> {
        let inner = Monitor::for_runtime("node", &options_json).map_err(monitor_err)?;
        if inner.config().measures.len() > 1 {
            return Err(js_error(
                ErrorCode::InvalidOption,
                "measures: Node reads at most one runtime measure (heap_used)",
            ));
        }
        Ok(NativeMonitor {
            inner,
            handles: Mutex::new(Handles::default()),
            last_rss_delta: AtomicU64::new(f64::NAN.to_bits()),
        })
    }

    fn handles(&self) -> napi::Result<MutexGuard<'_, Handles>, String> {
        self.handles
            .lock()
            .map_err(|_| js_error(ErrorCode::Internal, "request table lock poisoned"))
    }

    /// The options the monitor runs with, defaults filled in.
    #[napi(catch_unwind)]
    pub fn config(&self) -> napi::Result<serde_json::Value, String> {
        to_js(self.inner.config())
    }

    /// Starts the core's sampler thread (samples every `interval_ms`, off the JS thread).
    #[napi(catch_unwind)]
    pub fn start(&self) -> napi::Result<(), String> {
        self.inner.start().map_err(monitor_err)
    }

    /// Stops the sampler thread and waits for it. Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.inner.stop()
    }

    /// Whether the sampler thread runs.
    #[napi(catch_unwind)]
    pub fn is_running(&self) -> bool {
        self.inner.is_running()
    }

    /// Stops sampling; later calls fail with code `closed`. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close()
    }

    /// Whether `close()` was called.
    #[napi(catch_unwind)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Samples process memory now (`ts_ms` defaults to the clock) and feeds the detector.
    #[napi(catch_unwind)]
    pub fn sample(&self, ts_ms: Option<f64>) -> napi::Result<serde_json::Value, String> {
        let ts = ts_ms.map(|t| to_ts_ms("tsMs", t)).transpose()?;
        to_js(&self.inner.sample(ts).map_err(monitor_err)?)
    }

    /// Feeds the heap left after a major GC; from then on the detector watches it, not RSS.
    /// Returns the alert transition it caused, if any.
    #[napi(catch_unwind)]
    pub fn observe_baseline(
        &self,
        ts_ms: f64,
        bytes: f64,
    ) -> napi::Result<serde_json::Value, String> {
        self.observe(ts_ms, bytes, Monitor::observe_baseline)
    }

    /// `observeBaseline` for a heap reading taken right after a full (mark-compact) GC: until
    /// the next one, the detector's floor stays at or below it (with `reports_full_gcs` in the
    /// detector options, only these count as the collection `first_collection_secs` waits for).
    #[napi(catch_unwind)]
    pub fn observe_baseline_after_full_gc(
        &self,
        ts_ms: f64,
        bytes: f64,
    ) -> napi::Result<serde_json::Value, String> {
        self.observe(ts_ms, bytes, Monitor::observe_baseline_after_full_gc)
    }

    /// Which series the detector watches: `"rss"` or `"runtime_baseline"`.
    #[napi(catch_unwind, ts_return_type = "'rss' | 'runtime_baseline'")]
    pub fn watched(&self) -> napi::Result<serde_json::Value, String> {
        to_js(&self.inner.watched().map_err(monitor_err)?)
    }

    /// Records the runtime's own limit (V8 heap limit, constrained memory); null clears it.
    #[napi(catch_unwind)]
    pub fn set_runtime_limit(&self, bytes: Option<f64>) -> napi::Result<(), String> {
        let limit = bytes.map(|b| to_bytes("limit", b)).transpose()?;
        self.inner.set_runtime_limit(limit).map_err(monitor_err)
    }

    /// Names of the per-request measures: the runtime ones, then `rss` if the core reads it.
    #[napi(catch_unwind)]
    pub fn measures(&self) -> Vec<String> {
        self.inner.tracker().measures().to_vec()
    }

    /// Begins a request on `route` ("" when the route is known only at the end) with the
    /// runtime measure read now (Node reads at most one, `heap_used`; none when it is not
    /// configured); returns a handle for `end`.
    #[napi(catch_unwind)]
    pub fn begin(&self, route: String, measure: Option<f64>) -> napi::Result<u32, String> {
        let token = self
            .inner
            .begin_request(&route, measure.as_slice())
            .map_err(monitor_err)?;
        self.handles()?.insert(token).map_err(input_err)
    }

    /// Ends a request with the runtime measure read now, on `route` if given. Returns the
    /// measure's delta (NaN without a runtime measure); the RSS delta waits in `lastRssDelta`.
    #[napi(catch_unwind)]
    pub fn end(
        &self,
        handle: f64,
        route: Option<String>,
        measure: Option<f64>,
    ) -> napi::Result<f64, String> {
        let handle = crate::to_u32("handle", handle)?;
        let mut handles = self.handles()?;
        if let Some(route) = route {
            let token = handles.get(handle).map_err(input_err)?;
            *token = self
                .inner
                .tracker()
                .reroute(*token, &route)
                .map_err(input_err)?;
        }
        // A handle is spent even when `end` rejects its measures, so the table cannot leak.
        let token = handles.remove(handle).map_err(input_err)?;
        drop(handles);
        let out = self
            .inner
            .end_request(token, measure.as_slice())
            .map_err(monitor_err)?;
        let rss = out.rss_delta.unwrap_or(f64::NAN);
        self.last_rss_delta.store(rss.to_bits(), Ordering::Relaxed);
        Ok(out.deltas().first().copied().unwrap_or(f64::NAN))
    }

    /// The RSS delta of the request `end` finished last (NaN when the core reads no RSS);
    /// read it right after `end`, on the same thread.
    #[napi(catch_unwind)]
    pub fn last_rss_delta(&self) -> f64 {
        f64::from_bits(self.last_rss_delta.load(Ordering::Relaxed))
    }

    /// Requests begun and not yet ended.
    #[napi(catch_unwind)]
    pub fn in_flight(&self) -> napi::Result<u32, String> {
        Ok(self.handles()?.len() as u32)
    }

    /// The detector's current analysis.
    #[napi(catch_unwind)]
    pub fn analysis(&self) -> napi::Result<serde_json::Value, String> {
        to_js(&self.inner.analysis().map_err(monitor_err)?)
    }

    /// The detector's gauges for OpenTelemetry, in `gaugeKeys()` order: null where there is
    /// nothing to observe.
    #[napi(catch_unwind)]
    pub fn gauges(&self) -> napi::Result<Vec<Option<f64>>, String> {
        let g = self.inner.gauges().map_err(monitor_err)?;
        Ok(g.values().iter().map(|(_, v)| *v).collect())
    }

    /// Drains the events since the last call (`leak`, `suspects`, `resolved`, each with its
    /// report), oldest first.
    #[napi(catch_unwind)]
    pub fn poll_events(&self) -> napi::Result<serde_json::Value, String> {
        to_js(&self.inner.poll_events().map_err(monitor_err)?)
    }

    /// Feeds recorded steps (a JSON array; replays and tests).
    #[napi(catch_unwind)]
    pub fn replay(&self, steps_json: String) -> napi::Result<(), String> {
        self.inner.replay_json(&steps_json).map_err(monitor_err)
    }

    /// The leak report as an object (the core's stable JSON schema).
    #[napi(catch_unwind)]
    pub fn report(&self) -> napi::Result<serde_json::Value, String> {
        to_js(&self.inner.report().map_err(monitor_err)?)
    }

    /// The leak report rendered as text.
    #[napi(catch_unwind)]
    pub fn report_text(&self) -> napi::Result<String, String> {
        Ok(self.inner.report().map_err(monitor_err)?.render_text())
    }
}

impl NativeMonitor {
    /// One runtime heap reading through `feed` (`Monitor::observe_baseline` or its
    /// after-full-GC twin), with the timestamp checked first.
    fn observe(
        &self,
        ts_ms: f64,
        bytes: f64,
        feed: fn(&Monitor, i64, f64) -> Result<Option<AlertEvent>, MonitorError>,
    ) -> napi::Result<serde_json::Value, String> {
        let ts = to_ts_ms("tsMs", ts_ms)?;
        to_js(&feed(&self.inner, ts, bytes).map_err(monitor_err)?)
    }
}

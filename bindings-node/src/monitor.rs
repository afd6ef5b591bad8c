//! `NativeMonitor`: the core `Monitor` behind a JS class. A request keeps its start reading in
//! JS and crosses into the core once, at its end, with its route's id: no table of requests in
//! flight, no lock, nothing allocated.
use leaksense_core::collect::Snapshot;
use leaksense_core::detect::AlertEvent;
use leaksense_core::error::ErrorCode;
use leaksense_core::monitor::{MEASURE_MEMORY, Monitor, MonitorError};
use napi::Error;
use napi::bindgen_prelude::{Either, Null};
use napi_derive::napi;

use crate::{js_error, to_js};

pub(crate) fn monitor_err(e: MonitorError) -> Error<String> {
    js_error(e.code(), e.to_string())
}

/// Validates a JS number meant as unix milliseconds (an integer within ±2^53).
pub(crate) fn to_ts_ms(name: &str, v: f64) -> napi::Result<i64, String> {
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

/// One memory reading as a plain JS object (the core's snapshot, snake_case keys): built field
/// by field, which costs a fraction of a JSON value's conversion.
#[napi(object)]
pub struct MemorySnapshot {
    pub process: ProcessMemory,
    #[napi(js_name = "peak_rss")]
    pub peak_rss: Either<f64, Null>,
    pub container: ContainerMemory,
    pub limits: Limits,
}

#[napi(object)]
pub struct ProcessMemory {
    #[napi(js_name = "rss_bytes")]
    pub rss_bytes: f64,
    #[napi(js_name = "virtual_bytes")]
    pub virtual_bytes: f64,
}

#[napi(object)]
pub struct ContainerMemory {
    pub limit: Either<f64, Null>,
    pub usage: Either<f64, Null>,
    pub oom: Either<f64, Null>,
    #[napi(js_name = "oom_kill")]
    pub oom_kill: Either<f64, Null>,
}

#[napi(object)]
pub struct Limits {
    pub container: Either<f64, Null>,
    pub runtime: Either<f64, Null>,
    pub host: Either<f64, Null>,
}

/// A byte count or `null`, as the core's JSON schema has it.
type OptNum = Either<f64, Null>;

// Byte counts go to JS as numbers (exact below 2^53: 8 PiB).
fn num(v: Option<u64>) -> OptNum {
    v.map_or(Either::B(Null), |v| Either::A(v as f64))
}

impl From<Snapshot> for MemorySnapshot {
    fn from(s: Snapshot) -> Self {
        MemorySnapshot {
            process: ProcessMemory {
                rss_bytes: s.process.rss_bytes as f64,
                virtual_bytes: s.process.virtual_bytes as f64,
            },
            peak_rss: num(s.peak_rss),
            container: ContainerMemory {
                limit: num(s.container.limit),
                usage: num(s.container.usage),
                oom: num(s.container.oom),
                oom_kill: num(s.container.oom_kill),
            },
            limits: Limits {
                container: num(s.limits.container),
                runtime: num(s.limits.runtime),
                host: num(s.limits.host),
            },
        }
    }
}

/// The core monitor. JS wraps it in `Monitor` (lib/index.js), which adds the events.
#[napi]
pub struct NativeMonitor {
    pub(crate) inner: Monitor,
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
        Ok(NativeMonitor { inner })
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
    pub fn sample(&self, ts_ms: Option<f64>) -> napi::Result<MemorySnapshot, String> {
        let ts = ts_ms.map(|t| to_ts_ms("tsMs", t)).transpose()?;
        Ok(self.inner.sample(ts).map_err(monitor_err)?.into())
    }

    /// What a metrics collection exports, read now without feeding the detector (one read of
    /// each source; the container limit is the sampler thread's last reading).
    #[napi(catch_unwind)]
    pub fn memory(&self) -> napi::Result<MemorySnapshot, String> {
        Ok(self.inner.memory().map_err(monitor_err)?.into())
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

    /// The id of `route` for `record` (interned now if new; `_other`'s id past the cap). JS
    /// resolves each route once and keeps the id, so no string crosses per request.
    #[napi(catch_unwind)]
    pub fn route_id(&self, route: String) -> napi::Result<u32, String> {
        self.inner.route_id(&route).map_err(monitor_err)
    }

    /// Records a finished request on a route id in one call: the runtime measure read at its
    /// start and at its end (both left out when the monitor has no measure). Returns the
    /// measure's delta (NaN without a measure). For a monitor without `rss_per_request`.
    #[napi(catch_unwind)]
    pub fn record(
        &self,
        route_id: f64,
        start: Option<f64>,
        end: Option<f64>,
    ) -> napi::Result<f64, String> {
        let route = crate::to_u32("routeId", route_id)?;
        let out = self
            .inner
            .record_request(route, start.as_slice(), end.as_slice(), f64::NAN)
            .map_err(monitor_err)?;
        Ok(out.deltas().first().copied().unwrap_or(f64::NAN))
    }

    /// Records `count` finished requests in one call: `entries` holds them as (route id, start,
    /// end) triples (start and end ignored when the monitor has no measure). This is the
    /// middleware's path: a call into the addon costs 0.2-0.5 µs here, several times the
    /// tracker's own work, so requests wait in a Float64Array of the middleware's and cross in
    /// batches. Entries that fail (a bad route id, a non-finite reading) are skipped; the
    /// first one's error is thrown once the others are recorded.
    #[napi(catch_unwind)]
    pub fn record_batch(&self, entries: &[f64], count: u32) -> napi::Result<(), String> {
        let count = count as usize;
        if entries.len() / 3 < count {
            return Err(js_error(
                ErrorCode::InvalidOption,
                format!(
                    "{count} entries need {} numbers, got {}",
                    count * 3,
                    entries.len()
                ),
            ));
        }
        let one = self.inner.tracker().runtime_measures() == 1;
        let mut first_err = None;
        for e in entries[..count * 3].chunks_exact(3) {
            let (start, end): (&[f64], &[f64]) = if one {
                (&e[1..2], &e[2..3])
            } else {
                (&[], &[])
            };
            let result = crate::to_u32("routeId", e[0]).and_then(|route| {
                self.inner
                    .record_request(route, start, end, f64::NAN)
                    .map_err(monitor_err)
            });
            if let Err(e) = result {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// `record` with `rss_per_request`: `rssStart` is what `requestRss()` gave at the start.
    /// Returns [measure delta, RSS delta] (NaN where absent).
    #[napi(catch_unwind)]
    pub fn record_with_rss(
        &self,
        route_id: f64,
        start: Option<f64>,
        end: Option<f64>,
        rss_start: f64,
    ) -> napi::Result<Vec<f64>, String> {
        let route = crate::to_u32("routeId", route_id)?;
        let out = self
            .inner
            .record_request(route, start.as_slice(), end.as_slice(), rss_start)
            .map_err(monitor_err)?;
        Ok(vec![
            out.deltas().first().copied().unwrap_or(f64::NAN),
            out.rss_delta.unwrap_or(f64::NAN),
        ])
    }

    /// Process RSS now for the start of a request (NaN unless `rss_per_request`).
    #[napi(catch_unwind)]
    pub fn request_rss(&self) -> f64 {
        self.inner.request_rss()
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
        Ok(g.leak.values().iter().map(|(_, v)| *v).collect())
    }

    /// Feeds one reading of a watched count at `tsMs` (unix ms): `active_resources` from the
    /// poll timer, any watched count for replays and tests.
    #[napi(catch_unwind)]
    pub fn observe_count(
        &self,
        series: String,
        ts_ms: f64,
        value: f64,
    ) -> napi::Result<(), String> {
        let ts = to_ts_ms("tsMs", ts_ms)?;
        self.inner
            .observe_count(&series, ts, value)
            .map(drop)
            .map_err(monitor_err)
    }

    /// A watched count's latest reading (null before the first).
    #[napi(catch_unwind)]
    pub fn count_value(&self, series: String) -> napi::Result<Option<f64>, String> {
        self.inner.count_value(&series).map_err(monitor_err)
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

    /// The report of `series` (`"memory"` when left out, or a watched count) as an object
    /// (the core's stable JSON schema).
    #[napi(catch_unwind)]
    pub fn report(&self, series: Option<String>) -> napi::Result<serde_json::Value, String> {
        let series = series.as_deref().unwrap_or(MEASURE_MEMORY);
        to_js(&self.inner.report_for(series).map_err(monitor_err)?)
    }

    /// The report of `series` rendered as text.
    #[napi(catch_unwind)]
    pub fn report_text(&self, series: Option<String>) -> napi::Result<String, String> {
        let series = series.as_deref().unwrap_or(MEASURE_MEMORY);
        Ok(self
            .inner
            .report_for(series)
            .map_err(monitor_err)?
            .render_text())
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

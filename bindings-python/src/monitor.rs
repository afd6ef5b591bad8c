//! `leaksense._native.Monitor`: the core Monitor, with JSON in and out and typed errors.

use std::sync::Mutex;

use leaksense_core::collect::Collector;
use leaksense_core::error::ErrorCode;
use leaksense_core::monitor::{Monitor as CoreMonitor, MonitorError};
use pyo3::prelude::*;
use serde::Serialize;

use crate::error;

fn to_py(py: Python<'_>, e: MonitorError) -> PyErr {
    error::to_py(py, e.code(), e.to_string())
}

fn json<T: Serialize>(py: Python<'_>, v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| error::to_py(py, ErrorCode::Internal, e.to_string()))
}

/// The core monitor: sampler thread, detector, per-route request tracker, leak report.
#[pyclass(frozen, module = "leaksense._native")]
pub struct Monitor(CoreMonitor);

#[pymethods]
impl Monitor {
    /// Builds a monitor for `runtime` from a JSON object of the user's options, laid over the
    /// runtime's preset by the core.
    #[new]
    fn new(py: Python<'_>, runtime: &str, config_json: &str) -> PyResult<Self> {
        error::guard(py, || {
            CoreMonitor::for_runtime(runtime, config_json)
                .map(Monitor)
                .map_err(|e| to_py(py, e))
        })
    }

    /// The effective configuration as JSON (defaults filled in).
    fn config_json(&self, py: Python<'_>) -> PyResult<String> {
        json(py, self.0.config())
    }

    /// Starts the core's sampler thread (no-op when it runs).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        error::guard(py, || {
            py.detach(|| self.0.start()).map_err(|e| to_py(py, e))
        })
    }

    /// Stops the sampler thread and waits for it (idempotent).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        error::guard(py, || {
            py.detach(|| self.0.stop());
            Ok(())
        })
    }

    /// Stops sampling for good; later calls raise ClosedError (idempotent).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        error::guard(py, || {
            py.detach(|| self.0.close());
            Ok(())
        })
    }

    /// Whether the sampler thread runs.
    fn is_running(&self) -> bool {
        self.0.is_running()
    }

    /// Whether close() was called.
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Samples process memory now (feeds the detector); the snapshot as JSON.
    #[pyo3(signature = (ts_ms = None))]
    fn sample_json(&self, py: Python<'_>, ts_ms: Option<i64>) -> PyResult<String> {
        error::guard(py, || {
            let snap = py
                .detach(|| self.0.sample(ts_ms))
                .map_err(|e| to_py(py, e))?;
            json(py, &snap)
        })
    }

    /// Feeds the heap left after a full GC; the alert event it caused, as JSON, if any.
    fn observe_baseline(&self, py: Python<'_>, ts_ms: i64, bytes: f64) -> PyResult<Option<String>> {
        error::guard(py, || {
            let ev = py
                .detach(|| self.0.observe_baseline(ts_ms, bytes))
                .map_err(|e| to_py(py, e))?;
            ev.map(|e| json(py, &e)).transpose()
        })
    }

    /// Feeds one reading of a watched count at `ts_ms` (the poller feeds `threads`).
    fn observe_count(&self, py: Python<'_>, series: &str, ts_ms: i64, value: f64) -> PyResult<()> {
        error::guard(py, || {
            py.detach(|| self.0.observe_count(series, ts_ms, value))
                .map(drop)
                .map_err(|e| to_py(py, e))
        })
    }

    /// Which series the detector watches: "rss" or "runtime_baseline".
    fn watched(&self, py: Python<'_>) -> PyResult<String> {
        error::guard(py, || {
            let w = self.0.watched().map_err(|e| to_py(py, e))?;
            let s = json(py, &w)?;
            Ok(s.trim_matches('"').to_string())
        })
    }

    /// Records a runtime-reported memory limit in bytes (None clears it).
    #[pyo3(signature = (limit))]
    fn set_runtime_limit(&self, py: Python<'_>, limit: Option<u64>) -> PyResult<()> {
        error::guard(py, || {
            self.0.set_runtime_limit(limit).map_err(|e| to_py(py, e))
        })
    }

    /// Names of the per-request measures, runtime ones first, then "rss" if read by the core.
    fn measures(&self) -> Vec<String> {
        self.0.tracker().measures().to_vec()
    }

    /// The route's id for `record` (interned now if new; `_other`'s id past the cap).
    fn route_id(&self, py: Python<'_>, route: &str) -> PyResult<u32> {
        error::guard(py, || self.0.route_id(route).map_err(|e| to_py(py, e)))
    }

    /// Records a finished request on a route id when the monitor has at most one runtime
    /// measure and no per-request RSS (the defaults): its start and end readings (None
    /// without a measure); returns the delta (NaN without a measure). Plain floats in and out,
    /// so the call allocates nothing on the Rust side.
    #[pyo3(signature = (route_id, start = None, end = None))]
    fn record(
        &self,
        py: Python<'_>,
        route_id: u32,
        start: Option<f64>,
        end: Option<f64>,
    ) -> PyResult<f64> {
        error::guard(py, || {
            let out = self
                .0
                .record_request(route_id, start.as_slice(), end.as_slice(), f64::NAN)
                .map_err(|e| to_py(py, e))?;
            Ok(out.deltas().first().copied().unwrap_or(f64::NAN))
        })
    }

    /// Records a finished request on a route id with any number of runtime measures and the
    /// RSS read at its start (`request_rss`, NaN without `rss_per_request`); returns (runtime
    /// measure deltas, RSS delta or None).
    fn record_all(
        &self,
        py: Python<'_>,
        route_id: u32,
        start: Vec<f64>,
        end: Vec<f64>,
        rss_start: f64,
    ) -> PyResult<(Vec<f64>, Option<f64>)> {
        error::guard(py, || {
            let out = self
                .0
                .record_request(route_id, &start, &end, rss_start)
                .map_err(|e| to_py(py, e))?;
            Ok((out.deltas().to_vec(), out.rss_delta))
        })
    }

    /// Starts feeding the live-heap profile from Python's MEM and OBJ allocators (sampled;
    /// see `heap.rs`). `invalid_option` when the profile is off.
    fn heap_profile_start(&self, py: Python<'_>) -> PyResult<()> {
        error::guard(py, || {
            if self.0.is_closed() {
                return Err(to_py(py, MonitorError::Closed));
            }
            let p = self.0.profile().ok_or_else(|| {
                error::input(
                    py,
                    leaksense_core::error::InputError::invalid_option(
                        "profile.enabled",
                        "the live-heap profile is off",
                    ),
                )
            })?;
            p.begin_allocation_feed().map_err(|e| error::input(py, e))?;
            crate::heap::start(py, std::sync::Arc::clone(p));
            Ok(())
        })
    }

    /// Stops the allocation hook if it feeds this monitor's profile.
    fn heap_profile_stop(&self, py: Python<'_>) {
        if let Some(p) = self.0.profile() {
            crate::heap::stop_if(py, p);
        }
    }

    /// Writes the live-heap profile to `path` as pprof: kind "inuse" or "growth".
    fn write_pprof(&self, py: Python<'_>, path: &str, kind: &str) -> PyResult<()> {
        use leaksense_core::profile::PprofKind;
        error::guard(py, || {
            let kind = match kind {
                "inuse" => PprofKind::Inuse,
                "growth" => PprofKind::Growth,
                k => {
                    return Err(error::input(
                        py,
                        leaksense_core::error::InputError::invalid_option(
                            "kind",
                            format!("must be 'inuse' or 'growth', got {k:?}"),
                        ),
                    ));
                }
            };
            self.0
                .write_pprof(std::path::Path::new(path), kind)
                .map_err(|e| to_py(py, e))
        })
    }

    /// The live-heap profile's counters as JSON (null when the profile is off).
    fn profile_stats_json(&self, py: Python<'_>) -> PyResult<String> {
        json(py, &self.0.profile().map(|p| p.stats()))
    }

    /// Process RSS now for the start of a request (NaN unless `rss_per_request`).
    fn request_rss(&self) -> f64 {
        self.0.request_rss()
    }

    /// What one scrape exports, one read of each source, without feeding the detector:
    /// (rss, virtual, peak rss, container usage, container OOM kills); None where the platform
    /// or the cgroup does not say.
    #[allow(clippy::type_complexity)]
    fn memory(
        &self,
        py: Python<'_>,
    ) -> PyResult<(u64, u64, Option<u64>, Option<u64>, Option<u64>)> {
        error::guard(py, || {
            let s = self.0.memory().map_err(|e| to_py(py, e))?;
            Ok((
                s.process.rss_bytes,
                s.process.virtual_bytes,
                s.peak_rss,
                s.container.usage,
                s.container.oom_kill,
            ))
        })
    }

    /// The detector's current analysis as JSON.
    fn analysis_json(&self, py: Python<'_>) -> PyResult<String> {
        error::guard(py, || {
            let a = py.detach(|| self.0.analysis()).map_err(|e| to_py(py, e))?;
            json(py, &a)
        })
    }

    /// The gauges without JSON: (catalog key, value or None) pairs, the detector's and then
    /// each watched count's latest reading.
    fn gauges(&self, py: Python<'_>) -> PyResult<Vec<(&'static str, Option<f64>)>> {
        error::guard(py, || {
            let g = py.detach(|| self.0.gauges()).map_err(|e| to_py(py, e))?;
            Ok(g.values())
        })
    }

    /// Drains the events since the last poll, with their reports, as a JSON array.
    fn poll_events_json(&self, py: Python<'_>) -> PyResult<String> {
        error::guard(py, || {
            let ev = py
                .detach(|| self.0.poll_events())
                .map_err(|e| to_py(py, e))?;
            json(py, &ev)
        })
    }

    /// Feeds recorded steps (a JSON array; replays and tests).
    fn replay_json(&self, py: Python<'_>, steps_json: &str) -> PyResult<()> {
        error::guard(py, || {
            py.detach(|| self.0.replay_json(steps_json))
                .map_err(|e| to_py(py, e))
        })
    }

    /// The report of `series` ("memory", or a watched count) as (JSON, text).
    #[pyo3(signature = (series = "memory"))]
    fn report(&self, py: Python<'_>, series: &str) -> PyResult<(String, String)> {
        error::guard(py, || {
            let r = py
                .detach(|| self.0.report_for(series))
                .map_err(|e| to_py(py, e))?;
            Ok(py.detach(|| (r.to_json(), r.render_text())))
        })
    }
}

/// The core's process-memory reader (kept-open statm), for the gc callback's RSS reading:
/// reading through it never feeds the detector and works after the monitor is closed.
#[pyclass(frozen, module = "leaksense._native")]
pub struct ProcessProbe(Mutex<Collector>);

#[pymethods]
impl ProcessProbe {
    #[new]
    fn new(py: Python<'_>) -> PyResult<Self> {
        error::guard(py, || {
            Collector::new()
                .map(|c| ProcessProbe(Mutex::new(c)))
                .map_err(|e| error::to_py(py, e.code(), e.to_string()))
        })
    }

    /// (resident bytes, virtual bytes) now.
    fn read(&self, py: Python<'_>) -> PyResult<(u64, u64)> {
        error::guard(py, || {
            let mut c = self
                .0
                .lock()
                .map_err(|_| error::to_py(py, ErrorCode::Internal, "probe lock poisoned".into()))?;
            let m = c
                .process_memory()
                .map_err(|e| error::to_py(py, e.code(), e.to_string()))?;
            Ok((m.rss_bytes, m.virtual_bytes))
        })
    }
}

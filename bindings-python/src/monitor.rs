//! `leaksense._native.Monitor`: the core Monitor, with JSON in and out and typed errors.

use std::sync::Mutex;

use leaksense_core::collect::Collector;
use leaksense_core::error::ErrorCode;
use leaksense_core::monitor::{Monitor as CoreMonitor, MonitorError};
use leaksense_core::requests::RequestToken;
use pyo3::prelude::*;
use serde::Serialize;

use crate::error;

fn to_py(py: Python<'_>, e: MonitorError) -> PyErr {
    error::to_py(py, e.code(), e.to_string())
}

fn json<T: Serialize>(py: Python<'_>, v: &T) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| error::to_py(py, ErrorCode::Internal, e.to_string()))
}

/// One in-flight request (an opaque core token).
#[pyclass(frozen, module = "leaksense._native")]
pub struct Token(RequestToken);

/// The core monitor: sampler thread, detector, per-route request tracker, leak report.
#[pyclass(frozen, module = "leaksense._native")]
pub struct Monitor(CoreMonitor);

impl Monitor {
    fn open(&self, py: Python<'_>) -> PyResult<()> {
        if self.0.is_closed() {
            return Err(to_py(py, MonitorError::Closed));
        }
        Ok(())
    }
}

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

    /// Starts a request on `route` with the runtime measures read now.
    fn begin_request(&self, py: Python<'_>, route: &str, start: Vec<f64>) -> PyResult<Token> {
        error::guard(py, || {
            self.0
                .begin_request(route, &start)
                .map(Token)
                .map_err(|e| to_py(py, e))
        })
    }

    /// Starts a request whose route is given when it ends (middleware).
    fn begin_deferred(&self, py: Python<'_>, start: Vec<f64>) -> PyResult<Token> {
        error::guard(py, || {
            self.open(py)?;
            self.0
                .tracker()
                .begin_deferred(&start)
                .map(Token)
                .map_err(|e| error::input(py, e))
        })
    }

    /// Ends a request; returns (runtime measure deltas, RSS delta or None).
    #[pyo3(signature = (token, end, route = None))]
    fn end_request(
        &self,
        py: Python<'_>,
        token: &Token,
        end: Vec<f64>,
        route: Option<&str>,
    ) -> PyResult<(Vec<f64>, Option<f64>)> {
        error::guard(py, || {
            let out = match route {
                None => self
                    .0
                    .end_request(token.0, &end)
                    .map_err(|e| to_py(py, e))?,
                Some(r) => {
                    self.open(py)?;
                    self.0
                        .tracker()
                        .end_on(token.0, r, &end)
                        .map_err(|e| error::input(py, e))?
                }
            };
            Ok((out.deltas().to_vec(), out.rss_delta))
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

/// The core's process-memory reader (kept-open statm), for the metrics callbacks: reading
/// through it never feeds the detector.
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

    /// Peak resident bytes of the process (VmHWM).
    fn peak_rss(&self, py: Python<'_>) -> PyResult<u64> {
        error::guard(py, || {
            let mut c = self
                .0
                .lock()
                .map_err(|_| error::to_py(py, ErrorCode::Internal, "probe lock poisoned".into()))?;
            c.peak_rss()
                .map_err(|e| error::to_py(py, e.code(), e.to_string()))
        })
    }

    /// The container's (cgroup) memory usage and OOM-kill count; `None` where the cgroup does
    /// not say (no cgroup, or v1 has no OOM-kill count).
    fn container(&self, py: Python<'_>) -> PyResult<(Option<u64>, Option<u64>)> {
        error::guard(py, || {
            let c = self
                .0
                .lock()
                .map_err(|_| error::to_py(py, ErrorCode::Internal, "probe lock poisoned".into()))?;
            let m = c.container();
            Ok((m.usage, m.oom_kill))
        })
    }
}

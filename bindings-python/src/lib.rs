//! Thin pyo3 wrapper over `leaksense-core`: conversions only; logic stays in the core.

mod error;
mod heap;
mod monitor;

use leaksense_core::catalog::{
    Naming, Runtime, SPAN_ALLOCATED_BYTES, SPAN_RSS_DELTA_BYTES, metrics as catalog_metrics,
};
use leaksense_core::detect;
use leaksense_core::error::{ErrorCode, InputError};
use leaksense_core::options::analyze_secs;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Metric catalog entries for a runtime and naming mode (None: the core's default), as dicts.
#[pyfunction]
#[pyo3(signature = (runtime = "python", naming = None))]
fn catalog<'py>(
    py: Python<'py>,
    runtime: &str,
    naming: Option<&str>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    error::guard(py, || {
        let rt = Runtime::parse(runtime).ok_or_else(|| {
            error::input(
                py,
                InputError::invalid_option("runtime", format!("unknown runtime {runtime:?}")),
            )
        })?;
        let nm = match naming {
            None => Naming::default(),
            Some(n) => Naming::parse(n).ok_or_else(|| {
                error::input(
                    py,
                    InputError::invalid_option("naming", format!("unknown naming {n:?}")),
                )
            })?,
        };
        catalog_metrics(rt, nm)
            .map(|m| {
                let d = PyDict::new(py);
                d.set_item("key", m.key)?;
                d.set_item("name", m.name)?;
                d.set_item("kind", format!("{:?}", m.kind))?;
                d.set_item("unit", m.unit)?;
                d.set_item("description", m.description)?;
                d.set_item("attributes", m.attributes.to_vec())?;
                d.set_item("deep", m.deep)?;
                Ok(d)
            })
            .collect()
    })
}

/// An amount in an OpenTelemetry unit as the core's report prints it: IEC bytes for `By`, a
/// count with its unit's name otherwise (`3 file descriptors`).
#[pyfunction]
#[pyo3(signature = (value, unit = "By"))]
fn format_amount(py: Python<'_>, value: f64, unit: &str) -> PyResult<String> {
    error::guard(py, || {
        let q = leaksense_core::report::Quantity::new("amount", unit)
            .map_err(|e| error::input(py, e))?;
        Ok(q.amount(value))
    })
}

/// PromQL `deriv` (per second) over `(timestamps secs, values)`; None with fewer than 2 samples.
#[pyfunction]
fn deriv(py: Python<'_>, timestamps: Vec<f64>, values: Vec<f64>) -> PyResult<Option<f64>> {
    error::guard(py, || {
        detect::deriv_secs(&timestamps, &values).map_err(|e| error::input(py, e))
    })
}

/// PromQL `predict_linear` over the series evaluated at `eval_time` secs, `horizon` secs ahead.
#[pyfunction]
fn predict_linear(
    py: Python<'_>,
    timestamps: Vec<f64>,
    values: Vec<f64>,
    eval_time: f64,
    horizon: f64,
) -> PyResult<Option<f64>> {
    error::guard(py, || {
        detect::predict_linear_secs(&timestamps, &values, eval_time, horizon)
            .map_err(|e| error::input(py, e))
    })
}

/// The article's `find_growth_inflection`: unix seconds where sustained growth started.
#[pyfunction]
fn find_growth_inflection(
    py: Python<'_>,
    timestamps: Vec<f64>,
    values: Vec<f64>,
    window: usize,
    ratio: f64,
) -> PyResult<f64> {
    error::guard(py, || {
        detect::find_growth_inflection_secs(&timestamps, &values, window, ratio)
            .map_err(|e| error::input(py, e))
    })
}

/// The core detector's one-shot analysis of a series, as a JSON string (the package parses it).
/// `options_json` is a JSON object of the core's analyze options, passed through unchanged.
#[pyfunction]
fn analyze_json(
    py: Python<'_>,
    timestamps: Vec<f64>,
    values: Vec<f64>,
    options_json: &str,
) -> PyResult<String> {
    error::guard(py, || {
        let a = py
            .detach(|| analyze_secs(&timestamps, &values, options_json))
            .map_err(|e| error::input(py, e))?;
        serde_json::to_string(&a).map_err(|e| error::to_py(py, ErrorCode::Internal, e.to_string()))
    })
}

/// Stops feeding the live-heap profile from the allocators (see `heap.rs`).
#[pyfunction]
fn heap_profile_stop(py: Python<'_>) {
    heap::stop(py);
}

/// Whether the allocator hook feeds a profile now.
#[pyfunction]
fn heap_profile_running() -> bool {
    heap::running()
}

/// Names the route of the request in flight on this thread, for the allocation samples.
#[pyfunction]
fn set_thread_route(route: &str) {
    heap::set_route(route);
}

/// A tracked request began on this thread (called only while the allocation hook runs, so the
/// default request path never crosses here); `route` when it is known already.
#[pyfunction]
#[pyo3(signature = (route = None))]
fn heap_request_begun(route: Option<&str>) {
    heap::request_begun();
    if let Some(r) = route {
        heap::set_route(r);
    }
}

/// A tracked request that `heap_request_begun` announced ended on this thread.
#[pyfunction]
fn heap_request_ended() {
    heap::request_ended();
}

/// Stable error-code strings, in numeric order (for the Python exception table).
#[pyfunction]
fn error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(catalog, m)?)?;
    m.add_function(wrap_pyfunction!(deriv, m)?)?;
    m.add_function(wrap_pyfunction!(format_amount, m)?)?;
    m.add_function(wrap_pyfunction!(predict_linear, m)?)?;
    m.add_function(wrap_pyfunction!(find_growth_inflection, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_json, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(heap_profile_stop, m)?)?;
    m.add_function(wrap_pyfunction!(heap_profile_running, m)?)?;
    m.add_function(wrap_pyfunction!(set_thread_route, m)?)?;
    m.add_function(wrap_pyfunction!(heap_request_begun, m)?)?;
    m.add_function(wrap_pyfunction!(heap_request_ended, m)?)?;
    m.add_class::<monitor::Monitor>()?;
    m.add_class::<monitor::ProcessProbe>()?;
    m.add("SPAN_ALLOCATED_BYTES", SPAN_ALLOCATED_BYTES)?;
    m.add("SPAN_RSS_DELTA_BYTES", SPAN_RSS_DELTA_BYTES)?;
    m.add("RSS_MEASURE", leaksense_core::requests::RSS_MEASURE)?;
    m.add("UNMATCHED_ROUTE", leaksense_core::requests::UNMATCHED_ROUTE)?;
    m.add(
        "EVENT_QUEUE_CAPACITY",
        leaksense_core::monitor::EVENT_QUEUE_CAPACITY,
    )?;
    m.add("GAUGE_KEYS", leaksense_core::gauges::GAUGE_KEYS.to_vec())?;
    Ok(())
}

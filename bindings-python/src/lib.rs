//! Thin pyo3 wrapper over `leaksense-core`: conversions only; logic stays in the core.

mod error;

use leaksense_core::catalog::{Naming, Runtime, metrics as catalog_metrics};
use leaksense_core::detect::prom as core_prom;
use leaksense_core::error::{ErrorCode, InputError};
use leaksense_core::series::samples_from_secs;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Metric catalog entries for a runtime and naming mode, as dicts.
#[pyfunction]
#[pyo3(signature = (runtime = "python", naming = "semconv"))]
fn catalog<'py>(py: Python<'py>, runtime: &str, naming: &str) -> PyResult<Vec<Bound<'py, PyDict>>> {
    error::guard(py, || {
        let rt = Runtime::parse(runtime).ok_or_else(|| {
            error::input(
                py,
                InputError::invalid_option("runtime", format!("unknown runtime {runtime:?}")),
            )
        })?;
        let nm = Naming::parse(naming).ok_or_else(|| {
            error::input(
                py,
                InputError::invalid_option("naming", format!("unknown naming {naming:?}")),
            )
        })?;
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

/// PromQL `deriv` (per second) over `(timestamps secs, values)`; None with fewer than 2 samples.
#[pyfunction]
fn deriv(py: Python<'_>, timestamps: Vec<f64>, values: Vec<f64>) -> PyResult<Option<f64>> {
    error::guard(py, || {
        let s = samples_from_secs(&timestamps, &values).map_err(|e| error::input(py, e))?;
        Ok(core_prom::deriv(&s))
    })
}

/// PromQL `predict_linear` over the window evaluated at `eval_time` secs, `horizon` secs ahead.
#[pyfunction]
fn predict_linear(
    py: Python<'_>,
    timestamps: Vec<f64>,
    values: Vec<f64>,
    eval_time: f64,
    horizon: f64,
) -> PyResult<Option<f64>> {
    error::guard(py, || {
        let s = samples_from_secs(&timestamps, &values).map_err(|e| error::input(py, e))?;
        if !eval_time.is_finite() || !horizon.is_finite() {
            return Err(error::input(
                py,
                InputError::invalid_option("eval_time/horizon", "must be finite"),
            ));
        }
        Ok(core_prom::predict_linear(
            &s,
            (eval_time * 1000.0).round() as i64,
            horizon,
        ))
    })
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
    m.add_function(wrap_pyfunction!(predict_linear, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    Ok(())
}

//! Node.js addon over leaksense-core: converts types and errors only.
use leaksense_core::catalog::{self, Naming, Runtime};
use leaksense_core::detect;
use leaksense_core::error::{ErrorCode, InputError};
use leaksense_core::options::analyze_secs;
use napi::Error;
use napi_derive::napi;

#[cfg(not(target_family = "wasm"))]
mod monitor;
#[cfg(not(target_family = "wasm"))]
mod profile;

/// Builds a JS error whose `code` is the core's stable `ErrorCode::as_str()` string.
pub(crate) fn js_error(code: ErrorCode, message: impl Into<String>) -> Error<String> {
    Error::new(code.as_str().to_string(), message.into())
}

/// Validates a JS number meant as a u32 (rejects -1, 2**40, 1.7, NaN) before conversion.
pub fn to_u32(name: &str, v: f64) -> napi::Result<u32, String> {
    if v.is_finite() && v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) {
        Ok(v as u32)
    } else {
        Err(js_error(
            ErrorCode::InvalidOption,
            format!("{name} must be an integer in 0..=4294967295, got {v}"),
        ))
    }
}

/// Returns the metric catalog for a runtime and naming mode (null: the core's default) as a
/// JSON string.
#[napi(catch_unwind)]
pub fn catalog_json(runtime: String, naming: Option<String>) -> napi::Result<String, String> {
    let rt = Runtime::parse(&runtime).ok_or_else(|| {
        js_error(
            ErrorCode::InvalidOption,
            format!("unknown runtime {runtime:?}"),
        )
    })?;
    let nm = match naming {
        None => Naming::default(),
        Some(n) => Naming::parse(&n)
            .ok_or_else(|| js_error(ErrorCode::InvalidOption, format!("unknown naming {n:?}")))?,
    };
    let all: Vec<_> = catalog::metrics(rt, nm).collect();
    serde_json::to_string(&all).map_err(|e| js_error(ErrorCode::Internal, e.to_string()))
}

/// Checks a u32-valued option the way every entry point does; exposed so JS can test it.
#[napi(catch_unwind)]
pub fn validate_u32(name: String, value: f64) -> napi::Result<u32, String> {
    to_u32(&name, value)
}

/// Maps a core input error to a JS error with its code.
pub(crate) fn input_err(e: InputError) -> Error<String> {
    js_error(e.code(), e.to_string())
}

/// Prometheus `deriv()` over unix-seconds timestamps; null when undefined (fewer than 2 points).
#[napi(catch_unwind)]
pub fn deriv(timestamps: Vec<f64>, values: Vec<f64>) -> napi::Result<Option<f64>, String> {
    detect::deriv_secs(&timestamps, &values).map_err(input_err)
}

/// Prometheus `predict_linear()` at `eval_time` (unix seconds) `horizon` seconds ahead.
#[napi(catch_unwind)]
pub fn predict_linear(
    timestamps: Vec<f64>,
    values: Vec<f64>,
    eval_time: f64,
    horizon: f64,
) -> napi::Result<Option<f64>, String> {
    detect::predict_linear_secs(&timestamps, &values, eval_time, horizon).map_err(input_err)
}

/// Unix-seconds timestamp where sustained growth begins (the core's inflection finder).
#[napi(catch_unwind)]
pub fn find_growth_inflection(
    timestamps: Vec<f64>,
    values: Vec<f64>,
    window: f64,
    ratio: f64,
) -> napi::Result<f64, String> {
    let window = to_u32("window", window)? as usize;
    detect::find_growth_inflection_secs(&timestamps, &values, window, ratio).map_err(input_err)
}

/// Serializes a core value into a JS value (objects keep the core's snake_case JSON names).
pub(crate) fn to_js<T: serde::Serialize>(v: &T) -> napi::Result<serde_json::Value, String> {
    serde_json::to_value(v).map_err(|e| js_error(ErrorCode::Internal, e.to_string()))
}

/// Replays a series (unix seconds) through a fresh core detector and returns its final analysis.
/// `options_json` is a JSON object of the core's analyze options (`kind`, `limit`, `for_secs`,
/// ...), passed through unchanged.
#[napi(catch_unwind)]
pub fn analyze(
    timestamps: Vec<f64>,
    values: Vec<f64>,
    options_json: String,
) -> napi::Result<serde_json::Value, String> {
    to_js(&analyze_secs(&timestamps, &values, &options_json).map_err(input_err)?)
}

/// The route of requests no framework route matched and no `setRoute()` named: the core's, the
/// name Python and Go use too (not the overflow bucket `_other`).
#[napi]
pub const UNMATCHED_ROUTE: &str = leaksense_core::requests::UNMATCHED_ROUTE;

/// An amount in an OpenTelemetry unit (default `By`) as the core's report prints it: IEC bytes,
/// or a count with its unit's name (`3 file descriptors`).
#[napi(catch_unwind)]
pub fn format_amount(value: f64, unit: Option<String>) -> napi::Result<String, String> {
    let unit = unit.as_deref().unwrap_or(leaksense_core::report::BYTES);
    let q = leaksense_core::report::Quantity::new("amount", unit).map_err(input_err)?;
    Ok(q.amount(value))
}

/// Catalog keys of the detector's gauges, in the order `NativeMonitor.gauges` gives them.
#[napi(catch_unwind)]
pub fn gauge_keys() -> Vec<&'static str> {
    leaksense_core::gauges::GAUGE_KEYS.to_vec()
}

/// Span attribute names from the core catalog: `[allocated bytes, RSS delta bytes]`.
#[napi(catch_unwind)]
pub fn span_attribute_names() -> Vec<String> {
    vec![
        catalog::SPAN_ALLOCATED_BYTES.to_string(),
        catalog::SPAN_RSS_DELTA_BYTES.to_string(),
    ]
}

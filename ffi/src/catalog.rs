//! `leaksense_catalog_t`: the core's metric catalog for one runtime and naming mode, so that
//! bindings register their instruments under the core's names, units and descriptions.

use std::ffi::{CString, c_char};

use leaksense_core::catalog::{self, InstrumentKind, Metric, Naming, Runtime};

use crate::args::{check_out, handle, str_arg, write_out, write_string};
use crate::error::{Result, guard, guard_void, leaksense_error_t};

/// The OpenTelemetry instrument kind of a catalog metric.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum leaksense_instrument_kind_t {
    /// Monotonic sum, observed asynchronously.
    LEAKSENSE_OBSERVABLE_COUNTER = 1,
    /// Non-monotonic sum, observed asynchronously.
    LEAKSENSE_OBSERVABLE_UP_DOWN_COUNTER = 2,
    /// Point-in-time value, observed asynchronously.
    LEAKSENSE_OBSERVABLE_GAUGE = 3,
    /// Distribution of values recorded synchronously.
    LEAKSENSE_HISTOGRAM = 4,
}

impl From<InstrumentKind> for leaksense_instrument_kind_t {
    fn from(kind: InstrumentKind) -> Self {
        use leaksense_instrument_kind_t::*;
        match kind {
            InstrumentKind::ObservableCounter => LEAKSENSE_OBSERVABLE_COUNTER,
            InstrumentKind::ObservableUpDownCounter => LEAKSENSE_OBSERVABLE_UP_DOWN_COUNTER,
            InstrumentKind::ObservableGauge => LEAKSENSE_OBSERVABLE_GAUGE,
            InstrumentKind::Histogram => LEAKSENSE_HISTOGRAM,
        }
    }
}

/// One catalog metric. The strings are NUL-terminated and owned by the catalog: valid until
/// `leaksense_catalog_free`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct leaksense_metric_t {
    /// Stable key to look a metric up by, whatever the naming mode (`"go.goroutine.count"`).
    pub key: *const c_char,
    /// Instrument name to register.
    pub name: *const c_char,
    /// UCUM unit (`"By"`, `"{goroutine}"`).
    pub unit: *const c_char,
    /// Instrument description.
    pub description: *const c_char,
    /// Attribute keys the metric carries, comma-separated (empty when none).
    pub attributes: *const c_char,
    /// Instrument kind.
    pub kind: leaksense_instrument_kind_t,
    /// Whether the metric is only collected in an opt-in deep mode (O(heap) cost).
    pub deep: bool,
}

struct Entry {
    key: CString,
    name: CString,
    unit: CString,
    description: CString,
    attributes: CString,
    kind: leaksense_instrument_kind_t,
    deep: bool,
}

fn c(s: &str) -> CString {
    // Catalog strings are literals in the core with no NUL; an empty string would only hide a
    // bug that the core's own catalog tests catch.
    CString::new(s).unwrap_or_default()
}

impl From<Metric> for Entry {
    fn from(m: Metric) -> Self {
        Entry {
            key: c(m.key),
            name: c(m.name),
            unit: c(m.unit),
            description: c(m.description),
            attributes: c(&m.attributes.join(",")),
            kind: m.kind.into(),
            deep: m.deep,
        }
    }
}

/// The metrics one runtime emits (process-level ones included), resolved for a naming mode.
/// Free it with `leaksense_catalog_free`.
pub struct leaksense_catalog_t {
    entries: Vec<Entry>,
}

/// Builds the catalog for `runtime` (`"process"`, `"node"`, `"python"`, `"go"`) and `naming`
/// (`"semconv"` or `"legacy"`; NULL with length 0 means semconv), both UTF-8 `(ptr, len)`.
/// Unknown names give `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// `runtime`/`naming` must be NULL or point to their lengths in readable bytes; `out` NULL or
/// writable. On error `*out` is not written.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_catalog_new(
    runtime: *const c_char,
    runtime_len: usize,
    naming: *const c_char,
    naming_len: usize,
    out: *mut *mut leaksense_catalog_t,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out", out)?;
        // SAFETY: the caller's contract on both strings.
        let runtime_name = unsafe { str_arg("runtime", runtime, runtime_len)? };
        let naming_name = unsafe { str_arg("naming", naming, naming_len)? };
        let runtime = Runtime::parse(runtime_name).ok_or_else(|| {
            leaksense_error_t::invalid(format!("unknown runtime `{runtime_name}`"))
        })?;
        let naming = if naming_name.is_empty() {
            Naming::Semconv
        } else {
            Naming::parse(naming_name).ok_or_else(|| {
                leaksense_error_t::invalid(format!("unknown naming `{naming_name}`"))
            })?
        };
        let entries = catalog::metrics(runtime, naming).map(Entry::from).collect();
        let cat = Box::into_raw(Box::new(leaksense_catalog_t { entries }));
        // SAFETY: checked non-NULL; writable per the caller's contract.
        unsafe { out.write(cat) };
        Ok(())
    })
}

/// The number of metrics in the catalog.
///
/// # Safety
/// `catalog` must be NULL or a live catalog; `out_len` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_catalog_len(
    catalog: *const leaksense_catalog_t,
    out_len: *mut usize,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let cat = unsafe { handle("catalog", catalog)? };
        unsafe { write_out("out_len", out_len, cat.entries.len()) }
    })
}

fn metric_at(cat: &leaksense_catalog_t, index: usize) -> Result<leaksense_metric_t> {
    let e = cat.entries.get(index).ok_or_else(|| {
        leaksense_error_t::invalid(format!(
            "index {index} is past the catalog's {} metrics",
            cat.entries.len()
        ))
    })?;
    Ok(leaksense_metric_t {
        key: e.key.as_ptr(),
        name: e.name.as_ptr(),
        unit: e.unit.as_ptr(),
        description: e.description.as_ptr(),
        attributes: e.attributes.as_ptr(),
        kind: e.kind,
        deep: e.deep,
    })
}

/// The metric at `index` (0-based, below `leaksense_catalog_len`); an index past the end is
/// `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// `catalog` must be NULL or a live catalog; `out_metric` NULL or writable. The strings written
/// to `*out_metric` live as long as the catalog.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_catalog_get(
    catalog: *const leaksense_catalog_t,
    index: usize,
    out_metric: *mut leaksense_metric_t,
) -> *mut leaksense_error_t {
    guard(|| {
        // SAFETY: the caller's contract on both pointers.
        let cat = unsafe { handle("catalog", catalog)? };
        let m = metric_at(cat, index)?;
        unsafe { write_out("out_metric", out_metric, m) }
    })
}

/// Frees a catalog and every string it handed out. NULL is a no-op.
///
/// # Safety
/// `catalog` must be NULL or a catalog from `leaksense_catalog_new`, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_catalog_free(catalog: *mut leaksense_catalog_t) {
    if !catalog.is_null() {
        // SAFETY: the pointer came from Box::into_raw in `leaksense_catalog_new`, freed once.
        guard_void(|| drop(unsafe { Box::from_raw(catalog) }));
    }
}

/// The span attribute names the bindings set on a request's span. Static strings.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct leaksense_span_attributes_t {
    /// Bytes the request allocated (`memory.allocated_bytes`).
    pub allocated_bytes: *const c_char,
    /// Process RSS growth over the request.
    pub rss_delta_bytes: *const c_char,
}

/// Writes the span attribute names to `*out` (static strings; never free them).
///
/// # Safety
/// `out` must be NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_span_attributes_get(
    out: *mut leaksense_span_attributes_t,
) -> *mut leaksense_error_t {
    static NAMES: std::sync::OnceLock<[CString; 2]> = std::sync::OnceLock::new();
    guard(|| {
        let [a, r] = NAMES.get_or_init(|| {
            [
                c(catalog::SPAN_ALLOCATED_BYTES),
                c(catalog::SPAN_RSS_DELTA_BYTES),
            ]
        });
        let names = leaksense_span_attributes_t {
            allocated_bytes: a.as_ptr(),
            rss_delta_bytes: r.as_ptr(),
        };
        // SAFETY: the caller's contract on `out`.
        unsafe { write_out("out", out, names) }
    })
}

/// Writes `value` in the OpenTelemetry unit `unit` (UTF-8, `unit_len` bytes; `By` for bytes, or
/// a count's annotation such as `{goroutine}`) as the core's report prints it, `52.4 KiB` or
/// `3 goroutines`, to `*out_text` (free it with `leaksense_string_free`). An empty, over-long
/// (over 64 bytes) or control-character unit is `LEAKSENSE_INVALID_OPTION`.
///
/// # Safety
/// `unit` must be NULL or point to `unit_len` readable bytes; `out_text` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn leaksense_format_amount(
    value: f64,
    unit: *const c_char,
    unit_len: usize,
    out_text: *mut *mut c_char,
) -> *mut leaksense_error_t {
    guard(|| {
        check_out("out_text", out_text)?;
        // SAFETY: the caller's contract on `unit`.
        let unit = unsafe { str_arg("unit", unit, unit_len)? };
        let text = leaksense_core::report::Quantity::new("amount", unit)?.amount(value);
        // SAFETY: the caller's contract on `out_text`.
        unsafe { write_string("out_text", out_text, text) }
    })
}

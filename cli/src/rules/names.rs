//! OpenTelemetry metric names as Prometheus stores them.
//!
//! The translation is the one the OpenTelemetry Prometheus exporters and the Collector's
//! Prometheus translator apply by default (the OTel "Prometheus and OpenMetrics compatibility"
//! spec, `UnderscoreEscapingWithSuffixes` in Prometheus 3's OTLP receiver):
//! - every character outside `[a-zA-Z0-9_:]` becomes `_` (`go.memory.used` -> `go_memory_used`);
//! - the UCUM unit becomes a suffix unless the name already ends with it: `By` -> `_bytes`,
//!   `s` -> `_seconds`, `By/s` -> `_bytes_per_second`, `%` -> `_percent`, `1` -> `_ratio` (gauges
//!   only); annotation units in braces (`{goroutine}`) add nothing;
//! - monotonic sums (counters) end with `_total`.
//!
//! Up-down counters are exported as gauges, so they get no `_total`.

use leaksense_core::catalog::{InstrumentKind, Metric};

/// The Prometheus metric name of `m`.
pub fn prometheus_name(m: &Metric) -> String {
    let mut name = sanitize(m.name);
    if let Some(unit) = unit_suffix(m.unit, m.kind)
        && !name.ends_with(&format!("_{unit}"))
    {
        name.push('_');
        name.push_str(&unit);
    }
    if m.kind == InstrumentKind::ObservableCounter && !name.ends_with("_total") {
        name.push_str("_total");
    }
    name
}

/// A Prometheus label name for an OpenTelemetry attribute (`go.memory.type` ->
/// `go_memory_type`).
pub fn label_name(attribute: &str) -> String {
    sanitize(attribute)
}

fn sanitize(s: &str) -> String {
    // Split on every unsupported character and join the non-empty tokens with one underscore,
    // which drops redundant, leading and trailing underscores as the Collector does.
    let mut out = s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn unit_suffix(unit: &str, kind: InstrumentKind) -> Option<String> {
    if unit.is_empty() || (unit.starts_with('{') && unit.ends_with('}')) {
        return None;
    }
    let (main, per) = match unit.split_once('/') {
        Some((m, p)) => (m, Some(p)),
        None => (unit, None),
    };
    let word = |u: &str| -> String {
        match u {
            "By" => "bytes".into(),
            "KiBy" => "kibibytes".into(),
            "MiBy" => "mebibytes".into(),
            "s" => "seconds".into(),
            "ms" => "milliseconds".into(),
            "%" => "percent".into(),
            "h" => "hours".into(),
            "min" => "minutes".into(),
            other => sanitize(other).trim_matches('_').to_string(),
        }
    };
    if main == "1" && per.is_none() {
        return (kind == InstrumentKind::ObservableGauge).then(|| "ratio".into());
    }
    let mut suffix = if main.starts_with('{') {
        String::new()
    } else {
        word(main)
    };
    if let Some(per) = per {
        let per = match per {
            "s" => "second".to_string(),
            "m" => "minute".into(),
            "h" => "hour".into(),
            "d" => "day".into(),
            other => word(other),
        };
        suffix = if suffix.is_empty() {
            format!("per_{per}")
        } else {
            format!("{suffix}_per_{per}")
        };
    }
    (!suffix.is_empty()).then_some(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leaksense_core::catalog::{Naming, Runtime, lookup};

    fn name(key: &str, runtime: Runtime, naming: Naming) -> String {
        prometheus_name(&lookup(key, runtime, naming).unwrap())
    }

    #[test]
    fn catalog_names_translate_like_the_otel_exporters() {
        use Naming::{Legacy, Semconv};
        use Runtime::{Go, Node, Process, Python};
        let cases = [
            (
                "process.memory.usage",
                Process,
                Semconv,
                "process_memory_usage_bytes",
            ),
            (
                "process.memory.usage",
                Node,
                Legacy,
                "process_runtime_nodejs_memory_rss_bytes",
            ),
            (
                "v8js.heap.used",
                Node,
                Semconv,
                "leaksense_v8js_heap_used_bytes",
            ),
            (
                "v8js.heap.used",
                Node,
                Legacy,
                "process_runtime_nodejs_memory_heap_used_bytes",
            ),
            ("go.goroutine.count", Go, Semconv, "go_goroutine_count"),
            (
                "go.goroutine.count",
                Go,
                Legacy,
                "process_runtime_go_goroutines",
            ),
            (
                "cpython.gc.collections",
                Python,
                Semconv,
                "cpython_gc_collections_total",
            ),
            (
                "memory.growth_rate",
                Process,
                Semconv,
                "leaksense_memory_growth_rate_bytes_per_second",
            ),
            (
                "memory.time_to_limit",
                Process,
                Semconv,
                "leaksense_memory_time_to_limit_seconds",
            ),
            (
                "detector.state",
                Process,
                Semconv,
                "leaksense_detector_state_ratio",
            ),
            ("go.config.gogc", Go, Semconv, "go_config_gogc_percent"),
            (
                "v8js.gc.duration",
                Node,
                Semconv,
                "v8js_gc_duration_seconds",
            ),
            (
                "go.memory.allocated",
                Go,
                Semconv,
                "go_memory_allocated_bytes_total",
            ),
        ];
        for (key, runtime, naming, want) in cases {
            assert_eq!(
                name(key, runtime, naming),
                want,
                "{key} {runtime:?} {naming:?}"
            );
        }
    }

    #[test]
    fn names_and_labels_are_sanitized() {
        assert_eq!(label_name("go.memory.type"), "go_memory_type");
        assert_eq!(
            sanitize("(lambda).function.executions(#)"),
            "lambda_function_executions"
        );
        assert_eq!(sanitize("9lives"), "_9lives");
        assert_eq!(
            unit_suffix("{goroutine}", InstrumentKind::ObservableGauge),
            None
        );
        assert_eq!(
            unit_suffix("{packets}/s", InstrumentKind::ObservableGauge).as_deref(),
            Some("per_second")
        );
        assert_eq!(unit_suffix("1", InstrumentKind::ObservableCounter), None);
        assert_eq!(unit_suffix("", InstrumentKind::ObservableGauge), None);
    }
}

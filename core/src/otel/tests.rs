use super::*;
use crate::collect::procfs::read_status_rss;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

const PAGE_SLACK: f64 = 64.0 * 4096.0;

fn provider() -> (SdkMeterProvider, InMemoryMetricExporter) {
    let exporter = InMemoryMetricExporter::default();
    let reader = PeriodicReader::builder(exporter.clone()).build();
    (
        SdkMeterProvider::builder().with_reader(reader).build(),
        exporter,
    )
}

/// (name, unit, description, last value as f64) of every exported metric.
fn exported(
    p: &SdkMeterProvider,
    e: &InMemoryMetricExporter,
) -> Vec<(String, String, String, f64)> {
    p.force_flush().expect("flush");
    let mut out = Vec::new();
    for rm in e.get_finished_metrics().expect("finished") {
        for sm in rm.scope_metrics() {
            for m in sm.metrics() {
                let v = match m.data() {
                    AggregatedMetrics::U64(MetricData::Gauge(g)) => {
                        g.data_points().map(|d| d.value() as f64).last()
                    }
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        s.data_points().map(|d| d.value() as f64).last()
                    }
                    AggregatedMetrics::I64(MetricData::Gauge(g)) => {
                        g.data_points().map(|d| d.value() as f64).last()
                    }
                    AggregatedMetrics::I64(MetricData::Sum(s)) => {
                        s.data_points().map(|d| d.value() as f64).last()
                    }
                    AggregatedMetrics::F64(MetricData::Gauge(g)) => {
                        g.data_points().map(|d| d.value()).last()
                    }
                    _ => None,
                };
                if let Some(v) = v {
                    out.push((
                        m.name().to_string(),
                        m.unit().to_string(),
                        m.description().to_string(),
                        v,
                    ));
                }
            }
        }
    }
    out
}

fn check_process(runtime: Runtime, naming: Naming) -> Vec<(String, String, String, f64)> {
    let (p, e) = provider();
    let collector = Arc::new(Mutex::new(Collector::new().expect("collector")));
    let reg = register_process_metrics(&p.meter("t"), runtime, naming, collector).expect("reg");
    let got = exported(&p, &e);
    let rss_name = catalog::lookup("process.memory.usage", runtime, naming)
        .expect("key")
        .name;
    assert_eq!(reg.names()[0], rss_name);
    for m in &reg.metrics {
        if let Some((_, unit, desc, _)) = got.iter().find(|g| g.0 == m.name) {
            assert_eq!(unit, m.unit, "{}", m.name);
            assert_eq!(desc, m.description, "{}", m.name);
        }
    }
    let (_, _, _, rss) = got
        .iter()
        .find(|g| g.0 == rss_name)
        .unwrap_or_else(|| panic!("{rss_name} not exported: {got:?}"));
    let status = read_status_rss().expect("VmRSS") as f64;
    assert!(*rss > 0.0);
    assert!(
        (rss - status).abs() < PAGE_SLACK,
        "rss {rss} vs VmRSS {status}"
    );
    for key in [
        "process.memory.virtual",
        "process.memory.peak",
        "memory.limit",
    ] {
        let name = catalog::lookup(key, runtime, naming).expect("key").name;
        let v = got.iter().find(|g| g.0 == name).map(|g| g.3);
        assert!(v.is_some_and(|v| v > 0.0), "{name}: {v:?}");
    }
    got
}

#[test]
fn process_metrics_semconv() {
    let got = check_process(Runtime::Process, Naming::Semconv);
    assert!(got.iter().any(|g| g.0 == "process.memory.usage"));
}

#[test]
fn process_metrics_legacy_process_names_equal_semconv() {
    let got = check_process(Runtime::Process, Naming::Legacy);
    assert!(got.iter().any(|g| g.0 == "process.memory.usage"));
    assert!(got.iter().any(|g| g.0 == "process.memory.virtual"));
}

#[test]
fn process_metrics_legacy_python_rss_name() {
    let got = check_process(Runtime::Python, Naming::Legacy);
    assert!(
        got.iter()
            .any(|g| g.0 == "process.runtime.python.memory.rss")
    );
    assert!(!got.iter().any(|g| g.0 == "process.memory.usage"));
}

#[test]
fn collector_is_sampled_once_per_cycle() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = {
        let calls = Arc::clone(&calls);
        CycleCache::new(move || Some(calls.fetch_add(1, Ordering::SeqCst)))
    };
    let first = cache.get();
    for _ in 0..5 {
        assert_eq!(cache.get(), first);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_ne!(cache.refresh(), first);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn leak_gauges_come_through() {
    let (p, e) = provider();
    let source: LeakSource = Arc::new(|| LeakGauges {
        baseline_bytes: Some(1.5e6),
        growth_rate_bytes_per_sec: Some(1234.5),
        time_to_limit_secs: None,
        state: crate::detect::AlertState::Firing,
        ..LeakGauges::default()
    });
    let reg = register_leak_gauges(&p.meter("t"), Naming::Semconv, source).expect("reg");
    let got = exported(&p, &e);
    let value = |key| {
        let m = catalog::lookup(key, Runtime::Process, Naming::Semconv).expect("key");
        assert!(reg.names().contains(&m.name));
        got.iter().find(|g| g.0 == m.name).map(|g| {
            assert_eq!(g.1, m.unit);
            assert_eq!(g.2, m.description);
            g.3
        })
    };
    assert_eq!(value("memory.baseline"), Some(1.5e6));
    assert_eq!(value("memory.growth_rate"), Some(1234.5));
    assert_eq!(value("memory.time_to_limit"), None);
    assert_eq!(value("detector.state"), Some(2.0));
}

#[test]
fn endpoints_are_checked() {
    assert_eq!(
        metrics_endpoint("http://127.0.0.1:4318").unwrap(),
        "http://127.0.0.1:4318/v1/metrics"
    );
    assert_eq!(
        metrics_endpoint("https://collector/v1/metrics/").unwrap(),
        "https://collector/v1/metrics"
    );
    for bad in [
        "",
        "127.0.0.1:4318",
        "ftp://host",
        "http://",
        "http://:4318",
        "http://host:notaport",
        "http://host:99999",
        "http://ho st",
        "http://host/v1/metrics?x=1",
    ] {
        let err = metrics_endpoint(bad).expect_err(bad);
        assert_eq!(err.code(), ErrorCode::InvalidOption, "{bad}");
    }
}

#[test]
fn error_codes() {
    assert_eq!(
        OtelError::UnknownMetric { key: "x" }.code(),
        ErrorCode::Internal
    );
    assert_eq!(OtelError::Export("x".into()).code(), ErrorCode::Io);
    let e: OtelError = CollectError::Unsupported { what: "x" }.into();
    assert_eq!(e.code(), ErrorCode::Unsupported);
}

#[cfg(feature = "otlp")]
mod otlp_export;

use std::collections::BTreeMap;

use super::*;
use crate::ErrorCode;
use crate::catalog::{self, Naming};
use crate::detect::{SeriesKind, Verdict};
use crate::monitor::ReplayStep;

#[test]
fn each_runtime_watches_descriptors_and_its_own_count() {
    let counts = |rt: &str| MonitorConfig::for_runtime(rt, "{}").unwrap().counts;
    assert_eq!(counts("process"), ["open_fds"]);
    assert_eq!(counts("go"), ["open_fds", "goroutines"]);
    assert_eq!(counts("node"), ["open_fds", "active_resources"]);
    assert_eq!(counts("python"), ["open_fds", "threads"]);
    let none = MonitorConfig::for_runtime("go", r#"{"counts": []}"#).unwrap();
    assert!(none.counts.is_empty());
    assert!(Monitor::new(none).unwrap().counts().is_empty());
    for (rt, bad) in [
        ("go", r#"{"counts": ["sockets"]}"#),
        ("go", r#"{"counts": ["threads"]}"#),
        ("node", r#"{"counts": ["goroutines"]}"#),
        ("process", r#"{"counts": ["active_resources"]}"#),
        ("go", r#"{"counts": ["open_fds", "open_fds"]}"#),
        ("go", r#"{"counts": "open_fds"}"#),
        ("go", r#"{"count_detector": {"kind": "heap"}}"#),
        ("go", r#"{"count_detector": {"limit": 10}}"#),
        ("go", r#"{"count_detector": {"bogus": 1}}"#),
        ("go", r#"{"count_detector": {"for_secs": -1}}"#),
        ("go", r#"{"count_detector": 3}"#),
    ] {
        let e = MonitorConfig::for_runtime(rt, bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{rt} {bad}: {e}");
    }
    let e = MonitorConfig::for_runtime("node", r#"{"counts": ["goroutines"]}"#).unwrap_err();
    assert!(e.to_string().contains("read by the go binding"), "{e}");
}

#[test]
fn count_detectors_take_the_detector_options_under_their_own() {
    let c = MonitorConfig::for_runtime(
        "go",
        r#"{"detector": {"kind": "heap", "bucket_secs": 1, "for_secs": 5, "min_rise_ratio": 0.2},
            "count_detector": {"for_secs": 9}}"#,
    )
    .unwrap();
    let (d, cd) = (&c.detector, &c.count_detector);
    assert_eq!(cd.kind, SeriesKind::Count);
    assert_eq!((d.bucket_secs, cd.bucket_secs), (1.0, 1.0), "inherited");
    assert_eq!((d.for_secs, cd.for_secs), (5.0, 9.0), "its own");
    assert_eq!(
        cd.min_rise_ratio, 0.2,
        "a bar given for memory applies to counts too"
    );
    let plain = MonitorConfig::for_runtime("go", "{}").unwrap();
    let count = crate::detect::DetectorConfig::for_kind(SeriesKind::Count);
    assert_eq!(plain.count_detector, count);
    // The options round-trip as the config a binding reads back.
    let back = MonitorConfig::from_json(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}

#[test]
fn every_count_has_its_catalog_gauge_in_its_runtime() {
    for d in COUNTS {
        let rt = if d.runtime == Runtime::Process {
            Runtime::Go
        } else {
            d.runtime
        };
        let m = catalog::lookup(d.key, rt, Naming::Semconv).unwrap();
        assert_eq!(m.unit, d.unit, "{}", d.series);
        assert!(catalog::metrics(rt, Naming::Semconv).any(|x| x.key == d.key));
        Quantity::new(d.series, d.unit).unwrap();
        assert_eq!(count_def(d.series), Some(d));
    }
    assert_eq!(count_def("memory"), None);
}

fn monitor(rt: &str, json: &str) -> Monitor {
    Monitor::for_runtime(rt, json).unwrap()
}

#[test]
fn bad_count_readings_are_typed_errors() {
    let m = monitor("go", r#"{"rss_per_request": false}"#);
    m.observe_count("goroutines", 2_000, 12.0).unwrap();
    for (series, ts, v, code) in [
        ("threads", 3_000, 1.0, ErrorCode::InvalidOption),
        ("memory", 3_000, 1.0, ErrorCode::InvalidOption),
        ("goroutines", 3_000, f64::NAN, ErrorCode::NonFiniteValue),
        (
            "goroutines",
            3_000,
            f64::INFINITY,
            ErrorCode::NonFiniteValue,
        ),
        ("goroutines", 1_000, 1.0, ErrorCode::OutOfOrder),
    ] {
        let e = m.observe_count(series, ts, v).unwrap_err();
        assert_eq!(e.code(), code, "{series} {ts} {v}: {e}");
    }
    // Each count keeps its own clock: descriptors may still be read at an earlier time.
    m.observe_count("open_fds", 1_000, 9.0).unwrap();
    assert_eq!(
        m.report_for("sockets").unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    m.close();
    assert_eq!(
        m.observe_count("goroutines", 9_000, 1.0)
            .unwrap_err()
            .code(),
        ErrorCode::Closed
    );
    assert_eq!(
        m.report_for("goroutines").unwrap_err().code(),
        ErrorCode::Closed
    );
}

const T0: i64 = 1_700_000_000_000;

/// Compressed time: 1 s buckets and request slots, 5 s attribution blocks.
const FAST: &str = r#"{"rss_per_request": false, "slot_ms": 1000, "memory_limit": 4000000000,
    "detector": {"bucket_secs": 1, "warmup_secs": 10, "min_growth_secs": 10, "for_secs": 3},
    "attribution": {"block_ms": 5000}}"#;

/// Replay steps of a service whose memory is flat while `/stream` leaves one goroutine per
/// request from `leak_from` s on (if any), `/poll` holds one for each running long poll (2 s)
/// and `/ok` one while it runs (gone by the reading). Route mixes change every 10 s.
fn goroutine_steps(leak_from: Option<f64>, seconds: i64) -> Vec<ReplayStep> {
    let mut rng = fastrand::Rng::with_seed(5);
    let (mut leaked, mut polls) = (0.0, Vec::<f64>::new());
    let mut rates = [3u64, 2, 2];
    (0..seconds * 4)
        .map(|i| {
            let t = i as f64 / 4.0;
            if i % 40 == 0 {
                rates = [rng.u64(1..8), rng.u64(0..4), rng.u64(1..4)];
            }
            polls.retain(|&end| end > t);
            let mut requests = BTreeMap::from([
                ("/ok".to_string(), rates[0]),
                ("/poll".to_string(), rates[2]),
            ]);
            polls.extend((0..rates[2]).map(|_| t + 2.0));
            if leak_from.is_some_and(|f| t >= f) {
                requests.insert("/stream".into(), rates[1]);
                leaked += rates[1] as f64;
            }
            let jitter = rng.u64(0..3) as f64;
            ReplayStep {
                ts_ms: T0 + i * 250,
                requests,
                baseline: Some(50e6 + rng.f64() * 1e5),
                counts: BTreeMap::from([(
                    "goroutines".to_string(),
                    20.0 + leaked + polls.len() as f64 + jitter,
                )]),
            }
        })
        .collect()
}

#[test]
fn a_goroutine_leak_alerts_as_goroutines_and_names_its_route() {
    let m = monitor("go", FAST);
    let mut events = Vec::new();
    for s in goroutine_steps(Some(30.0), 150) {
        m.replay(std::slice::from_ref(&s)).unwrap();
        events.extend(m.poll_events().unwrap());
    }
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.measure.as_str()))
        .collect();
    assert!(
        kinds.contains(&(EventKind::Leak, "goroutines")),
        "{kinds:?}"
    );
    assert!(
        events.iter().all(|e| e.measure == "goroutines"),
        "memory is flat: {kinds:?}"
    );
    let named = events
        .iter()
        .find(|e| e.kind == EventKind::Suspects)
        .unwrap_or_else(|| panic!("no suspects event: {kinds:?}"));
    let r = &named.report;
    assert_eq!(r.quantity.series, "goroutines");
    assert_eq!(r.quantity.unit, "{goroutine}");
    let routes: Vec<&str> = r.suspects.iter().map(|s| s.route.as_str()).collect();
    assert_eq!(routes, ["/stream"], "{}", named.report_text);
    let per_request = r.suspects[0].retained_bytes_per_request;
    assert!((per_request - 1.0).abs() < 0.15, "{per_request}");
    let leaves = format!(
        "leaves {} per request",
        crate::format::amount("{goroutine}", per_request)
    );
    assert!(named.report_text.contains(&leaves), "{}", named.report_text);
    // The memory report carries the count's line, with what its event named.
    let memory = m.report().unwrap();
    assert_eq!(memory.analysis.verdict, Verdict::Healthy);
    let line = memory
        .counts
        .iter()
        .find(|l| l.series == "goroutines")
        .expect("a goroutines line");
    assert_eq!(line.verdict, Verdict::Leak);
    assert_eq!(line.suspects[0].route, "/stream");
    let text = memory.render_text();
    println!("{}\n{text}", named.report_text);
    assert!(text.contains("\ncounts\n  goroutines"), "{text}");
    assert!(text.contains("/stream leaves 1"), "{text}");
    // The count's own report, on demand.
    let own = m.report_for("goroutines").unwrap();
    assert_eq!(own.analysis.verdict, Verdict::Leak);
    assert_eq!(m.report_for("memory").unwrap().quantity.series, "memory");
    assert_eq!(
        m.gauges().unwrap().value("go.goroutine.count"),
        Some(line.value)
    );
}

#[test]
fn goroutines_held_while_requests_run_raise_no_alert() {
    let m = monitor("go", FAST);
    m.replay(&goroutine_steps(None, 150)).unwrap();
    let events = m.poll_events().unwrap();
    assert!(events.is_empty(), "{events:?}");
    let line = m.report().unwrap().counts;
    assert_eq!(line.len(), 1, "only the count that was read");
    assert_eq!(line[0].verdict, Verdict::Healthy);
    assert!(line[0].suspects.is_empty());
}

#[test]
fn the_sampler_thread_counts_descriptors() {
    let m = monitor("process", r#"{"interval_ms": 5}"#);
    assert!(m.report().unwrap().counts.is_empty(), "nothing read yet");
    assert_eq!(m.gauges().unwrap().value("process.open_fds"), None);
    m.start().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while m.report().unwrap().counts.is_empty() {
        assert!(std::time::Instant::now() < deadline, "no reading in 10 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    m.stop();
    let line = &m.report().unwrap().counts[0];
    assert_eq!(
        (line.series.as_str(), line.unit.as_str()),
        ("open_fds", "{file_descriptor}")
    );
    // This process has at least stdin, stdout, stderr and the monitor's statm open.
    assert!(line.value >= 4.0, "{line:?}");
    assert!(line.limit.is_some_and(|l| l >= line.value), "{line:?}");
    assert_eq!(
        m.gauges().unwrap().value("process.open_fds"),
        Some(line.value)
    );
    let without = monitor("process", r#"{"interval_ms": 5, "counts": []}"#);
    without.start().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    without.stop();
    assert!(without.report().unwrap().counts.is_empty());
}

use super::*;
use crate::catalog::{Naming, Runtime};
use crate::detect::{AlertState, SeriesKind, Verdict};

fn monitor(json: &str) -> Monitor {
    Monitor::from_json(json).unwrap()
}

#[test]
fn config_from_json_accepts_known_keys_and_rejects_the_rest() {
    let cfg = MonitorConfig::from_json(
        r#"{"runtime": "python", "naming": "legacy", "measures": ["blocks"],
            "detector": {"for_secs": 60}, "attribution": {"top_k": 4}}"#,
    )
    .unwrap();
    assert_eq!((cfg.runtime, cfg.naming), (Runtime::Python, Naming::Legacy));
    let node = MonitorConfig::from_json(r#"{"runtime": "nodejs"}"#).unwrap();
    assert_eq!(
        node.runtime,
        Runtime::Node,
        "the alias Runtime::parse accepts"
    );
    assert_eq!(cfg.measures, vec!["blocks".to_string()]);
    assert_eq!(cfg.detector.for_secs, 60.0);
    assert_eq!(cfg.attribution.top_k, 4);
    let back: MonitorConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
    for bad in [
        r#"{"bogus": 1}"#,
        r#"{"runtime": "ruby"}"#,
        r#"{"naming": "old"}"#,
        r#"{"interval_ms": 0}"#,
        r#"{"interval_ms": -5}"#,
        r#"{"max_routes": 0}"#,
        r#"{"slot_ms": 5}"#,
        r#"{"memory_limit": 0}"#,
        r#"{"measures": ["a", "a"]}"#,
        r#"{"measures": ["rss"]}"#,
        r#"{"measures": ["a", "b", "c", "d", "e"]}"#,
        r#"{"detector": {"for_secs": -1}}"#,
        r#"{"detector": {"limit": 100}}"#,
        r#"{"detector": {"nope": 1}}"#,
        r#"{"attribution": {"top_k": 0}}"#,
        "not json",
        "[]",
    ] {
        let e = MonitorConfig::from_json(bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{bad}");
    }
}

#[test]
fn sampling_feeds_the_detector_and_rejects_time_going_backwards() {
    let m = monitor("{}");
    let snap = m.sample(Some(1_000)).unwrap();
    assert!(snap.process.rss_bytes > 0);
    m.sample(Some(2_000)).unwrap();
    assert_eq!(
        m.sample(Some(1_500)).unwrap_err().code(),
        ErrorCode::OutOfOrder
    );
    assert_eq!(m.analysis().unwrap().samples, 2);
    // Clock samples never fail on ordering (the clock is far past 2 s after the epoch).
    m.sample(None).unwrap();
    m.sample(None).unwrap();
    assert!(m.analysis().unwrap().samples >= 3);
    assert_eq!(m.watched().unwrap(), Watched::Rss);
}

#[test]
fn a_runtime_baseline_replaces_rss_and_is_validated() {
    let m = monitor("{}");
    m.sample(Some(1_000)).unwrap();
    assert_eq!(
        m.observe_baseline(10_000, f64::NAN).unwrap_err().code(),
        ErrorCode::NonFiniteValue
    );
    assert_eq!(
        m.watched().unwrap(),
        Watched::Rss,
        "a rejected value switches nothing"
    );
    m.observe_baseline(10_000, 5e7).unwrap();
    assert_eq!(m.watched().unwrap(), Watched::RuntimeBaseline);
    assert_eq!(m.analysis().unwrap().samples, 1);
    assert_eq!(
        m.observe_baseline(9_000, 1.0).unwrap_err().code(),
        ErrorCode::OutOfOrder
    );
    assert_eq!(
        m.observe_baseline_after_full_gc(9_000, 1.0)
            .unwrap_err()
            .code(),
        ErrorCode::OutOfOrder
    );
    assert_eq!(
        m.observe_baseline_after_full_gc(11_000, f64::INFINITY)
            .unwrap_err()
            .code(),
        ErrorCode::NonFiniteValue
    );
    m.observe_baseline_after_full_gc(11_000, 4e7).unwrap();
    assert_eq!(m.analysis().unwrap().samples, 2);
    m.sample(Some(20_000)).unwrap();
    assert_eq!(
        m.analysis().unwrap().samples,
        2,
        "RSS no longer feeds the detector"
    );
}

#[test]
fn limits_come_from_config_or_the_runtime() {
    let m = monitor("{}");
    assert_eq!(
        m.set_runtime_limit(Some(0)).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    m.set_runtime_limit(Some(1 << 20)).unwrap();
    assert_eq!(m.analysis().unwrap().limit, Some((1u64 << 20) as f64));
    let fixed = monitor(r#"{"memory_limit": 123456789}"#);
    assert_eq!(fixed.analysis().unwrap().limit, Some(123_456_789.0));
    fixed.set_runtime_limit(Some(1 << 20)).unwrap();
    assert_eq!(
        fixed.analysis().unwrap().limit,
        Some(123_456_789.0),
        "memory_limit wins"
    );
}

#[test]
fn a_closed_monitor_answers_closed_everywhere() {
    let m = monitor(r#"{"measures": ["heap"]}"#);
    let token = m.begin_request("/a", &[1.0]).unwrap();
    m.close();
    m.close();
    assert!(m.is_closed());
    assert_eq!(m.sample(None).unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(
        m.observe_baseline(1, 1.0).unwrap_err().code(),
        ErrorCode::Closed
    );
    assert_eq!(
        m.observe_baseline_after_full_gc(1, 1.0).unwrap_err().code(),
        ErrorCode::Closed
    );
    assert_eq!(
        m.begin_request("/a", &[1.0]).unwrap_err().code(),
        ErrorCode::Closed
    );
    assert_eq!(
        m.end_request(token, &[2.0]).unwrap_err().code(),
        ErrorCode::Closed
    );
    assert_eq!(m.report().unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(m.poll_events().unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(m.deliver().unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(m.gauges().unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(m.replay(&[]).unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(m.start().unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(
        m.set_runtime_limit(None).unwrap_err().code(),
        ErrorCode::Closed
    );
}

#[test]
fn the_sampler_thread_samples_until_stopped_and_restarts() {
    let m = monitor(r#"{"interval_ms": 5}"#);
    m.start().unwrap();
    m.start().unwrap();
    assert!(m.is_running());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while m.analysis().unwrap().samples < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "sampler never sampled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    m.stop();
    assert!(!m.is_running());
    let n = m.analysis().unwrap().samples;
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(m.analysis().unwrap().samples, n, "no sampling after stop");
    m.stop();
    // What a binding does around fork(): stop, then start again.
    m.start().unwrap();
    assert!(m.is_running());
    m.close();
    assert!(!m.is_running());
}

#[test]
fn rss_per_request_is_off_in_every_preset() {
    for rt in ["process", "python", "node", "go"] {
        let m = Monitor::for_runtime(rt, "{}").unwrap();
        assert!(!m.config().rss_per_request, "{rt}");
        assert!(!m.tracker().measures().iter().any(|x| x == "rss"), "{rt}");
        assert!(m.request_rss().is_nan(), "{rt}");
        m.close();
    }
}

#[test]
fn record_request_goes_through_route_ids_and_refuses_a_closed_monitor() {
    let m = monitor(r#"{"measures": ["heap"], "rss_per_request": true}"#);
    let id = m.route_id("/users/:id").unwrap();
    let rss = m.request_rss();
    let out = m.record_request(id, &[100.0], &[164.0], rss).unwrap();
    assert_eq!(out.deltas(), [64.0]);
    if cfg!(target_os = "linux") {
        assert!(rss > 0.0 && out.rss_delta.is_some_and(f64::is_finite));
    }
    assert_eq!(
        m.record_request(id + 1, &[0.0], &[0.0], f64::NAN)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOption
    );
    let r = m.report().unwrap();
    assert_eq!(r.routes.iter().map(|r| r.requests).sum::<u64>(), 1);
    m.close();
    assert_eq!(m.route_id("/a").unwrap_err().code(), ErrorCode::Closed);
    assert_eq!(
        m.record_request(id, &[0.0], &[0.0], f64::NAN)
            .unwrap_err()
            .code(),
        ErrorCode::Closed
    );
}

#[test]
fn memory_reads_every_source_without_feeding_the_detector() {
    let m = monitor("{}");
    let snap = m.memory().unwrap();
    assert!(snap.process.rss_bytes > 0);
    if cfg!(target_os = "linux") {
        assert!(
            snap.peak_rss
                .is_some_and(|p| p >= snap.process.rss_bytes / 2)
        );
    }
    assert_eq!(m.analysis().unwrap().samples, 0, "a scrape is not a sample");
    m.close();
    assert_eq!(m.memory().unwrap_err().code(), ErrorCode::Closed);
}

#[test]
fn request_measures_are_checked_and_rss_is_added() {
    let m = monitor(r#"{"measures": ["heap"], "rss_per_request": true}"#);
    assert_eq!(
        m.begin_request("/a", &[]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    assert_eq!(
        m.begin_request("/a", &[f64::INFINITY]).unwrap_err().code(),
        ErrorCode::NonFiniteValue
    );
    let t = m.begin_request("/users/:id", &[100.0]).unwrap();
    let out = m.end_request(t, &[164.0]).unwrap();
    assert_eq!(out.deltas()[0], 64.0);
    if cfg!(target_os = "linux") {
        assert_eq!(m.tracker().measures(), ["heap", "rss"]);
        assert!(
            out.rss_delta.is_some_and(f64::is_finite),
            "rss delta read by the core"
        );
    }
}

/// A simulated service's heap: requests allocate on it, a leaking route's requests also keep
/// what they allocate, and a GC drops it to 50 MB plus what was kept.
#[derive(Default)]
struct Heap {
    now: f64,
    kept: f64,
}

impl Heap {
    /// `n` requests on `route` at `ts`, each allocating `bytes` (and keeping them if `leaks`).
    fn serve(&mut self, m: &Monitor, route: &str, ts: i64, n: usize, bytes: f64, leaks: bool) {
        for _ in 0..n {
            let t = m.tracker().begin_at(route, ts, &[self.now]).unwrap();
            self.now += bytes;
            if leaks {
                self.kept += bytes;
            }
            m.tracker().end_at(t, ts, &[self.now]).unwrap();
        }
    }

    /// A GC at `ts`: the heap falls to its floor, which the monitor is fed.
    fn gc(&mut self, m: &Monitor, ts: i64, rng: &mut fastrand::Rng) -> Option<AlertEvent> {
        self.now = 50e6 + self.kept + rng.f64() * 1e5;
        m.observe_baseline(ts, self.now).unwrap()
    }
}

/// Six hours of a service whose `/leak` route keeps 20 KB per request while `/ok` keeps
/// nothing, fed through the monitor with injected times: the detector must fire and the
/// report must name `/leak` with about 20 KB per request.
#[test]
fn a_leaking_route_is_detected_and_named_in_the_report() {
    let m =
        monitor(r#"{"runtime": "node", "measures": ["heap_used"], "memory_limit": 4000000000}"#);
    let t0: i64 = 1_700_000_000_000;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut heap = Heap::default();
    let mut fired = false;
    // Traffic drifts in 30-minute phases, independently per route, as real traffic does; with
    // perfectly regular traffic no model can tell a route from a steady background leak.
    let (mut ok_rate, mut leak_rate) = (3, 2);
    for step in 0..(6 * 3600 / 15) {
        let ts = t0 + step * 15_000;
        let leaking_from = 2 * 3600 / 15;
        if step % 120 == 0 {
            (ok_rate, leak_rate) = (rng.usize(1..7), rng.usize(1..5));
        }
        heap.serve(&m, "/ok", ts, ok_rate, 4096.0, false);
        if step >= leaking_from {
            heap.serve(&m, "/leak", ts, leak_rate, 20_000.0, true);
        }
        // A GC every 2 minutes.
        if step % 8 == 0 {
            heap.gc(&m, ts, &mut rng);
        }
    }
    let events = m.poll_events().unwrap();
    fired |= events.iter().any(|e| e.kind == EventKind::Leak);
    assert!(fired, "events: {events:?}");
    assert!(events.iter().all(|e| e.measure == MEASURE_MEMORY));
    assert!(m.poll_events().unwrap().is_empty(), "polling drains");
    let report = m.report().unwrap();
    assert_eq!(report.analysis.verdict, Verdict::Leak);
    let text = report.render_text();
    let top = report
        .suspects
        .first()
        .unwrap_or_else(|| panic!("no suspect:\n{text}"));
    assert_eq!(top.route, "/leak", "{text}");
    assert!(
        (top.interval[0]..=top.interval[1]).contains(&20_000.0)
            || (top.retained_bytes_per_request - 20_000.0).abs() < 4_000.0,
        "{top:?}"
    );
    assert!(report.suspects.iter().all(|s| s.route != "/ok"));
}

/// A leak under perfectly regular traffic: when the alert fires, no model can tell `/leak` from
/// a steady background leak, so the alert's report names nobody. Once the traffic mix starts
/// to vary, the report names `/leak`, and the monitor says so once, with a `suspects` event
/// that carries that report.
#[test]
fn a_firing_alert_announces_its_suspects_once_they_are_named() {
    let m =
        monitor(r#"{"runtime": "node", "measures": ["heap_used"], "memory_limit": 4000000000}"#);
    let t0: i64 = 1_700_000_000_000;
    let mut rng = fastrand::Rng::with_seed(3);
    let mut heap = Heap::default();
    let (mut ok_rate, mut leak_rate) = (3, 2);
    let mut fired_at = None;
    let mut looks_at_firing = Vec::new();
    for step in 0..(9 * 3600 / 15) {
        let ts = t0 + step * 15_000;
        if fired_at.is_some() && step % 120 == 0 {
            (ok_rate, leak_rate) = (rng.usize(1..7), rng.usize(1..5));
        }
        heap.serve(&m, "/ok", ts, ok_rate, 4096.0, false);
        if step >= 2 * 3600 / 15 {
            heap.serve(&m, "/leak", ts, leak_rate, 20_000.0, true);
        }
        if step % 8 == 0 {
            let event = heap.gc(&m, ts, &mut rng);
            if event.is_some_and(|e| e.to == AlertState::Firing) {
                fired_at = Some(ts);
                looks_at_firing.push(m.deliver().unwrap());
                assert!(m.report().unwrap().suspects.is_empty(), "named at firing");
            } else if m.deliver().unwrap() {
                let report = m.report().unwrap();
                assert_eq!(
                    report.suspects[0].route,
                    "/leak",
                    "{}",
                    report.render_text()
                );
            }
        }
    }
    let fired_at = fired_at.expect("the alert fired");
    assert_eq!(
        looks_at_firing,
        [false],
        "fired once, and named nobody then"
    );
    let events = m.poll_events().unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == EventKind::Suspects).count(),
        1,
        "{kinds:?}"
    );
    let at = |k| kinds.iter().position(|x| *x == k).unwrap();
    assert!(at(EventKind::Leak) < at(EventKind::Suspects), "{kinds:?}");
    let leak = &events[at(EventKind::Leak)];
    assert_eq!(leak.ts_ms, fired_at);
    assert_eq!(leak.report.analysis.state, AlertState::Firing);
    assert!(
        leak.report.suspects.is_empty(),
        "named nobody at the firing"
    );
    let announced = &events[at(EventKind::Suspects)];
    assert!(announced.ts_ms > fired_at);
    assert_eq!(announced.report.suspects[0].route, "/leak");
    assert!(announced.report_text.contains("/leak"));
    assert_eq!(announced.report_text, announced.report.render_text());
    assert!(!m.deliver().unwrap(), "announced once");
}

#[test]
fn a_healthy_service_gets_no_suspects() {
    let m = monitor(r#"{"measures": ["heap_used"]}"#);
    let t0: i64 = 1_700_000_000_000;
    let mut rng = fastrand::Rng::with_seed(11);
    for step in 0..(4 * 3600 / 15) {
        let ts = t0 + step * 15_000;
        let t = m.tracker().begin_at("/ok", ts, &[0.0]).unwrap();
        m.tracker().end_at(t, ts, &[4096.0]).unwrap();
        if step % 8 == 0 {
            m.observe_baseline(ts, 50e6 + rng.f64() * 1e5).unwrap();
        }
    }
    let report = m.report().unwrap();
    assert_eq!(report.analysis.verdict, Verdict::Healthy);
    assert!(report.suspects.is_empty(), "{}", report.render_text());
    assert!(m.poll_events().unwrap().is_empty());
}

/// A V8 heap whose old generation is collected only every 1–4 h, sampled every tick under the
/// young generation's sawtooth: fed as plain readings, some healthy series alarm on the ramps
/// between collections; with the readings taken right after each full collection marked as
/// such (what the Node binding does), none does.
#[test]
fn full_collections_reported_by_the_binding_keep_a_slow_gc_from_alarming() {
    use crate::detect::scenarios::{Situation, generate};
    let fires = |sc: &crate::detect::scenarios::Scenario, marked: bool| {
        let detector = if marked {
            r#"{"reports_full_gcs": true, "first_collection_secs": 14400}"#
        } else {
            "{}"
        };
        let m = monitor(&format!(r#"{{"runtime": "node", "detector": {detector}}}"#));
        for (i, s) in sc.samples.iter().enumerate() {
            if marked && sc.full_gcs.contains(&i) {
                m.observe_baseline_after_full_gc(s.ts_ms, s.value).unwrap();
            } else {
                m.observe_baseline(s.ts_ms, s.value).unwrap();
            }
        }
        m.poll_events()
            .unwrap()
            .iter()
            .any(|e| e.kind == EventKind::Leak)
    };
    let series: Vec<_> = (0..20)
        .map(|seed| generate(Situation::V8SlowGc, seed, 15))
        .collect();
    let plain = series.iter().filter(|sc| fires(sc, false)).count();
    let marked = series.iter().filter(|sc| fires(sc, true)).count();
    assert!(
        plain > 0,
        "the plain feed is expected to alarm on some of these"
    );
    assert_eq!(
        marked, 0,
        "healthy series alarmed with their full collections marked"
    );
}

/// A whole in-use profile of the simulated heap: the leaking site holds what `/leak` kept,
/// the steady site a constant 8 MB.
fn feed_profile(m: &Monitor, ts: i64, kept: f64) {
    use crate::profile::{FrameRef, StackSample};
    let frames = [
        FrameRef {
            function: "runtime.mallocgc",
            file: "runtime/malloc.go",
            line: 1,
        },
        FrameRef {
            function: "main.remember",
            file: "app.go",
            line: 42,
        },
        FrameRef {
            function: "main.handler",
            file: "app.go",
            line: 20,
        },
        FrameRef {
            function: "main.buffers",
            file: "app.go",
            line: 60,
        },
    ];
    let samples = [
        StackSample {
            frames: &[0, 1, 2],
            objects: (kept / 20_000.0) as u64,
            bytes: kept as u64,
        },
        StackSample {
            frames: &[3, 2],
            objects: 1000,
            bytes: 8 << 20,
        },
    ];
    m.profile_replace(Some(ts), &frames, &samples, 1).unwrap();
}

/// The leak of `a_leaking_route_is_detected_and_named_in_the_report`, with a live-heap
/// profile fed at each GC: the report names the leaking line as the top growing site with
/// nearly all of the floor's growth, and the alert writes its pprof files.
#[test]
fn the_report_names_the_growing_allocation_site_and_the_alert_writes_pprof() {
    let dir = tempfile::tempdir().unwrap();
    let m = monitor(&format!(
        r#"{{"runtime": "go", "measures": ["heap"], "memory_limit": 4000000000, "profile": {{"pprof_dir": {:?}}}}}"#,
        dir.path().display().to_string()
    ));
    let t0: i64 = 1_700_000_000_000;
    let mut rng = fastrand::Rng::with_seed(11);
    let mut heap = Heap::default();
    for step in 0..(6 * 3600 / 15) {
        let ts = t0 + step * 15_000;
        heap.serve(&m, "/ok", ts, 3, 4096.0, false);
        if step >= 2 * 3600 / 15 {
            heap.serve(&m, "/leak", ts, 2, 20_000.0, true);
        }
        if step % 8 == 0 {
            heap.gc(&m, ts, &mut rng);
            feed_profile(&m, ts, heap.kept);
        }
    }
    let report = m.report().unwrap();
    assert_eq!(report.analysis.verdict, Verdict::Leak);
    let p = report.profile.as_ref().expect("a profile in the report");
    assert_eq!(p.basis, crate::profile::GrowthBasis::GrowthStart);
    assert!(p.from_ms <= report.analysis.growth_start_ms.unwrap());
    let top = &p.sites[0];
    assert_eq!(
        (top.function.as_str(), top.line),
        ("main.remember", 42),
        "{p:?}"
    );
    assert!((0.8..1.2).contains(&top.share), "{top:?}");
    assert!(
        p.alert_growth_bytes
            .is_some_and(|b| b > 0.0 && b <= p.growth_bytes)
    );
    let text = report.render_text();
    assert!(text.contains("1. main.remember (app.go:42)"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["profile"]["sites"][0]["line"], 42);
    if let Ok(path) = std::env::var("LEAKSENSE_WRITE_REPORT_FIXTURE") {
        std::fs::write(path, report.to_json()).unwrap();
    }
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written[0].ends_with("-growth.pb") && written[1].ends_with("-inuse.pb"));
    // On demand, and a clear error where the file cannot be written.
    let path = dir.path().join("now.pb");
    m.write_pprof(&path, crate::profile::PprofKind::Growth)
        .unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    let e = m
        .write_pprof(
            &dir.path().join("no/such/dir.pb"),
            crate::profile::PprofKind::Inuse,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Io);
}

#[test]
fn the_profile_can_be_off_and_is_empty_until_fed() {
    let m = monitor(r#"{"profile": {"enabled": false}}"#);
    assert!(m.profile().is_none());
    let e = m.pprof(crate::profile::PprofKind::Inuse).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
    assert!(m.report().unwrap().profile.is_none());
    let e = m.profile_replace(None, &[], &[], 1).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
    // Off by default outside Go (the runtime presets).
    assert!(monitor("{}").profile().is_none());
    assert!(monitor(r#"{"runtime": "go"}"#).profile().is_some());
    let m = monitor(r#"{"profile": {"enabled": true}}"#);
    assert_eq!(
        m.pprof(crate::profile::PprofKind::Inuse)
            .unwrap_err()
            .code(),
        ErrorCode::EmptyInput
    );
    assert!(m.report().unwrap().profile.is_none());
    let e = MonitorConfig::from_json(r#"{"profile": {"max_stacks": 3}}"#).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
    m.close();
    assert_eq!(
        m.profile_replace(None, &[], &[], 1).unwrap_err().code(),
        ErrorCode::Closed
    );
}

#[test]
fn presets_lie_under_the_users_options() {
    let node = MonitorConfig::for_runtime("node", "").unwrap();
    assert_eq!(node.runtime, Runtime::Node);
    assert_eq!(node.measures, ["heap_used"]);
    assert!(node.heap);
    assert!(node.detector.reports_full_gcs);
    assert_eq!(node.detector.first_collection_secs, 14_400.0);
    let mine = MonitorConfig::for_runtime("node", r#"{"detector": {"for_secs": 60}}"#).unwrap();
    assert_eq!(mine.detector.for_secs, 60.0);
    assert_eq!(
        mine.detector.first_collection_secs, 14_400.0,
        "the preset stays under"
    );
    let off = MonitorConfig::for_runtime("node", r#"{"heap": false}"#).unwrap();
    assert!(!off.heap && !off.detector.reports_full_gcs);
    // RSS: the detector's default wait (off before section 64), not the V8 preset's.
    assert_eq!(
        off.detector.first_collection_secs,
        crate::detect::DetectorConfig::default().first_collection_secs
    );
    let zero = MonitorConfig::for_runtime("node", r#"{"detector": {"first_collection_secs": 0}}"#)
        .unwrap();
    assert_eq!(zero.detector.first_collection_secs, 0.0);
    let go = MonitorConfig::for_runtime("go", "{}").unwrap();
    assert!(go.measures.is_empty(), "{:?}", go.measures);
    assert!(go.heap && !go.detector.reports_full_gcs);
    // Post-GC values never fall by a collection's share: no wait for one (section 64).
    assert_eq!(go.detector.first_collection_secs, 0.0);
    let py_heap = MonitorConfig::for_runtime("python", r#"{"heap": true}"#).unwrap();
    assert_eq!(py_heap.detector.first_collection_secs, 0.0);
    let rss = MonitorConfig::for_runtime("process", "").unwrap();
    assert_eq!(
        rss.detector.first_collection_secs,
        crate::detect::DetectorConfig::default().first_collection_secs
    );
    let py = MonitorConfig::for_runtime("python", r#"{"naming": "legacy"}"#).unwrap();
    assert_eq!((py.runtime, py.naming), (Runtime::Python, Naming::Legacy));
    assert!(py.measures == ["gc_count"] && !py.heap);
    assert_eq!(py.interval_ms, MonitorConfig::default().interval_ms);
    let count = MonitorConfig::for_runtime("go", r#"{"detector": {"kind": "count"}}"#).unwrap();
    assert_eq!(
        count.detector.min_rise_ratio,
        DetectorConfig::for_kind(SeriesKind::Count).min_rise_ratio,
        "the kind's defaults"
    );
    // The runtime is the binding's.
    assert!(MonitorConfig::for_runtime("node", r#"{"runtime": "node"}"#).is_ok());
    for (rt, bad) in [
        ("node", r#"{"runtime": "go"}"#),
        ("ruby", "{}"),
        ("node", r#"{"heap": 1}"#),
        ("node", r#"{"detector": 3}"#),
        ("node", r#"{"detector": {"kind": "gauge"}}"#),
        ("python", r#"{"bogus": 1}"#),
        ("python", "[1]"),
    ] {
        let e = MonitorConfig::for_runtime(rt, bad).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{rt} {bad}");
    }
    let e = MonitorConfig::for_runtime("python", r#"{"bogus": 1}"#).unwrap_err();
    assert!(e.to_string().contains("unknown option `bogus`"), "{e}");
}

#[test]
fn gauges_follow_the_analysis() {
    let m = monitor(r#"{"memory_limit": 1000000000}"#);
    let g = m.gauges().unwrap();
    assert_eq!(g.value("memory.limit"), Some(1e9));
    assert_eq!(g.value("detector.state"), Some(0.0));
    m.observe_baseline(1_000, 5e7).unwrap();
    assert_eq!(
        m.gauges().unwrap().leak,
        LeakGauges::from_analysis(&m.analysis().unwrap())
    );
}

/// A leak replayed from steps: the events are the same whether the steps come in one call or
/// one by one with a poll after each (what the shared vector relies on in every language).
#[test]
fn a_replay_gives_the_same_events_however_it_is_fed() {
    let fast = r#"{"rss_per_request": false,
        "detector": {"bucket_secs": 1, "warmup_secs": 5, "min_growth_secs": 5, "for_secs": 2}}"#;
    let steps: Vec<ReplayStep> = (0..400)
        .map(|i| {
            let t = i as f64 * 0.25;
            // Flat, then growing 1 MB/s, then a restart far below the floor.
            let floor = match t {
                t if t >= 75.0 => 3e7,
                t => 5e7 + (t - 20.0).max(0.0) * 1e6,
            };
            ReplayStep {
                ts_ms: 1_700_000_000_000 + i * 250,
                requests: [("/a".to_string(), 2 + (i as u64 / 40) % 3)].into(),
                baseline: Some(floor + (i % 3) as f64 * 1e4),
                counts: Default::default(),
            }
        })
        .collect();
    let once = monitor(fast);
    once.replay(&steps).unwrap();
    let all = once.poll_events().unwrap();
    let kinds: Vec<_> = all.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&EventKind::Leak), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&EventKind::Resolved), "{kinds:?}");
    let stepwise = monitor(fast);
    let mut polled = Vec::new();
    for s in &steps {
        stepwise.replay(std::slice::from_ref(s)).unwrap();
        polled.extend(stepwise.poll_events().unwrap());
    }
    assert_eq!(polled, all);
    let json = serde_json::to_string(&steps).unwrap();
    let from_json = monitor(fast);
    from_json.replay_json(&json).unwrap();
    assert_eq!(from_json.poll_events().unwrap(), all);
    assert_eq!(once.report().unwrap().routes[0].route, "/a");
    for bad in [
        r#"[{"ts_ms": 1, "bogus": 1}]"#,
        r#"[{"ts_ms": 1, "requests": {"/a": 2000000}}]"#,
        r#"[{"ts_ms": 1, "baseline": 1}, {"ts_ms": 0, "baseline": 1}]"#,
        r#"{}"#,
    ] {
        let e = monitor("{}").replay_json(bad).unwrap_err();
        assert!(
            matches!(e.code(), ErrorCode::InvalidOption | ErrorCode::OutOfOrder),
            "{bad}: {e}"
        );
    }
}

/// A day of a service whose floor follows its own request rate (30% higher at the peak),
/// replayed at 60 s steps, with or without its requests.
fn daily_swing_steps(with_requests: bool) -> Vec<ReplayStep> {
    (0..1440)
        .map(|i| {
            let t = i as f64 * 60.0;
            // Requests per second: night low at the start, peak 12 h later.
            let rate = 2.0 - 1.5 * (std::f64::consts::TAU * t / 86_400.0).cos();
            let floor = 200e6 * (1.0 + 0.3 * (rate - 0.5) / 3.0) + (i % 3) as f64 * 2e5;
            let n = (rate * 60.0).round() as u64;
            ReplayStep {
                ts_ms: 1_700_000_000_000 + i * 60_000,
                requests: if with_requests {
                    [("/api".to_string(), n)].into()
                } else {
                    Default::default()
                },
                baseline: Some(floor),
                counts: Default::default(),
            }
        })
        .collect()
}

#[test]
fn a_floor_that_follows_the_request_rate_is_no_leak() {
    let cfg = r#"{"rss_per_request": false}"#;
    let fired = |m: &Monitor| {
        m.poll_events()
            .unwrap()
            .iter()
            .any(|e| e.kind == EventKind::Leak)
    };
    // Its memory alone rises for 12 h like a slow leak.
    let alone = monitor(cfg);
    alone.replay(&daily_swing_steps(false)).unwrap();
    assert!(fired(&alone), "the series alone looks like a leak");
    // With the requests the monitor counts, the rise is the load's.
    let with = monitor(cfg);
    with.replay(&daily_swing_steps(true)).unwrap();
    assert!(!fired(&with), "{:?}", with.analysis().unwrap());
    assert!(with.tracker().total_requests() > 100_000);
    // A leak on top of it, from 14 h (the load falling), is one.
    let mut steps = daily_swing_steps(true);
    for (i, s) in steps.iter_mut().enumerate().skip(14 * 60) {
        *s.baseline.as_mut().unwrap() += 200e6 * 0.05 * (i - 14 * 60) as f64 / 60.0;
    }
    let leaking = monitor(cfg);
    leaking.replay(&steps).unwrap();
    assert!(fired(&leaking), "{:?}", leaking.analysis().unwrap());
}

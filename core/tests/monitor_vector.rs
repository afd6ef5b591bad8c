//! The shared monitor vector (`tests/vectors/monitor.json`): a leaking service's post-GC floor
//! and its requests per route, with injected times, replayed through a monitor; the events it
//! delivers (kind, time, measure, report, text) are what every language's monitor must deliver,
//! in the same order with the same payloads. `LEAKSENSE_UPDATE_VECTORS=1` rewrites the file.
//!
//! The scenario, with time compressed through the options (1 s detector buckets, 1 s request
//! slots, 5 s blocks): `/ok` and `/search` retain nothing; from 60 s on `/leak` keeps 20 kB per
//! request while the traffic mix changes every 10 s; at 300 s the process restarts far below
//! the floor. The monitor fires (`leak`), names `/leak` (`suspects`) and resolves (`resolved`).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use leaksense_core::monitor::{EventKind, Monitor, ReplayStep};
use serde_json::{Value, json};

use common::Rng;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/monitor.json")
}

/// Every language runs the monitor with these options (its own runtime's preset under them:
/// they leave nothing to the preset that changes events).
fn options() -> Value {
    json!({
        "interval_ms": 250,
        "slot_ms": 1000,
        "heap": false,
        "measures": [],
        "rss_per_request": false,
        "memory_limit": 4_000_000_000u64,
        "detector": {"bucket_secs": 1, "warmup_secs": 15, "min_growth_secs": 15, "for_secs": 5},
        "attribution": {"block_ms": 5000}
    })
}

fn steps() -> Vec<ReplayStep> {
    let t0: i64 = 1_700_000_000_000;
    let mut rng = Rng::new(42);
    let mut kept = 0.0;
    let (mut ok, mut search, mut leak) = (3u64, 2u64, 0u64);
    (0..1400)
        .map(|i: i64| {
            let secs = i as f64 / 4.0;
            if i % 40 == 0 {
                ok = 1 + rng.next_u64() % 6;
                search = 1 + rng.next_u64() % 3;
                leak = if secs >= 60.0 {
                    1 + rng.next_u64() % 4
                } else {
                    0
                };
            }
            let mut requests =
                BTreeMap::from([("/ok".to_string(), ok), ("/search".into(), search)]);
            if leak > 0 && secs < 300.0 {
                requests.insert("/leak".into(), leak);
                kept += leak as f64 * 20_000.0;
            }
            let noise = (rng.next_u64() % 100_000) as f64;
            let floor = if secs >= 300.0 { 30e6 } else { 50e6 + kept };
            ReplayStep {
                ts_ms: t0 + i * 250,
                requests,
                baseline: Some(floor + noise),
                counts: Default::default(),
            }
        })
        .collect()
}

/// The events of a fresh monitor fed `steps` one by one, polled after each.
fn events(options: &Value, steps: &[ReplayStep]) -> Vec<Value> {
    let m = Monitor::for_runtime("process", &options.to_string()).unwrap();
    let mut out = Vec::new();
    for s in steps {
        m.replay(std::slice::from_ref(s)).unwrap();
        out.extend(m.poll_events().unwrap());
    }
    out.iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

#[test]
fn the_monitor_vector_gives_its_events() {
    if std::env::var_os("LEAKSENSE_UPDATE_VECTORS").is_some() {
        let (options, steps) = (options(), steps());
        let expected = events(&options, &steps);
        let doc = json!({
            "description": "A leaking service replayed through a monitor (Monitor.replay with injected times, polled after each step); every language's monitor must deliver exactly `events`, in order. Regenerate: LEAKSENSE_UPDATE_VECTORS=1 cargo test -p leaksense-core --test monitor_vector",
            "options": options,
            "steps": steps,
            "events": expected,
        });
        std::fs::write(path(), serde_json::to_string(&doc).unwrap() + "\n").unwrap();
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path()).unwrap()).unwrap();
    let steps: Vec<ReplayStep> = serde_json::from_value(doc["steps"].clone()).unwrap();
    let expected = doc["events"].as_array().unwrap();
    let kinds: Vec<EventKind> = expected
        .iter()
        .map(|e| serde_json::from_value(e["kind"].clone()).unwrap())
        .collect();
    assert_eq!(
        kinds,
        [EventKind::Leak, EventKind::Suspects, EventKind::Resolved],
        "the scenario shows every kind"
    );
    assert_eq!(expected[1]["report"]["suspects"][0]["route"], "/leak");
    assert_eq!(&events(&doc["options"], &steps), expected);
}

//! The traffic covariate in `leaksense analyze`: `--traffic FILE` with `--input`, and
//! `--traffic-query` with `--prometheus` against a real Prometheus on 127.0.0.1 (the core's
//! harness, stopped by PID; fails, never skips, when Prometheus is not installed). Three
//! generated services: a healthy one whose floor follows its daily traffic (the series alone
//! looks like a leak), one that leaks on top of such a swing, and a flat one.

mod common;
#[allow(dead_code)]
#[path = "../../core/tests/common/prom_server.rs"]
mod prom_server;

use common::{json, leaksense, stderr};
use leaksense_core::Sample;
use leaksense_core::detect::scenarios::{START_MS, Scenario, Situation, generate};
use prom_server::{Backfill, PromServer};
use serde_json::Value;

const MEMORY: &str = "app_memory_bytes";
const COUNTER: &str = "http_server_request_duration_seconds_count";
const RATE: &str = "sum by (service) (rate(http_server_request_duration_seconds_count[5m]))";

/// The three services, by name: a healthy daily swing the series alone mistakes for a leak
/// (seed 1), a leak on a daily swing, and a flat floor.
fn services() -> Vec<(&'static str, Scenario)> {
    vec![
        ("swing", generate(Situation::DailySwing, 1, 15)),
        ("leak", generate(Situation::SwingLeak, 1, 15)),
        ("flat", generate(Situation::Flat, 1, 15)),
    ]
}

fn csv(samples: &[Sample]) -> String {
    let mut out = String::from("timestamp,value\n");
    for s in samples {
        out.push_str(&format!("{},{}\n", s.ts_ms as f64 / 1000.0, s.value));
    }
    out
}

fn flagged(doc: &Value) -> bool {
    doc["series"][0]["flagged"].as_bool().unwrap()
}

#[test]
fn a_traffic_file_clears_a_floor_that_follows_its_load() {
    let dir = tempfile::tempdir().unwrap();
    for (name, sc) in services() {
        let memory = dir.path().join(format!("{name}.csv"));
        let traffic = dir.path().join(format!("{name}-traffic.csv"));
        std::fs::write(&memory, csv(&sc.samples)).unwrap();
        std::fs::write(&traffic, csv(&sc.traffic)).unwrap();
        let (m, t) = (memory.to_str().unwrap(), traffic.to_str().unwrap());
        let alone = json(&leaksense(&["analyze", "--input", m, "--format", "json"]));
        let with = leaksense(&["analyze", "--input", m, "--traffic", t, "--format", "json"]);
        let with = json(&with);
        let expect = match name {
            "swing" => (true, false),
            "leak" => (true, true),
            _ => (false, false),
        };
        assert_eq!((flagged(&alone), flagged(&with)), expect, "{name}");
        assert!(
            with["source"].as_str().unwrap().contains("with traffic"),
            "{}",
            with["source"]
        );
    }
}

#[test]
fn bad_traffic_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sc = generate(Situation::Flat, 1, 15);
    let memory = dir.path().join("m.csv");
    std::fs::write(&memory, csv(&sc.samples)).unwrap();
    let run = |name: &str, text: &str| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let o = leaksense(&[
            "analyze",
            "--input",
            memory.to_str().unwrap(),
            "--traffic",
            path.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        stderr(&o)
    };
    let e = run("negative.csv", "1700000000,5\n1700000015,-1\n");
    assert!(
        e.contains("negative.csv") && e.contains("cannot be negative"),
        "{e}"
    );
    let e = run("backwards.csv", "1700000015,5\n1700000000,6\n");
    assert!(e.contains("backwards.csv:2"), "{e}");
    let e = run(
        "two.om",
        "a{s=\"1\"} 1 1700000000\na{s=\"2\"} 2 1700000000\n# EOF\n",
    );
    assert!(
        e.contains("one series of request rates, found 2 or more"),
        "{e}"
    );
    let e = run("text.csv", "1700000000,many\n");
    assert!(e.contains("text.csv"), "{e}");
    let missing = leaksense(&[
        "analyze",
        "--input",
        memory.to_str().unwrap(),
        "--traffic",
        dir.path().join("nope.csv").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let o = leaksense(&[
        "analyze",
        "--input",
        memory.to_str().unwrap(),
        "--options",
        r#"{"traffic": {"timestamps": [1], "values": [1]}}"#,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--traffic FILE"), "{}", stderr(&o));
    // The query needs a server, the file needs a file.
    let o = leaksense(&[
        "analyze",
        "--input",
        memory.to_str().unwrap(),
        "--traffic-query",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The request counter of a service: the integral of its rate, sampled with its memory.
fn counter(rates: &[Sample]) -> Vec<Sample> {
    let mut total = 0.0;
    let mut prev: Option<i64> = None;
    rates
        .iter()
        .map(|r| {
            if let Some(p) = prev {
                total += r.value * (r.ts_ms - p) as f64 / 1000.0;
            }
            prev = Some(r.ts_ms);
            Sample {
                ts_ms: r.ts_ms,
                value: total.round(),
            }
        })
        .collect()
}

fn backfill() -> Vec<Backfill> {
    services()
        .into_iter()
        .flat_map(|(name, sc)| {
            let labels = vec![("service".to_string(), name.to_string())];
            [
                Backfill {
                    name: MEMORY.into(),
                    labels: labels.clone(),
                    samples: sc.samples.clone(),
                },
                Backfill {
                    name: COUNTER.into(),
                    labels,
                    samples: counter(&sc.traffic),
                },
            ]
        })
        .collect()
}

#[test]
fn a_traffic_query_on_a_real_prometheus_server() {
    let server = PromServer::start(&backfill());
    let url = server.base_url();
    let end = ((START_MS + 24 * 3_600_000) / 1000).to_string();
    let analyze = |extra: &[&str]| -> Value {
        let mut args = vec!["analyze", "--prometheus", &url, "--query", MEMORY];
        args.extend_from_slice(&["--time", &end, "--format", "json"]);
        args.extend_from_slice(extra);
        json(&leaksense(&args))
    };
    let flagged_services = |doc: &Value| -> Vec<String> {
        let mut v: Vec<String> = doc["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["flagged"].as_bool().unwrap())
            .map(|s| s["labels"]["service"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let alone = analyze(&[]);
    assert_eq!(flagged_services(&alone), ["leak", "swing"]);
    let with = analyze(&["--traffic-query", RATE]);
    assert_eq!(flagged_services(&with), ["leak"], "{with}");
    assert!(with["source"].as_str().unwrap().contains(RATE));
    // A query that matches nothing is a clear error.
    let mut args = vec!["analyze", "--prometheus", &url, "--query", MEMORY];
    args.extend_from_slice(&["--time", &end, "--traffic-query", "nothing_here"]);
    let o = leaksense(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--traffic-query `nothing_here` returned no series"));
}

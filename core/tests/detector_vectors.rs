//! Runs the shared detector vectors (`tests/vectors/detector.json` and `traffic.json`, op
//! `analyze`), which the Python, Node, Go and C suites also run.

use leaksense_core::detect::{AlertState, DetectorConfig, SeriesKind, analyze};
use leaksense_core::options::analyze_secs;
use leaksense_core::series::samples_from_secs;
use leaksense_core::{ErrorCode, InputError};
use serde_json::Value;

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(number).collect()
}

/// What a binding does with the case's arguments: `options` passed through unchanged, or the
/// older `kind` and `limit`.
fn run(args: &Value) -> Result<leaksense_core::detect::Analysis, InputError> {
    if let Some(options) = args.get("options") {
        let (ts, vs) = (numbers(&args["timestamps"]), numbers(&args["values"]));
        return analyze_secs(&ts, &vs, &options.to_string());
    }
    let kind: SeriesKind = args["kind"].as_str().unwrap_or("heap").parse()?;
    let limit = args.get("limit").and_then(Value::as_f64);
    let samples = samples_from_secs(&numbers(&args["timestamps"]), &numbers(&args["values"]))?;
    let cfg = DetectorConfig {
        limit,
        ..DetectorConfig::for_kind(kind)
    };
    analyze(&samples, &cfg)
}

fn in_range(name: &str, key: &str, got: Option<f64>, range: &Value) {
    let r = numbers(range);
    let got = got.unwrap_or_else(|| panic!("{name}: {key} is missing"));
    assert!(
        r[0] <= got && got <= r[1],
        "{name}: {key} {got} not in [{}, {}]",
        r[0],
        r[1]
    );
}

fn run_file(file: &str) {
    let path = format!("{}/../tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert_eq!(case["op"], "analyze", "{name}");
        let expect = &case["expect"];
        let result = run(&case["args"]);
        if let Some(code) = expect.get("error") {
            let e = result.expect_err(name);
            assert_eq!(e.code().as_str(), code.as_str().unwrap(), "{name}");
            assert!(ErrorCode::ALL.contains(&e.code()));
            checked += 1;
            continue;
        }
        let a = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = serde_json::to_value(&a).unwrap();
        for key in ["verdict", "state"] {
            if let Some(want) = expect.get(key) {
                assert_eq!(&json[key], want, "{name}: {key}");
                checked += 1;
            }
        }
        let secs = |ms: Option<i64>| ms.map(|g| g as f64 / 1000.0);
        if let Some(r) = expect.get("growth_start") {
            in_range(name, "growth_start", secs(a.growth_start_ms), r);
            checked += 1;
        }
        if let Some(r) = expect.get("growth_stop") {
            in_range(name, "growth_stop", secs(a.growth_stop_ms), r);
            checked += 1;
        }
        if let Some(r) = expect.get("rate_per_sec") {
            in_range(name, "rate_per_sec", a.rate_per_sec, r);
            checked += 1;
        }
        let first_firing = a.events.iter().find(|e| e.to == AlertState::Firing);
        if let Some(want) = expect.get("fired") {
            assert_eq!(
                Some(first_firing.is_some()),
                want.as_bool(),
                "{name}: fired"
            );
            checked += 1;
        }
        if let Some(by) = expect.get("fired_by") {
            let at = first_firing.map(|e| e.ts_ms as f64 / 1000.0);
            assert!(
                at.is_some_and(|t| t <= number(by)),
                "{name}: first firing {at:?} not by {by}"
            );
            checked += 1;
        }
    }
    assert!(checked >= cases.len());
}

#[test]
fn detector_vectors() {
    run_file("detector.json");
}

#[test]
fn traffic_vectors() {
    run_file("traffic.json");
}

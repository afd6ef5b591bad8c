//! Runs the shared test vectors in `tests/vectors/*.json` (the same files the Python, Node and
//! Go suites run) through the unix-second entry points the bindings call.
//!
//! Ops: `deriv`, `predict_linear`, `find_growth_inflection`. The op `analyze` belongs to
//! `detector_vectors.rs`; any other op fails the test, so a vector is never silently ignored.

mod common;

use std::path::{Path, PathBuf};

use common::vectors::{json_to_num, json_to_nums};
use leaksense_core::InputError;
use leaksense_core::detect::{deriv_secs, find_growth_inflection_secs, predict_linear_secs};
use serde_json::Value;

/// Ops whose vectors another runner in this crate executes.
const OTHER_RUNNERS: &[&str] = &["analyze"];

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// What a case produced: a value (or no value), a timestamp, or an error code.
#[derive(Debug)]
enum Outcome {
    Value(Option<f64>),
    Timestamp(f64),
    Error(&'static str),
}

fn run_case(op: &str, args: &Value) -> Outcome {
    let ts = json_to_nums(&args["timestamps"]);
    let vs = json_to_nums(&args["values"]);
    let err = |e: InputError| Outcome::Error(e.code().as_str());
    match op {
        "deriv" => deriv_secs(&ts, &vs).map_or_else(err, Outcome::Value),
        "predict_linear" => predict_linear_secs(
            &ts,
            &vs,
            json_to_num(&args["eval_time"]),
            json_to_num(&args["horizon"]),
        )
        .map_or_else(err, Outcome::Value),
        "find_growth_inflection" => {
            let window = args["window"].as_u64().expect("window is an integer") as usize;
            find_growth_inflection_secs(&ts, &vs, window, json_to_num(&args["ratio"]))
                .map_or_else(err, Outcome::Timestamp)
        }
        _ => unreachable!("checked by the caller"),
    }
}

fn same_num(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn matches(outcome: &Outcome, expect: &Value) -> bool {
    match outcome {
        Outcome::Error(code) => expect.get("error").and_then(Value::as_str) == Some(*code),
        Outcome::Value(v) => match (v, expect.get("value")) {
            (None, Some(Value::Null)) => true,
            (Some(x), Some(e)) if !e.is_null() => same_num(*x, json_to_num(e)),
            _ => false,
        },
        Outcome::Timestamp(t) => expect
            .get("timestamp")
            .is_some_and(|e| same_num(*t, json_to_num(e))),
    }
}

#[test]
fn shared_vectors_pass() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        // It drives a Monitor (tests/monitor_vector.rs); the others are function cases.
        .filter(|p| !p.ends_with("monitor.json"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in ["prom.json", "inflection.json"] {
        assert!(names.iter().any(|n| n == required), "missing {required}");
    }

    let (mut ran, mut skipped) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cases = doc["cases"].as_array().expect("a `cases` array");
        assert!(!cases.is_empty(), "{}: no cases", file.display());
        for case in cases {
            let name = case["name"].as_str().expect("a case name");
            let op = case["op"].as_str().expect("a case op");
            match op {
                "deriv" | "predict_linear" | "find_growth_inflection" => {}
                _ if OTHER_RUNNERS.contains(&op) => {
                    skipped += 1;
                    continue;
                }
                _ => panic!("{}: case {name}: unknown op {op:?}", file.display()),
            }
            let outcome = run_case(op, &case["args"]);
            ran += 1;
            if !matches(&outcome, &case["expect"]) {
                failures.push(format!(
                    "{}: {name}: got {outcome:?}, expected {}",
                    file.display(),
                    case["expect"]
                ));
            }
        }
    }
    println!("vectors: {ran} cases run, {skipped} left to other runners");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 90, "only {ran} cases ran");
}

#[test]
fn outcomes_are_compared_strictly() {
    // The comparison itself must be able to fail: wrong value, value vs. no value, wrong code.
    let v = |x: Value| serde_json::json!({ "value": x });
    assert!(matches(&Outcome::Value(Some(1.5)), &v(1.5.into())));
    assert!(!matches(&Outcome::Value(Some(1.5)), &v(1.25.into())));
    assert!(!matches(&Outcome::Value(Some(0.0)), &v((-0.0).into())));
    assert!(!matches(&Outcome::Value(None), &v(0.into())));
    assert!(!matches(&Outcome::Value(Some(0.0)), &v(Value::Null)));
    assert!(matches(&Outcome::Value(Some(f64::NAN)), &v("NaN".into())));
    assert!(!matches(
        &Outcome::Error("out_of_order"),
        &serde_json::json!({"error": "empty_input"})
    ));
    assert!(!matches(&Outcome::Timestamp(1.0), &v(1.into())));
}

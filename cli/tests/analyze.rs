//! `leaksense analyze` run as a real binary on the fixtures in `tests/fixtures/`
//! (regenerate the series fixtures with `python3 make_fixtures.py` there).

mod common;

use std::process::Output;

use serde_json::Value;

use common::{fixture, json, leaksense, leaksense_stdin, stderr, stdout};

fn analyze(file: &str, extra: &[&str]) -> Output {
    let path = fixture(file);
    let mut args = vec!["analyze", "--input", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    leaksense(&args)
}

/// The leak in the fixtures starts at 08:00 and grows 20 kB/s over a 200 MB GC sawtooth.
const LEAK_START_MS: i64 = 1_767_225_600_000 + 8 * 3_600_000;

#[test]
fn csv_leak_is_reported_in_text() {
    let o = analyze("leak.csv", &["--limit", "2e9"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict        LEAK"), "{out}");
    assert!(
        out.contains("samples        1440 from 2026-01-01T00:00:00Z"),
        "{out}"
    );
    assert!(out.contains("growth start   2026-01-01T0"), "{out}");
    // 20 kB/s is 68.66 MiB/h.
    assert!(
        out.contains("rate           68.66 MiB/h (95% interval"),
        "{out}"
    );
    assert!(
        out.contains("(limit 1.863 GiB reached about 2026-01-02T"),
        "{out}"
    );
    assert!(out.contains("inactive -> pending"), "{out}");
    assert!(out.contains("pending -> firing"), "{out}");
}

#[test]
fn csv_leak_json_follows_the_schema() {
    let doc = json(&analyze(
        "leak.csv",
        &["--format", "json", "--limit", "2e9"],
    ));
    assert_eq!(doc["schema"], "leaksense.analyze/v1");
    assert_eq!(doc["kind"], "heap");
    let series = doc["series"].as_array().unwrap();
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s["name"], Value::Null);
    assert_eq!(s["samples"], 1440);
    assert_eq!(s["verdict"], "leak");
    assert_eq!(s["state"], "firing");
    let start = s["growth_start_ms"].as_i64().unwrap();
    assert!((start - LEAK_START_MS).abs() <= 30 * 60_000, "{start}");
    let (rate, lo, hi) = (
        s["rate_per_sec"].as_f64().unwrap(),
        s["rate_low"].as_f64().unwrap(),
        s["rate_high"].as_f64().unwrap(),
    );
    assert!(
        lo <= rate && rate <= hi && (rate - 20_000.0).abs() < 1_000.0,
        "{s}"
    );
    assert_eq!(s["limit"], 2e9);
    assert!(s["time_to_limit_secs"].as_f64().unwrap() > 0.0);
    assert!(s["limit_reached_at"].as_str().unwrap().ends_with('Z'));
    // Every event carries the time of its sample, in both forms, in order.
    let events = s["events"].as_array().unwrap();
    assert!(events.len() >= 2);
    let mut prev = i64::MIN;
    for e in events {
        let ts = e["ts_ms"].as_i64().unwrap();
        assert!(ts >= prev && ts >= LEAK_START_MS - 3_600_000);
        prev = ts;
        let time: jiff::Timestamp = e["time"].as_str().unwrap().parse().unwrap();
        assert_eq!(time.as_millisecond(), ts);
    }
    assert_eq!(events.last().unwrap()["to"], "firing");
}

#[test]
fn json_input_of_a_healthy_service() {
    let o = analyze("healthy.json", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict        healthy"), "{out}");
    assert!(out.contains("alert events   none"), "{out}");
    assert!(
        out.contains("time to limit  unknown (no --limit given)"),
        "{out}"
    );
}

#[test]
fn a_rise_held_back_says_why_in_text_and_json() {
    // The leak has risen for 16 h: asking for two days of growth holds it back.
    let opts = ["--options", r#"{"min_growth_secs": 172800}"#];
    let o = analyze("leak.csv", &opts);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("verdict        healthy"), "{out}");
    assert!(
        out.contains("growth start   2026-01-01T0")
            && out
                .contains("\n  not a leak     the rise is too young to judge (min_growth_secs)\n"),
        "{out}"
    );
    let doc = json(&analyze(
        "leak.csv",
        &[&["--format", "json"][..], &opts].concat(),
    ));
    assert_eq!(doc["series"][0]["not_a_leak_because"], "too_short");
    let html = stdout(&analyze(
        "leak.csv",
        &[&["--format", "html"][..], &opts].concat(),
    ));
    assert!(
        html.contains(
            "<td>68.66 MiB/h</td><td>the rise is too young to judge (min_growth_secs)</td></tr>"
        ),
        "{html}"
    );
    // A leak says no reason.
    let leak = json(&analyze("leak.csv", &["--format", "json"]));
    assert_eq!(leak["series"][0]["verdict"], "leak");
    assert_eq!(leak["series"][0]["not_a_leak_because"], Value::Null);
    assert!(!stdout(&analyze("leak.csv", &[])).contains("not a leak"));
    let html = stdout(&analyze("leak.csv", &["--format", "html"]));
    assert!(
        !html.contains("<th>not a leak</th>")
            && html.contains("<td>68.66 MiB/h</td><td></td></tr>"),
        "{html}"
    );
}

#[test]
fn openmetrics_series_are_analyzed_and_labelled_one_by_one() {
    let doc = json(&analyze("fleet.om", &["--format", "json"]));
    let series = doc["series"].as_array().unwrap();
    let names: Vec<&str> = series.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "process_memory_usage{pod=\"api-1\"}",
            "process_memory_usage{pod=\"api-2\"}"
        ]
    );
    assert_eq!(series[0]["verdict"], "leak");
    assert_eq!(series[1]["verdict"], "healthy");
    // The same samples give the same answer whichever format carried them.
    let csv = json(&analyze("leak.csv", &["--format", "json"]));
    for key in ["growth_start_ms", "rate_per_sec", "baseline", "events"] {
        assert_eq!(series[0][key], csv["series"][0][key], "{key}");
    }
    let text = stdout(&analyze("fleet.om", &[]));
    assert!(
        text.contains("process_memory_usage{pod=\"api-2\"}\n  samples"),
        "{text}"
    );
}

#[test]
fn input_format_can_be_forced() {
    let doc = json(&analyze(
        "leak.csv",
        &[
            "--input-format",
            "csv",
            "--format",
            "json",
            "--kind",
            "count",
        ],
    ));
    assert_eq!(doc["kind"], "count");
    fails(
        "leak.csv",
        &["--input-format", "json"],
        "leak.csv:1: invalid JSON input",
    );
}

/// Asserts a failure: exit code 2, nothing on stdout, and `expected` in the error message.
fn expect_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(o.stdout.is_empty());
    let err = stderr(o);
    assert!(err.starts_with("leaksense: error: "), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in {err:?}");
}

/// Runs a failing case on a fixture; the message names the file and the line.
fn fails(file: &str, extra: &[&str], expected: &str) {
    expect_error(&analyze(file, extra), expected);
}

#[test]
fn bad_number_names_the_line() {
    fails(
        "bad_number.csv",
        &[],
        "bad_number.csv:3: value \"oops\" is not a number",
    );
}

#[test]
fn nan_names_the_line() {
    fails("nan.csv", &[], "nan.csv:4: value NaN is not finite");
}

#[test]
fn out_of_order_names_the_line() {
    fails(
        "out_of_order.csv",
        &[],
        "out_of_order.csv:4: timestamp 1767225630 is not after the previous sample's 1767225660",
    );
}

#[test]
fn duplicate_json_timestamp_names_the_line_and_element() {
    fails(
        "duplicate.json",
        &[],
        "duplicate.json:3: timestamps[2]: timestamp 1767225660 is not after",
    );
}

#[test]
fn missing_openmetrics_timestamp_names_the_line() {
    fails(
        "no_timestamp.om",
        &[],
        "no_timestamp.om:2: sample has no timestamp",
    );
}

#[test]
fn empty_file_is_an_error() {
    fails("empty.csv", &[], "empty.csv: the file holds no samples");
}

#[test]
fn missing_file_is_an_error() {
    fails(
        "does_not_exist.csv",
        &[],
        "does_not_exist.csv: No such file",
    );
}

/// `--options` is the JSON object every binding's `analyze` takes, through the core's parser;
/// `--kind` and `--limit` are laid over it.
#[test]
fn detector_options_pass_through_to_the_core() {
    let doc = json(&analyze(
        "leak.csv",
        &[
            "--format",
            "json",
            "--options",
            r#"{"kind": "count", "limit": 5e9, "confidence": 0.99}"#,
        ],
    ));
    assert_eq!(doc["kind"], "count");
    assert_eq!(doc["confidence"], 0.99);
    assert_eq!(doc["series"][0]["limit"], 5e9);
    let over = json(&analyze(
        "leak.csv",
        &[
            "--format",
            "json",
            "--kind",
            "heap",
            "--limit",
            "2e9",
            "--options",
            r#"{"kind": "count", "limit": 5e9}"#,
        ],
    ));
    assert_eq!(over["kind"], "heap", "the flags win");
    assert_eq!(over["series"][0]["limit"], 2e9);
    fails(
        "leak.csv",
        &["--options", r#"{"for_sec": 60}"#],
        "unknown option `for_sec`",
    );
    fails("leak.csv", &["--options", "[1]"], "option `options`");
    fails(
        "leak.csv",
        &["--options", r#"{"for_secs": -1}"#],
        "option `for_secs`",
    );
}

#[test]
fn bad_limit_is_an_error() {
    fails(
        "leak.csv",
        &["--limit", "-5"],
        "option `limit`: -5 must be finite and positive",
    );
    fails("leak.csv", &["--limit", "NaN"], "option `limit`");
    // A bad unit is a usage error from clap, also exit code 2.
    let o = analyze("leak.csv", &["--limit", "lots"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a number of bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn limits_take_units() {
    let doc = json(&analyze(
        "leak.csv",
        &["--format", "json", "--limit", "2GiB"],
    ));
    assert_eq!(doc["series"][0]["limit"], 2147483648.0);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["analyze", "--input", "x.csv", "--bogus"][..],
        &["analyze"][..],
        &["analyze", "--input", "x.csv", "--kind", "cpu"][..],
        &["analyze", "--input", "x.csv", "--format", "xml"][..],
        &["frobnicate"][..],
    ] {
        let o = leaksense(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).starts_with("error: "),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let help = leaksense(&["analyze", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--input <FILE>"));
}

#[test]
fn standard_input_is_read_with_dash() {
    let csv = std::fs::read(fixture("leak.csv")).unwrap();
    let doc = json(&leaksense_stdin(
        &["analyze", "--input", "-", "--format", "json"],
        &csv,
    ));
    assert_eq!(doc["source"], "stdin");
    assert_eq!(doc["series"][0]["samples"], 1440);

    let o = leaksense_stdin(&["analyze", "--input", "-"], b"timestamp,value\n1,2\n2,x\n");
    expect_error(&o, "stdin:3: value \"x\" is not a number");
}

#[test]
fn metric_selects_openmetrics_series() {
    let doc = json(&analyze(
        "fleet.om",
        &["--format", "json", "--metric", "process_memory_usage"],
    ));
    assert_eq!(doc["series"].as_array().unwrap().len(), 2);
    fails(
        "fleet.om",
        &["--metric", "go_goroutines"],
        "fleet.om: none of its 2 series is of metric `go_goroutines`",
    );
    fails(
        "leak.csv",
        &["--metric", "process_memory_usage"],
        "leak.csv: --metric process_memory_usage applies to OpenMetrics input",
    );
}

/// OpenMetrics files (by extension or `--input-format`) are read line by line; the result is
/// the same as reading the whole file first (content-guessed format).
#[test]
fn streamed_openmetrics_equals_the_whole_file_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("fleet.om")).unwrap();
    let guessed = dir.path().join("fleet.txt");
    std::fs::write(&guessed, &text).unwrap();
    let streamed = json(&analyze("fleet.om", &["--format", "json"]));
    let whole = json(&leaksense(&[
        "analyze",
        "--input",
        guessed.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(streamed["series"], whole["series"]);
    let piped = json(&leaksense_stdin(
        &[
            "analyze",
            "--input",
            "-",
            "--input-format",
            "openmetrics",
            "--format",
            "json",
        ],
        text.as_bytes(),
    ));
    assert_eq!(piped["series"], whole["series"]);
}

#[test]
fn streamed_openmetrics_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let run = |p: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["analyze", "--input", p.to_str().unwrap()];
        args.extend_from_slice(extra);
        leaksense(&args)
    };
    let empty = write("empty.om", "# TYPE x gauge\n# EOF\n");
    expect_error(&run(&empty, &[]), "the file holds no samples");
    let other = write("other.om", "a 1 1\nb 1 1\n");
    expect_error(
        &run(&other, &["--metric", "heap"]),
        "none of its 2 series is of metric `heap`",
    );
    let back = write("back.om", "a{x=\"1\"} 1 10\na{x=\"1\"} 2 5\n");
    expect_error(
        &run(&back, &[]),
        "back.om:2: series a{x=\"1\"}: timestamp 5",
    );
    expect_error(
        &run(&dir.path().join("missing.om"), &[]),
        "missing.om: No such file",
    );
}

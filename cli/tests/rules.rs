//! `leaksense rules`: every generated rule file passes `promtool check rules`, and every
//! generated test file passes `promtool test rules`, for each runtime and naming mode. Fails,
//! never skips, when promtool is missing (Debian: `apt-get install prometheus`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::leaksense;

fn promtool(dir: &Path, args: &[&str]) -> Output {
    Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool is installed (apt-get install prometheus)")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Generates rules and tests for `runtime` with `extra` options into a new temp dir.
fn generate(runtime: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "rules",
        "--runtime",
        runtime,
        "--with-tests",
        "--output",
        dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = leaksense(&args);
    assert!(o.status.success(), "{}", text(&o));
    dir
}

fn check_and_test(dir: &Path, runtime: &str) {
    let rules = format!("leaksense-{runtime}.rules.yml");
    let tests = format!("leaksense-{runtime}.rules.test.yml");
    let o = promtool(dir, &["check", "rules", &rules]);
    assert!(o.status.success(), "{}", text(&o));
    let o = promtool(dir, &["test", "rules", &tests]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn every_runtime_and_naming_passes_promtool() {
    for runtime in ["node", "python", "go", "process"] {
        for naming in ["semconv", "legacy"] {
            let dir = generate(runtime, &["--naming", naming]);
            check_and_test(dir.path(), runtime);
            let rules =
                std::fs::read_to_string(dir.path().join(format!("leaksense-{runtime}.rules.yml")))
                    .unwrap();
            // The rules the issue asks for are there.
            assert!(rules.contains("deriv(min_over_time("), "{rules}");
            assert!(rules.contains("predict_linear("), "{rules}");
            assert!(
                rules.contains("> on (job, instance) group_left ()"),
                "{rules}"
            );
            if runtime == "go" {
                assert!(rules.contains("LeakSenseGoroutineLeak"), "{rules}");
            }
        }
    }
}

#[test]
fn options_change_the_rules_and_tests_still_pass() {
    for (runtime, extra) in [
        ("node", &["--for", "0s", "--job", "web \"api\""][..]),
        (
            "go",
            &["--for", "1d", "--floor-window", "2m", "--naming", "legacy"],
        ),
        ("python", &["--floor-window", "1h", "--horizon", "1m"]),
        ("process", &["--horizon", "30d", "--for", "1h30m"]),
    ] {
        let dir = generate(runtime, extra);
        check_and_test(dir.path(), runtime);
    }
    let o = leaksense(&[
        "rules",
        "--runtime",
        "node",
        "--job",
        "checkout",
        "--for",
        "45m",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("leaksense_v8js_heap_used_bytes{job=\"checkout\"}[15m]"),
        "{out}"
    );
    assert!(out.contains("for: 45m"), "{out}");
}

/// The healthy sawtooth in the tests is a real trap: a rule on raw samples fires on it, so the
/// generated tests fail, while the floor rule passes.
#[test]
fn the_healthy_sawtooth_trips_a_rule_on_raw_samples() {
    let dir = generate("node", &[]);
    let path = dir.path().join("leaksense-node.rules.yml");
    let rules = std::fs::read_to_string(&path).unwrap();
    let floor = "min_over_time(leaksense_v8js_heap_used_bytes[15m])[1h:1m]";
    assert!(rules.contains(floor), "{rules}");
    std::fs::write(
        &path,
        rules.replace(floor, "leaksense_v8js_heap_used_bytes[1h]"),
    )
    .unwrap();
    let o = promtool(
        dir.path(),
        &["test", "rules", "leaksense-node.rules.test.yml"],
    );
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("alertname=\"LeakSenseMemoryFloorGrowing\", instance=\"healthy\""),
        "{out}"
    );
}

/// A bare `usage > limit` matches nothing when the limit carries other labels; the tests
/// catch that.
#[test]
fn the_tests_catch_a_bare_limit_comparison() {
    let dir = generate("process", &[]);
    let path = dir.path().join("leaksense-process.rules.yml");
    let rules = std::fs::read_to_string(&path).unwrap();
    let bare = rules
        .replace("> on (job, instance) group_left ()", ">")
        .replace(
            "max by (job, instance) (leaksense_memory_limit_bytes)",
            "leaksense_memory_limit_bytes",
        );
    std::fs::write(&path, bare).unwrap();
    let o = promtool(
        dir.path(),
        &["test", "rules", "leaksense-process.rules.test.yml"],
    );
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("alertname: LeakSenseMemoryLimitSoon"), "{out}");
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["rules", "--runtime", "node", "--with-tests"][..],
        &["rules", "--runtime", "node", "--for", "soon"],
        &["rules", "--runtime", "node", "--floor-window", "1m"],
        &["rules", "--runtime", "node", "--floor-window", "2h"],
        &["rules", "--runtime", "node", "--horizon", "31d"],
        &["rules", "--runtime", "node", "--for", "2d"],
        &["rules", "--runtime", "node", "--job", ""],
        &["rules", "--runtime", "erlang"],
        &[
            "rules",
            "--runtime",
            "go",
            "--output",
            "/nonexistent/leaksense",
        ],
    ] {
        let o = leaksense(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!text(&o).is_empty(), "{args:?}");
    }
}

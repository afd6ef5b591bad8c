//! Runs the article's Python `find_growth_inflection` (verbatim, in `article_inflection.py`).

use std::io::Write;
use std::process::{Command, Stdio};

/// One call: unix-second timestamps, values, window and ratio.
pub type Call = (Vec<f64>, Vec<f64>, usize, f64);

/// The article function's answers (unix seconds) for each call, computed by `python3`.
/// Panics with a clear message when python3 is missing: these tests never skip.
pub fn run(calls: &[Call]) -> Vec<f64> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/common/article_inflection.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 is required to run the article's find_growth_inflection");
    let input = serde_json::to_vec(calls).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the article's Python failed");
    serde_json::from_slice(&out.stdout).expect("python3 printed a JSON list")
}

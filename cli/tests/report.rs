//! `leaksense report FILE`: a report saved by an SDK rendered as text and as HTML with the
//! growing allocation sites and the icicle of the growth. The fixture was written by the core's
//! monitor test `the_report_names_the_growing_allocation_site_and_the_alert_writes_pprof` (run
//! it with `LEAKSENSE_WRITE_REPORT_FIXTURE=<path>` to regenerate it).

mod common;

use common::{leaksense, leaksense_stdin, ok_stdout};

fn fixture() -> String {
    common::fixture("report-with-profile.json")
        .to_str()
        .unwrap()
        .to_string()
}

/// The fixture with `edit` applied, written to a temporary file (kept while the dir lives).
fn edited_fixture(edit: impl FnOnce(&mut serde_json::Value)) -> (tempfile::TempDir, String) {
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    edit(&mut r);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(&path, r.to_string()).unwrap();
    let path = path.to_str().unwrap().to_string();
    (dir, path)
}

#[test]
fn text_lists_the_growing_sites() {
    let out = ok_stdout(&leaksense(&["report", &fixture()]));
    assert!(out.contains("leaksense: LEAK"), "{out}");
    assert!(out.contains("growing allocation sites"), "{out}");
    assert!(out.contains("1. main.remember (app.go:42)"), "{out}");
}

#[test]
fn html_has_the_sites_table_and_the_icicle_under_the_strict_policy() {
    let out = ok_stdout(&leaksense(&["report", &fixture(), "--format", "html"]));
    assert!(out.contains("default-src 'none'"), "CSP kept");
    assert!(!out.contains("<script"), "no script");
    assert!(out.contains("<table class=\"sites\">"));
    assert!(
        out.contains("<code>main.remember</code></td><td><code>app.go:42</code>"),
        "{out}"
    );
    assert!(out.contains("<svg class=\"icicle\""), "{out}");
    // The icicle's leaf box is the leaking site, full width (it is the only growth).
    assert!(out.contains("<title>main.remember (app.go:42) — "), "{out}");
    assert!(out.contains("y=\"36.0\" width=\"900.00\""), "{out}");
}

#[test]
fn json_round_trips_and_stdin_works() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let out = ok_stdout(&leaksense_stdin(
        &["report", "-", "--format", "json"],
        text.as_bytes(),
    ));
    let a: serde_json::Value = serde_json::from_str(&out).unwrap();
    let b: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"verdict\": 3}").unwrap();
    let o = leaksense(&["report", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a leaksense report"), "{err}");
    let o = leaksense(&["report", "/no/such/report.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/report.json"));
}

#[test]
fn a_count_report_reads_in_its_unit_with_plurals_in_text_and_html() {
    let (_dir, path) = edited_fixture(|r| {
        r["series"] = "open_fds".into();
        r["unit"] = "{file_<b>descriptor}".into();
        r["baseline"] = 5776.0.into();
        r["limit"] = 20000.0.into();
        r["suspects"][0]["retained_bytes_per_request"] = 1.0.into();
        r["suspects"][0]["interval"] = serde_json::json!([0.5, 2.0]);
    });
    let path = path.as_str();
    let text = ok_stdout(&leaksense(&["report", path]));
    assert!(text.contains("5776 file <b>descriptors"), "{text}");
    let html = ok_stdout(&leaksense(&["report", path, "--format", "html"]));
    assert!(!html.contains("<b>"), "the unit from the file is escaped");
    for cell in [
        "<td>5776 file &lt;b&gt;descriptors</td>",
        "limit 20000 file &lt;b&gt;descriptors)",
        "<td>1 file &lt;b&gt;descriptor</td><td>0.5 file &lt;b&gt;descriptors .. 2 file &lt;b&gt;descriptors</td>",
    ] {
        assert!(html.contains(cell), "{cell}\n{html}");
    }
    assert!(
        html.contains("descriptors/h</td>"),
        "the rate in the unit: {html}"
    );
}

#[test]
fn a_healthy_report_says_why_its_rise_is_not_a_leak_in_text_and_html() {
    let (_dir, path) = edited_fixture(|r| {
        r["verdict"] = "healthy".into();
        r["state"] = "inactive".into();
        r["not_a_leak_because"] = "explained_by_load".into();
    });
    let path = path.as_str();
    let text = ok_stdout(&leaksense(&["report", path]));
    assert!(
        text.contains("not a leak     the traffic explains the rise"),
        "{text}"
    );
    let html = ok_stdout(&leaksense(&["report", path, "--format", "html"]));
    assert!(
        html.contains("<tr><th>not a leak</th><td>the traffic explains the rise</td></tr>"),
        "{html}"
    );
    // The fixture's leak has none.
    let leak = ok_stdout(&leaksense(&["report", &fixture(), "--format", "html"]));
    assert!(!leak.contains("<th>not a leak</th>"), "{leak}");
}

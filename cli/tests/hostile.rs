//! Issue #18, tried as an attacker would: hostile or broken Prometheus servers (a fake one in
//! its own process on 127.0.0.1, started and stopped by PID, `fake_prometheus.py`) and hostile
//! files. Each test reproduces a failure the issue found; peak memory is read from the kernel's
//! accounting of the CLI process (`wait4`), never from a timing.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use serde_json::Value;

/// What a finished CLI run gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident memory of the CLI process, in MB.
    peak_mb: f64,
}

/// Runs `leaksense ARGS` (stdin from `feed` when given) and reaps it with `wait4` for its
/// peak RSS.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which `Child::wait` cannot replace
fn run_with(args: &[&str], feed: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leaksense"))
        .args(args)
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run leaksense");
    let writer = feed.map(|f| {
        let stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || f(stdin))
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let mut err_bytes = Vec::new();
    err.read_to_end(&mut err_bytes).unwrap();
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // SAFETY: our own child, reaped once here (the `Child` is never waited on).
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(r, child.id() as i32);
    if let Some(w) = writer {
        let _ = w.join();
    }
    Run {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        },
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_bytes).into_owned(),
        peak_mb: usage.ru_maxrss as f64 / 1024.0,
    }
}

fn run(args: &[&str]) -> Run {
    run_with(args, None)
}

/// The fake server: its own process, stopped by PID when dropped.
struct Fake {
    child: Child,
    url: String,
    requests: BufReader<ChildStdout>,
}

impl Fake {
    fn start(mode: &str, arg: &str) -> Fake {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fake_prometheus.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args([mode, arg])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is installed");
        let mut requests = BufReader::new(child.stdout.take().unwrap());
        let mut port = String::new();
        requests.read_line(&mut port).unwrap();
        let url = format!("http://127.0.0.1:{}", port.trim());
        Fake {
            child,
            url,
            requests,
        }
    }

    /// Stops the server and returns every request it saw.
    fn stop(mut self) -> Vec<Value> {
        self.kill();
        let mut text = String::new();
        self.requests.read_to_string(&mut text).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn kill(&mut self) {
        // SAFETY: SIGTERM to our own child, then reap it.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.kill();
    }
}

fn query(url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "analyze",
        "--prometheus",
        url,
        "--query",
        "heap",
        "--time",
        "1700021600",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn a_64_kib_label_value_is_queried_by_post_not_a_panic() {
    // Before: exit 101, `InvalidUri(TooLong)` from the per-series query URL.
    let fake = Fake::start("series", "65536");
    let r = query(&fake.url, &["--range", "6h", "--format", "json"]);
    let requests = fake.stop();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["series"][0]["labels"]["route"].as_str().unwrap().len(),
        65536
    );
    assert_eq!(doc["series"][0]["samples"], 1440);
    assert!(
        requests.iter().all(|q| q["method"] == "POST"),
        "{requests:?}"
    );
}

#[test]
fn an_endless_answer_stops_at_the_cap_with_bounded_memory() {
    // Before: a 1 GiB body was held whole (5.2 GB peak RSS, 44 s), then the CLI panicked.
    let fake = Fake::start("huge", "");
    let r = query(&fake.url, &[]);
    drop(fake);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("answered more than 128MiB for one query (the --max-response-size cap)"),
        "{}",
        r.stderr
    );
    // 128 MiB of 8-byte points parse to 16 bytes each: at most about 256 MB of samples plus
    // the binary. 1 GB leaves ample margin while telling a capped read from a whole one.
    assert!(r.peak_mb < 1024.0, "peak RSS {} MB", r.peak_mb);
    let fake = Fake::start("huge", "");
    let r = query(&fake.url, &["--max-response-size", "1MiB"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("more than 1MiB"), "{}", r.stderr);
}

#[test]
fn a_server_that_never_answers_fails_after_one_timeout_without_retries() {
    // Before: 60 s x 4 attempts (about 4 minutes) with the defaults, then only "timeout: global".
    let fake = Fake::start("hang", "");
    let r = query(&fake.url, &["--timeout", "2s"]);
    let requests = fake.stop();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "Prometheus at {} did not answer within 2s",
            r_url(&r)
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("raise --timeout"), "{}", r.stderr);
    assert_eq!(requests.len(), 1, "a timeout is not retried: {requests:?}");
    // The defaults themselves (the issue's 4 minutes): one attempt of 30 s.
    let fake = Fake::start("hang", "");
    let r = query(&fake.url, &[]);
    let requests = fake.stop();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did not answer within 30s"),
        "{}",
        r.stderr
    );
    assert_eq!(requests.len(), 1, "defaults retry a timeout: {requests:?}");
}

/// The URL a message names (the fake's, as the CLI shows it).
fn r_url(r: &Run) -> String {
    let at = r.stderr.find("http://").unwrap();
    r.stderr[at..].split(' ').next().unwrap().to_string()
}

#[test]
fn credentials_in_the_url_are_sent_and_never_printed() {
    let secret = "hunter2-pa55";
    let fake = Fake::start("series", "16");
    let url = fake
        .url
        .replace("http://", &format!("http://alice:{secret}@"));
    for format in ["text", "json", "html"] {
        let r = query(&url, &["--range", "6h", "--format", format]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            !all.contains(secret) && !all.contains("alice"),
            "{format}: {all}"
        );
        assert!(all.contains("http://***@127.0.0.1:"), "{format}: {all}");
    }
    // The error paths: a query the fake does not know, and a refused port.
    let r = run(&[
        "analyze",
        "--prometheus",
        &format!("{url}/nowhere"),
        "--query",
        "up",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        !r.stderr.contains(secret) && r.stderr.contains("***@"),
        "{}",
        r.stderr
    );
    let requests = fake.stop();
    let basic = requests[0]["authorization"].as_str().unwrap();
    assert!(basic.starts_with("Basic "), "{basic}");
    let refused = url.replace(url.rsplit(':').next().unwrap(), "9");
    let r = run(&[
        "analyze",
        "--prometheus",
        &refused,
        "--query",
        "up",
        "--retries",
        "0",
    ]);
    assert!(
        !r.stderr.contains(secret) && r.stderr.contains("***@"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "analyze",
        "--prometheus",
        "http://h/?token=s3cr3t-t0k",
        "--query",
        "up",
    ]);
    assert!(
        !r.stderr.contains("s3cr3t-t0k") && r.stderr.contains("query"),
        "{}",
        r.stderr
    );
}

/// Characters a terminal would act on: ESC, BEL, CSI (C1), and a bidi override.
fn raw_controls(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{1b}' | '\u{7}' | '\u{9b}' | '\u{202e}'))
}

#[test]
fn terminal_controls_from_a_server_are_escaped_and_its_text_bounded() {
    let fake = Fake::start("hostile", "");
    // The series list carries a label with escapes; the query answers a 1 MB error text that
    // starts with them.
    let r = query(&fake.url, &[]);
    assert_eq!(r.code, 2);
    assert!(!raw_controls(&r.stderr), "{:?}", r.stderr);
    assert!(r.stderr.contains("\\u{1b}[31mRED"), "{}", r.stderr);
    assert!(r.stderr.len() < 2048, "{} bytes of error", r.stderr.len());
    drop(fake);
    // Labels with escapes in every report format.
    let path = std::env::temp_dir().join(format!("leaksense-hostile-{}.om", std::process::id()));
    std::fs::write(
        &path,
        "heap{route=\"/x\u{1b}]0;pwned\u{7}\u{202e}\"} 1 1700000000\nheap{route=\"/x\u{1b}]0;pwned\u{7}\u{202e}\"} 2 1700000015\n",
    )
    .unwrap();
    for format in ["text", "json", "html"] {
        let r = run(&[
            "analyze",
            "--input",
            path.to_str().unwrap(),
            "--format",
            format,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!raw_controls(&r.stdout), "{format}: {:?}", r.stdout);
        if format == "json" {
            let doc: Value = serde_json::from_str(&r.stdout).unwrap();
            let name = doc["series"][0]["name"].as_str().unwrap();
            assert!(
                name.contains("\u{1b}]0;pwned\u{7}\u{202e}"),
                "the data is unchanged"
            );
        }
    }
    std::fs::remove_file(&path).unwrap();
}

/// Feeds `text` repeatedly until `total` bytes were written (or the reader went away).
fn feeder(chunk: Vec<u8>, total: usize) -> Box<dyn FnOnce(std::process::ChildStdin) + Send> {
    Box::new(move |mut stdin| {
        let mut sent = 0;
        while sent < total && stdin.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
    })
}

#[test]
fn a_256_mib_line_is_refused_early_and_not_echoed() {
    // Before: the whole line was read and echoed to stderr (268 MB).
    let r = run_with(
        &["analyze", "--input", "-", "--input-format", "csv"],
        Some(feeder(vec![b'7'; 1 << 20], 256 << 20)),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("stdin:1: line is longer than 1024 KiB"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.len() < 300, "{}", r.stderr);
    assert!(r.peak_mb < 64.0, "peak RSS {} MB", r.peak_mb);
    // A long line within the cap is quoted only in part.
    let mut line = vec![b'x'; 500_000];
    line.push(b'\n');
    let r = run_with(
        &["analyze", "--input", "-", "--input-format", "csv"],
        Some(feeder(line, 500_001)),
    );
    assert!(
        r.stderr.contains("(500000 bytes)") && r.stderr.len() < 500,
        "{}",
        r.stderr
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located_and_ignored_in_comments() {
    let text = b"# caf\xe9 au lait\ntimestamp,value\n1700000000,5\n1700000015,\xff6\n".to_vec();
    let r = run_with(
        &["analyze", "--input", "-", "--input-format", "csv"],
        Some(feeder(text.clone(), text.len())),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("stdin:4: not UTF-8 text: byte 0xff at column 12"),
        "{}",
        r.stderr
    );
    let ok = b"# caf\xe9\n1700000000,5\n1700000015,6\n".to_vec();
    let r = run_with(
        &["analyze", "--input", "-", "--input-format", "csv"],
        Some(feeder(ok.clone(), ok.len())),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The fixture leak (20 kB/s) with its timestamps written in `scale` units per second.
fn leak_in_units(scale: f64) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leak.csv");
    let mut out = String::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        match line.split_once(',') {
            Some((t, v)) if t.parse::<f64>().is_ok() => {
                let t: f64 = t.parse().unwrap();
                out.push_str(&format!("{},{v}\n", (t * scale) as i64));
            }
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out.into_bytes()
}

#[test]
fn millisecond_and_nanosecond_timestamps_are_converted_with_a_note() {
    // Before: milliseconds were read as seconds: "LEAK at 20 B/s" for a 20 kB/s leak, dates in
    // the year 50,000.
    let rate = |scale: f64| {
        let text = leak_in_units(scale);
        let r = run_with(
            &[
                "analyze",
                "--input",
                "-",
                "--input-format",
                "csv",
                "--format",
                "json",
            ],
            Some(feeder(text.clone(), text.len())),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        let s = &doc["series"][0];
        assert!(
            s["first_sample"]
                .as_str()
                .unwrap()
                .starts_with("2026-01-01"),
            "{s}"
        );
        (s["rate_per_sec"].as_f64().unwrap(), r.stderr)
    };
    let (secs, note) = rate(1.0);
    assert!(note.is_empty(), "{note}");
    assert!((15e3..25e3).contains(&secs), "{secs}");
    for (scale, unit) in [(1e3, "milliseconds"), (1e9, "nanoseconds")] {
        let (r, note) = rate(scale);
        assert!((r - secs).abs() < secs * 1e-6, "{unit}: {r} vs {secs}");
        assert!(
            note.starts_with(&format!(
                "leaksense: note: stdin: timestamps read as {unit}"
            )),
            "{note}"
        );
    }
}

#[test]
fn numeric_flags_take_signs_and_exponents_and_absurd_limits_are_refused() {
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leak.csv");
    let csv = csv.to_str().unwrap();
    for (limit, expected) in [
        (
            "1e-320",
            "option `limit`: 1e-320 is not within [1, 1e18] (1 byte to 1 EB)",
        ),
        ("1e30", "option `limit`: 1e30 is not within [1, 1e18]"),
        ("-inf", "option `limit`: -inf must be finite and positive"),
    ] {
        let r = run(&["analyze", "--input", csv, "--limit", limit]);
        assert_eq!(r.code, 2, "{limit}");
        assert!(r.stderr.contains(expected), "{limit}: {}", r.stderr);
        assert!(!r.stderr.contains("NaN") && !r.stderr.contains("unexpected argument"));
    }
    // The same limits through --options.
    let r = run(&[
        "analyze",
        "--input",
        csv,
        "--options",
        r#"{"limit": 1e-320}"#,
    ]);
    assert!(
        r.stderr.contains("1e-320 is not within [1, 1e18]"),
        "{}",
        r.stderr
    );
    // Before: taken for an unknown flag. Now a value, refused as a time.
    let r = run(&[
        "analyze",
        "--prometheus",
        "http://127.0.0.1:9",
        "--query",
        "up",
        "--time",
        "-1e18",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("invalid value '-1e18' for '--time"),
        "{}",
        r.stderr
    );
    let r = run(&[
        "analyze", "--input", csv, "--limit", "2e9", "--format", "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn four_million_csv_rows_stream_in_flat_memory() {
    // Before: the whole file was loaded (600 MB for 10M rows, so about 240 MB here).
    let rows = 4_000_000usize;
    let feed: Box<dyn FnOnce(std::process::ChildStdin) + Send> = Box::new(move |stdin| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
        for i in 0..rows {
            let v = 100_000_000 + (i % 40) * 1_000_000;
            if writeln!(w, "{},{v}", 1_700_000_000 + i * 15).is_err() {
                return;
            }
        }
    });
    let r = run_with(
        &[
            "analyze",
            "--input",
            "-",
            "--input-format",
            "csv",
            "--format",
            "json",
        ],
        Some(feed),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["series"][0]["samples"], rows);
    // Streaming keeps a few MB whatever the length; 64 MB tells it from loading the rows.
    assert!(r.peak_mb < 64.0, "peak RSS {} MB", r.peak_mb);
}

#[test]
fn two_million_json_elements_stream_in_flat_memory() {
    // Before: the whole document was loaded and parsed (834 MB for 10M rows, so about 170 MB
    // here). Standard input is spooled to a temporary file and read at two places at once.
    let rows = 2_000_000usize;
    let feed: Box<dyn FnOnce(std::process::ChildStdin) + Send> = Box::new(move |stdin| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
        let mut ok = write!(w, "{{\"values\": [").is_ok();
        for i in 0..rows {
            let sep = if i + 1 < rows { "," } else { "" };
            ok &= writeln!(w, "{}{sep}", 100_000_000 + (i % 40) * 1_000_000).is_ok();
        }
        ok &= write!(w, "], \"timestamps\": [").is_ok();
        for i in 0..rows {
            let sep = if i + 1 < rows { "," } else { "" };
            ok &= writeln!(w, "{}{sep}", 1_700_000_000 + i * 15).is_ok();
        }
        let _ = ok && write!(w, "]}}").is_ok();
    });
    let r = run_with(
        &[
            "analyze",
            "--input",
            "-",
            "--input-format",
            "json",
            "--format",
            "json",
        ],
        Some(feed),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["series"][0]["samples"], rows);
    assert!(r.peak_mb < 64.0, "peak RSS {} MB", r.peak_mb);
}

#[test]
fn a_saved_report_past_its_cap_is_refused_with_bounded_memory() {
    // Before: `leaksense report -` read its input whole, however long (1 GiB here).
    let mut open = b"{\"notes\": [\"".to_vec();
    open.extend(std::iter::repeat_n(b'x', (1 << 20) - open.len()));
    let r = run_with(&["report", "-"], Some(feeder(open, 1 << 30)));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("stdin: larger than 64MiB, the cap on a saved report"),
        "{}",
        r.stderr
    );
    // Up to 64 MiB of text, held while read: far below the gigabyte fed.
    assert!(r.peak_mb < 256.0, "peak RSS {} MB", r.peak_mb);
}

#[test]
fn a_traffic_file_past_its_cap_is_refused_with_bounded_memory() {
    // Before: every request rate of --traffic was held, however many (4M rows here).
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("memory.csv");
    std::fs::write(&input, "1700000000,1\n1700000015,2\n").unwrap();
    let rows = 4_000_000usize;
    let feed: Box<dyn FnOnce(std::process::ChildStdin) + Send> = Box::new(move |stdin| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, stdin);
        for i in 0..rows {
            if writeln!(w, "{},{}", 1_700_000_000 + i * 15, i % 40).is_err() {
                return;
            }
        }
    });
    let r = run_with(
        &[
            "analyze",
            "--input",
            input.to_str().unwrap(),
            "--traffic",
            "-",
        ],
        Some(feed),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "stdin:{}: more than {} request rates, the cap on --traffic",
            (1 << 20) + 1,
            1 << 20
        )),
        "{}",
        r.stderr
    );
    // 1M rates of 16 bytes are held at most; 4M would take 64 MB of samples alone.
    assert!(r.peak_mb < 64.0, "peak RSS {} MB", r.peak_mb);
}

//! A real Prometheus server for tests: backfills series with promtool, starts `prometheus` on
//! 127.0.0.1 with a temporary data dir, answers instant queries, and stops the server by PID
//! (SIGTERM, then SIGKILL) when dropped, also while a test panics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leaksense_core::Sample;

/// Labels of one returned series.
pub type Labels = BTreeMap<String, String>;

/// One named series to backfill: its metric name, its labels and its samples.
pub struct Backfill {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub samples: Vec<Sample>,
}

/// Panics with a clear message unless `prometheus` and `promtool` run. Never skips.
pub fn require_tools() {
    for tool in ["prometheus", "promtool"] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "`{tool}` is not installed or does not run. The Prometheus parity tests need a real \
             Prometheus 2.x server: install Debian's package with `apt-get install -y prometheus`."
        );
    }
}

/// Unix milliseconds as the seconds string both the OpenMetrics parser and the HTTP API read
/// back to the same millisecond ("1700000000.123").
pub fn secs_str(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// True when `ms` survives a float-seconds round trip even if the parser truncates
/// (`int64(secs * 1000)`). A safeguard: at today's epoch magnitudes every millisecond does (2M
/// random ones checked), and `PromServer::assert_holds` verifies what the server really stored.
pub fn ms_survives_backfill(ms: i64) -> bool {
    let secs: f64 = secs_str(ms).parse().unwrap();
    (secs * 1000.0) as i64 == ms
}

/// Builds a series from per-sample (gap_ms, value) steps after `start_ms`, nudging timestamps
/// that promtool's float parser would not read back exactly.
pub fn series_from_steps(
    start_ms: i64,
    steps: impl IntoIterator<Item = (i64, f64)>,
) -> Vec<Sample> {
    let mut ts = start_ms;
    let mut out = Vec::new();
    for (gap, value) in steps {
        ts += gap.max(1);
        while !ms_survives_backfill(ts) {
            ts += 1;
        }
        out.push(Sample { ts_ms: ts, value });
    }
    out
}

/// The current unix time in milliseconds (backfilled data must be recent).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Parses a Prometheus sample value string ("1.5", "NaN", "+Inf", "-Inf").
pub fn parse_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or_else(|e| panic!("bad value {s:?}: {e}")),
    }
}

/// The OpenMetrics text for `series` (values as shortest round-trip decimals).
pub fn openmetrics(series: &[Backfill]) -> String {
    let mut out = String::new();
    for b in series {
        let labels: Vec<String> = b
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        for s in &b.samples {
            assert!(ms_survives_backfill(s.ts_ms), "timestamp {} ms", s.ts_ms);
            writeln!(
                out,
                "{}{{{}}} {:e} {}",
                b.name,
                labels.join(","),
                s.value,
                secs_str(s.ts_ms)
            )
            .unwrap();
        }
    }
    out.push_str("# EOF\n");
    out
}

/// A running Prometheus server over backfilled data.
pub struct PromServer {
    child: Child,
    base: String,
    agent: ureq::Agent,
    // Dropped after the server is stopped (fields drop in declaration order after Drop::drop).
    _dir: tempfile::TempDir,
}

impl PromServer {
    /// Backfills `series` and starts a server over them; waits until it is ready.
    pub fn start(series: &[Backfill]) -> PromServer {
        require_tools();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let om = dir.path().join("series.om");
        std::fs::write(&om, openmetrics(series)).unwrap();
        let out = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&data)
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool backfill failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 1h\n").unwrap();
        let log_path = dir.path().join("prometheus.log");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        // The free port can be taken between our probe and the server's bind (other tests run
        // in parallel): then start again on another one.
        for attempt in 1..=5 {
            let port = free_port();
            let mut child = Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                // Keep backfilled data of any age, so vectors can use fixed timestamps.
                .arg("--storage.tsdb.retention.time=100y")
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log_path).unwrap())
                .spawn()
                .expect("start prometheus");
            let base = format!("http://127.0.0.1:{port}");
            match wait_ready(&mut child, &agent, &base) {
                Ok(()) => {
                    return PromServer {
                        child,
                        base,
                        agent,
                        _dir: dir,
                    };
                }
                Err(why) => {
                    stop(&mut child);
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    if attempt < 5 && log.contains("address already in use") {
                        continue;
                    }
                    panic!("prometheus did not start ({why}):\n{log}");
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temporary directory holding the data and the log (removed on drop).
    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// An instant query at `time_ms`: each returned series' labels and value, or the raw
    /// samples of a range-vector result.
    pub fn query(&self, promql: &str, time_ms: i64) -> serde_json::Value {
        let mut resp = self
            .agent
            .get(format!("{}/api/v1/query", self.base))
            .query("query", promql)
            .query("time", secs_str(time_ms))
            .call()
            .unwrap_or_else(|e| panic!("query {promql}: {e}"));
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "success", "query {promql}: {body}");
        v["data"].clone()
    }

    /// The result of a query of `result_type`, each series' labels with `f` of its entry.
    fn results<T>(
        &self,
        promql: &str,
        time_ms: i64,
        result_type: &str,
        f: impl Fn(&serde_json::Value) -> T,
    ) -> BTreeMap<Labels, T> {
        let data = self.query(promql, time_ms);
        assert_eq!(data["resultType"], result_type, "{promql}");
        data["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let labels: Labels = serde_json::from_value(r["metric"].clone()).unwrap();
                (labels, f(r))
            })
            .collect()
    }

    /// An instant-vector query: the value of each returned series, by labels.
    pub fn instant(&self, promql: &str, time_ms: i64) -> BTreeMap<Labels, f64> {
        self.results(promql, time_ms, "vector", |r| {
            parse_value(r["value"][1].as_str().unwrap())
        })
    }

    /// The raw samples a range selector returns at `time_ms`, by labels.
    pub fn raw(&self, selector: &str, time_ms: i64) -> BTreeMap<Labels, Vec<Sample>> {
        self.results(selector, time_ms, "matrix", |r| {
            r["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| Sample {
                    ts_ms: (p[0].as_f64().unwrap() * 1000.0).round() as i64,
                    value: parse_value(p[1].as_str().unwrap()),
                })
                .collect()
        })
    }
}

impl PromServer {
    /// Asserts that the server holds exactly `series` (every timestamp and value bit), so that
    /// no comparison against it is moot.
    pub fn assert_holds(&self, series: &[Backfill]) {
        let last_ms = series
            .iter()
            .filter_map(|b| b.samples.last())
            .map(|s| s.ts_ms)
            .max()
            .unwrap();
        let names: std::collections::BTreeSet<&str> =
            series.iter().map(|b| b.name.as_str()).collect();
        let sel = format!(
            "{{__name__=~\"{}\"}}[30d]",
            names.into_iter().collect::<Vec<_>>().join("|")
        );
        let raw = self.raw(&sel, last_ms + 1000);
        assert_eq!(raw.len(), series.len());
        for b in series {
            let mut labels = labels_without_name(b);
            labels.insert("__name__".into(), b.name.clone());
            let got = &raw[&labels];
            assert_eq!(got.len(), b.samples.len(), "{labels:?}");
            for (g, w) in got.iter().zip(&b.samples) {
                assert_eq!(g.ts_ms, w.ts_ms, "{labels:?}");
                assert_eq!(g.value.to_bits(), w.value.to_bits(), "{labels:?}");
            }
        }
    }
}

impl Drop for PromServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Waits until the server answers `/-/ready`; an error when it exits first or takes over 60 s.
fn wait_ready(child: &mut Child, agent: &ureq::Agent, base: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("exited early with {status}"));
        }
        let ready = agent
            .get(format!("{base}/-/ready"))
            .call()
            .map(|r| r.status() == 200)
            .unwrap_or(false);
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("not ready after 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops the server by its PID: SIGTERM, then SIGKILL after 10 s; always reaps it.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the PID of our own child, which has not been reaped yet (checked
    // above), so the PID cannot belong to another process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port on 127.0.0.1")
}

/// Label map of a backfilled series as Prometheus returns it after a function drops the name.
pub fn labels_without_name(b: &Backfill) -> Labels {
    b.labels.iter().cloned().collect()
}

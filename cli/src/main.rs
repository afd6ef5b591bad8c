//! `leaksense`: the command line. It parses options and inputs and renders results; all
//! analysis happens in leaksense-core. Everything it prints goes through `leaksense_cli::safe`:
//! no secret, no terminal control sequence.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use leaksense_cli::error::CliError;
use leaksense_cli::input::{Format, Source};
use leaksense_cli::{capped, files, fleet, html, prometheus, render, rules, safe};
use leaksense_core::catalog::{Naming, Runtime};
use leaksense_core::detect::{DetectorConfig, SeriesKind};
use leaksense_core::options::{self, AnalyzeOptions};

/// Exit code for bad input, bad options and usage errors (clap uses 2 for the latter too).
const EXIT_BAD_INPUT: u8 = 2;

#[derive(Parser)]
#[command(
    name = "leaksense",
    version,
    about = "Catch memory leaks early in memory series"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a memory (or count) series through the leak detector and report what it finds.
    Analyze(Box<AnalyzeArgs>),
    /// Print Prometheus alerting rules over the metrics leaksense emits (and promtool tests).
    Rules(RulesArgs),
    /// Render a leak report saved as JSON by an SDK (`report().to_json()`): text, or an HTML
    /// page with the growing allocation sites and an icicle graph of the growth.
    Report(ReportArgs),
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The report's JSON file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
}

#[derive(clap::Args)]
struct RulesArgs {
    /// The runtime whose metrics the rules watch.
    #[arg(long, value_enum)]
    runtime: RuntimeArg,
    /// Metric names: current OpenTelemetry semantic conventions, or the older
    /// `process.runtime.<lang>.*` names.
    #[arg(long, value_enum, default_value_t = NamingArg::Semconv)]
    naming: NamingArg,
    /// How long a condition must hold before an alert fires (Prometheus duration).
    #[arg(long = "for", value_name = "DURATION", default_value = "30m", value_parser = rules::parse_duration)]
    for_secs: u64,
    /// Only watch series of this Prometheus job.
    #[arg(long, value_name = "JOB")]
    job: Option<String>,
    /// The window the post-GC floor is the minimum over; must be longer than a GC cycle.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = rules::parse_duration)]
    floor_window: u64,
    /// How far ahead the time-to-limit rules project the floor.
    #[arg(long, value_name = "DURATION", default_value = "4h", value_parser = rules::parse_duration)]
    horizon: u64,
    /// Also write a promtool unit-test file (a healthy sawtooth that must not fire, a leak that
    /// must); needs --output.
    #[arg(long, requires = "output")]
    with_tests: bool,
    /// Write `leaksense-<runtime>.rules.yml` (and the test file) into this directory instead
    /// of printing the rules.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum RuntimeArg {
    Node,
    Python,
    Go,
    Process,
}

#[derive(Clone, Copy, ValueEnum)]
enum NamingArg {
    Semconv,
    Legacy,
}

#[derive(clap::Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// What the series measures (default heap); sets `kind` in --options.
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    /// Detector options as a JSON object, the keys every language's `analyze` takes (e.g.
    /// '{"for_secs": 600, "min_rise_ratio": 0.2}'; docs/options.md).
    #[arg(long, value_name = "JSON")]
    options: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
    /// The memory limit (or count limit), for the time until it is reached: a number of bytes,
    /// optionally with a unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB); sets `limit` in --options.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true, value_parser = parse_quantity)]
    limit: Option<f64>,
}

/// Where the series come from: a file, or a Prometheus server.
#[derive(clap::Args)]
#[group(required = true, multiple = false, id = "source")]
struct SourceArgs {
    /// A file of samples: CSV `timestamp,value`, JSON `{"timestamps":[..],"values":[..]}`, or
    /// OpenMetrics text (every series in it is analyzed). Timestamps are unix seconds. `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE", group = "source")]
    input: Option<PathBuf>,
    /// A Prometheus-compatible server (Prometheus, Thanos, Mimir): its base URL.
    #[arg(long, value_name = "URL", group = "source", requires = "query")]
    prometheus: Option<String>,
    #[command(flatten)]
    file: FileArgs,
    #[command(flatten)]
    prom: PromArgs,
}

#[derive(clap::Args)]
struct FileArgs {
    /// The file's format, when its extension and content do not tell.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "input")]
    input_format: Option<Format>,
    /// Analyze only the OpenMetrics series of this metric name.
    #[arg(long, value_name = "NAME", requires = "input")]
    metric: Option<String>,
    /// The service's request rate over the same time (requests per second; one series, in any
    /// --input format): a floor that rises and falls with it is not a leak. See
    /// docs/cli-traffic.md.
    #[arg(long, value_name = "FILE", requires = "input")]
    traffic: Option<PathBuf>,
}

#[derive(clap::Args)]
struct PromArgs {
    /// The series selector whose raw samples are analyzed, e.g. 'process_memory_usage_bytes{job="api"}'.
    #[arg(long, value_name = "SELECTOR", requires = "prometheus")]
    query: Option<String>,
    /// How far back to read.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = rules::parse_duration)]
    range: u64,
    /// The end of the range: RFC 3339 or unix seconds (default: now).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = parse_time)]
    time: Option<i64>,
    /// A query of memory limits (e.g. 'leaksense_memory_limit_bytes'): each series gets the
    /// smallest limit whose shared labels match its own, else --limit.
    #[arg(long, value_name = "QUERY", requires = "prometheus")]
    limit_query: Option<String>,
    /// Sum the matching series by these labels (comma-separated) into one series per group,
    /// evaluated every --step.
    #[arg(long, value_name = "LABELS", value_delimiter = ',')]
    group_by: Vec<String>,
    /// The step of --group-by sums (use the scrape interval).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = rules::parse_duration)]
    step: u64,
    /// Request counts per route and slot, to name the routes that leak, e.g.
    /// 'sum by (http_route) (increase(http_server_request_duration_seconds_count[5m]))'.
    #[arg(long, value_name = "QUERY", requires = "prometheus")]
    requests: Option<String>,
    /// The slot width: the step the --requests query is evaluated at (match its range).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = rules::parse_duration)]
    requests_step: u64,
    /// The label of the --requests result that names the route.
    #[arg(long, value_name = "LABEL", default_value = "http_route")]
    route_label: String,
    /// A query of request rates, the traffic covariate, e.g.
    /// 'sum by (service) (rate(http_server_request_duration_seconds_count[5m]))': each series
    /// gets the compatible result sharing the most labels with it. See docs/cli-traffic.md.
    #[arg(long, value_name = "QUERY", requires = "prometheus")]
    traffic_query: Option<String>,
    /// The step the --traffic-query is evaluated at.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = rules::parse_duration)]
    traffic_step: u64,
    /// Time one HTTP request may take, from connecting to the last byte of the answer (a
    /// server that does not answer fails after it; timeouts are not retried).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = rules::parse_duration)]
    timeout: u64,
    /// Further attempts after a connection error, HTTP 429 or 5xx.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// The largest answer read for one query (after decompression); memory stays bounded by
    /// it times --workers.
    #[arg(long, value_name = "BYTES", default_value = "128MiB", value_parser = parse_size)]
    max_response_size: u64,
    /// Read a bearer token from this environment variable.
    #[arg(long, value_name = "NAME", conflicts_with = "bearer_token_file")]
    bearer_token_env: Option<String>,
    /// Read a bearer token from this file.
    #[arg(long, value_name = "FILE")]
    bearer_token_file: Option<PathBuf>,
    /// Trust the CA certificates in this PEM file (for a server with a private CA).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Series pulled and analyzed at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    workers: usize,
}

/// RFC 3339 (`2026-11-25T06:00:00Z`) or unix seconds, as unix ms.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        return leaksense_core::Sample::from_secs(secs, 0.0)
            .map(|x| x.ts_ms)
            .map_err(|e| e.to_string());
    }
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| {
            format!(
                "{:?} is neither RFC 3339 nor unix seconds: {e}",
                safe::clip(s, safe::QUOTE_MAX)
            )
        })
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// Bytes of memory (heap, RSS), usually a GC sawtooth.
    Heap,
    /// A noisy integer count (goroutines, handles).
    Count,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
    /// A self-contained HTML page with a chart per flagged series.
    Html,
}

/// A number with an optional byte unit. Range checks stay in the core's options validation.
fn parse_quantity(s: &str) -> Result<f64, String> {
    const UNITS: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1048576.0),
        ("GiB", 1073741824.0),
        ("TiB", 1099511627776.0),
        ("kB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    let s = s.trim();
    let (number, scale) = UNITS
        .iter()
        .find_map(|(unit, scale)| s.strip_suffix(unit).map(|n| (n.trim_end(), *scale)))
        .unwrap_or((s, 1.0));
    number.parse::<f64>().map(|n| n * scale).map_err(|_| {
        format!(
            "{:?} is not a number of bytes (e.g. 536870912, 512MiB, 2GB)",
            safe::clip(s, safe::QUOTE_MAX)
        )
    })
}

/// A size in bytes from 1 KiB to 1 EB, for caps.
fn parse_size(s: &str) -> Result<u64, String> {
    let v = parse_quantity(s)?;
    if (1024.0..=1e18).contains(&v) {
        Ok(v as u64)
    } else {
        Err("must be from 1KiB to 1 EB".into())
    }
}

/// The detector options: --options with --kind and --limit laid over it, through the core's
/// parser (the same as every binding's `analyze`).
fn analyze_options(args: &AnalyzeArgs) -> Result<DetectorConfig, CliError> {
    let mut fields = match &args.options {
        Some(json) => options::object("options", json).map_err(CliError::Option)?,
        None => serde_json::Map::new(),
    };
    if let Some(kind) = args.kind {
        let kind = match kind {
            Kind::Heap => SeriesKind::Heap,
            Kind::Count => SeriesKind::Count,
        };
        let kind = serde_json::to_value(kind).map_err(|e| CliError::Usage(e.to_string()))?;
        fields.insert("kind".into(), kind);
    }
    if let Some(limit) = args.limit {
        let n = serde_json::Number::from_f64(limit).ok_or_else(|| {
            CliError::Option(leaksense_core::InputError::invalid_option(
                "limit",
                format!("{limit} must be finite and positive"),
            ))
        })?;
        fields.insert("limit".into(), n.into());
    }
    let opts = AnalyzeOptions::from_object(fields).map_err(CliError::Option)?;
    if opts.traffic.is_some() {
        return Err(CliError::Usage(
            "the traffic goes in --traffic FILE or --traffic-query QUERY, not in --options".into(),
        ));
    }
    Ok(opts.detector)
}

/// The report, and notes for standard error.
fn analyze(args: &AnalyzeArgs) -> Result<(String, Vec<String>), CliError> {
    let cfg = analyze_options(args)?;
    let (label, reports, fleet, notes) = match (&args.source.input, &args.source.prometheus) {
        (Some(path), _) => {
            let source = Source::File {
                path: path.clone(),
                format: args.source.file.input_format,
                metric: args.source.file.metric.clone(),
            };
            let traffic = match &args.source.file.traffic {
                Some(path) => Some(files::traffic(path)?),
                None => None,
            };
            let mut label = source.label();
            if let Some(path) = &args.source.file.traffic {
                label.push_str(" with traffic ");
                label.push_str(&leaksense_cli::input::file_label(path));
            }
            let (reports, note) = files::run(&source, &cfg, traffic.as_ref())?;
            (label, reports, false, note.into_iter().collect())
        }
        (None, Some(url)) => {
            let opts = fleet_options(url, &args.source.prom)?;
            let mut label = format!(
                "{} {}",
                opts.server.url.shown,
                safe::clip(&opts.query, safe::QUOTE_MAX)
            );
            if let Some(q) = &opts.traffic_query {
                label.push_str(" with traffic ");
                label.push_str(&safe::clip(q, safe::QUOTE_MAX));
            }
            (label, fleet::run(&opts, &cfg)?, true, Vec::new())
        }
        (None, None) => unreachable!("clap requires one source"),
    };
    let out = match args.format {
        Output::Text => render::text(&label, &cfg, &reports, fleet),
        Output::Json => render::json(&label, &cfg, &reports),
        Output::Html => html::page(&label, &cfg, &reports),
    };
    Ok((out, notes))
}

fn fleet_options(url: &str, p: &PromArgs) -> Result<fleet::FleetOptions, CliError> {
    use prometheus::TokenSource;
    let url =
        safe::SecretUrl::parse(url).map_err(|e| CliError::Usage(format!("--prometheus {e}")))?;
    let positive = |v: u64, what: &str| {
        if v == 0 {
            Err(CliError::Usage(format!("--{what} must be longer than 0s")))
        } else {
            Ok(v as i64 * 1000)
        }
    };
    if p.workers == 0 || p.workers > 256 {
        return Err(CliError::Usage("--workers must be in 1..=256".into()));
    }
    let token = match (&p.bearer_token_env, &p.bearer_token_file) {
        (Some(name), _) => Some(TokenSource::Env(name.clone())),
        (None, Some(path)) => Some(TokenSource::File(path.clone())),
        (None, None) => None,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    Ok(fleet::FleetOptions {
        server: prometheus::ServerOptions {
            url,
            timeout: std::time::Duration::from_millis(positive(p.timeout, "timeout")? as u64),
            retries: p.retries,
            token,
            ca_file: p.ca_file.clone(),
            max_response: p.max_response_size,
        },
        query: p.query.clone().unwrap_or_default(),
        range_ms: positive(p.range, "range")?,
        time_ms: p.time.unwrap_or(now),
        limit_query: p.limit_query.clone(),
        group_by: p.group_by.clone(),
        step_ms: positive(p.step, "step")?,
        requests: p.requests.clone(),
        requests_step_ms: positive(p.requests_step, "requests-step")?,
        route_label: p.route_label.clone(),
        traffic_query: p.traffic_query.clone(),
        traffic_step_ms: positive(p.traffic_step, "traffic-step")?,
        workers: p.workers,
    })
}

/// The largest saved report `leaksense report` reads. Reports stay small (a profile's sites and
/// stacks are capped; the fixture with one is 6 KiB); the cap bounds memory on a wrong file.
const MAX_REPORT_BYTES: u64 = 64 << 20;

fn report(args: &ReportArgs) -> Result<String, CliError> {
    let label = leaksense_cli::input::file_label(&args.input);
    let text = capped::read_to_string(&args.input, MAX_REPORT_BYTES, "a saved report")?;
    let report: leaksense_core::report::LeakReport =
        serde_json::from_str(&text).map_err(|e| CliError::Input {
            file: label.clone(),
            line: Some(e.line()),
            message: format!("not a leaksense report: {e}"),
        })?;
    Ok(match args.format {
        Output::Text => report.render_text(),
        Output::Json => report.to_json() + "\n",
        Output::Html => html::report_page(&label, &report),
    })
}

fn rules(args: &RulesArgs) -> Result<String, CliError> {
    let spec = rules::RulesSpec {
        runtime: match args.runtime {
            RuntimeArg::Node => Runtime::Node,
            RuntimeArg::Python => Runtime::Python,
            RuntimeArg::Go => Runtime::Go,
            RuntimeArg::Process => Runtime::Process,
        },
        naming: match args.naming {
            NamingArg::Semconv => Naming::Semconv,
            NamingArg::Legacy => Naming::Legacy,
        },
        for_secs: args.for_secs,
        job: args.job.clone(),
        floor_window_secs: args.floor_window,
        horizon_secs: args.horizon,
    };
    spec.validate().map_err(CliError::Usage)?;
    let Some(dir) = &args.output else {
        return Ok(spec.rules_yaml());
    };
    let rules_name = format!("{}.rules.yml", spec.group_name());
    let mut written = vec![(dir.join(&rules_name), spec.rules_yaml())];
    if args.with_tests {
        let test_name = format!("{}.rules.test.yml", spec.group_name());
        written.push((dir.join(test_name), rules::tests_yaml(&spec, &rules_name)));
    }
    let mut out = String::new();
    for (path, text) in written {
        std::fs::write(&path, text).map_err(|e| CliError::Io {
            file: path.display().to_string(),
            source: e,
        })?;
        out.push_str(&format!("wrote {}\n", path.display()));
    }
    Ok(out)
}

/// Writes `text` for a reader: secrets scrubbed, and every control character a terminal could
/// act on escaped (JSON keeps its own escapes valid).
fn printable(text: &str, json: bool) -> String {
    let text = safe::scrub(text);
    if json {
        safe::for_json(&text).into_owned()
    } else {
        safe::for_terminal(&text).into_owned()
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap's own messages quote the arguments: they get the same treatment.
        Err(e) => {
            let text = printable(&e.render().to_string(), false);
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_BAD_INPUT));
        }
    };
    let json = match &cli.command {
        Command::Analyze(a) => matches!(a.format, Output::Json),
        Command::Report(r) => matches!(r.format, Output::Json),
        Command::Rules(_) => false,
    };
    let result = match &cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Rules(args) => rules(args).map(|out| (out, Vec::new())),
        Command::Report(args) => report(args).map(|out| (out, Vec::new())),
    };
    match result {
        Ok((out, notes)) => {
            for note in notes {
                eprintln!("leaksense: note: {}", printable(&note, false));
            }
            print!("{}", printable(&out, json));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("leaksense: error: {}", printable(&e.to_string(), false));
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_take_units() {
        assert_eq!(parse_quantity("1024"), Ok(1024.0));
        assert_eq!(parse_quantity("512MiB"), Ok(536_870_912.0));
        assert_eq!(parse_quantity("2 GB"), Ok(2e9));
        assert_eq!(parse_quantity("1.5kB"), Ok(1500.0));
        assert_eq!(parse_quantity("-5"), Ok(-5.0));
        assert!(parse_quantity("lots").is_err());
        assert!(parse_quantity("5XB").is_err());
        assert_eq!(parse_quantity("-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert!(parse_size("12").is_err());
    }
}

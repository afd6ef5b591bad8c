//! `leaksense`: the command line. It parses options and inputs and renders results; all
//! analysis happens in leaksense-core.

mod analyze;
mod error;
mod input;
mod render;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use leaksense_core::catalog::{Naming, Runtime};
use leaksense_core::detect::{DetectorConfig, SeriesKind};

use crate::error::CliError;
use crate::input::{Format, Source};

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
    Analyze(AnalyzeArgs),
    /// Print Prometheus alerting rules over the metrics leaksense emits (and promtool tests).
    Rules(RulesArgs),
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
    /// What the series measures.
    #[arg(long, value_enum, default_value_t = Kind::Heap)]
    kind: Kind,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
    /// The memory limit (or count limit), for the time until it is reached: a number of bytes,
    /// optionally with a unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB).
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true, value_parser = parse_quantity)]
    limit: Option<f64>,
}

/// Where the series come from. Future sources (a Prometheus server) join as new options here.
#[derive(clap::Args)]
struct SourceArgs {
    /// A file of samples: CSV `timestamp,value`, JSON `{"timestamps":[..],"values":[..]}`, or
    /// OpenMetrics text (every series in it is analyzed). Timestamps are unix seconds. `-` reads
    /// standard input.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The file's format, when its extension and content do not tell.
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<Format>,
    /// Analyze only the OpenMetrics series of this metric name.
    #[arg(long, value_name = "NAME")]
    metric: Option<String>,
}

impl SourceArgs {
    fn source(&self) -> Source {
        Source::File {
            path: self.input.clone(),
            format: self.input_format,
            metric: self.metric.clone(),
        }
    }
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
}

/// A number with an optional byte unit. Range checks stay in the core's config validation.
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
    number
        .parse::<f64>()
        .map(|n| n * scale)
        .map_err(|_| format!("{s:?} is not a number of bytes (e.g. 536870912, 512MiB, 2GB)"))
}

fn analyze(args: &AnalyzeArgs) -> Result<String, CliError> {
    let kind = match args.kind {
        Kind::Heap => SeriesKind::Heap,
        Kind::Count => SeriesKind::Count,
    };
    let cfg = DetectorConfig {
        limit: args.limit,
        ..DetectorConfig::for_kind(kind)
    };
    let source = args.source.source();
    let reports = analyze::run(&source, &cfg)?;
    Ok(match args.format {
        Output::Text => render::text(&source.label(), &cfg, &reports),
        Output::Json => render::json(&source.label(), &cfg, &reports),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Analyze(args) => analyze(args),
        Command::Rules(args) => rules(args),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("leaksense: error: {e}");
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
    }
}

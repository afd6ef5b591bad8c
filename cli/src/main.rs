//! `leaksense`: the command line. It parses options and inputs and renders results; all
//! analysis happens in leaksense-core.

mod analyze;
mod error;
mod input;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Analyze(args) => analyze(args),
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

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
    /// The memory limit in bytes (or the count limit), for the time until it is reached.
    #[arg(long, value_name = "BYTES", allow_negative_numbers = true)]
    limit: Option<f64>,
}

/// Where the series come from. Future sources (a Prometheus server) join as new options here.
#[derive(clap::Args)]
struct SourceArgs {
    /// A file of samples: CSV `timestamp,value`, JSON `{"timestamps":[..],"values":[..]}`, or
    /// OpenMetrics text (every series in it is analyzed). Timestamps are unix seconds.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The file's format, when its extension and content do not tell.
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<Format>,
}

impl SourceArgs {
    fn source(&self) -> Source {
        Source::File {
            path: self.input.clone(),
            format: self.input_format,
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

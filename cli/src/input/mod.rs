//! Where series come from: a file or standard input, as CSV, JSON or OpenMetrics. Every format
//! is read as a stream, so memory is bounded by the number of series, not by the input's length;
//! lines are capped at [`MAX_LINE`] bytes, a bad byte is reported with its line, and the unit of
//! the timestamps is judged from the first one ([`Clock`]).

pub mod csv;
pub mod json;
mod lines;
pub mod openmetrics;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use leaksense_core::series::YEAR_2200_SECS;
use leaksense_core::{EpochUnit, Sample};

pub use lines::LineReader;

use crate::error::CliError;

/// The most series one input may hold; keeps memory bounded on a huge exposition dump.
pub const MAX_SERIES: usize = 10_000;

/// The longest line read from a CSV or OpenMetrics input (a sample line with many labels fits
/// easily; a line without a newline in sight is an error, not a reason to buffer the file).
pub const MAX_LINE: usize = 1 << 20;

/// Bytes read ahead, and looked at to guess a format.
const READ_AHEAD: usize = 1 << 20;

/// File formats `analyze --input` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `timestamp,value` lines (unix seconds), with an optional header line.
    Csv,
    /// `{"timestamps": [...], "values": [...]}` (unix seconds).
    Json,
    /// OpenMetrics text: `name{labels} value unix_seconds` lines, ending with `# EOF`.
    Openmetrics,
}

/// A place series are read from. New sources (a Prometheus server) are new variants.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file (`-`: standard input), in the given format or one guessed from its extension
    /// and content, optionally keeping only the series of one metric name.
    File {
        path: PathBuf,
        format: Option<Format>,
        metric: Option<String>,
    },
}

/// An opened source, ready to stream.
pub struct Input {
    /// How messages and reports name the source.
    pub label: String,
    /// The format given or guessed.
    pub format: Format,
    /// Only the series of this metric name (OpenMetrics).
    pub metric: Option<String>,
    /// The bytes, for the line formats.
    pub reader: Box<dyn BufRead + Send>,
    path: PathBuf,
}

impl Source {
    /// A short name for messages and reports.
    pub fn label(&self) -> String {
        match self {
            Source::File { path, .. } => file_label(path),
        }
    }

    /// Opens the source and settles its format (given, else by extension, else by content).
    pub fn open(&self) -> Result<Input, CliError> {
        let Source::File {
            path,
            format,
            metric,
        } = self;
        let label = file_label(path);
        let io = |e| CliError::Io {
            file: label.clone(),
            source: e,
        };
        let mut reader: Box<dyn BufRead + Send> = if path == Path::new("-") {
            Box::new(BufReader::with_capacity(READ_AHEAD, std::io::stdin()))
        } else {
            Box::new(BufReader::with_capacity(
                READ_AHEAD,
                File::open(path).map_err(io)?,
            ))
        };
        let format = match format {
            Some(f) => *f,
            None => guess_format(path, reader.fill_buf().map_err(io)?),
        };
        Ok(Input {
            label,
            format,
            metric: metric.clone(),
            reader,
            path: path.clone(),
        })
    }
}

impl Input {
    /// An input read from `reader` (standard input, a test, a fuzzer).
    pub fn from_reader(
        label: &str,
        format: Format,
        metric: Option<String>,
        reader: Box<dyn BufRead + Send>,
    ) -> Input {
        Input {
            label: label.to_string(),
            format,
            metric,
            reader,
            path: PathBuf::from("-"),
        }
    }

    /// The input as a file that can be read at two places at once (the JSON reader's two
    /// arrays): the file itself, or standard input copied to an unnamed temporary file.
    pub fn into_file(mut self) -> Result<File, CliError> {
        let io = |e| CliError::Io {
            file: self.label.clone(),
            source: e,
        };
        if self.path != Path::new("-") {
            return File::open(&self.path).map_err(io);
        }
        let mut spool = tempfile::tempfile().map_err(io)?;
        std::io::copy(&mut self.reader, &mut spool).map_err(io)?;
        Ok(spool)
    }
}

/// How messages name a file; `-` is standard input.
pub fn file_label(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        crate::safe::clip(&path.display().to_string(), crate::safe::QUOTE_MAX).into_owned()
    }
}

/// The metric name of a series name `name{labels}`.
pub fn metric_name(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// The format named by the extension, else the one the first bytes look like.
fn guess_format(path: &Path, head: &[u8]) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => return Format::Csv,
        Some("json") => return Format::Json,
        Some("om" | "prom" | "openmetrics") => return Format::Openmetrics,
        _ => {}
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
        .unwrap_or(b"");
    if first.starts_with(b"{") {
        Format::Json
    } else if first.starts_with(b"#")
        || first.contains(&b'{')
        || first
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty())
            .count()
            >= 2
    {
        Format::Openmetrics
    } else {
        Format::Csv
    }
}

/// An input error of one sample, worded for a user looking at that line (without the core's
/// sample index, which the caller replaces by the line).
pub fn describe(e: &leaksense_core::InputError) -> String {
    use leaksense_core::InputError;
    match e {
        InputError::NonFinite { what, value, .. } => format!("{what} {value} is not finite"),
        InputError::OutOfOrder { ts_ms, prev_ms, .. } => format!(
            "timestamp {} is not after the previous sample's {} (samples must be in time order \
             without duplicates)",
            *ts_ms as f64 / 1000.0,
            *prev_ms as f64 / 1000.0
        ),
        other => other.to_string(),
    }
}

/// The timestamps of one input, read in the unit its first timestamp shows: seconds unless
/// that gives a date after the year 2200, then milliseconds, microseconds or nanoseconds
/// (converted, with a note), or a clear error when no unit gives a plausible date.
#[derive(Debug, Default)]
pub struct Clock {
    unit: Option<EpochUnit>,
    first: f64,
}

impl Clock {
    /// A sample from a timestamp in the input's unit and a value.
    pub fn sample(&mut self, ts: f64, value: f64) -> Result<Sample, String> {
        if !ts.is_finite() {
            return Sample::from_secs(ts, value).map_err(|e| describe(&e));
        }
        let unit = match self.unit {
            Some(u) => u,
            None => {
                let u = EpochUnit::guess(ts).ok_or_else(|| {
                    format!(
                        "timestamp {ts} is no date between the years 2000 and 2200 in seconds, \
                         milliseconds, microseconds or nanoseconds"
                    )
                })?;
                self.unit = Some(u);
                self.first = ts;
                u
            }
        };
        let secs = ts / unit.per_second();
        if secs > YEAR_2200_SECS {
            return Err(format!(
                "timestamp {ts} is after the year 2200 in {}, the unit of the first timestamp \
                 ({}): does the input mix units?",
                unit.name(),
                self.first
            ));
        }
        Sample::from_secs(secs, value).map_err(|e| describe(&e))
    }

    /// The note to print when the timestamps are not seconds.
    pub fn note(&self, label: &str) -> Option<String> {
        let unit = self.unit.filter(|u| *u != EpochUnit::Seconds)?;
        Some(format!(
            "{label}: timestamps read as {} (the first, {}, would be after the year 2200 in \
             seconds)",
            unit.name(),
            self.first
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_guessed_from_extension_then_content() {
        let p = Path::new;
        assert_eq!(guess_format(p("a.csv"), b"{"), Format::Csv);
        assert_eq!(guess_format(p("a.json"), b""), Format::Json);
        assert_eq!(guess_format(p("a.om"), b""), Format::Openmetrics);
        assert_eq!(
            guess_format(p("a"), b"\n {\"timestamps\": []}"),
            Format::Json
        );
        assert_eq!(
            guess_format(p("a"), b"\xef\xbb\xbf{\"timestamps\": []}"),
            Format::Json
        );
        assert_eq!(
            guess_format(p("a"), b"# TYPE x gauge\n"),
            Format::Openmetrics
        );
        assert_eq!(guess_format(p("a"), b"heap 1 2\n"), Format::Openmetrics);
        assert_eq!(
            guess_format(p("a.txt"), b"timestamp,value\n1,2\n"),
            Format::Csv
        );
        assert_eq!(guess_format(p("a"), b"\xff\xfe,1\n"), Format::Csv);
    }

    #[test]
    fn the_first_timestamp_settles_the_unit() {
        let mut c = Clock::default();
        assert_eq!(
            c.sample(1_700_000_000.5, 1.0).unwrap().ts_ms,
            1_700_000_000_500
        );
        assert!(c.note("f").is_none());
        let mut ms = Clock::default();
        assert_eq!(ms.sample(1.7e12, 1.0).unwrap().ts_ms, 1_700_000_000_000);
        assert_eq!(
            ms.sample(1.7e12 + 15_000.0, 1.0).unwrap().ts_ms,
            1_700_000_015_000
        );
        let note = ms.note("f.csv").unwrap();
        assert!(
            note.contains("milliseconds") && note.contains("1700000000000"),
            "{note}"
        );
        // A later nanosecond timestamp in a millisecond file is refused, not read as 50,000 AD.
        assert!(ms.sample(1.7e18, 1.0).unwrap_err().contains("mix units"));
        let mut ns = Clock::default();
        assert_eq!(ns.sample(1.7e18, 1.0).unwrap().ts_ms, 1_700_000_000_000);
        assert!(
            Clock::default()
                .sample(1e13, 1.0)
                .unwrap_err()
                .contains("no date")
        );
        assert!(
            Clock::default()
                .sample(f64::NAN, 1.0)
                .unwrap_err()
                .contains("not finite")
        );
    }
}

//! Where series come from. Each source yields named series of samples, with the place in the
//! source each sample came from so that errors found later (by the core) can name the line.

mod csv;
mod json;
mod openmetrics;

use std::path::{Path, PathBuf};

use leaksense_core::Sample;

use crate::error::CliError;

/// The most series one input may hold; keeps memory bounded on a huge exposition dump.
pub const MAX_SERIES: usize = 10_000;

/// One series read from a source.
#[derive(Debug, Clone)]
pub struct NamedSeries {
    /// `name{label="value",...}` for OpenMetrics, `None` for single-series formats.
    pub name: Option<String>,
    /// The samples in source order (not yet validated: the detector does that).
    pub samples: Vec<Sample>,
    /// Where each sample came from, parallel to `samples`.
    pub origins: Vec<Origin>,
}

/// Where in its source a sample came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A 1-based line number.
    Line(usize),
    /// The index in the `timestamps`/`values` arrays, with its line when it could be found.
    Element { index: usize, line: Option<usize> },
}

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

impl Source {
    /// A short name for messages and reports.
    pub fn label(&self) -> String {
        match self {
            Source::File { path, .. } => file_label(path),
        }
    }

    /// Reads every series of the source.
    pub fn load(&self) -> Result<Vec<NamedSeries>, CliError> {
        match self {
            Source::File {
                path,
                format,
                metric,
            } => load_file(path, *format, metric.as_deref()),
        }
    }
}

fn load_file(
    path: &Path,
    format: Option<Format>,
    metric: Option<&str>,
) -> Result<Vec<NamedSeries>, CliError> {
    let file = file_label(path);
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    let text = read.map_err(|e| CliError::Io {
        file: file.clone(),
        source: e,
    })?;
    let format = format.unwrap_or_else(|| guess_format(path, &text));
    let at = |line: Option<usize>, message: String| CliError::Input {
        file: file.clone(),
        line,
        message,
    };
    let series = match format {
        Format::Csv => vec![csv::parse(&text).map_err(|(l, m)| at(Some(l), m))?],
        Format::Json => vec![json::parse(&text).map_err(|(l, m)| at(l, m))?],
        Format::Openmetrics => openmetrics::parse(&text).map_err(|(l, m)| at(Some(l), m))?,
    };
    if series.iter().all(|s| s.samples.is_empty()) {
        return Err(at(None, "the file holds no samples".into()));
    }
    let Some(metric) = metric else {
        return Ok(series);
    };
    let total = series.len();
    let kept: Vec<NamedSeries> = series
        .into_iter()
        .filter(|s| s.name.as_deref().is_some_and(|n| metric_name(n) == metric))
        .collect();
    if kept.is_empty() {
        return Err(at(
            None,
            format!("none of its {total} series is of metric `{metric}`"),
        ));
    }
    Ok(kept)
}

/// How messages name a file; `-` is standard input.
fn file_label(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

/// The metric name of a series name `name{labels}`.
fn metric_name(series: &str) -> &str {
    series.split('{').next().unwrap_or(series)
}

/// The format named by the extension, else the one the content looks like.
fn guess_format(path: &Path, text: &str) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => return Format::Csv,
        Some("json") => return Format::Json,
        Some("om" | "prom" | "openmetrics") => return Format::Openmetrics,
        _ => {}
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if first.starts_with('{') {
        Format::Json
    } else if first.starts_with('#') || first.contains('{') || first.split_whitespace().count() >= 2
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_guessed_from_extension_then_content() {
        let p = Path::new;
        assert_eq!(guess_format(p("a.csv"), "{"), Format::Csv);
        assert_eq!(guess_format(p("a.json"), ""), Format::Json);
        assert_eq!(guess_format(p("a.om"), ""), Format::Openmetrics);
        assert_eq!(
            guess_format(p("a"), "\n {\"timestamps\": []}"),
            Format::Json
        );
        assert_eq!(
            guess_format(p("a"), "# TYPE x gauge\n"),
            Format::Openmetrics
        );
        assert_eq!(guess_format(p("a"), "heap 1 2\n"), Format::Openmetrics);
        assert_eq!(
            guess_format(p("a.txt"), "timestamp,value\n1,2\n"),
            Format::Csv
        );
    }
}

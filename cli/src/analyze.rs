//! `leaksense analyze`: replays each series through the core's streaming detector, sample by
//! sample as a live process would see them, and keeps every alert state change.

use leaksense_core::InputError;
use leaksense_core::detect::{AlertEvent, Analysis, Detector, DetectorConfig};

use crate::error::CliError;
use crate::input::{NamedSeries, Origin, Source, describe};

/// The result for one series.
#[derive(Debug, Clone)]
pub struct SeriesReport {
    /// The series name (OpenMetrics) or `None`.
    pub name: Option<String>,
    /// First and last sample time (unix ms).
    pub first_ms: i64,
    pub last_ms: i64,
    /// The detector's final analysis.
    pub analysis: Analysis,
    /// Every alert state change, oldest first (the analysis keeps only the newest few).
    pub events: Vec<AlertEvent>,
}

/// Reads `source` and analyzes each of its series with `cfg`.
pub fn run(source: &Source, cfg: &DetectorConfig) -> Result<Vec<SeriesReport>, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    let series = source.load()?;
    series
        .into_iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| replay(&source.label(), s, cfg))
        .collect()
}

fn replay(file: &str, series: NamedSeries, cfg: &DetectorConfig) -> Result<SeriesReport, CliError> {
    let mut detector = Detector::new(cfg.clone()).map_err(CliError::Option)?;
    let mut events = Vec::new();
    for (sample, origin) in series.samples.iter().zip(&series.origins) {
        match detector.update(*sample) {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            Err(e) => return Err(located(file, &series, *origin, &e)),
        }
    }
    Ok(SeriesReport {
        first_ms: series.samples[0].ts_ms,
        last_ms: series.samples[series.samples.len() - 1].ts_ms,
        name: series.name,
        analysis: detector.analysis(),
        events,
    })
}

fn located(file: &str, series: &NamedSeries, origin: Origin, e: &InputError) -> CliError {
    let (line, place) = match origin {
        Origin::Line(l) => (Some(l), String::new()),
        Origin::Element { index, line } => (line, format!("timestamps[{index}]: ")),
    };
    let series = series
        .name
        .as_ref()
        .map(|n| format!("series {n}: "))
        .unwrap_or_default();
    CliError::Input {
        file: file.to_string(),
        line,
        message: format!("{series}{place}{}", describe(e)),
    }
}

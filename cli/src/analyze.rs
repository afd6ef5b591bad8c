//! `leaksense analyze`: replays each series through the core's streaming detector, sample by
//! sample as a live process would see them, and keeps every alert state change.

use leaksense_core::detect::{AlertEvent, AlertState, Analysis, Detector, DetectorConfig, Verdict};
use leaksense_core::report::LeakReport;
use leaksense_core::{InputError, Sample};

use crate::error::CliError;
use crate::input::{NamedSeries, Origin, Source, describe};
use crate::prometheus::Labels;

/// Most points a chart of one series keeps (pairs of bucket minimum and maximum).
pub const CHART_POINTS: usize = 1200;

/// The result for one series.
#[derive(Debug, Clone)]
pub struct SeriesReport {
    /// The series name (`name{labels}`) or `None` for single-series files.
    pub name: Option<String>,
    /// The series' labels, when it came from Prometheus.
    pub labels: Option<Labels>,
    /// First and last sample time (unix ms).
    pub first_ms: i64,
    pub last_ms: i64,
    /// The detector's final analysis.
    pub analysis: Analysis,
    /// Every alert state change, oldest first (the analysis keeps only the newest few).
    pub events: Vec<AlertEvent>,
    /// What a chart of a flagged series needs; `None` for the others (memory stays bounded).
    pub chart: Option<Chart>,
    /// The report with suspect routes, when request counts were given and the series leaks.
    pub report: Option<LeakReport>,
}

/// The samples of a flagged series, thinned to at most [`CHART_POINTS`], and its floor.
#[derive(Debug, Clone)]
pub struct Chart {
    pub samples: Vec<Sample>,
    pub floor: Vec<Sample>,
}

impl SeriesReport {
    /// Whether the report flags this series: it leaks now, or its alert fired during the
    /// range (a leak that follows traffic can resolve overnight and still be a leak).
    pub fn flagged(&self) -> bool {
        self.analysis.verdict == Verdict::Leak
            || self.events.iter().any(|e| e.to == AlertState::Firing)
    }
}

/// Reads `source` and analyzes each of its series with `cfg`.
pub fn run(source: &Source, cfg: &DetectorConfig) -> Result<Vec<SeriesReport>, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    let series = source.load()?;
    let file = source.label();
    series
        .into_iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| {
            replay(s.name.clone(), &s.samples, cfg)
                .map(|(report, _)| report)
                .map_err(|(index, e)| located(&file, &s, s.origins[index], &e))
        })
        .collect()
}

/// Replays `samples` (non-empty) through a new detector. On bad input, the index of the
/// offending sample and the error.
pub fn replay(
    name: Option<String>,
    samples: &[Sample],
    cfg: &DetectorConfig,
) -> Result<(SeriesReport, Vec<Sample>), (usize, InputError)> {
    let mut detector = Detector::new(cfg.clone()).map_err(|e| (0, e))?;
    let mut events = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        match detector.update(*sample) {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            Err(e) => return Err((i, e)),
        }
    }
    let floor = detector.floor();
    let mut report = SeriesReport {
        first_ms: samples[0].ts_ms,
        last_ms: samples[samples.len() - 1].ts_ms,
        name,
        labels: None,
        analysis: detector.analysis(),
        events,
        chart: None,
        report: None,
    };
    if report.flagged() {
        report.chart = Some(Chart {
            samples: thin(samples, CHART_POINTS),
            floor: floor.clone(),
        });
    }
    Ok((report, floor))
}

/// At most `max` samples: the minimum and the maximum of each of `max / 2` equal buckets, in
/// time order, so that a GC sawtooth keeps its troughs and peaks.
pub fn thin(samples: &[Sample], max: usize) -> Vec<Sample> {
    let buckets = (max / 2).max(1);
    if samples.len() <= max {
        return samples.to_vec();
    }
    let mut out = Vec::with_capacity(buckets * 2);
    let per = samples.len().div_ceil(buckets);
    for chunk in samples.chunks(per) {
        let lo = chunk.iter().min_by(|a, b| a.value.total_cmp(&b.value));
        let hi = chunk.iter().max_by(|a, b| a.value.total_cmp(&b.value));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let (a, b) = if lo.ts_ms <= hi.ts_ms {
                (lo, hi)
            } else {
                (hi, lo)
            };
            out.push(*a);
            if b.ts_ms != a.ts_ms {
                out.push(*b);
            }
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_troughs_and_peaks_in_order() {
        let s: Vec<Sample> = (0..10_000)
            .map(|i| Sample {
                ts_ms: i * 15_000,
                value: (i % 40) as f64,
            })
            .collect();
        let t = thin(&s, 100);
        assert!(t.len() <= 100);
        assert!(t.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
        assert_eq!(t.iter().map(|x| x.value).fold(f64::INFINITY, f64::min), 0.0);
        assert_eq!(t.iter().map(|x| x.value).fold(0.0, f64::max), 39.0);
        assert_eq!(thin(&s[..50], 100), s[..50].to_vec());
    }
}

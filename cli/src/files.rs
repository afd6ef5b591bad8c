//! Analysis of a file's series: a whole file read at once and replayed series by series, or an
//! OpenMetrics file streamed line by line (`stream`).

use leaksense_core::InputError;
use leaksense_core::detect::{Detector, DetectorConfig};

use crate::analyze::{SeriesReport, replay};
use crate::error::CliError;
use crate::input::{NamedSeries, Origin, Source, describe};

/// Reads `source` and analyzes each of its series with `cfg`.
pub fn run(source: &Source, cfg: &DetectorConfig) -> Result<Vec<SeriesReport>, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    if let Some((path, metric)) = source.openmetrics_stream() {
        return crate::stream::openmetrics(path, metric, cfg);
    }
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

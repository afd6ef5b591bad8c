//! Analysis of a file's series: a whole file read at once and replayed series by series, or an
//! OpenMetrics file streamed line by line (`stream`).

use leaksense_core::InputError;
use leaksense_core::detect::{Detector, DetectorConfig};

use crate::analyze::{SeriesReport, Traffic, replay};
use crate::error::CliError;
use crate::input::{NamedSeries, Origin, Source, describe};

/// Reads `source` and analyzes each of its series with `cfg`, each fed `traffic` as the
/// covariate.
pub fn run(
    source: &Source,
    cfg: &DetectorConfig,
    traffic: Option<&Traffic>,
) -> Result<Vec<SeriesReport>, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    if let Some((path, metric)) = source.openmetrics_stream() {
        return crate::stream::openmetrics(path, metric, cfg, traffic);
    }
    let series = source.load()?;
    let file = source.label();
    series
        .into_iter()
        .filter(|s| !s.samples.is_empty())
        .map(|s| {
            replay(s.name.clone(), &s.samples, traffic.cloned(), cfg)
                .map(|(report, _)| report)
                .map_err(|(index, e)| located(&file, &s, s.origins[index], &e))
        })
        .collect()
}

/// Reads a file of request rates (one series: CSV `timestamp,value`, JSON or OpenMetrics, as
/// `--input`) for `--traffic`: finite, not negative, in time order.
pub fn traffic(path: &std::path::Path) -> Result<Traffic, CliError> {
    let source = Source::File {
        path: path.to_path_buf(),
        format: None,
        metric: None,
    };
    let file = source.label();
    let mut series: Vec<NamedSeries> = source
        .load()?
        .into_iter()
        .filter(|s| !s.samples.is_empty())
        .collect();
    let bad = |message: String| CliError::Input {
        file: file.clone(),
        line: None,
        message,
    };
    if series.len() != 1 {
        return Err(bad(format!(
            "--traffic takes one series of request rates, found {}",
            series.len()
        )));
    }
    let s = series.remove(0);
    leaksense_core::series::validate(&s.samples)
        .map_err(|e| located(&file, &s, s.origins[index_of(&e)], &e))?;
    if let Some(i) = s.samples.iter().position(|x| x.value < 0.0) {
        let e = InputError::invalid_option("traffic", "a request rate cannot be negative");
        return Err(located(&file, &s, s.origins[i], &e));
    }
    Ok(std::sync::Arc::new(s.samples))
}

/// The index of the sample an input error is about (0 when it names none).
fn index_of(e: &InputError) -> usize {
    match e {
        InputError::NonFinite { index, .. } | InputError::OutOfOrder { index, .. } => *index,
        _ => 0,
    }
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

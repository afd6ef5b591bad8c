//! Analysis of a file's series, streamed whatever its format: OpenMetrics line by line with
//! its series spread over workers, CSV row by row, JSON through two readers at once (`stream`).
//! Memory stays bounded by the number of series, not by the file's length.

use leaksense_core::Sample;
use leaksense_core::detect::{Detector, DetectorConfig};

use crate::analyze::Traffic;
use crate::error::CliError;
use crate::input::openmetrics::Lines;
use crate::input::{Clock, Format, LineReader, Source, csv, json};
use crate::stream::Analyzed;

/// Reads `source` and analyzes each of its series with `cfg`, each fed `traffic` as the
/// covariate; also returns a note when the timestamps were read in a unit other than seconds.
pub fn run(
    source: &Source,
    cfg: &DetectorConfig,
    traffic: Option<&Traffic>,
) -> Result<Analyzed, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    let input = source.open()?;
    match input.format {
        Format::Openmetrics => crate::stream::openmetrics(input, cfg, traffic),
        Format::Csv | Format::Json => crate::stream::single(input, cfg, traffic),
    }
}

/// The most request rates `--traffic` holds (16 MiB of samples): a year at a 30 s step fits.
pub const MAX_TRAFFIC_RATES: usize = 1 << 20;

/// Reads a file of request rates for `--traffic`: one series, in any format `--input` reads;
/// finite, not negative, in time order. (The detector replays it beside every series, so it is
/// held whole, up to [`MAX_TRAFFIC_RATES`]: one series, not a fleet.)
pub fn traffic(path: &std::path::Path) -> Result<Traffic, CliError> {
    let source = Source::File {
        path: path.to_path_buf(),
        format: None,
        metric: None,
    };
    let input = source.open()?;
    let label = input.label.clone();
    let at = |line: Option<usize>, message: String| CliError::Input {
        file: label.clone(),
        line,
        message,
    };
    let mut rates: Vec<Sample> = Vec::new();
    let mut clock = Clock::default();
    let push = |s: Sample, rates: &mut Vec<Sample>| -> Result<(), String> {
        if !s.value.is_finite() {
            return Err("a request rate must be a finite number".into());
        }
        if s.value < 0.0 {
            return Err("a request rate cannot be negative".into());
        }
        if rates.last().is_some_and(|last| s.ts_ms <= last.ts_ms) {
            return Err("timestamps must increase".into());
        }
        if rates.len() == MAX_TRAFFIC_RATES {
            return Err(format!(
                "more than {MAX_TRAFFIC_RATES} request rates, the cap on --traffic: give them \
                 at a coarser step"
            ));
        }
        rates.push(s);
        Ok(())
    };
    match input.format {
        Format::Csv => csv::read(input.reader, &mut clock, |_, s| push(s, &mut rates))
            .map_err(|(l, m)| at(Some(l), m))?,
        Format::Json => {
            let file = input.into_file()?;
            json::read(&file, &mut clock, |_, s| push(s, &mut rates)).map_err(|(l, m)| at(l, m))?
        }
        Format::Openmetrics => {
            let mut reader = LineReader::new(input.reader);
            let mut lines = Lines::default();
            let mut series: Option<String> = None;
            while let Some((line, raw)) = reader.next_line().map_err(|(l, m)| at(Some(l), m))? {
                let Some((key, sample)) = lines.next(line, raw).map_err(|m| at(Some(line), m))?
                else {
                    continue;
                };
                if series.as_ref().is_some_and(|k| *k != key) {
                    return Err(at(
                        None,
                        "--traffic takes one series of request rates, found 2 or more".into(),
                    ));
                }
                series.get_or_insert(key);
                push(sample, &mut rates).map_err(|m| at(Some(line), m))?;
            }
            0
        }
    };
    if rates.is_empty() {
        return Err(at(None, "the file holds no request rates".into()));
    }
    Ok(std::sync::Arc::new(rates))
}

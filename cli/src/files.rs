//! Analysis of a file's series, streamed whatever its format: OpenMetrics line by line with
//! its series spread over workers, CSV row by row, JSON through two readers at once (`stream`).
//! Memory stays bounded by the number of series, not by the file's length.

use leaksense_core::detect::{Detector, DetectorConfig};

use crate::error::CliError;
use crate::input::{Format, Source};
use crate::stream::Analyzed;

/// Reads `source` and analyzes each of its series with `cfg`; also returns a note when the
/// timestamps were read in a unit other than seconds.
pub fn run(source: &Source, cfg: &DetectorConfig) -> Result<Analyzed, CliError> {
    // Refuse bad options before reading anything.
    Detector::new(cfg.clone()).map_err(CliError::Option)?;
    let input = source.open()?;
    match input.format {
        Format::Openmetrics => crate::stream::openmetrics(input, cfg),
        Format::Csv | Format::Json => crate::stream::single(input, cfg),
    }
}

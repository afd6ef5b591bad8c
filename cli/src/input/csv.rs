//! `timestamp,value` CSV (unix seconds, or a finer unit the first timestamp shows). The header
//! is optional; blank lines and `#` comments are skipped. Read row by row.

use std::io::BufRead;

use leaksense_core::Sample;

use super::{Clock, LineReader};
use crate::safe::{QUOTE_MAX, clip};

/// Reads every row of `reader`, handing each sample and its 1-based line to `push`; returns
/// the number of samples. An error (the input's or `push`'s) carries its line.
pub fn read(
    reader: impl BufRead,
    clock: &mut Clock,
    mut push: impl FnMut(usize, Sample) -> Result<(), String>,
) -> Result<usize, (usize, String)> {
    let mut lines = LineReader::new(reader);
    let mut seen_row = false;
    let mut samples = 0;
    while let Some((line, raw)) = lines.next_line()? {
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let first_row = !seen_row;
        seen_row = true;
        let Some((ts, value)) = parse_row(row, first_row).map_err(|m| (line, m))? else {
            continue; // the header
        };
        let sample = clock.sample(ts, value).map_err(|m| (line, m))?;
        push(line, sample).map_err(|m| (line, m))?;
        samples += 1;
    }
    Ok(samples)
}

/// A data row's two numbers; `None` for a header (a first row of two non-numbers).
fn parse_row(row: &str, first_row: bool) -> Result<Option<(f64, f64)>, String> {
    let mut fields = row.split(',').map(str::trim);
    let (Some(ts), Some(value), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!(
            "expected 2 fields `timestamp,value`, found {}: {:?}",
            row.split(',').count(),
            clip(row, QUOTE_MAX)
        ));
    };
    let (t, v) = (ts.parse::<f64>(), value.parse::<f64>());
    if first_row && t.is_err() && v.is_err() {
        return Ok(None);
    }
    let t = t.map_err(|_| format!("timestamp {:?} is not a number", clip(ts, QUOTE_MAX)))?;
    let v = v.map_err(|_| format!("value {:?} is not a number", clip(value, QUOTE_MAX)))?;
    Ok(Some((t, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All samples and lines, or the error.
    pub(crate) fn parse(text: &str) -> Result<Vec<(usize, Sample)>, (usize, String)> {
        let mut out = Vec::new();
        read(text.as_bytes(), &mut Clock::default(), |l, s| {
            out.push((l, s));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_rows_after_an_optional_header() {
        let s = parse("timestamp,value\n\n1.5, 10\n# note\n2,11\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1.ts_ms, 1500);
        assert_eq!((s[0].0, s[1].0), (3, 5));
        assert_eq!(parse("1,2\n3,4\n").unwrap().len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[a-z,. #0-9\nNaIf+-]{0,200}") {
            if let Err((line, _)) = parse(&text) {
                proptest::prop_assert!(line >= 1 && line <= text.lines().count());
            }
        }
    }

    #[test]
    fn errors_name_the_line_and_quote_at_most_a_little() {
        assert_eq!(parse("t,v\n1,2\n2,x\n").unwrap_err().0, 3);
        assert_eq!(parse("t,v\n1,2,3\n").unwrap_err().0, 2);
        assert_eq!(parse("t,v\nNaN,2\n").unwrap_err().0, 2);
        assert!(parse("t,v\n1,NaN\n").unwrap_err().1.contains("not finite"));
        let long = format!("1,2\n{}\n", "z".repeat(100_000));
        let (line, msg) = parse(&long).unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.len() < 400 && msg.contains("(100000 bytes)"), "{msg}");
    }

    #[test]
    fn millisecond_timestamps_are_converted() {
        let s = parse("1700000000000,5\n1700000015000,6\n").unwrap();
        assert_eq!(s[1].1.ts_ms - s[0].1.ts_ms, 15_000);
    }
}

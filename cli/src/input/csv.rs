//! `timestamp,value` CSV (unix seconds). The header is optional; blank lines and `#` comments
//! are skipped.

use leaksense_core::Sample;

use super::{NamedSeries, Origin};

/// Parses CSV text; an error carries its 1-based line.
pub fn parse(text: &str) -> Result<NamedSeries, (usize, String)> {
    let mut out = NamedSeries {
        name: None,
        samples: Vec::new(),
        origins: Vec::new(),
    };
    let mut seen_row = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = row.split(',').map(str::trim).collect();
        if fields.len() != 2 {
            return Err((
                line,
                format!(
                    "expected 2 fields `timestamp,value`, found {}: {row:?}",
                    fields.len()
                ),
            ));
        }
        let first_row = !seen_row;
        seen_row = true;
        let ts = fields[0].parse::<f64>();
        if first_row && ts.is_err() && fields[1].parse::<f64>().is_err() {
            continue; // the header
        }
        let ts = ts.map_err(|_| (line, format!("timestamp {:?} is not a number", fields[0])))?;
        let value = fields[1]
            .parse::<f64>()
            .map_err(|_| (line, format!("value {:?} is not a number", fields[1])))?;
        let sample = Sample::from_secs(ts, value).map_err(|e| (line, super::describe(&e)))?;
        out.samples.push(sample);
        out.origins.push(Origin::Line(line));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_after_an_optional_header() {
        let s = parse("timestamp,value\n\n1.5, 10\n# note\n2,11\n").unwrap();
        assert_eq!(s.samples.len(), 2);
        assert_eq!(s.samples[0].ts_ms, 1500);
        assert_eq!(s.origins, vec![Origin::Line(3), Origin::Line(5)]);
        assert_eq!(parse("1,2\n3,4\n").unwrap().samples.len(), 2);
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
    fn errors_name_the_line() {
        assert_eq!(parse("t,v\n1,2\n2,x\n").unwrap_err().0, 3);
        assert_eq!(parse("t,v\n1,2,3\n").unwrap_err().0, 2);
        assert_eq!(parse("t,v\nNaN,2\n").unwrap_err().0, 2);
        assert!(parse("t,v\n1,NaN\n").unwrap_err().1.contains("not finite"));
    }
}

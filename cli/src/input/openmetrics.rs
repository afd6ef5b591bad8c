//! OpenMetrics text with timestamps (unix seconds, or a finer unit the first timestamp
//! shows): `name{l="v"} value timestamp` lines, `#` metadata lines, and an optional final
//! `# EOF`. Each distinct label set is one series; `crate::stream` reads them line by line.

use leaksense_core::Sample;

use super::Clock;
use crate::safe::{QUOTE_MAX, clip};

/// A line-by-line OpenMetrics reader: each call takes the next line and returns its sample,
/// if it holds one.
#[derive(Debug, Default)]
pub struct Lines {
    eof_line: Option<usize>,
    clock: Clock,
}

impl Lines {
    /// Whether `# EOF` has not been seen yet (sample lines are still allowed).
    pub fn in_body(&self) -> bool {
        self.eof_line.is_none()
    }

    /// The value and timestamp fields of a sample line without exemplar, parsed, if valid;
    /// `None` sends the caller to [`Lines::next`], which says what is wrong.
    pub fn fast_fields(&mut self, value: &str, ts: &str) -> Option<Sample> {
        let value = parse_number(value)?;
        let ts = parse_number(ts)?;
        self.clock.sample(ts, value).ok()
    }

    /// The note to print when the timestamps are not seconds.
    pub fn note(&self, label: &str) -> Option<String> {
        self.clock.note(label)
    }

    /// The series key (`name{k="v",...}`, labels sorted) and sample of line `line`, `None` for
    /// metadata and blank lines, or why the line is bad.
    pub fn next(&mut self, line: usize, raw: &str) -> Result<Option<(String, Sample)>, String> {
        let row = raw.trim();
        if let Some(eof) = self.eof_line {
            if row.is_empty() {
                return Ok(None);
            }
            return Err(format!("content after `# EOF` (line {eof})"));
        }
        if row == "# EOF" {
            self.eof_line = Some(line);
            return Ok(None);
        }
        if row.is_empty() || row.starts_with('#') {
            return Ok(None);
        }
        let (key, rest) = series_key(row)?;
        // An exemplar (` # {...} ...`) may follow the sample; it is not part of the series.
        let rest = rest.split(" # ").next().unwrap_or(rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (value, ts) = match fields.as_slice() {
            [v, t] => (*v, *t),
            [_] => {
                return Err(
                    "sample has no timestamp; analyze needs `name value unix_seconds`".into(),
                );
            }
            _ => {
                return Err(format!(
                    "expected `value timestamp` after {}",
                    clip(&key, QUOTE_MAX)
                ));
            }
        };
        let value = parse_number(value)
            .ok_or_else(|| format!("value {:?} is not a number", clip(value, QUOTE_MAX)))?;
        let ts = parse_number(ts)
            .ok_or_else(|| format!("timestamp {:?} is not a number", clip(ts, QUOTE_MAX)))?;
        let sample = self.clock.sample(ts, value)?;
        Ok(Some((key, sample)))
    }
}

/// OpenMetrics numbers, including `NaN`, `+Inf` and `-Inf`.
fn parse_number(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok().filter(|x: &f64| x.is_finite()),
    }
}

/// The series of a sample line, as `name{k="v",...}` with labels sorted, and the rest of the
/// line after it.
fn series_key(row: &str) -> Result<(String, &str), String> {
    let name_end = row
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(row.len());
    let name = &row[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "expected a metric name at the start of {:?}",
            clip(row, QUOTE_MAX)
        ));
    }
    let rest = &row[name_end..];
    let Some(body) = rest.strip_prefix('{') else {
        return Ok((name.to_string(), rest));
    };
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut chars = body.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| *c == ' ' || *c == ',').is_some() {}
        match chars.peek() {
            Some((i, '}')) => {
                let after = &body[i + 1..];
                if labels.is_empty() {
                    return Ok((name.to_string(), after));
                }
                labels.sort();
                let inner: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                return Ok((format!("{name}{{{}}}", inner.join(",")), after));
            }
            None => return Err("unterminated label set".into()),
            _ => {}
        }
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && *c != '}') {
            key.push(c);
        }
        if chars.next().map(|(_, c)| c) != Some('=') || chars.next().map(|(_, c)| c) != Some('"') {
            return Err(format!(
                "expected `label=\"value\"` in {:?}",
                clip(row, QUOTE_MAX)
            ));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err("unterminated label value".into()),
                },
                Some((_, '"')) => break,
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        }
        labels.push((key.trim().to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_may_hold_spaces_braces_and_escapes() {
        let (key, rest) = series_key(r#"m{a="x} y",b="q\"z"} 1 2"#).unwrap();
        assert_eq!(key, r#"m{a="x} y",b="q\"z"}"#);
        assert_eq!(rest, " 1 2");
        assert_eq!(series_key("m{} 1 2").unwrap().0, "m");
    }

    #[test]
    fn bad_lines_say_what_is_wrong_and_quote_little() {
        let mut l = Lines::default();
        assert!(l.next(1, "a 1").unwrap_err().contains("no timestamp"));
        assert!(l.next(1, "a x 2").unwrap_err().contains("not a number"));
        assert!(l.next(1, "a NaN 1").unwrap_err().contains("not finite"));
        let long = format!("{{x=\"{}\"}} 1 1", "y".repeat(10_000));
        let e = l.next(1, &long).unwrap_err();
        assert!(e.len() < 400, "{e}");
        assert_eq!(l.next(2, "# EOF"), Ok(None));
        assert!(
            l.next(3, "a 1 1")
                .unwrap_err()
                .contains("after `# EOF` (line 2)")
        );
    }
}

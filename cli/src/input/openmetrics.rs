//! OpenMetrics text with timestamps (unix seconds): `name{l="v"} value timestamp` lines,
//! `#` metadata lines, and an optional final `# EOF`. Each distinct label set is one series.

use std::collections::HashMap;

use leaksense_core::Sample;

use super::{MAX_SERIES, NamedSeries, Origin};

/// Parses OpenMetrics text into its series, in order of first appearance.
pub fn parse(text: &str) -> Result<Vec<NamedSeries>, (usize, String)> {
    let mut series: Vec<NamedSeries> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut eof_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let row = raw.trim();
        if let Some(eof) = eof_line {
            if row.is_empty() {
                continue;
            }
            return Err((line, format!("content after `# EOF` (line {eof})")));
        }
        if row == "# EOF" {
            eof_line = Some(line);
            continue;
        }
        if row.is_empty() || row.starts_with('#') {
            continue;
        }
        let (key, rest) = series_key(row).map_err(|m| (line, m))?;
        // An exemplar (` # {...} ...`) may follow the sample; it is not part of the series.
        let rest = rest.split(" # ").next().unwrap_or(rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (value, ts) = match fields.as_slice() {
            [v, t] => (*v, *t),
            [_] => {
                return Err((
                    line,
                    "sample has no timestamp; analyze needs `name value unix_seconds`".into(),
                ));
            }
            _ => return Err((line, format!("expected `value timestamp` after {key}"))),
        };
        let value = parse_number(value)
            .ok_or_else(|| (line, format!("value {value:?} is not a number")))?;
        let ts =
            parse_number(ts).ok_or_else(|| (line, format!("timestamp {ts:?} is not a number")))?;
        let sample = Sample::from_secs(ts, value).map_err(|e| (line, super::describe(&e)))?;
        let at = match index.get(&key) {
            Some(&at) => at,
            None => {
                if series.len() == MAX_SERIES {
                    return Err((line, format!("more than {MAX_SERIES} series")));
                }
                index.insert(key.clone(), series.len());
                series.push(NamedSeries {
                    name: Some(key),
                    samples: Vec::new(),
                    origins: Vec::new(),
                });
                series.len() - 1
            }
        };
        series[at].samples.push(sample);
        series[at].origins.push(Origin::Line(line));
    }
    Ok(series)
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
        return Err(format!("expected a metric name at the start of {row:?}"));
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
            return Err(format!("expected `label=\"value\"` in {row:?}"));
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
    fn groups_samples_by_label_set() {
        let text = "# TYPE heap gauge\nheap{pod=\"b\",app=\"x\"} 1 10\nheap{app=\"x\", pod=\"b\"} 2 20\n\
                    heap{app=\"x\",pod=\"c\"} 5 10.5 # {trace_id=\"1\"} 1 1\nup 1 3\n# EOF\n";
        let s = parse(text).unwrap();
        let names: Vec<_> = s.iter().map(|x| x.name.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "heap{app=\"x\",pod=\"b\"}",
                "heap{app=\"x\",pod=\"c\"}",
                "up"
            ]
        );
        assert_eq!(s[0].samples.len(), 2);
        assert_eq!(s[1].samples[0].ts_ms, 10_500);
        assert_eq!(s[0].origins, vec![Origin::Line(2), Origin::Line(3)]);
    }

    #[test]
    fn label_values_may_hold_spaces_braces_and_escapes() {
        let (key, rest) = series_key(r#"m{a="x} y",b="q\"z"} 1 2"#).unwrap();
        assert_eq!(key, r#"m{a="x} y",b="q\"z"}"#);
        assert_eq!(rest, " 1 2");
        assert_eq!(series_key("m{} 1 2").unwrap().0, "m");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[a-z{}=\",. #0-9\\\nEOFNaInf+-]{0,200}") {
            match parse(&text) {
                Ok(series) => {
                    for s in series {
                        proptest::prop_assert_eq!(s.samples.len(), s.origins.len());
                    }
                }
                Err((line, _)) => {
                    proptest::prop_assert!(line >= 1 && line <= text.lines().count());
                }
            }
        }
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("a 1 1\na 2\n").unwrap_err().0, 2);
        assert_eq!(parse("a 1 1\na x 2\n").unwrap_err().0, 2);
        assert_eq!(parse("a 1 1\na{b=\"1 2 3\n").unwrap_err().0, 2);
        assert_eq!(parse("a 1 1\n# EOF\na 2 2\n").unwrap_err().0, 3);
        assert!(parse("a NaN 1\n").unwrap_err().1.contains("not finite"));
        assert_eq!(parse("a 1 1\n{x=\"1\"} 2 2\n").unwrap_err().0, 2);
    }
}

//! `{"timestamps": [...], "values": [...]}` JSON (unix seconds).

use leaksense_core::Sample;

use super::{NamedSeries, Origin};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    timestamps: Vec<f64>,
    values: Vec<f64>,
}

/// Parses JSON text; an error carries its 1-based line when known.
pub fn parse(text: &str) -> Result<NamedSeries, (Option<usize>, String)> {
    let doc: Doc = serde_json::from_str(text).map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        (line, format!("invalid JSON input: {e}"))
    })?;
    if doc.timestamps.len() != doc.values.len() {
        return Err((
            None,
            format!(
                "`timestamps` has {} entries but `values` has {}",
                doc.timestamps.len(),
                doc.values.len()
            ),
        ));
    }
    let lines = element_lines(text, "timestamps");
    let mut out = NamedSeries {
        name: None,
        samples: Vec::with_capacity(doc.values.len()),
        origins: Vec::with_capacity(doc.values.len()),
    };
    for (index, (&t, &v)) in doc.timestamps.iter().zip(&doc.values).enumerate() {
        let line = lines.get(index).copied();
        let origin = Origin::Element { index, line };
        let sample = Sample::from_secs(t, v).map_err(|e| {
            (
                line,
                format!("timestamps[{index}]: {}", super::describe(&e)),
            )
        })?;
        out.samples.push(sample);
        out.origins.push(origin);
    }
    Ok(out)
}

/// The 1-based line of each element of the array under `"key"`, found by a light scan (the
/// arrays hold only numbers). Empty when the layout is not the simple one expected.
fn element_lines(text: &str, key: &str) -> Vec<usize> {
    let Some(k) = text.find(&format!("\"{key}\"")) else {
        return Vec::new();
    };
    let Some(open) = text[k..].find('[').map(|o| k + o) else {
        return Vec::new();
    };
    let mut line = 1 + text[..open].matches('\n').count();
    let mut out = Vec::new();
    let mut expecting = true;
    for c in text[open + 1..].chars() {
        match c {
            ']' => break,
            '\n' => line += 1,
            ',' => expecting = true,
            c if c.is_whitespace() => {}
            _ if expecting => {
                out.push(line);
                expecting = false;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parallel_arrays_and_finds_element_lines() {
        let text = "{\n \"timestamps\": [\n  1,\n  2.5\n ],\n \"values\": [3, 4]\n}";
        let s = parse(text).unwrap();
        assert_eq!(s.samples[1].ts_ms, 2500);
        assert_eq!(
            s.origins[1],
            Origin::Element {
                index: 1,
                line: Some(4)
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[a-z\"{}\\[\\]:,. 0-9\n-]{0,200}") {
            if let Ok(s) = parse(&text) {
                proptest::prop_assert_eq!(s.samples.len(), s.origins.len());
            }
        }

        #[test]
        fn never_panics_on_near_valid_documents(
            ts in proptest::collection::vec(proptest::num::f64::ANY, 0..8),
            vs in proptest::collection::vec(proptest::num::f64::ANY, 0..8),
        ) {
            let text = serde_json::json!({"timestamps": ts, "values": vs}).to_string();
            let accepted = parse(&text).is_ok();
            // Non-finite numbers serialize as null, which is not a number: refused.
            let valid = ts.len() == vs.len() && ts.iter().chain(&vs).all(|x| x.is_finite())
                && ts.iter().all(|t| t.abs() < 9e12);
            proptest::prop_assert_eq!(accepted, valid);
        }
    }

    #[test]
    fn errors_are_located() {
        assert_eq!(
            parse("{\n\"timestamps\": [1,\n x]}").unwrap_err().0,
            Some(3)
        );
        assert!(
            parse(r#"{"timestamps": [1], "values": []}"#)
                .unwrap_err()
                .1
                .contains("has 1")
        );
        assert!(parse(r#"{"timestamps": [1], "valuez": [1]}"#).is_err());
    }
}

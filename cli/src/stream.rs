//! Inputs analyzed as they are read. OpenMetrics: one thread reads and parses, worker threads
//! own the series (each series always goes to the same worker, so its samples stay in order)
//! and feed their detectors. CSV and JSON: one series, fed sample by sample. Memory is bounded
//! by the number of series, not the input's length.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc;

use leaksense_core::Sample;
use leaksense_core::detect::DetectorConfig;

use crate::analyze::{Live, SeriesReport};
use crate::error::CliError;
use crate::input::openmetrics::Lines;
use crate::input::{
    Clock, Format, Input, LineReader, MAX_SERIES, csv, describe, json, metric_name,
};

/// Samples sent to a worker at once.
const BATCH: usize = 4096;

enum Msg {
    /// A new series with its index and name.
    New(usize, String),
    /// Samples: series index, line, sample.
    Samples(Vec<(usize, usize, Sample)>),
}

/// A worker's failure: the line and the message.
type Failure = (usize, String);

/// What an input gave: a report per series, and a note when its timestamps were not seconds.
pub type Analyzed = (Vec<SeriesReport>, Option<String>);

/// Analyzes a single-series input (CSV or JSON).
pub fn single(input: Input, cfg: &DetectorConfig) -> Result<Analyzed, CliError> {
    let label = input.label.clone();
    let at = |line: Option<usize>, message: String| CliError::Input {
        file: label.clone(),
        line,
        message,
    };
    if let Some(m) = &input.metric {
        return Err(at(
            None,
            format!(
                "--metric {} applies to OpenMetrics input; this is one unnamed series",
                crate::safe::clip(m, crate::safe::QUOTE_MAX)
            ),
        ));
    }
    let mut live = Live::new(None, cfg).map_err(CliError::Option)?;
    let mut clock = Clock::default();
    let push = |s: Sample, live: &mut Live| live.push(s).map_err(|e| describe(&e));
    let samples = match input.format {
        Format::Csv => csv::read(input.reader, &mut clock, |_, s| push(s, &mut live))
            .map_err(|(l, m)| at(Some(l), m))?,
        Format::Json => {
            let file = input.into_file()?;
            json::read(&file, &mut clock, |_, s| push(s, &mut live)).map_err(|(l, m)| at(l, m))?
        }
        Format::Openmetrics => unreachable!("OpenMetrics goes to `openmetrics`"),
    };
    if samples == 0 {
        return Err(at(None, "the file holds no samples".into()));
    }
    Ok((vec![live.finish().0], clock.note(&label)))
}

/// Analyzes an OpenMetrics input, keeping only series of `input.metric` when given.
pub fn openmetrics(input: Input, cfg: &DetectorConfig) -> Result<Analyzed, CliError> {
    let file = input.label.clone();
    let metric = input.metric.as_deref();
    let mut reader = LineReader::new(input.reader);
    let at = |line: Option<usize>, message: String| CliError::Input {
        file: file.clone(),
        line,
        message,
    };
    // One worker per core beyond the reader's, at least one.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Msg>(8);
            senders.push(tx);
            handles.push(scope.spawn(move || work(rx, cfg)));
        }
        let mut batches: Vec<Vec<(usize, usize, Sample)>> =
            (0..workers).map(|_| Vec::with_capacity(BATCH)).collect();
        let read = (|| -> Result<(usize, Option<String>), CliError> {
            let mut lines = Lines::default();
            let mut index: HashMap<String, usize> = HashMap::new();
            // Raw series text as written (label order, spacing) -> series, to skip parsing labels.
            let mut raw_index: HashMap<String, usize> = HashMap::new();
            let mut skipped: HashSet<String> = HashSet::new();
            let mut names = 0usize;
            while let Some((line, buf)) = reader.next_line().map_err(|(l, m)| at(Some(l), m))? {
                let row = buf.trim();
                let mut fields = None;
                if lines.in_body() && !row.starts_with('#') && !row.contains(" # ") {
                    let mut it = row.rsplitn(3, ' ');
                    if let (Some(ts), Some(value), Some(raw)) = (it.next(), it.next(), it.next()) {
                        fields = Some((raw.trim_end(), value, ts));
                    }
                }
                let fast = fields.and_then(|(raw, value, ts)| {
                    let i = *raw_index.get(raw)?;
                    Some((i, lines.fast_fields(value, ts)?))
                });
                let (i, sample) = match fast {
                    Some(hit) => hit,
                    None => {
                        let Some((key, sample)) =
                            lines.next(line, buf).map_err(|m| at(Some(line), m))?
                        else {
                            continue;
                        };
                        if metric.is_some_and(|m| metric_name(&key) != m) {
                            if skipped.len() < MAX_SERIES {
                                skipped.insert(key);
                            }
                            continue;
                        }
                        let i = match index.get(&key) {
                            Some(&i) => i,
                            None => {
                                if names == MAX_SERIES {
                                    return Err(at(
                                        Some(line),
                                        format!("more than {MAX_SERIES} series"),
                                    ));
                                }
                                index.insert(key.clone(), names);
                                // A dead worker has failed; its error is collected below.
                                let _ = senders[names % workers].send(Msg::New(names, key));
                                names += 1;
                                names - 1
                            }
                        };
                        if let Some((raw, _, _)) = fields
                            && raw_index.len() < 4 * MAX_SERIES
                        {
                            raw_index.insert(raw.to_string(), i);
                        }
                        (i, sample)
                    }
                };
                let w = i % workers;
                batches[w].push((i, line, sample));
                if batches[w].len() == BATCH {
                    let full = std::mem::replace(&mut batches[w], Vec::with_capacity(BATCH));
                    let _ = senders[w].send(Msg::Samples(full));
                }
            }
            if names == 0 {
                return Err(match metric {
                    Some(m) if !skipped.is_empty() => at(
                        None,
                        format!(
                            "none of its {} series is of metric `{}`",
                            skipped.len(),
                            crate::safe::clip(m, crate::safe::QUOTE_MAX)
                        ),
                    ),
                    _ => at(None, "the file holds no samples".into()),
                });
            }
            Ok((names, lines.note(&file)))
        })();
        for (tx, batch) in senders.into_iter().zip(batches) {
            if !batch.is_empty() {
                let _ = tx.send(Msg::Samples(batch));
            }
        }
        let mut done: Vec<(usize, SeriesReport)> = Vec::new();
        let mut failure: Option<Failure> = None;
        for h in handles {
            match h.join().expect("a worker panicked") {
                Ok(mut reports) => done.append(&mut reports),
                // The earliest line is the first error a sequential read would have met.
                Err(f) => {
                    if failure.as_ref().is_none_or(|g| f.0 < g.0) {
                        failure = Some(f);
                    }
                }
            }
        }
        match (read, failure) {
            (Err(e), None) => Err(e),
            (Err(CliError::Input { line: Some(l), .. }), Some((fl, m))) if fl < l => {
                Err(at(Some(fl), m))
            }
            (Err(e), Some(_)) => Err(e),
            (Ok(_), Some((line, m))) => Err(at(Some(line), m)),
            (Ok((names, note)), None) => {
                done.sort_by_key(|(i, _)| *i);
                debug_assert_eq!(done.len(), names);
                Ok((done.into_iter().map(|(_, r)| r).collect(), note))
            }
        }
    })
}

/// A worker: owns its series' detectors; stops at the first bad sample.
fn work(
    rx: mpsc::Receiver<Msg>,
    cfg: &DetectorConfig,
) -> Result<Vec<(usize, SeriesReport)>, Failure> {
    let mut live: HashMap<usize, (String, Live)> = HashMap::new();
    for msg in rx {
        match msg {
            Msg::New(i, name) => {
                let l = Live::new(Some(name.clone()), cfg).map_err(|e| (0, e.to_string()))?;
                live.insert(i, (name, l));
            }
            Msg::Samples(batch) => {
                for (i, line, sample) in batch {
                    let (name, l) = live.get_mut(&i).expect("New precedes samples");
                    l.push(sample).map_err(|e| {
                        let name = crate::safe::clip(name, crate::safe::QUOTE_MAX);
                        (line, format!("series {name}: {}", describe(&e)))
                    })?;
                }
            }
        }
    }
    Ok(live
        .into_iter()
        .map(|(i, (_, l))| (i, l.finish().0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str, format: Format) -> Input {
        Input::from_reader(
            "test",
            format,
            None,
            Box::new(std::io::Cursor::new(text.to_string())),
        )
    }

    fn om(text: &str) -> Result<Analyzed, CliError> {
        openmetrics(input(text, Format::Openmetrics), &DetectorConfig::default())
    }

    fn line_of(e: CliError) -> Option<usize> {
        match e {
            CliError::Input { line, .. } => line,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn openmetrics_groups_samples_by_label_set() {
        let text = "# TYPE heap gauge\nheap{pod=\"b\",app=\"x\"} 1 10\nheap{app=\"x\", pod=\"b\"} 2 20\n\
                    heap{app=\"x\",pod=\"c\"} 5 10.5 # {trace_id=\"1\"} 1 1\nup 1 3\n# EOF\n";
        let (reports, note) = om(text).unwrap();
        let names: Vec<_> = reports.iter().map(|r| r.name.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "heap{app=\"x\",pod=\"b\"}",
                "heap{app=\"x\",pod=\"c\"}",
                "up"
            ]
        );
        assert_eq!(reports[0].analysis.samples, 2);
        assert_eq!(reports[1].first_ms, 10_500);
        assert!(note.is_none());
    }

    #[test]
    fn openmetrics_errors_name_the_line() {
        assert_eq!(line_of(om("a 1 1\na 2\n").unwrap_err()), Some(2));
        assert_eq!(line_of(om("a 1 1\na x 2\n").unwrap_err()), Some(2));
        assert_eq!(line_of(om("a 1 1\na{b=\"1 2 3\n").unwrap_err()), Some(2));
        assert_eq!(line_of(om("a 1 1\n# EOF\na 2 2\n").unwrap_err()), Some(3));
        assert_eq!(line_of(om("a 1 1\n{x=\"1\"} 2 2\n").unwrap_err()), Some(2));
        assert_eq!(line_of(om("a 2 2\na 1 1\n").unwrap_err()), Some(2));
    }

    #[test]
    fn millisecond_openmetrics_is_converted_with_a_note() {
        let (reports, note) = om("a 1 1700000000000\na 2 1700000015000\n").unwrap();
        assert_eq!(reports[0].last_ms - reports[0].first_ms, 15_000);
        assert!(note.unwrap().contains("milliseconds"));
    }

    #[test]
    fn single_series_inputs_stream_and_refuse_a_metric_filter() {
        let cfg = DetectorConfig::default();
        let (r, _) = single(input("t,v\n1,2\n2,3\n", Format::Csv), &cfg).unwrap();
        assert_eq!(r[0].analysis.samples, 2);
        let e = single(input("t,v\n", Format::Csv), &cfg).unwrap_err();
        assert!(e.to_string().contains("no samples"), "{e}");
        let mut i = input("1,2\n", Format::Csv);
        i.metric = Some("heap".into());
        assert!(
            single(i, &cfg)
                .unwrap_err()
                .to_string()
                .contains("OpenMetrics")
        );
        let doc = r#"{"timestamps": [1, 2, 3], "values": [5, 6, 7]}"#;
        let (r, _) = single(input(doc, Format::Json), &cfg).unwrap();
        assert_eq!(r[0].analysis.samples, 3);
        let doc = "{\"timestamps\": [1,\n 1], \"values\": [1, 2]}";
        let e = single(input(doc, Format::Json), &cfg).unwrap_err();
        let CliError::Input { line, message, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(line, Some(2));
        assert!(message.starts_with("timestamps[1]: ") && message.contains("not after"));
    }
}

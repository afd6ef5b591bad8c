//! OpenMetrics files analyzed line by line: one thread reads and parses, worker threads own
//! the series (each series always goes to the same worker, so its samples stay in order) and
//! feed their detectors. Memory is bounded by the number of series, not the file's length.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;

use leaksense_core::Sample;
use leaksense_core::detect::DetectorConfig;

use crate::analyze::{Live, SeriesReport, Traffic};
use crate::error::CliError;
use crate::input::openmetrics::Lines;
use crate::input::{MAX_SERIES, describe, file_label, metric_name};

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

/// Analyzes the OpenMetrics file at `path` (`-`: standard input), keeping only series of
/// `metric` when given.
pub fn openmetrics(
    path: &Path,
    metric: Option<&str>,
    cfg: &DetectorConfig,
    traffic: Option<&Traffic>,
) -> Result<Vec<SeriesReport>, CliError> {
    let file = file_label(path);
    let io = |e| CliError::Io {
        file: file.clone(),
        source: e,
    };
    let mut reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path).map_err(io)?,
        ))
    };
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
            handles.push(scope.spawn(move || work(rx, cfg, traffic)));
        }
        let mut batches: Vec<Vec<(usize, usize, Sample)>> =
            (0..workers).map(|_| Vec::with_capacity(BATCH)).collect();
        let read = (|| -> Result<usize, CliError> {
            let mut lines = Lines::default();
            let mut index: HashMap<String, usize> = HashMap::new();
            // Raw series text as written (label order, spacing) -> series, to skip parsing labels.
            let mut raw_index: HashMap<String, usize> = HashMap::new();
            let mut skipped: HashSet<String> = HashSet::new();
            let mut names = 0usize;
            let mut buf = String::new();
            let mut line = 0;
            loop {
                buf.clear();
                if reader.read_line(&mut buf).map_err(io)? == 0 {
                    break;
                }
                line += 1;
                let row = buf.trim();
                let mut fields = None;
                if lines.in_body() && !row.starts_with('#') && !row.contains(" # ") {
                    let mut it = row.rsplitn(3, ' ');
                    if let (Some(ts), Some(value), Some(raw)) = (it.next(), it.next(), it.next()) {
                        fields = Some((raw.trim_end(), value, ts));
                    }
                }
                let fast = fields.and_then(|(raw, value, ts)| {
                    Some((*raw_index.get(raw)?, Lines::fast_fields(value, ts)?))
                });
                let (i, sample) = match fast {
                    Some(hit) => hit,
                    None => {
                        let Some((key, sample)) =
                            lines.next(line, &buf).map_err(|m| at(Some(line), m))?
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
                        format!("none of its {} series is of metric `{m}`", skipped.len()),
                    ),
                    _ => at(None, "the file holds no samples".into()),
                });
            }
            Ok(names)
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
            (Ok(names), None) => {
                done.sort_by_key(|(i, _)| *i);
                debug_assert_eq!(done.len(), names);
                Ok(done.into_iter().map(|(_, r)| r).collect())
            }
        }
    })
}

/// A worker: owns its series' detectors; stops at the first bad sample.
fn work(
    rx: mpsc::Receiver<Msg>,
    cfg: &DetectorConfig,
    traffic: Option<&Traffic>,
) -> Result<Vec<(usize, SeriesReport)>, Failure> {
    let mut live: HashMap<usize, (String, Live)> = HashMap::new();
    for msg in rx {
        match msg {
            Msg::New(i, name) => {
                let l = Live::new(Some(name.clone()), cfg, traffic.cloned())
                    .map_err(|e| (0, e.to_string()))?;
                live.insert(i, (name, l));
            }
            Msg::Samples(batch) => {
                for (i, line, sample) in batch {
                    let (name, l) = live.get_mut(&i).expect("New precedes samples");
                    l.push(sample)
                        .map_err(|e| (line, format!("series {name}: {}", describe(&e))))?;
                }
            }
        }
    }
    Ok(live
        .into_iter()
        .map(|(i, (_, l))| (i, l.finish().0))
        .collect())
}

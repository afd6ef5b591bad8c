//! `{"timestamps": [...], "values": [...]}` JSON (unix seconds, or a finer unit the first
//! timestamp shows), streamed. The two arrays must be paired element by element but may be
//! anywhere in the document, so two threads each parse the whole file through their own
//! positioned reader, one sending the `timestamps` and one the `values` in batches, and the
//! caller zips them: memory stays a few batches whatever the length (a single pass would have
//! to hold the first array until the second arrives). The line of an element is found only
//! when a message needs it, by a third pass that counts newlines up to it: counting on every
//! pass would cost a call per byte.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use leaksense_core::Sample;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Clock;

/// Elements sent at once.
const BATCH: usize = 4096;
/// Batches in flight per array.
const IN_FLIGHT: usize = 4;

/// Why the reading of one array failed: the document's line (when known) and the message.
pub type Failure = (Option<usize>, String);

/// Reads the document in `file`, handing each sample to `push` with its index; returns the
/// number of samples. A failure names the line of the element at fault when it can.
pub fn read(
    file: &File,
    clock: &mut Clock,
    mut push: impl FnMut(usize, Sample) -> Result<(), String>,
) -> Result<usize, Failure> {
    std::thread::scope(|scope| {
        let (ts_tx, ts_rx) = sync_channel(IN_FLIGHT);
        let (v_tx, v_rx) = sync_channel(IN_FLIGHT);
        let ts = scope.spawn(move || stream(file, Key::Timestamps, &ts_tx));
        let vs = scope.spawn(move || stream(file, Key::Values, &v_tx));
        let zipped = zip(file, ts_rx, v_rx, clock, &mut push);
        // The receivers are gone: a thread blocked on sending stops at once. Both are joined
        // before anything is returned (the fuzzer's leak check caught an early return that
        // left the other thread exiting on its own).
        let done = [ts, vs].map(|t| {
            t.join()
                .unwrap_or_else(|_| Err((None, "reader panicked".into())))
        });
        // A broken document is the first thing to fix, before a sample or the lengths.
        for d in done {
            if let Err(e) = d
                && e.1 != STOPPED
            {
                return Err(e);
            }
        }
        zipped
    })
}

/// Pairs the two streams until either ends; a bad sample stops it.
fn zip(
    file: &File,
    ts_rx: Receiver<Vec<f64>>,
    v_rx: Receiver<Vec<f64>>,
    clock: &mut Clock,
    push: &mut impl FnMut(usize, Sample) -> Result<(), String>,
) -> Result<usize, Failure> {
    let mut ts = ts_rx.into_iter().flatten();
    let mut vs = v_rx.into_iter().flatten();
    let mut index = 0;
    loop {
        match (ts.next(), vs.next()) {
            (Some(t), Some(v)) => {
                let located =
                    |m: String| (line_of(file, index), format!("timestamps[{index}]: {m}"));
                let sample = clock.sample(t, v).map_err(located)?;
                push(index, sample).map_err(located)?;
                index += 1;
            }
            (None, None) => return Ok(index),
            (t, v) => {
                let nt = index + usize::from(t.is_some()) + ts.count();
                let nv = index + usize::from(v.is_some()) + vs.count();
                return Err((
                    None,
                    format!("`timestamps` has {nt} entries but `values` has {nv}"),
                ));
            }
        }
    }
}

/// The message of a thread stopped because the caller stopped listening (or because the
/// element looked for was found).
const STOPPED: &str = "stopped";

#[derive(Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Key {
    Timestamps,
    Values,
}

/// Parses the whole document, streaming the array under `want` into `tx`; the number of
/// elements that array has.
fn stream(file: &File, want: Key, tx: &SyncSender<Vec<f64>>) -> Result<usize, Failure> {
    let reader = BufReader::with_capacity(1 << 16, At { file, pos: 0 });
    parse(
        reader,
        Doc {
            want,
            out: Out::Send(tx),
        },
    )
    .map(|n| n.unwrap_or(0))
}

/// The 1-based line of `timestamps[index]`: a pass counting the newlines the parser has taken
/// (it reads byte by byte, and has read one byte past a number when it hands it over).
fn line_of(file: &File, index: usize) -> Option<usize> {
    let seen = Cell::new((0usize, 0u8));
    let found = Cell::new(None);
    let reader = Lines {
        inner: BufReader::with_capacity(1 << 16, At { file, pos: 0 }),
        seen: &seen,
    };
    let out = Out::Locate {
        index,
        seen: &seen,
        found: &found,
    };
    let _ = parse(
        reader,
        Doc {
            want: Key::Timestamps,
            out,
        },
    );
    found.get()
}

fn parse<R: Read>(reader: R, doc: Doc<'_>) -> Result<Option<usize>, Failure> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = de.deserialize_map(doc).and_then(|n| de.end().map(|()| n));
    result.map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        if e.to_string().starts_with(STOPPED) {
            (line, STOPPED.into())
        } else {
            (line, format!("invalid JSON input: {e}"))
        }
    })
}

/// A file read from its own position: two readers share one file.
struct At<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Counts the newlines read through it and remembers the last byte.
struct Lines<'a, R> {
    inner: R,
    seen: &'a Cell<(usize, u8)>,
}

impl<R: Read> Read for Lines<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            let (lines, _) = self.seen.get();
            let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count();
            self.seen.set((lines + newlines, buf[n - 1]));
        }
        Ok(n)
    }
}

/// Where an array's elements go: to the caller in batches, or nowhere until the one whose
/// line is wanted.
enum Out<'a> {
    Send(&'a SyncSender<Vec<f64>>),
    Locate {
        index: usize,
        seen: &'a Cell<(usize, u8)>,
        found: &'a Cell<Option<usize>>,
    },
}

/// The top-level object: streams the wanted array, skips the other, refuses anything else.
/// Its value is the wanted array's length (`None` when a locating pass stopped early).
struct Doc<'a> {
    want: Key,
    out: Out<'a>,
}

impl<'de> Visitor<'de> for Doc<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(r#"an object {"timestamps": [...], "values": [...]}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<usize>, A::Error> {
        use serde::de::Error;
        let mut seen = [false; 2];
        let mut count = None;
        while let Some(key) = map.next_key::<Key>()? {
            let name = match key {
                Key::Timestamps => "timestamps",
                Key::Values => "values",
            };
            if std::mem::replace(&mut seen[key as usize], true) {
                return Err(A::Error::duplicate_field(name));
            }
            if key == self.want {
                count = Some(map.next_value_seed(Array { out: &self.out })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        match self.want {
            _ if !seen[0] => Err(A::Error::missing_field("timestamps")),
            _ if !seen[1] => Err(A::Error::missing_field("values")),
            _ => Ok(count),
        }
    }
}

/// One array of numbers, handed on as it is parsed.
struct Array<'a, 'b> {
    out: &'a Out<'b>,
}

impl<'de> DeserializeSeed<'de> for Array<'_, '_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Array<'_, '_> {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        use serde::de::Error;
        let mut batch = Vec::with_capacity(BATCH);
        let mut count = 0;
        while let Some(x) = seq.next_element::<f64>()? {
            match self.out {
                Out::Send(tx) => {
                    batch.push(x);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        tx.send(full).map_err(|_| A::Error::custom(STOPPED))?;
                    }
                }
                Out::Locate { index, seen, found } if count == *index => {
                    // One byte past the number was read; if it was a newline, the number
                    // ended on the line before.
                    let (lines, last) = seen.get();
                    found.set(Some(1 + lines - usize::from(last == b'\n')));
                    return Err(A::Error::custom(STOPPED));
                }
                Out::Locate { .. } => {}
            }
            count += 1;
        }
        if let Out::Send(tx) = self.out
            && !batch.is_empty()
        {
            tx.send(batch).map_err(|_| A::Error::custom(STOPPED))?;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    fn parse(text: &str) -> Result<Vec<(usize, Sample)>, Failure> {
        let mut out = Vec::new();
        read(&file(text), &mut Clock::default(), |i, s| {
            out.push((i, s));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_parallel_arrays_in_either_order() {
        let text = "{\n \"timestamps\": [\n  1,\n  2.5\n ],\n \"values\": [3, 4]\n}";
        let s = parse(text).unwrap();
        assert_eq!(s[1].1.ts_ms, 2500);
        let s = parse(r#"{"values": [3, 4], "timestamps": [1, 2]}"#).unwrap();
        assert_eq!(
            s[1].1,
            Sample {
                ts_ms: 2000,
                value: 4.0
            }
        );
        // More than a batch, so the threads really take turns.
        let n = 3 * BATCH + 7;
        let ts: Vec<u64> = (0..n as u64)
            .map(|i| 1_700_000_000_000 + i * 15_000)
            .collect();
        let vs: Vec<u64> = (0..n as u64).collect();
        let doc = serde_json::json!({"timestamps": ts, "values": vs}).to_string();
        let s = parse(&doc).unwrap();
        assert_eq!(s.len(), n);
        assert_eq!(s[n - 1].1.value, (n - 1) as f64);
        assert_eq!(
            s[1].1.ts_ms - s[0].1.ts_ms,
            15_000,
            "milliseconds converted"
        );
    }

    #[test]
    fn an_element_is_given_its_line_when_a_message_needs_it() {
        let text = "{\n \"values\": [1,\n2],\n \"timestamps\": [\n  1,\n  2.5\n ]}";
        let f = file(text);
        assert_eq!(
            (line_of(&f, 0), line_of(&f, 1), line_of(&f, 2)),
            (Some(5), Some(6), None)
        );
        let e = parse("{\"timestamps\": [1,\n 1e300], \"values\": [1, 2]}").unwrap_err();
        assert_eq!(e.0, Some(2), "{e:?}");
        assert!(e.1.starts_with("timestamps[1]: "), "{e:?}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "[a-z\"{}\\[\\]:,. 0-9\n-]{0,200}") {
            if let Ok(s) = parse(&text) {
                for (i, (index, _)) in s.iter().enumerate() {
                    proptest::prop_assert_eq!(i, *index);
                }
            }
        }

        #[test]
        fn never_panics_on_near_valid_documents(
            ts in proptest::collection::vec(proptest::num::f64::ANY, 0..8),
            vs in proptest::collection::vec(proptest::num::f64::ANY, 0..8),
        ) {
            let text = serde_json::json!({"timestamps": ts, "values": vs}).to_string();
            let accepted = parse(&text).is_ok();
            // Non-finite numbers serialize as null, which is not a number: refused. The first
            // timestamp sets the unit; every one must be a date before 2200 in it.
            let finite = ts.iter().chain(&vs).all(|x| x.is_finite());
            let unit = ts.first().and_then(|&t| leaksense_core::EpochUnit::guess(t));
            let dates = ts.is_empty() || unit.is_some_and(|u| ts.iter().all(|&t| {
                t / u.per_second() <= leaksense_core::series::YEAR_2200_SECS
                    && (t / u.per_second() * 1000.0).abs() <= 9e15
            }));
            let valid = ts.len() == vs.len() && finite && dates;
            proptest::prop_assert_eq!(accepted, valid, "{}", text);
        }
    }

    #[test]
    fn errors_are_located() {
        assert_eq!(
            parse("{\n\"timestamps\": [1,\n x], \"values\": [1, 2]}")
                .unwrap_err()
                .0,
            Some(3)
        );
        let e = parse(r#"{"timestamps": [1], "values": []}"#).unwrap_err().1;
        assert!(e.contains("has 1 entries"), "{e}");
        assert!(parse(r#"{"timestamps": [1], "valuez": [1]}"#).is_err());
        assert!(
            parse(r#"{"timestamps": [1]}"#)
                .unwrap_err()
                .1
                .contains("missing field `values`")
        );
        let dup = r#"{"timestamps": [1], "values": [1], "values": [2]}"#;
        assert!(parse(dup).unwrap_err().1.contains("duplicate field"));
        assert!(parse(r#"{"timestamps": [1], "values": [1]} x"#).is_err());
        assert!(parse("{\"timestamps\": [1, 2], \"values\": [\"\u{1b}\", 2]}").is_err());
    }
}

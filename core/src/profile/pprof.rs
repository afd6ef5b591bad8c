//! Export in pprof's `profile.proto` (github.com/google/pprof, proto/profile.proto), the
//! format `go tool pprof`, Pyroscope and speedscope read. The messages are declared by hand
//! with prost's derive: only the fields leaksense writes, with the proto's field numbers, so no
//! protoc runs at build time.

use std::collections::HashMap;

use prost::Message;

use super::intern::{OVERFLOW, Tables};
use super::snapshots::Weight;

#[derive(Clone, PartialEq, prost::Message)]
struct Profile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
    #[prost(int64, tag = "9")]
    time_nanos: i64,
    #[prost(int64, tag = "10")]
    duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    period: i64,
    #[prost(int64, repeated, tag = "13")]
    comment: Vec<i64>,
    #[prost(int64, tag = "14")]
    default_sample_type: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    r#type: i64,
    #[prost(int64, tag = "2")]
    unit: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Sample {
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    label: Vec<Label>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Label {
    #[prost(int64, tag = "1")]
    key: i64,
    #[prost(int64, tag = "2")]
    str: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Location {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(message, repeated, tag = "4")]
    line: Vec<Line>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Line {
    #[prost(uint64, tag = "1")]
    function_id: u64,
    #[prost(int64, tag = "2")]
    line: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Function {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(int64, tag = "2")]
    name: i64,
    #[prost(int64, tag = "3")]
    system_name: i64,
    #[prost(int64, tag = "4")]
    filename: i64,
}

/// Builds the string table as it goes; index 0 is "" as the format requires.
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        Strings {
            table: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }

    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// What the exported values mean.
pub(crate) struct Meta<'a> {
    /// Sample type names: `inuse` for the live heap, `growth` for a difference.
    pub prefix: &'a str,
    pub time_ms: i64,
    pub duration_ms: i64,
    /// Mean bytes between samples, 0 when not sampled.
    pub period: u64,
    pub comment: String,
}

/// Encodes `values` (stack id, weight) as a pprof profile with two sample types,
/// `<prefix>_objects` (count) and `<prefix>_space` (bytes), the latter the default. A stack's
/// route tag becomes the label `route`.
pub(crate) fn encode(tables: &Tables, values: &[(u32, Weight)], meta: &Meta<'_>) -> Vec<u8> {
    let mut s = Strings::new();
    let objects = ValueType {
        r#type: s.id(&format!("{}_objects", meta.prefix)),
        unit: s.id("count"),
    };
    let space = ValueType {
        r#type: s.id(&format!("{}_space", meta.prefix)),
        unit: s.id("bytes"),
    };
    let period_type = ValueType {
        r#type: s.id("space"),
        unit: s.id("bytes"),
    };
    let route_key = s.id("route");
    let default_sample_type = space.r#type;
    let mut located: HashMap<u32, u64> = HashMap::new();
    let mut p = Profile {
        sample_type: vec![objects, space],
        default_sample_type,
        period_type: Some(period_type),
        period: meta.period as i64,
        time_nanos: meta.time_ms.saturating_mul(1_000_000),
        duration_nanos: meta.duration_ms.max(0).saturating_mul(1_000_000),
        ..Profile::default()
    };
    p.comment.push(s.id(&meta.comment));
    for &(stack, w) in values {
        let (bytes, objects) = (w.bytes.round() as i64, w.objects.round() as i64);
        if bytes == 0 && objects == 0 {
            continue;
        }
        let mut location_id = Vec::new();
        for &frame in tables.stack(stack) {
            let id = *located.entry(frame).or_insert_with(|| {
                let f = tables.frame(frame);
                let id = p.location.len() as u64 + 1;
                let name = s.id(tables.string(f.function));
                p.function.push(Function {
                    id,
                    name,
                    system_name: name,
                    filename: s.id(tables.string(f.file)),
                });
                p.location.push(Location {
                    id,
                    line: vec![Line {
                        function_id: id,
                        line: i64::from(f.line),
                    }],
                });
                id
            });
            location_id.push(id);
        }
        let label = tables
            .route(stack)
            .filter(|_| stack != OVERFLOW)
            .map(|r| Label {
                key: route_key,
                str: s.id(r),
            })
            .into_iter()
            .collect();
        p.sample.push(Sample {
            location_id,
            value: vec![objects, bytes],
            label,
        });
    }
    p.string_table = s.table;
    p.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::super::intern::Caps;
    use super::*;

    #[test]
    fn encodes_a_profile_that_decodes_back() {
        let mut t = Tables::new(Caps {
            stacks: 16,
            frames: 16,
            depth: 8,
            string_bytes: 1024,
        });
        let leaf = t.intern_frame("leak", "app.py", 12).unwrap();
        let root = t.intern_frame("main", "app.py", 40).unwrap();
        let a = t.intern_stack(&[leaf, root], Some("/leak"));
        let b = t.intern_stack(&[root], None);
        let values = [
            (
                a,
                Weight {
                    bytes: 2048.4,
                    objects: 2.0,
                },
            ),
            (
                b,
                Weight {
                    bytes: 0.2,
                    objects: 0.0,
                },
            ),
        ];
        let bytes = encode(
            &t,
            &values,
            &Meta {
                prefix: "inuse",
                time_ms: 1_000,
                duration_ms: 0,
                period: 524_288,
                comment: "leaksense".into(),
            },
        );
        let p = Profile::decode(bytes.as_slice()).unwrap();
        assert_eq!(p.string_table[0], "");
        assert_eq!(p.sample.len(), 1, "the all-zero sample is left out");
        assert_eq!(p.sample[0].value, [2, 2048]);
        assert_eq!(p.sample[0].location_id.len(), 2);
        let name = |i: i64| p.string_table[i as usize].as_str();
        assert_eq!(name(p.sample[0].label[0].str), "/leak");
        let leaf_fn = &p.function[(p.sample[0].location_id[0] - 1) as usize];
        assert_eq!(name(leaf_fn.name), "leak");
        assert_eq!(name(leaf_fn.filename), "app.py");
        assert_eq!(name(p.sample_type[1].r#type), "inuse_space");
        assert_eq!(p.default_sample_type, p.sample_type[1].r#type);
        assert_eq!(p.time_nanos, 1_000_000_000);
    }
}

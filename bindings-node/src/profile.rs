//! The V8 sampling heap profile handed to the core: `lib/profile.js` flattens the inspector's
//! tree into parallel arrays (one entry per node, with its parent's index) and counts the live
//! samples per (node, size); here each node's stack is its path to the root, leaf first.
use leaksense_core::error::ErrorCode;
use leaksense_core::profile::{FrameRef, PprofKind, StackSample};
use napi_derive::napi;

use crate::js_error;
use crate::monitor::{NativeMonitor, monitor_err, to_ts_ms};

fn bad(message: String) -> napi::Error<String> {
    js_error(ErrorCode::InvalidOption, message)
}

/// A JS number meant as an index below `len` (or -1 for "none" where `none` allows it).
fn index(name: &str, v: f64, len: usize) -> napi::Result<usize, String> {
    if v.is_finite() && v.fract() == 0.0 && v >= 0.0 && v < len as f64 {
        Ok(v as usize)
    } else {
        Err(bad(format!("{name} {v} is not an index below {len}")))
    }
}

/// A JS number meant as a non-negative integer count (within 2^53).
fn count(name: &str, v: f64) -> napi::Result<u64, String> {
    if v.is_finite() && v.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&v) {
        Ok(v as u64)
    } else {
        Err(bad(format!(
            "{name} must be a non-negative integer, got {v}"
        )))
    }
}

/// Every node's path as a range of one flat buffer of node indices.
type Paths = (Vec<u32>, Vec<(usize, usize)>);

/// Each node's path to the root, leaf first, as ranges of one flat buffer. A parent must come
/// before its children (the flattening is a pre-order walk), which also rules out cycles.
fn paths(parents: &[f64]) -> napi::Result<Paths, String> {
    let mut flat: Vec<u32> = Vec::new();
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(parents.len());
    for (i, &p) in parents.iter().enumerate() {
        let start = flat.len();
        flat.push(i as u32);
        if p != -1.0 {
            let p = index("parent", p, i)?;
            let (s, e) = ranges[p];
            flat.extend_from_within(s..e);
        }
        ranges.push((start, flat.len()));
    }
    Ok((flat, ranges))
}

#[napi]
impl NativeMonitor {
    /// Replaces the live-heap profile with V8's sampling heap profile taken at `tsMs`: one
    /// entry per tree node in `names`, `urls`, `lines` (1-based) and `parents` (the parent's
    /// index, -1 for the root; parents first), and the live samples counted per (node, size)
    /// in `sampleNodes`, `sampleSizes` and `sampleCounts`. `rate` is the sampling interval in
    /// bytes; the core unsamples.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn profile_replace(
        &self,
        ts_ms: f64,
        names: Vec<String>,
        urls: Vec<String>,
        lines: Vec<f64>,
        parents: Vec<f64>,
        sample_nodes: Vec<f64>,
        sample_sizes: Vec<f64>,
        sample_counts: Vec<f64>,
        rate: f64,
    ) -> napi::Result<(), String> {
        let ts = to_ts_ms("tsMs", ts_ms)?;
        let n = names.len();
        if urls.len() != n || lines.len() != n || parents.len() != n {
            return Err(bad("names, urls, lines and parents differ in length".into()));
        }
        let m = sample_nodes.len();
        if sample_sizes.len() != m || sample_counts.len() != m {
            return Err(bad(
                "sampleNodes, sampleSizes and sampleCounts differ in length".into(),
            ));
        }
        let frames = names
            .iter()
            .zip(&urls)
            .zip(&lines)
            .map(|((name, url), &line)| {
                Ok(FrameRef {
                    function: if name.is_empty() { "(anonymous)" } else { name },
                    file: url,
                    line: count("line", line)?.min(u64::from(u32::MAX)) as u32,
                })
            })
            .collect::<napi::Result<Vec<_>, String>>()?;
        let (flat, ranges) = paths(&parents)?;
        let samples = (0..m)
            .map(|i| {
                let (s, e) = ranges[index("sample node", sample_nodes[i], n)?];
                let objects = count("sample count", sample_counts[i])?;
                Ok(StackSample {
                    frames: &flat[s..e],
                    objects,
                    bytes: count("sample size", sample_sizes[i])?.saturating_mul(objects),
                })
            })
            .collect::<napi::Result<Vec<_>, String>>()?;
        self.inner
            .profile_replace(Some(ts), &frames, &samples, count("rate", rate)?)
            .map_err(monitor_err)
    }

    /// Writes the live-heap profile to `path` as pprof: `'inuse'` (the live heap now) or
    /// `'growth'` (since the detector's growth start).
    #[napi(catch_unwind)]
    pub fn write_pprof(
        &self,
        path: String,
        #[napi(ts_arg_type = "'inuse' | 'growth'")] kind: String,
    ) -> napi::Result<(), String> {
        let kind = match kind.as_str() {
            "inuse" => PprofKind::Inuse,
            "growth" => PprofKind::Growth,
            k => return Err(bad(format!("kind must be 'inuse' or 'growth', got {k:?}"))),
        };
        self.inner
            .write_pprof(std::path::Path::new(&path), kind)
            .map_err(monitor_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_run_leaf_to_root_and_parents_come_first() {
        let (flat, ranges) = paths(&[-1.0, 0.0, 1.0, 0.0]).unwrap();
        let path = |i: usize| &flat[ranges[i].0..ranges[i].1];
        assert_eq!(path(0), [0]);
        assert_eq!(path(2), [2, 1, 0]);
        assert_eq!(path(3), [3, 0]);
        assert!(
            paths(&[-1.0, 2.0, 0.0]).is_err(),
            "a parent after its child"
        );
        assert!(paths(&[0.0]).is_err(), "its own parent");
    }
}

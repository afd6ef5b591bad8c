//! Snapshots of the in-use bytes per stack, kept so that the one at the detector's growth
//! start can be found afterwards: the detector dates the start in hindsight, often hours back.
//!
//! The ring has a fixed number of slots. When it is full, the interior snapshot whose two
//! neighbours are closest in time is dropped, so the kept ones spread out over the whole run
//! (the oldest always stays) with denser coverage of the recent past, and any growth start
//! has a snapshot near it.

use std::collections::VecDeque;

/// In-use bytes and objects of one stack.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Weight {
    /// Estimated bytes in use.
    pub bytes: f64,
    /// Estimated objects in use.
    pub objects: f64,
}

/// One stack's entry in a snapshot. `f32` keeps a snapshot at 12 bytes a stack; its 24-bit
/// mantissa is far finer than the sampling error of the estimates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Entry {
    pub stack: u32,
    pub bytes: f32,
    pub objects: f32,
}

/// The stacks in use at one time (unix ms), sparse: stacks with nothing in use are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Snapshot {
    pub ts_ms: i64,
    pub entries: Vec<Entry>,
}

impl Snapshot {
    pub fn of(ts_ms: i64, inuse: &[Weight]) -> Snapshot {
        let entries = inuse
            .iter()
            .enumerate()
            .filter(|(_, w)| w.bytes > 0.0 || w.objects > 0.0)
            .map(|(i, w)| Entry {
                stack: i as u32,
                bytes: w.bytes as f32,
                objects: w.objects as f32,
            })
            .collect();
        Snapshot { ts_ms, entries }
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
    }

    /// `self - base` per stack (stacks absent from one side count as 0 there).
    pub fn minus(&self, base: &Snapshot) -> Vec<(u32, Weight)> {
        // Both are sorted by stack id (built in index order), so one merge pass does it.
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::with_capacity(self.entries.len());
        let w = |e: &Entry| Weight {
            bytes: f64::from(e.bytes),
            objects: f64::from(e.objects),
        };
        while i < self.entries.len() || j < base.entries.len() {
            let a = self.entries.get(i);
            let b = base.entries.get(j);
            let (stack, now, then) = match (a, b) {
                (Some(a), Some(b)) if a.stack == b.stack => {
                    i += 1;
                    j += 1;
                    (a.stack, w(a), w(b))
                }
                (Some(a), Some(b)) if a.stack < b.stack => {
                    i += 1;
                    (a.stack, w(a), Weight::default())
                }
                (Some(a), None) => {
                    i += 1;
                    (a.stack, w(a), Weight::default())
                }
                (_, Some(b)) => {
                    j += 1;
                    (b.stack, Weight::default(), w(b))
                }
                (None, None) => break,
            };
            out.push((
                stack,
                Weight {
                    bytes: now.bytes - then.bytes,
                    objects: now.objects - then.objects,
                },
            ));
        }
        out
    }
}

/// The periodic snapshots, thinned as described in the module docs.
#[derive(Debug)]
pub(crate) struct Ring {
    cap: usize,
    every_ms: i64,
    items: VecDeque<Snapshot>,
}

impl Ring {
    pub fn new(cap: usize, every_ms: i64) -> Ring {
        Ring {
            cap: cap.max(2),
            every_ms,
            items: VecDeque::new(),
        }
    }

    /// Whether a snapshot is due at `ts_ms`.
    pub fn due(&self, ts_ms: i64) -> bool {
        self.items
            .back()
            .is_none_or(|last| ts_ms >= last.ts_ms.saturating_add(self.every_ms))
    }

    pub fn push(&mut self, snap: Snapshot) {
        if self.items.len() == self.cap {
            // Drop the interior snapshot whose neighbours are closest together.
            let victim = (1..self.items.len() - 1)
                .min_by_key(|&i| self.items[i + 1].ts_ms - self.items[i - 1].ts_ms)
                .unwrap_or(1);
            self.items.remove(victim);
        }
        self.items.push_back(snap);
    }

    /// The newest snapshot taken at or before `ts_ms`, else the oldest one.
    pub fn at_or_before(&self, ts_ms: i64) -> Option<&Snapshot> {
        self.items
            .iter()
            .rev()
            .find(|s| s.ts_ms <= ts_ms)
            .or_else(|| self.items.front())
    }

    pub fn oldest(&self) -> Option<&Snapshot> {
        self.items.front()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Snapshot>()
            + self.items.iter().map(Snapshot::heap_bytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(ts: i64, e: &[(u32, f32)]) -> Snapshot {
        Snapshot {
            ts_ms: ts,
            entries: e
                .iter()
                .map(|&(stack, bytes)| Entry {
                    stack,
                    bytes,
                    objects: 1.0,
                })
                .collect(),
        }
    }

    #[test]
    fn difference_merges_both_sides() {
        let now = snap(2, &[(1, 10.0), (3, 5.0), (4, 7.0)]);
        let base = snap(1, &[(1, 4.0), (2, 3.0), (4, 7.0)]);
        let d: Vec<(u32, f64)> = now
            .minus(&base)
            .iter()
            .map(|(s, w)| (*s, w.bytes))
            .collect();
        assert_eq!(d, [(1, 6.0), (2, -3.0), (3, 5.0), (4, 0.0)]);
    }

    #[test]
    fn a_full_ring_thins_out_and_keeps_the_oldest() {
        let mut r = Ring::new(4, 10);
        for t in 0..100 {
            let ts = t * 10;
            assert!(r.due(ts));
            r.push(snap(ts, &[]));
            assert!(!r.due(ts + 5));
        }
        assert_eq!(r.len(), 4);
        assert_eq!(r.oldest().unwrap().ts_ms, 0);
        assert_eq!(r.items.back().unwrap().ts_ms, 990);
        // A start anywhere in the run finds a snapshot at or before it.
        assert_eq!(r.at_or_before(995).unwrap().ts_ms, 990);
        assert!(r.at_or_before(500).unwrap().ts_ms <= 500);
        assert_eq!(r.at_or_before(-5).unwrap().ts_ms, 0);
        let ts: Vec<i64> = r.items.iter().map(|s| s.ts_ms).collect();
        assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    }
}

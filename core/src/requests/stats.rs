//! Per-route accumulators: count, Welford mean/variance and a log-scale histogram per measure.

use serde::{Deserialize, Serialize};

/// Number of histogram buckets per measure.
pub const HIST_BUCKETS: usize = 16;

/// The bucket of a delta: 0 holds deltas <= 0 (memory freed or unchanged); bucket `k >= 1`
/// holds deltas in `[4^(k-1), 4^k)`, and the last bucket everything from `4^14` (256 MiB) up.
/// Base 4 keeps the table small while still telling 1 KiB from 64 KiB from 16 MiB.
pub fn bucket_of(delta: f64) -> usize {
    if delta.is_nan() || delta < 1.0 {
        // (0, 1) only happens for fractional measures; it joins the smallest positive bucket.
        return if delta > 0.0 { 1 } else { 0 };
    }
    // floor(log2(d)) == floor(log2(floor(d))) for d >= 1, so an integer bit scan is exact and
    // avoids a libm call on the hot path. The cast saturates for huge values.
    let log2 = 63 - (delta as u64).leading_zeros() as usize;
    (1 + log2 / 2).min(HIST_BUCKETS - 1)
}

/// The exclusive upper bound of a bucket (`f64::INFINITY` for the last one).
pub fn bucket_upper(k: usize) -> f64 {
    match k {
        0 => 0.0,
        k if k >= HIST_BUCKETS - 1 => f64::INFINITY,
        k => 4f64.powi(k as i32),
    }
}

/// Running statistics of one measure's delta on one route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MeasureAcc {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    hist: [u32; HIST_BUCKETS],
}

impl Default for MeasureAcc {
    fn default() -> Self {
        MeasureAcc {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            hist: [0; HIST_BUCKETS],
        }
    }
}

impl MeasureAcc {
    // Welford's update: numerically stable for large byte counts where sum-of-squares would
    // cancel catastrophically.
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        let b = &mut self.hist[bucket_of(x)];
        *b = b.saturating_add(1);
    }

    // Chan et al.'s pairwise merge of two Welford states (shards are merged at snapshot time).
    fn merge(&mut self, other: &MeasureAcc) {
        let (n_self, n_other) = (self.n, other.n);
        if n_other == 0 {
            return;
        }
        if n_self == 0 {
            *self = *other;
            return;
        }
        self.n = n_self + n_other;
        let n = self.n as f64;
        let d = other.mean - self.mean;
        self.mean += d * n_other as f64 / n;
        self.m2 += other.m2 + d * d * n_self as f64 * n_other as f64 / n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        for (a, b) in self.hist.iter_mut().zip(other.hist.iter()) {
            *a = a.saturating_add(*b);
        }
    }
}

/// All measures of one route in one shard.
#[derive(Debug, Clone)]
pub(crate) struct RouteAcc {
    pub count: u64,
    pub measures: Vec<MeasureAcc>,
}

impl RouteAcc {
    pub fn new(n_measures: usize) -> Self {
        RouteAcc {
            count: 0,
            measures: vec![MeasureAcc::default(); n_measures],
        }
    }

    /// Records one request; a `None` delta (a failed optional read) is left out of that
    /// measure's statistics rather than counted as zero.
    pub fn push(&mut self, deltas: impl Iterator<Item = Option<f64>>) {
        self.count += 1;
        for (m, x) in self.measures.iter_mut().zip(deltas) {
            if let Some(x) = x {
                m.push(x);
            }
        }
    }

    pub fn merge(&mut self, other: &RouteAcc) {
        for (a, b) in self.measures.iter_mut().zip(&other.measures) {
            a.merge(b);
        }
        self.count += other.count;
    }

    pub fn summaries(&self, names: &[String]) -> Vec<MeasureSummary> {
        names
            .iter()
            .zip(&self.measures)
            .map(|(name, m)| MeasureSummary {
                measure: name.clone(),
                samples: m.n,
                sum: m.mean * m.n as f64,
                mean: m.mean,
                // Deltas near f64::MAX can overflow the squares; JSON has no infinity.
                variance: if m.n > 1 {
                    (m.m2 / (m.n - 1) as f64).min(f64::MAX)
                } else {
                    0.0
                },
                min: if m.n > 0 { m.min } else { 0.0 },
                max: if m.n > 0 { m.max } else { 0.0 },
                histogram: m.hist.to_vec(),
            })
            .collect()
    }
}

/// Summary of one measure's per-request delta on one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MeasureSummary {
    /// The measure's name, as declared when the tracker was built (`"heap_used"`, `"rss"`).
    pub measure: String,
    /// Requests that reported this measure (an optional read can fail).
    pub samples: u64,
    /// Sum of the deltas.
    pub sum: f64,
    /// Mean delta per request.
    pub mean: f64,
    /// Sample variance of the delta (0 with fewer than two requests).
    pub variance: f64,
    /// Smallest delta seen.
    pub min: f64,
    /// Largest delta seen.
    pub max: f64,
    /// Counts per bucket: `[<=0, (0,4), [4,16), [16,64), ... , >=4^14]` (see `bucket_upper`).
    pub histogram: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_log4() {
        assert_eq!(bucket_of(-5.0), 0);
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(f64::NAN), 0);
        assert_eq!(bucket_of(0.5), 1);
        assert_eq!(bucket_of(1.0), 1);
        assert_eq!(bucket_of(3.9), 1);
        assert_eq!(bucket_of(4.0), 2);
        assert_eq!(bucket_of(1024.0), 6);
        assert_eq!(bucket_of(1e12), HIST_BUCKETS - 1);
        for k in 1..HIST_BUCKETS - 1 {
            assert_eq!(bucket_of(bucket_upper(k) - 0.5), k);
            assert_eq!(bucket_of(bucket_upper(k)), k + 1);
        }
    }

    #[test]
    fn welford_and_merge_match_two_pass() {
        let xs: Vec<f64> = (0..1000)
            .map(|i| 1e9 + ((i * 7919) % 1000) as f64)
            .collect();
        let mut whole = RouteAcc::new(1);
        let (mut a, mut b) = (RouteAcc::new(1), RouteAcc::new(1));
        for (i, &x) in xs.iter().enumerate() {
            whole.push([Some(x)].into_iter());
            if i % 3 == 0 { &mut a } else { &mut b }.push([Some(x)].into_iter());
        }
        a.merge(&b);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        for acc in [&whole, &a] {
            let s = &acc.summaries(&["m".into()])[0];
            assert_eq!(acc.count, 1000);
            assert!((s.mean - mean).abs() < 1e-6, "{} vs {mean}", s.mean);
            assert!(
                (s.variance - var).abs() / var < 1e-9,
                "{} vs {var}",
                s.variance
            );
            assert_eq!(s.histogram.iter().sum::<u32>(), 1000);
            assert_eq!(s.min, 1e9);
            assert_eq!(s.max, 1e9 + 999.0);
        }
    }
}

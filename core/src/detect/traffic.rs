//! The traffic covariate: the service's request rate, kept as per-bucket means so that each
//! floor point can carry the mean rate over its own window. A floor that rises with traffic
//! and falls with it is not a leak; the detector separates that part from growth that
//! accumulates.
//!
//! Buckets are aligned on absolute time (`ts / bucket`), so traffic can arrive at other times
//! than the memory samples (a Prometheus rate query, the monitor's request counter).

use crate::error::InputError;
use crate::series::{Ring, Sample};

/// Buckets of traffic kept: enough for the widest floor window (8 h of 5 min buckets) and
/// some slack.
const TRAFFIC_BUCKETS: usize = 128;

/// One bucket's traffic: its absolute index and the sum and count of the rates seen in it.
#[derive(Debug, Clone, Copy)]
struct Cell {
    index: i64,
    sum: f64,
    n: u32,
}

/// Per-bucket mean request rates (bounded).
#[derive(Debug, Clone)]
pub(super) struct Traffic {
    bucket_ms: i64,
    cells: Ring<Cell>,
    last_ms: Option<i64>,
    samples: u64,
}

impl Traffic {
    /// Empty, with buckets of `bucket_ms`.
    pub(super) fn new(bucket_ms: i64) -> Result<Self, InputError> {
        Ok(Traffic {
            bucket_ms: bucket_ms.max(1),
            cells: Ring::new(TRAFFIC_BUCKETS)?,
            last_ms: None,
            samples: 0,
        })
    }

    /// Records the request rate (per second) over the interval ending at `s.ts_ms`. A NaN,
    /// infinite or negative rate, or a time not after the previous one, is refused.
    pub(super) fn observe(&mut self, s: Sample) -> Result<(), InputError> {
        let index = usize::try_from(self.samples).unwrap_or(usize::MAX);
        if !s.value.is_finite() {
            return Err(InputError::NonFinite {
                index,
                what: "traffic",
                value: s.value,
            });
        }
        if s.value < 0.0 {
            return Err(InputError::invalid_option(
                "traffic",
                format!(
                    "a request rate cannot be negative, got {} at index {index}",
                    s.value
                ),
            ));
        }
        if let Some(prev) = self.last_ms
            && s.ts_ms <= prev
        {
            return Err(InputError::OutOfOrder {
                index,
                ts_ms: s.ts_ms,
                prev_ms: prev,
            });
        }
        self.last_ms = Some(s.ts_ms);
        self.samples += 1;
        let bucket = s.ts_ms.div_euclid(self.bucket_ms);
        match self.cells.last_mut() {
            Some(c) if c.index == bucket => {
                c.sum += s.value;
                c.n += 1;
            }
            _ => {
                self.cells.push(Cell {
                    index: bucket,
                    sum: s.value,
                    n: 1,
                });
            }
        }
        Ok(())
    }

    /// Whether any traffic has been observed.
    pub(super) fn seen(&self) -> bool {
        self.samples > 0
    }

    /// The mean and standard deviation of the bucket means kept (NaN without traffic).
    pub(super) fn spread(&self) -> (f64, f64) {
        let n = self.cells.len() as f64;
        let means = || self.cells.iter().map(|c| c.sum / f64::from(c.n));
        let mean = means().sum::<f64>() / n;
        let var = means().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    /// The mean rate over the buckets that overlap `[from_ms, to_ms)`, each bucket weighing
    /// the same; NaN when none has traffic.
    pub(super) fn mean(&self, from_ms: i64, to_ms: i64) -> f64 {
        let (lo, hi) = (
            from_ms.div_euclid(self.bucket_ms),
            (to_ms - 1).div_euclid(self.bucket_ms),
        );
        let (sum, n) = self
            .cells
            .iter()
            .rev()
            .take_while(|c| c.index >= lo)
            .filter(|c| c.index <= hi)
            .fold((0.0, 0u32), |(s, n), c| (s + c.sum / f64::from(c.n), n + 1));
        if n == 0 { f64::NAN } else { sum / f64::from(n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::s;
    use crate::error::ErrorCode;

    #[test]
    fn bucket_means_average_over_a_window() {
        let mut t = Traffic::new(300_000).unwrap();
        assert!(!t.seen() && t.mean(0, 600_000).is_nan());
        for (ts, v) in [(0, 10.0), (100, 20.0), (300, 40.0), (900, 7.0)] {
            t.observe(s(ts, v)).unwrap();
        }
        assert!(t.seen());
        // Bucket 0 has mean 15, bucket 1 has 40, bucket 2 none, bucket 3 has 7.
        assert_eq!(t.mean(0, 300_000), 15.0);
        assert_eq!(t.mean(0, 600_000), 27.5);
        assert_eq!(t.mean(0, 1_200_000), (15.0 + 40.0 + 7.0) / 3.0);
        let (mean, sd) = t.spread();
        assert_eq!(mean, (15.0 + 40.0 + 7.0) / 3.0);
        let var = [15.0, 40.0, 7.0]
            .map(|x: f64| (x - mean).powi(2))
            .iter()
            .sum::<f64>()
            / 3.0;
        assert!((sd - var.sqrt()).abs() < 1e-9, "{sd}");
        assert!(t.mean(600_000, 900_000).is_nan());
    }

    #[test]
    fn bad_traffic_is_a_typed_error_and_changes_nothing() {
        let mut t = Traffic::new(300_000).unwrap();
        t.observe(s(10, 5.0)).unwrap();
        let code = |r: Result<(), InputError>| r.unwrap_err().code();
        assert_eq!(code(t.observe(s(20, f64::NAN))), ErrorCode::NonFiniteValue);
        assert_eq!(code(t.observe(s(20, -1.0))), ErrorCode::InvalidOption);
        assert_eq!(code(t.observe(s(10, 1.0))), ErrorCode::OutOfOrder);
        assert_eq!(t.mean(0, 300_000), 5.0);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = Traffic::new(1000).unwrap();
        for i in 0..10_000 {
            t.observe(s(i, 1.0)).unwrap();
        }
        assert_eq!(t.cells.len(), TRAFFIC_BUCKETS);
    }
}

//! A traffic proxy read from the heap series itself, for when no request rate is given.
//!
//! Garbage is allocated per request, so between collections a heap (Go `heap_alloc`, V8
//! `heapUsed`, a JVM's used heap) climbs at the allocation rate, which follows the request
//! rate. Where the sawtooth is slower than the sampling, a collection shows as one step that
//! falls far beyond the other steps' spread; the other steps, summed per bucket, give the
//! climbing rate (their noise cancels in the sum). Where collections are faster than the
//! sampling the drops are most of the steps or vanish in the spread, and a series of post-GC
//! readings never drops at all: there is no proxy, and nothing is recorded (the covariate then
//! stays unused, as without traffic).

use super::traffic::Traffic;
use crate::error::InputError;
use crate::series::Sample;

/// A step is a collection when it falls this many mean absolute deviations below the mean
/// step (about 5 standard deviations of a normal noise).
const DROP_DEVS: f64 = 6.0;
/// Steps seen before drops are told apart (the spread needs a few steps).
const WARM_STEPS: u64 = 20;
/// Weight of each non-drop step in the running mean step and its mean absolute deviation.
const STEP_WEIGHT: f64 = 0.05;
/// Weight of each step in the running share of drops.
const SHARE_WEIGHT: f64 = 0.02;
/// Largest share of steps that are drops: a sawtooth with k samples per collection drops on
/// 1/k of its steps, and its climb is read only with 3 or more.
const MAX_DROP_SHARE: f64 = 0.34;
/// Without a collection for this long the series is not (or no longer) a sawtooth.
const DROP_RECENT_MS: i64 = 2 * 3_600_000;
/// The bucket rates must spread by more than this many times their own noise, and by this
/// share of their mean, for the proxy to be used: a constant allocation rate says nothing
/// about the load, and only turns on the rules meant for a known load.
const MIN_SPREAD_NOISES: f64 = 1.5;
const MIN_SPREAD_SHARE: f64 = 0.1;
/// Steps a bucket needs for its climbing rate to count.
const MIN_STEPS_PER_BUCKET: u32 = 4;

/// The climbing steps of the current bucket.
#[derive(Debug, Clone, Copy)]
struct Cell {
    index: i64,
    climb: f64,
    ms: f64,
    steps: u32,
}

/// The allocation rate per bucket, kept as the traffic covariate's per-bucket means.
#[derive(Debug, Clone)]
pub(super) struct AllocRate {
    rates: Traffic,
    bucket_ms: i64,
    prev: Option<Sample>,
    interval_ms: f64,
    steps: u64,
    mean_step: f64,
    dev_step: f64,
    drop_share: f64,
    last_drop_ms: Option<i64>,
    cell: Cell,
    /// Running mean of the squared noise of the bucket rates recorded.
    noise2: f64,
}

impl AllocRate {
    /// Empty, with buckets of `bucket_ms`.
    pub(super) fn new(bucket_ms: i64) -> Result<Self, InputError> {
        Ok(AllocRate {
            rates: Traffic::new(bucket_ms)?,
            bucket_ms: bucket_ms.max(1),
            prev: None,
            interval_ms: 0.0,
            steps: 0,
            mean_step: 0.0,
            dev_step: 0.0,
            drop_share: 0.0,
            last_drop_ms: None,
            cell: Cell {
                index: i64::MIN,
                climb: 0.0,
                ms: 0.0,
                steps: 0,
            },
            noise2: 0.0,
        })
    }

    /// Takes one (validated, in order) heap sample.
    pub(super) fn observe(&mut self, s: Sample) {
        let Some(p) = self.prev.replace(s) else {
            return;
        };
        let dt = s.ts_ms.saturating_sub(p.ts_ms) as f64;
        // Winsorized, so a scrape outage hardly moves it.
        self.interval_ms = if self.interval_ms > 0.0 {
            self.interval_ms + 0.1 * (dt.min(3.0 * self.interval_ms) - self.interval_ms)
        } else {
            dt
        };
        self.close_cell(s.ts_ms.div_euclid(self.bucket_ms));
        // A step across a scrape gap may hold collections that its end does not show.
        if dt <= 0.0 || dt > 2.0 * self.interval_ms {
            return;
        }
        let step = s.value - p.value;
        self.steps += 1;
        let drop = self.steps > WARM_STEPS
            && step < 0.0
            && step < self.mean_step - DROP_DEVS * self.dev_step;
        self.drop_share += SHARE_WEIGHT * (f64::from(u8::from(drop)) - self.drop_share);
        if drop {
            self.last_drop_ms = Some(s.ts_ms);
            return;
        }
        self.mean_step += STEP_WEIGHT * (step - self.mean_step);
        self.dev_step += STEP_WEIGHT * ((step - self.mean_step).abs() - self.dev_step);
        let sawtooth = self
            .last_drop_ms
            .is_some_and(|d| s.ts_ms.saturating_sub(d) <= DROP_RECENT_MS)
            && self.drop_share <= MAX_DROP_SHARE;
        if sawtooth {
            self.cell.climb += step;
            self.cell.ms += dt;
            self.cell.steps += 1;
        }
    }

    /// Records the finished bucket's climbing rate when the sample at bucket `index` opens a
    /// new one.
    fn close_cell(&mut self, index: i64) {
        if index == self.cell.index {
            return;
        }
        let c = self.cell;
        if c.steps >= MIN_STEPS_PER_BUCKET && c.ms > 0.0 {
            // The steps' noise telescopes in their sum: about one step's spread (1.25 mean
            // absolute deviations) over the bucket.
            let noise = 1.25 * self.dev_step / c.ms * 1000.0;
            self.noise2 += 0.1 * (noise * noise - self.noise2);
            // Bucket times increase and the rate is finite and not negative: never refused.
            let _ = self.rates.observe(Sample {
                ts_ms: c.index.saturating_mul(self.bucket_ms),
                value: (c.climb / c.ms * 1000.0).max(0.0),
            });
        }
        self.cell = Cell {
            index,
            climb: 0.0,
            ms: 0.0,
            steps: 0,
        };
    }

    /// The per-bucket allocation rates (empty when the series shows no proxy).
    pub(super) fn rates(&self) -> &Traffic {
        &self.rates
    }

    /// Whether the rates are known and vary beyond their own noise.
    pub(super) fn informative(&self) -> bool {
        if !self.rates.seen() {
            return false;
        }
        let (mean, sd) = self.rates.spread();
        sd > MIN_SPREAD_NOISES * self.noise2.sqrt() && sd > MIN_SPREAD_SHARE * mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::s;
    use crate::series::Sample;

    /// A sawtooth collected every `period` seconds, sampled every `step`, whose climb rate is
    /// `rate(t)` per second on top of a floor of 1000, with a small alternating noise.
    fn sawtooth(hours: i64, step: i64, period: i64, rate: impl Fn(i64) -> f64) -> Vec<Sample> {
        let mut level = 0.0;
        (0..hours * 3600 / step)
            .map(|i| {
                let t = i * step;
                level = if t % period < step {
                    0.0
                } else {
                    level + rate(t) * step as f64
                };
                let noise = if i % 2 == 0 { 0.5 } else { -0.5 };
                s(t, 1000.0 + level + noise)
            })
            .collect()
    }

    fn proxy(samples: &[Sample]) -> AllocRate {
        let mut a = AllocRate::new(300_000).unwrap();
        for x in samples {
            a.observe(*x);
        }
        a
    }

    #[test]
    fn a_slow_sawtooth_gives_its_climbing_rate_per_bucket() {
        // 2/s in the first two hours, 6/s after.
        let a = proxy(&sawtooth(4, 15, 600, |t| if t < 7200 { 2.0 } else { 6.0 }));
        let early = a.rates().mean(3_600_000, 7_200_000);
        let late = a.rates().mean(10_800_000, 14_400_000);
        assert!((early - 2.0).abs() < 0.05, "{early}");
        assert!((late - 6.0).abs() < 0.05, "{late}");
    }

    #[test]
    fn no_proxy_from_a_fast_sawtooth_sparse_samples_or_post_gc_readings() {
        // Collections every 30 s sampled every 15 s: every other step is a drop.
        assert!(!proxy(&sawtooth(6, 15, 30, |_| 5.0)).rates().seen());
        // A slow sawtooth sampled every 5 min: one step per bucket.
        assert!(!proxy(&sawtooth(24, 300, 1800, |_| 1.0)).rates().seen());
        // Post-GC readings of a leak: they climb but never drop.
        let readings: Vec<Sample> = (0..2000)
            .map(|i| {
                s(
                    i * 15,
                    1000.0 + 0.1 * i as f64 + if i % 2 == 0 { 3.0 } else { -3.0 },
                )
            })
            .collect();
        assert!(!proxy(&readings).rates().seen());
    }

    #[test]
    fn a_scrape_gap_is_not_read_as_a_climb() {
        let mut samples = sawtooth(3, 15, 600, |_| 2.0);
        // One hour missing, the heap 500 higher after it.
        samples.retain(|x| !(3_600_000..7_200_000).contains(&x.ts_ms));
        for x in samples.iter_mut().filter(|x| x.ts_ms >= 7_200_000) {
            x.value += 500.0;
        }
        let a = proxy(&samples);
        let after = a.rates().mean(7_200_000, 10_800_000);
        assert!((after - 2.0).abs() < 0.05, "{after}");
    }
}

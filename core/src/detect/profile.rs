//! The daily profile: the floor of the last two days by time of day, so that a rise that
//! yesterday also had at this hour does not alarm, and a leak shows as today being higher than
//! yesterday at the same hour; and the load there, so that today's floor is compared with
//! yesterday's only where the load was alike. Bounded: two days of bins (576 slots at 5 min
//! buckets).

use crate::series::Sample;

pub(super) const DAY_MS: i64 = 86_400_000;
/// Bins on each side of an hour averaged when the profile is read (the floor is noisy).
const REACH: i64 = 2;

/// The floor by absolute time bin over the last two days.
#[derive(Debug, Clone)]
pub(super) struct DailyProfile {
    bin_ms: i64,
    /// Bins per day.
    bins: i64,
    /// Per slot: the absolute bin it holds (`i64::MIN`: none), the floor there and its load
    /// (NaN: unknown).
    slots: Vec<(i64, f64, f64)>,
}

impl DailyProfile {
    /// A profile with bins of `bucket_ms` (at least 5 min; at most 288 bins a day).
    pub(super) fn new(bucket_ms: i64) -> Self {
        let bin_ms = bucket_ms.max(DAY_MS / 288);
        let bins = DAY_MS / bin_ms;
        DailyProfile {
            bin_ms,
            bins,
            slots: vec![(i64::MIN, f64::NAN, f64::NAN); 2 * bins as usize],
        }
    }

    /// Records a floor point and its load (NaN: unknown).
    pub(super) fn record(&mut self, p: Sample, load: f64) {
        let k = p.ts_ms.div_euclid(self.bin_ms);
        let i = k.rem_euclid(2 * self.bins) as usize;
        self.slots[i] = (k, p.value, load);
    }

    /// Forgets everything (a restart).
    pub(super) fn clear(&mut self) {
        self.slots.fill((i64::MIN, f64::NAN, f64::NAN));
    }

    /// The floor a day before `ts_ms` (the mean of the bins around it that hold that day's
    /// values), `None` when that day was not seen there.
    pub(super) fn day_before(&self, ts_ms: i64) -> Option<f64> {
        self.floor_and_load_day_before(ts_ms).0
    }

    /// [`DailyProfile::day_before`], and the load a day before `ts_ms` as it the floor, in one
    /// pass over the bins (the slot index found by one division, then stepped: the daily judgements read
    /// both at every floor point of a day's window, and the divisions were most of their cost).
    pub(super) fn floor_and_load_day_before(&self, ts_ms: i64) -> (Option<f64>, Option<f64>) {
        let k = ts_ms.div_euclid(self.bin_ms) - self.bins;
        let len = self.slots.len();
        let mut i = (k - REACH).rem_euclid(len as i64) as usize;
        let (mut floor, mut floors, mut load, mut loads) = (0.0, 0u32, 0.0, 0u32);
        for j in k - REACH..=k + REACH {
            let (bin, f, x) = self.slots[i];
            if bin == j {
                if f.is_finite() {
                    floor += f;
                    floors += 1;
                }
                if x.is_finite() {
                    load += x;
                    loads += 1;
                }
            }
            i += 1;
            if i == len {
                i = 0;
            }
        }
        let mean = |sum: f64, n: u32| (i64::from(n) > REACH).then(|| sum / f64::from(n));
        (mean(floor, floors), mean(load, loads))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yesterday_is_read_back_and_older_days_are_gone() {
        let mut p = DailyProfile::new(300_000);
        let at = |h: f64| (h * 3.6e6) as i64;
        for i in 0..(3 * 288) {
            let ts = i64::from(i) * 300_000;
            p.record(
                Sample {
                    ts_ms: ts,
                    value: f64::from(i / 288) * 100.0 + (ts % DAY_MS) as f64 / 3.6e6,
                },
                if i % 288 < 144 {
                    f64::from(i)
                } else {
                    f64::NAN
                },
            );
        }
        // Day 2 at 10:00: the day before (day 1) held 100 + 10.
        let y = p.day_before(2 * DAY_MS + at(10.0)).unwrap();
        assert!((y - 110.0).abs() < 1e-9, "{y}");
        // Its load: the mean of day 1's bins 288 + 120 ± 2.
        let x = p.floor_and_load_day_before(2 * DAY_MS + at(10.0)).1.unwrap();
        assert!((x - 408.0).abs() < 1e-9, "{x}");
        // The afternoon's loads were unknown.
        assert_eq!(p.floor_and_load_day_before(2 * DAY_MS + at(18.0)).1, None);
        // Day 1's day before (day 0) is overwritten by day 2.
        assert_eq!(p.day_before(DAY_MS + at(10.0)), None);
        // Not yet seen.
        assert_eq!(p.day_before(4 * DAY_MS), None);
        p.clear();
        assert_eq!(p.day_before(2 * DAY_MS + at(10.0)), None);
    }
}

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
    /// Per bin of the day: the absolute bin `q` whose day-before means it holds (`i64::MIN`:
    /// none), and those means of the floor and the load (NaN: `None`; a mean of finite values
    /// is never NaN). Computed when bin `q` is recorded, dropped when a slot they read is
    /// recorded again: a judgement against yesterday reads a day's window of them at every
    /// evaluation, and reading the bins anew was a fifth of a later day's cost.
    means: Vec<(i64, f64, f64)>,
    /// The week's memory: per row, the absolute day it holds (`i64::MIN`: none), and
    /// [`WEEK_ROWS`] rows of [`WEEK_SLOTS`] half-hours, the sum and count of the floor there.
    week_days: [i64; WEEK_ROWS],
    week_sums: Vec<(f64, u32)>,
    /// The same for the load, when kept ([`DailyProfile::with_week_loads`]) and a load has
    /// been seen (a series without traffic never allocates it); else empty.
    week_loads: Vec<(f64, u32)>,
    keep_week_loads: bool,
}

/// Days the week's memory keeps (today's included).
pub(super) const WEEK_ROWS: usize = 8;
/// Slots of a day in the week's memory (half-hours).
const WEEK_SLOTS: usize = 48;
/// A half-hour of the week's memory.
const WEEK_SLOT_MS: i64 = DAY_MS / WEEK_SLOTS as i64;

impl DailyProfile {
    /// A profile with bins of `bucket_ms` (at least 5 min; at most 288 bins a day), and with
    /// `week`, the week's memory ([`DailyProfile::earlier_days_max`]; without it, none).
    pub(super) fn new(bucket_ms: i64, week: bool) -> Self {
        let bin_ms = bucket_ms.max(DAY_MS / 288);
        let bins = DAY_MS / bin_ms;
        DailyProfile {
            bin_ms,
            bins,
            slots: vec![(i64::MIN, f64::NAN, f64::NAN); 2 * bins as usize],
            means: vec![(i64::MIN, f64::NAN, f64::NAN); bins as usize],
            week_days: [i64::MIN; WEEK_ROWS],
            week_sums: vec![(0.0, 0); if week { WEEK_ROWS * WEEK_SLOTS } else { 0 }],
            week_loads: Vec::new(),
            keep_week_loads: false,
        }
    }

    /// The profile with the week's memory of the load too
    /// ([`DailyProfile::earlier_days_max_load`]).
    pub(super) fn with_week_loads(mut self) -> Self {
        self.keep_week_loads = true;
        self
    }

    /// Records a floor point and its load (NaN: unknown).
    pub(super) fn record(&mut self, p: Sample, load: f64) {
        self.record_week(p, load);
        let k = p.ts_ms.div_euclid(self.bin_ms);
        let i = k.rem_euclid(2 * self.bins) as usize;
        self.slots[i] = (k, p.value, load);
        // The means that read slot `i` are of a bin `q` with `q - bins + d ≡ k` (mod 2 bins)
        // for an offset `d` within the reach, held at `(k - d) mod bins`.
        let (bins, day2) = (self.bins, 2 * self.bins);
        for d in -REACH..=REACH {
            let at = (k - d).rem_euclid(bins) as usize;
            let q = self.means[at].0;
            if q != i64::MIN && (q - (k + bins - d)).rem_euclid(day2) == 0 {
                self.means[at].0 = i64::MIN;
            }
        }
        let (floor, load) = self.compute_means(k);
        self.means[k.rem_euclid(bins) as usize] =
            (k, floor.unwrap_or(f64::NAN), load.unwrap_or(f64::NAN));
    }

    /// Forgets everything (a restart).
    pub(super) fn clear(&mut self) {
        self.slots.fill((i64::MIN, f64::NAN, f64::NAN));
        self.means.fill((i64::MIN, f64::NAN, f64::NAN));
        self.week_days.fill(i64::MIN);
        self.week_sums.fill((0.0, 0));
        self.week_loads.fill((0.0, 0));
    }

    /// The row and slot of the week's memory that `ts_ms` falls in, and its absolute day.
    fn week_at(ts_ms: i64) -> (usize, usize, i64) {
        let day = ts_ms.div_euclid(DAY_MS);
        let slot = (ts_ms.rem_euclid(DAY_MS) / WEEK_SLOT_MS) as usize;
        (day.rem_euclid(WEEK_ROWS as i64) as usize, slot, day)
    }

    /// Adds `p`'s floor (and its load, when kept) to the week's memory at its half-hour.
    fn record_week(&mut self, p: Sample, load: f64) {
        if self.keep_week_loads && self.week_loads.is_empty() && load.is_finite() {
            // Allocated at the first known load: before it nothing would have been added.
            self.week_loads = vec![(0.0, 0); WEEK_ROWS * WEEK_SLOTS];
        }
        if self.week_sums.is_empty() && self.week_loads.is_empty() {
            return;
        }
        let (row, slot, day) = Self::week_at(p.ts_ms);
        let fresh = self.week_days[row] != day;
        self.week_days[row] = day;
        for (sums, v) in [(&mut self.week_sums, p.value), (&mut self.week_loads, load)] {
            if sums.is_empty() {
                continue;
            }
            if fresh {
                sums[row * WEEK_SLOTS..(row + 1) * WEEK_SLOTS].fill((0.0, 0));
            }
            let (sum, n) = &mut sums[row * WEEK_SLOTS + slot];
            if v.is_finite() {
                *sum += v;
                *n += 1;
            }
        }
    }

    /// The mean floor of `row`'s half-hour `slot` (of day `day`, wrapping into the days
    /// beside it), `None` when none was recorded there.
    fn week_mean(&self, sums: &[(f64, u32)], day: i64, slot: i64) -> Option<f64> {
        let day = day + slot.div_euclid(WEEK_SLOTS as i64);
        let row = day.rem_euclid(WEEK_ROWS as i64) as usize;
        let slot = slot.rem_euclid(WEEK_SLOTS as i64) as usize;
        let (sum, n) = sums[row * WEEK_SLOTS + slot];
        (self.week_days[row] == day && n > 0).then(|| sum / f64::from(n))
    }

    /// The highest of the floors at `ts_ms`'s time of day on the days from `WEEK_ROWS - 1`
    /// to 2 days before it (yesterday excluded: the judgement against yesterday reads it
    /// already), each read from that day's half-hour means, linearly between the two
    /// half-hours around it; `None` when none of those days was seen there.
    pub(super) fn earlier_days_max(&self, ts_ms: i64) -> Option<f64> {
        self.earlier_max(&self.week_sums, ts_ms)
    }

    /// [`DailyProfile::earlier_days_max`] of the load, when the week's memory keeps it.
    pub(super) fn earlier_days_max_load(&self, ts_ms: i64) -> Option<f64> {
        self.earlier_max(&self.week_loads, ts_ms)
    }

    fn earlier_max(&self, sums: &[(f64, u32)], ts_ms: i64) -> Option<f64> {
        if sums.is_empty() {
            return None;
        }
        let day = ts_ms.div_euclid(DAY_MS);
        // Half-hour means sit at the middle of their half-hour.
        let at = ts_ms.rem_euclid(DAY_MS) - WEEK_SLOT_MS / 2;
        let slot = at.div_euclid(WEEK_SLOT_MS);
        let w = at.rem_euclid(WEEK_SLOT_MS) as f64 / WEEK_SLOT_MS as f64;
        let mut best = f64::NEG_INFINITY;
        for back in 2..WEEK_ROWS as i64 {
            let d = day - back;
            let v = match (
                self.week_mean(sums, d, slot),
                self.week_mean(sums, d, slot + 1),
            ) {
                (Some(a), Some(b)) => a + w * (b - a),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => continue,
            };
            best = best.max(v);
        }
        best.is_finite().then_some(best)
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
        let q = ts_ms.div_euclid(self.bin_ms);
        let (bin, floor, load) = self.means[q.rem_euclid(self.bins) as usize];
        if bin == q {
            let known = |v: f64| (!v.is_nan()).then_some(v);
            return (known(floor), known(load));
        }
        self.compute_means(q)
    }

    /// A reader of [`DailyProfile::floor_and_load_day_before`] for times that mostly rise by a
    /// bin or two from one read to the next (a window's floor points).
    pub(super) fn reader(&self) -> DayBefore<'_> {
        DayBefore {
            profile: self,
            bin: None,
        }
    }

    /// The means of the floor and the load over the bins around `q`, a day before.
    fn compute_means(&self, q: i64) -> (Option<f64>, Option<f64>) {
        let k = q - self.bins;
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

/// [`DailyProfile::floor_and_load_day_before`] over a window's points: the bin of a time at
/// most two bins after the last one read is found by stepping from it instead of by two
/// divisions (the same bin and slot, so the same means; the divisions were a tenth of a busy
/// later day's judgement against yesterday).
pub(super) struct DayBefore<'a> {
    profile: &'a DailyProfile,
    /// The last bin read, its slot among the day's means, and the time it starts at.
    bin: Option<(i64, usize, i64)>,
}

impl DayBefore<'_> {
    /// The floor and the load a day before `ts_ms`, as
    /// [`DailyProfile::floor_and_load_day_before`] gives them.
    pub(super) fn read(&mut self, ts_ms: i64) -> (Option<f64>, Option<f64>) {
        let p = self.profile;
        let stepped = self.bin.and_then(|(q, at, start)| {
            let d = ts_ms.checked_sub(start)?;
            if !(0..3 * p.bin_ms).contains(&d) {
                return None;
            }
            let (mut q, mut at, mut start, mut d) = (q, at, start, d);
            while d >= p.bin_ms {
                (q, at, start, d) = (q + 1, at + 1, start + p.bin_ms, d - p.bin_ms);
                if at == p.bins as usize {
                    at = 0;
                }
            }
            Some((q, at, start))
        });
        let (q, at) = match stepped {
            Some((q, at, start)) => {
                self.bin = Some((q, at, start));
                (q, at)
            }
            None => {
                let q = ts_ms.div_euclid(p.bin_ms);
                let at = q.rem_euclid(p.bins) as usize;
                self.bin = q.checked_mul(p.bin_ms).map(|start| (q, at, start));
                (q, at)
            }
        };
        let (bin, floor, load) = p.means[at];
        if bin == q {
            let known = |v: f64| (!v.is_nan()).then_some(v);
            return (known(floor), known(load));
        }
        p.compute_means(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Records that step forward by a few bins, jump days ahead or back, repeat a bin, miss
        /// a value or a load, or clear: the kept means are those read from the bins anew.
        #[test]
        fn kept_means_are_the_bins_means(
            bucket_min in proptest::sample::select(vec![1i64, 5, 60]),
            steps in proptest::collection::vec((0u8..6, 0u16..700, 0u8..4), 1..400),
        ) {
            let mut p = DailyProfile::new(bucket_min * 60_000, false);
            let mut ts = 0i64;
            for (kind, x, missing) in steps {
                ts += match kind {
                    0 | 1 => i64::from(x % 4) * p.bin_ms,
                    2 => i64::from(x) * 60_000,
                    3 => i64::from(x % 3) * DAY_MS - i64::from(x) * p.bin_ms,
                    4 => 1,
                    _ => {
                        p.clear();
                        0
                    }
                };
                let value = if missing == 1 { f64::NAN } else { f64::from(x) };
                let load = if missing == 2 { f64::NAN } else { f64::from(x) / 3.0 };
                p.record(Sample { ts_ms: ts, value }, load);
                for back in -3 * p.bins..=p.bins {
                    let at = ts + back * p.bin_ms;
                    let q = at.div_euclid(p.bin_ms);
                    proptest::prop_assert_eq!(
                        format!("{:?}", p.floor_and_load_day_before(at)),
                        format!("{:?}", p.compute_means(q))
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// A reader stepping over times that rise by less than a bin, by one to three bins, jump
        /// ahead or go back reads what `floor_and_load_day_before` reads at each.
        #[test]
        fn a_reader_reads_the_day_before(
            bucket_min in proptest::sample::select(vec![1i64, 5, 60]),
            start in -3 * DAY_MS..3 * DAY_MS,
            steps in proptest::collection::vec((0u8..5, 0u32..5000), 1..300),
        ) {
            let mut p = DailyProfile::new(bucket_min * 60_000, false);
            for i in 0..(3 * p.bins) {
                let ts = start - 2 * DAY_MS + i * p.bin_ms + 1000;
                let v = f64::from(u32::try_from(i % 7).unwrap());
                p.record(Sample { ts_ms: ts, value: v }, if i % 5 == 0 { f64::NAN } else { v });
            }
            let mut reader = p.reader();
            let mut ts = start;
            for (kind, x) in steps {
                ts += match kind {
                    0 => i64::from(x) % p.bin_ms,
                    1 => i64::from(x % 4) * p.bin_ms + i64::from(x),
                    2 => i64::from(x) * 60_000,
                    3 => -i64::from(x) * 1000,
                    _ => 3 * p.bin_ms - 1,
                };
                proptest::prop_assert_eq!(
                    format!("{:?}", reader.read(ts)),
                    format!("{:?}", p.floor_and_load_day_before(ts))
                );
            }
        }
    }

    #[test]
    fn the_week_memory_reads_the_highest_of_the_days_before_yesterday() {
        let mut off = DailyProfile::new(300_000, false);
        let mut p = DailyProfile::new(300_000, true);
        // Day d's floor is 10 d at every hour, but day 3's is 100 (a busy day) and day 9 is
        // the newest.
        for i in 0..(10 * 288) {
            let ts = i64::from(i) * 300_000;
            let day = i / 288;
            let value = if day == 3 {
                100.0
            } else {
                f64::from(day) * 10.0
            };
            p.record(Sample { ts_ms: ts, value }, f64::NAN);
            off.record(Sample { ts_ms: ts, value }, f64::NAN);
        }
        let at = 9 * DAY_MS + 10 * 3_600_000;
        // Days 2..=7 before day 9 are days 2..=7: day 3's 100 is the highest.
        assert_eq!(p.earlier_days_max(at), Some(100.0));
        // On day 10, days 3..=8: still day 3; on day 11, days 4..=9 (8 a day before 9 is
        // excluded there: yesterday is day 10): day 9's 90.
        assert_eq!(p.earlier_days_max(at + DAY_MS), Some(100.0));
        assert_eq!(p.earlier_days_max(at + 2 * DAY_MS), Some(90.0));
        // Nothing older than 7 days, nothing from yesterday.
        assert_eq!(p.earlier_days_max(at + 7 * DAY_MS), Some(90.0));
        assert_eq!(p.earlier_days_max(at + 8 * DAY_MS), None);
        assert_eq!(off.earlier_days_max(at), None);
        p.clear();
        assert_eq!(p.earlier_days_max(at), None);
    }

    #[test]
    fn the_week_memory_keeps_the_load_only_when_asked() {
        let mut p = DailyProfile::new(300_000, false).with_week_loads();
        let mut off = DailyProfile::new(300_000, false);
        // Day d's load is d at every hour, but day 1's is 50 (a busy day); its floor 7.
        for i in 0..(4 * 288) {
            let ts = i64::from(i) * 300_000;
            let day = i / 288;
            let load = if day == 1 { 50.0 } else { f64::from(day) };
            p.record(
                Sample {
                    ts_ms: ts,
                    value: 7.0,
                },
                load,
            );
            off.record(
                Sample {
                    ts_ms: ts,
                    value: 7.0,
                },
                load,
            );
        }
        let at = 3 * DAY_MS + 10 * 3_600_000;
        // Days 2..=7 before day 3 are days 0 and 1: day 1's 50; before day 2, day 0 alone
        // (yesterday, day 1, is not read).
        assert_eq!(p.earlier_days_max_load(at), Some(50.0));
        assert_eq!(p.earlier_days_max_load(at - DAY_MS), Some(0.0));
        // The floor's week memory stays off (it is `profile_week_alone`'s).
        assert_eq!(p.earlier_days_max(at), None);
        assert_eq!(off.earlier_days_max_load(at), None);
        p.clear();
        assert_eq!(p.earlier_days_max_load(at), None);
    }

    #[test]
    fn the_week_memory_of_the_load_is_allocated_at_the_first_known_load() {
        let mut p = DailyProfile::new(300_000, false).with_week_loads();
        let floor = |i: i64| Sample {
            ts_ms: i * 300_000,
            value: 7.0,
        };
        for i in 0..(2 * 288) {
            p.record(floor(i), f64::NAN);
        }
        assert!(p.week_loads.is_empty(), "no traffic, no memory of it");
        p.record(floor(2 * 288), 3.0);
        assert_eq!(p.week_loads.len(), WEEK_ROWS * WEEK_SLOTS);
        for i in (2 * 288 + 1)..(4 * 288) {
            p.record(floor(i), 3.0);
        }
        assert_eq!(p.earlier_days_max_load(4 * DAY_MS + 3_600_000), Some(3.0));
    }

    #[test]
    fn yesterday_is_read_back_and_older_days_are_gone() {
        let mut p = DailyProfile::new(300_000, false);
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
        let x = p
            .floor_and_load_day_before(2 * DAY_MS + at(10.0))
            .1
            .unwrap();
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

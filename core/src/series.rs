//! Bounded series of samples. Everything the core keeps over time lives in a fixed-capacity
//! ring, so memory use is decided at construction and never grows afterwards.

use crate::error::InputError;

/// One observation: a timestamp in unix milliseconds (Prometheus's resolution) and a value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Unix time in milliseconds.
    pub ts_ms: i64,
    /// The observed value (bytes, or a count).
    pub value: f64,
}

impl Sample {
    /// Builds a sample from unix seconds, rounding to the millisecond as Prometheus does.
    pub fn from_secs(ts_secs: f64, value: f64) -> Result<Self, InputError> {
        check_finite(0, "timestamp", ts_secs)?;
        check_finite(0, "value", value)?;
        let ms = (ts_secs * 1000.0).round();
        if ms.abs() > MAX_ABS_TS_MS as f64 {
            return Err(InputError::invalid_option(
                "timestamp",
                format!("{ts_secs} s is out of range"),
            ));
        }
        Ok(Sample {
            ts_ms: ms as i64,
            value,
        })
    }

    /// The timestamp in unix seconds.
    pub fn ts_secs(&self) -> f64 {
        self.ts_ms as f64 / 1000.0
    }
}

/// Unix seconds of 2200-01-01T00:00:00Z: a timestamp read as seconds that lands later is
/// taken for a finer unit (milliseconds are the usual mistake: Prometheus' own exposition
/// format and most JavaScript use them).
pub const YEAR_2200_SECS: f64 = 7_258_118_400.0;

/// Unix seconds of 2000-01-01T00:00:00Z: a finer unit must give a date after it (1e13 is more
/// likely milliseconds of 2286 than microseconds of 1970: refused, not guessed).
const YEAR_2000_SECS: f64 = 946_684_800.0;

/// The unit of unix timestamps in an input, judged by the date each unit gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl EpochUnit {
    /// Seconds up to the year 2200; otherwise the coarsest finer unit that puts `ts` between
    /// 2000 and 2200. `None` when none does (the caller refuses the input).
    pub fn guess(ts: f64) -> Option<EpochUnit> {
        if !ts.is_finite() {
            return None;
        }
        if ts <= YEAR_2200_SECS {
            return Some(EpochUnit::Seconds);
        }
        [EpochUnit::Millis, EpochUnit::Micros, EpochUnit::Nanos]
            .into_iter()
            .find(|u| (YEAR_2000_SECS..=YEAR_2200_SECS).contains(&(ts / u.per_second())))
    }

    /// How many of this unit make a second.
    pub fn per_second(self) -> f64 {
        match self {
            EpochUnit::Seconds => 1.0,
            EpochUnit::Millis => 1e3,
            EpochUnit::Micros => 1e6,
            EpochUnit::Nanos => 1e9,
        }
    }

    /// The unit's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            EpochUnit::Seconds => "seconds",
            EpochUnit::Millis => "milliseconds",
            EpochUnit::Micros => "microseconds",
            EpochUnit::Nanos => "nanoseconds",
        }
    }
}

fn check_finite(index: usize, what: &'static str, value: f64) -> Result<(), InputError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(InputError::NonFinite { index, what, value })
    }
}

/// Largest timestamp magnitude accepted (about year 287,000); keeping times in this range
/// means sums and differences of two of them cannot overflow.
pub(crate) const MAX_ABS_TS_MS: i64 = 9_000_000_000_000_000;

/// Checks that a timestamp is within `±MAX_ABS_TS_MS`.
pub(crate) fn check_ts(what: &'static str, ts_ms: i64) -> Result<(), InputError> {
    if ts_ms.unsigned_abs() > MAX_ABS_TS_MS as u64 {
        return Err(InputError::invalid_option(
            what,
            format!("{ts_ms} ms is out of range"),
        ));
    }
    Ok(())
}

/// Checks that a whole series is finite, within the timestamp range and strictly increasing
/// in time.
pub fn validate(samples: &[Sample]) -> Result<(), InputError> {
    let mut prev: Option<i64> = None;
    for (index, s) in samples.iter().enumerate() {
        check_finite(index, "value", s.value)?;
        check_ts("timestamp", s.ts_ms)?;
        if let Some(prev_ms) = prev
            && s.ts_ms <= prev_ms
        {
            return Err(InputError::OutOfOrder {
                index,
                ts_ms: s.ts_ms,
                prev_ms,
            });
        }
        prev = Some(s.ts_ms);
    }
    Ok(())
}

/// Zips parallel arrays of unix-second timestamps and values into validated samples.
pub fn samples_from_secs(timestamps: &[f64], values: &[f64]) -> Result<Vec<Sample>, InputError> {
    if timestamps.len() != values.len() {
        return Err(InputError::LengthMismatch {
            timestamps: timestamps.len(),
            values: values.len(),
        });
    }
    let mut out = Vec::with_capacity(timestamps.len());
    for (index, (&t, &v)) in timestamps.iter().zip(values).enumerate() {
        let s = Sample::from_secs(t, v).map_err(|e| match e {
            InputError::NonFinite { what, value, .. } => {
                InputError::NonFinite { index, what, value }
            }
            other => other,
        })?;
        out.push(s);
    }
    validate(&out)?;
    Ok(out)
}

/// A fixed-capacity ring buffer: O(1) push, the oldest item is dropped when full.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    buf: Vec<T>,
    capacity: usize,
    /// Index of the oldest item once the buffer is full.
    head: usize,
}

impl<T: Copy> Ring<T> {
    /// A ring that holds at most `capacity` items. `capacity` must be at least 1.
    pub fn new(capacity: usize) -> Result<Self, InputError> {
        if capacity == 0 {
            return Err(InputError::invalid_option("capacity", "must be at least 1"));
        }
        Ok(Ring {
            buf: Vec::with_capacity(capacity),
            capacity,
            head: 0,
        })
    }

    /// Appends an item, returning the one it evicted, if any.
    pub fn push(&mut self, item: T) -> Option<T> {
        if self.buf.len() < self.capacity {
            self.buf.push(item);
            None
        } else {
            let old = std::mem::replace(&mut self.buf[self.head], item);
            self.head = (self.head + 1) % self.capacity;
            Some(old)
        }
    }

    /// Number of items held.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing has been pushed since creation or the last clear.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The fixed capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The item `i` places after the oldest one.
    pub fn get(&self, i: usize) -> Option<T> {
        if i >= self.buf.len() {
            return None;
        }
        Some(self.buf[(self.head + i) % self.buf.len()])
    }

    /// The newest item.
    pub fn last(&self) -> Option<T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The newest item, to update in place.
    pub fn last_mut(&mut self) -> Option<&mut T> {
        let n = self.buf.len();
        let i = (self.head + n).checked_sub(1)? % n;
        self.buf.get_mut(i)
    }

    /// Items from oldest to newest.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = T> + '_ {
        let (newer, older) = self.buf.split_at(self.head);
        older.iter().chain(newer.iter()).copied()
    }

    /// Replaces `out`'s contents with the items after the oldest `skip`, oldest first: two
    /// slice copies, where extending from [`Ring::iter`] goes item by item (the detector copies
    /// its floor at every evaluation).
    pub(crate) fn copy_into(&self, skip: usize, out: &mut Vec<T>) {
        let (newer, older) = self.buf.split_at(self.head);
        out.clear();
        if let Some(rest) = older.get(skip..) {
            out.extend_from_slice(rest);
            out.extend_from_slice(newer);
        } else {
            out.extend_from_slice(newer.get(skip - older.len()..).unwrap_or(&[]));
        }
    }

    /// Drops every item, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }
}

/// A bounded time series that only accepts finite values in strictly increasing time order.
#[derive(Debug, Clone)]
pub struct Series {
    ring: Ring<Sample>,
    pushed: usize,
}

impl Series {
    /// A series keeping the newest `capacity` samples.
    pub fn new(capacity: usize) -> Result<Self, InputError> {
        Ok(Series {
            ring: Ring::new(capacity)?,
            pushed: 0,
        })
    }

    /// Appends a sample; rejects NaN, infinities and timestamps that do not move forward.
    pub fn push(&mut self, sample: Sample) -> Result<(), InputError> {
        let index = self.pushed;
        check_finite(index, "value", sample.value)?;
        if let Some(prev) = self.ring.last()
            && sample.ts_ms <= prev.ts_ms
        {
            return Err(InputError::OutOfOrder {
                index,
                ts_ms: sample.ts_ms,
                prev_ms: prev.ts_ms,
            });
        }
        self.ring.push(sample);
        self.pushed += 1;
        Ok(())
    }

    /// Samples from oldest to newest.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Sample> + '_ {
        self.ring.iter()
    }

    /// The newest sample.
    pub fn last(&self) -> Option<Sample> {
        self.ring.last()
    }

    /// Number of samples held (at most the capacity).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// True when no sample is held.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// The fixed capacity.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Copies the held samples out, oldest first.
    pub fn to_vec(&self) -> Vec<Sample> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;

    fn s(ts_ms: i64, value: f64) -> Sample {
        Sample { ts_ms, value }
    }

    #[test]
    fn epoch_units_are_judged_by_the_date_they_give() {
        let now = 1_700_000_000.0;
        assert_eq!(EpochUnit::guess(now), Some(EpochUnit::Seconds));
        assert_eq!(EpochUnit::guess(-5.0), Some(EpochUnit::Seconds));
        assert_eq!(EpochUnit::guess(YEAR_2200_SECS), Some(EpochUnit::Seconds));
        assert_eq!(EpochUnit::guess(now * 1e3), Some(EpochUnit::Millis));
        assert_eq!(EpochUnit::guess(now * 1e6), Some(EpochUnit::Micros));
        assert_eq!(EpochUnit::guess(now * 1e9), Some(EpochUnit::Nanos));
        // Milliseconds of 2286, or microseconds of 1970: neither is believed.
        assert_eq!(EpochUnit::guess(1e13), None);
        assert_eq!(EpochUnit::guess(1e19), None);
        assert_eq!(EpochUnit::guess(f64::NAN), None);
        assert_eq!(EpochUnit::Millis.per_second(), 1e3);
    }

    #[test]
    fn ring_keeps_the_newest_items_in_order() {
        let mut r = Ring::new(3).unwrap();
        assert!(r.is_empty());
        assert_eq!(r.push(1), None);
        r.push(2);
        r.push(3);
        assert_eq!(r.push(4), Some(1));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.last(), Some(4));
        assert_eq!(r.get(0), Some(2));
        assert_eq!(r.get(3), None);
        *r.last_mut().unwrap() = 40;
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2, 3, 40]);
        r.clear();
        assert_eq!(r.len(), 0);
        assert_eq!(r.last(), None);
        assert_eq!(r.last_mut(), None);
        r.push(7);
        *r.last_mut().unwrap() += 1;
        assert_eq!(r.last(), Some(8));
    }

    proptest! {
        #[test]
        fn ring_copy_into_is_iter_after_skip(pushes in 0usize..12, skip in 0usize..6) {
            let mut r = Ring::new(5).unwrap();
            for i in 0..pushes {
                r.push(i);
            }
            let mut out = vec![99];
            r.copy_into(skip, &mut out);
            prop_assert_eq!(out, r.iter().skip(skip).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ring_of_zero_capacity_is_an_error() {
        assert_eq!(
            Ring::<u8>::new(0).unwrap_err().code(),
            ErrorCode::InvalidOption
        );
    }

    #[test]
    fn series_rejects_bad_samples_and_keeps_its_state() {
        let mut x = Series::new(4).unwrap();
        x.push(s(1000, 1.0)).unwrap();
        assert_eq!(
            x.push(s(2000, f64::NAN)).unwrap_err().code(),
            ErrorCode::NonFiniteValue
        );
        assert_eq!(
            x.push(s(3000, f64::INFINITY)).unwrap_err().code(),
            ErrorCode::NonFiniteValue
        );
        assert_eq!(
            x.push(s(1000, 2.0)).unwrap_err().code(),
            ErrorCode::OutOfOrder
        );
        assert_eq!(
            x.push(s(999, 2.0)).unwrap_err().code(),
            ErrorCode::OutOfOrder
        );
        assert_eq!(x.to_vec(), vec![s(1000, 1.0)]);
    }

    #[test]
    fn series_from_secs_validates_everything() {
        let ok = samples_from_secs(&[1.0, 2.5], &[10.0, 11.0]).unwrap();
        assert_eq!(ok, vec![s(1000, 10.0), s(2500, 11.0)]);
        let e = samples_from_secs(&[1.0, 2.0], &[1.0]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption);
        let e = samples_from_secs(&[1.0, f64::NAN], &[1.0, 2.0]).unwrap_err();
        assert!(
            matches!(e, InputError::NonFinite { index: 1, what: "timestamp", value } if value.is_nan())
        );
        let e = samples_from_secs(&[2.0, 1.0], &[1.0, 2.0]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OutOfOrder);
        assert_eq!(
            Sample::from_secs(1e300, 1.0).unwrap_err().code(),
            ErrorCode::InvalidOption
        );
    }

    #[test]
    fn timestamps_beyond_the_range_are_rejected() {
        assert!(check_ts("t", MAX_ABS_TS_MS).is_ok());
        assert!(check_ts("t", -MAX_ABS_TS_MS).is_ok());
        for t in [MAX_ABS_TS_MS + 1, i64::MAX, i64::MIN] {
            assert_eq!(
                check_ts("t", t).unwrap_err().code(),
                ErrorCode::InvalidOption
            );
            assert_eq!(
                validate(&[s(t, 1.0)]).unwrap_err().code(),
                ErrorCode::InvalidOption
            );
        }
    }

    proptest! {
        #[test]
        fn series_never_exceeds_capacity(cap in 1usize..64, n in 0usize..500) {
            let mut x = Series::new(cap).unwrap();
            for i in 0..n {
                x.push(s(i as i64, i as f64)).unwrap();
                prop_assert!(x.len() <= cap);
            }
            prop_assert_eq!(x.len(), n.min(cap));
            let v = x.to_vec();
            prop_assert!(v.windows(2).all(|w| w[0].ts_ms < w[1].ts_ms));
            if n > 0 {
                prop_assert_eq!(x.last().unwrap().ts_ms, n as i64 - 1);
            }
        }

        #[test]
        fn series_push_never_panics(ts in proptest::collection::vec(any::<i64>(), 0..50),
                                    vs in proptest::collection::vec(any::<f64>(), 0..50)) {
            let mut x = Series::new(8).unwrap();
            for (t, v) in ts.into_iter().zip(vs) {
                let before = x.len();
                match x.push(s(t, v)) {
                    Ok(()) => prop_assert!(v.is_finite()),
                    Err(_) => prop_assert_eq!(x.len(), before),
                }
            }
        }
    }
}

//! The design of the attribution model: per floor point, the requests per route since the
//! first point and the current request rate, arranged as the columns of one fit.

use super::tracker::TrackerSnapshot;

/// The columns of one fit besides the intercept, in this order: a retained-per-request column
/// for each route of `own`, one for the routes of `pooled` together (`_other`, when any), a
/// transient column for each route of `rates` (its current request rate), and the background.
#[derive(Debug, Clone, Default)]
pub(super) struct Columns {
    pub(super) own: Vec<usize>,
    pub(super) pooled: Vec<usize>,
    pub(super) rates: Vec<usize>,
}

impl Columns {
    /// Index of the first transient column.
    pub(super) fn first_rate(&self) -> usize {
        self.own.len() + usize::from(!self.pooled.is_empty())
    }

    /// Number of columns.
    pub(super) fn len(&self) -> usize {
        self.first_rate() + self.rates.len() + 1
    }
}

/// Requests per route before each of `times` (sorted, unix ms), as one row per time, counting
/// the elapsed share of the slot a time falls in. One pass over the slots, whatever the number
/// of points.
fn requests_before(snap: &TrackerSnapshot, times: &[i64]) -> Vec<Vec<f64>> {
    let slot = snap.slot_ms;
    let mut whole = vec![0f64; snap.routes.len()];
    let mut next = 0;
    times
        .iter()
        .map(|&t| {
            while let Some(s) = snap.slots.get(next)
                && s.start_ms + slot <= t
            {
                for (w, &c) in whole.iter_mut().zip(&s.counts) {
                    *w += c as f64;
                }
                next += 1;
            }
            let mut at = whole.clone();
            if let Some(s) = snap.slots.get(next)
                && s.start_ms < t
            {
                let share = (t - s.start_ms) as f64 / slot as f64;
                for (a, &c) in at.iter_mut().zip(&s.counts) {
                    *a += c as f64 * share;
                }
            }
            at
        })
        .collect()
}

/// Requests per route at each floor point, cumulated from the first point, and the request
/// rate there.
pub(super) struct Design {
    /// `cum[k * nr + r]`: requests on route `r` from the first point up to point `k`.
    pub(super) cum: Vec<f64>,
    /// `rate[k * nr + r]`: requests per second on route `r` in the slot's length before point
    /// `k`.
    pub(super) rate: Vec<f64>,
    pub(super) nr: usize,
    pub(super) times: Vec<i64>,
}

impl Design {
    /// The counts at each of `times` (sorted, unix ms, at least one).
    pub(super) fn new(snap: &TrackerSnapshot, times: Vec<i64>) -> Design {
        // Requests per route from the first point up to each point. A slot's requests are
        // spread evenly over it, so a point inside a slot counts the elapsed share of it:
        // snapping to slot edges would shift up to half a slot of requests to the wrong side
        // of a point.
        let before_each = requests_before(snap, &times);
        let cum: Vec<f64> = before_each
            .iter()
            .flat_map(|at| at.iter().zip(&before_each[0]).map(|(a, first)| a - first))
            .collect();
        // The current request rate at each point: requests per second in the slot's length
        // before it (the finest the counts resolve).
        let window = snap.slot_ms;
        let earlier: Vec<i64> = times.iter().map(|&t| t - window).collect();
        let rate: Vec<f64> = before_each
            .iter()
            .zip(requests_before(snap, &earlier))
            .flat_map(|(now, then)| {
                now.iter()
                    .zip(then)
                    .map(|(a, b)| (a - b) * 1000.0 / window as f64)
                    .collect::<Vec<f64>>()
            })
            .collect();
        Design {
            cum,
            rate,
            nr: snap.routes.len(),
            times,
        }
    }

    /// Requests on route `r` from point `start` up to point `k` (0 up to the start).
    pub(super) fn since(&self, start: usize, k: usize, r: usize) -> f64 {
        if k > start {
            self.cum[k * self.nr + r] - self.cum[start * self.nr + r]
        } else {
            0.0
        }
    }

    /// Requests on route `r` since point `start`, at every point.
    pub(super) fn route_since(&self, start: usize, r: usize) -> Vec<f64> {
        (0..self.times.len())
            .map(|k| self.since(start, k, r))
            .collect()
    }

    /// The request rate of route `r` at every point.
    pub(super) fn route_rate(&self, r: usize) -> Vec<f64> {
        (0..self.times.len())
            .map(|k| self.rate[k * self.nr + r])
            .collect()
    }

    /// The design (row-major, one row per point, in the order of [`Columns`]) for growth
    /// starting at point `start`: requests since the start on retained columns, the current
    /// rate on transient ones (at every point: what running requests hold does not wait for
    /// a leak), and the seconds since the start on the background.
    pub(super) fn matrix(&self, start: usize, cols: &Columns) -> Vec<f64> {
        let n = self.times.len();
        let p = cols.len();
        let first_rate = cols.first_rate();
        let mut a = vec![0.0; n * p];
        for k in 0..n {
            let row = &mut a[k * p..(k + 1) * p];
            for (j, &r) in cols.rates.iter().enumerate() {
                row[first_rate + j] = self.rate[k * self.nr + r];
            }
            if k <= start {
                continue;
            }
            for (j, &r) in cols.own.iter().enumerate() {
                row[j] = self.since(start, k, r);
            }
            if !cols.pooled.is_empty() {
                row[cols.own.len()] = cols.pooled.iter().map(|&r| self.since(start, k, r)).sum();
            }
            row[p - 1] = (self.times[k] - self.times[start]) as f64 / 1000.0;
        }
        a
    }
}

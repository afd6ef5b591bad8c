//! The situations added with the traffic covariate: a simulated service whose request rate
//! follows a day (night low, afternoon peak), whose post-GC floor may follow that traffic
//! (live per-request data, traffic-sized caches, with a lag and a curvature of their own), and
//! whose GC runs when the garbage its traffic allocates reaches a share of the live heap (so
//! collections come faster at the peak), never above the memory limit. Each situation draws
//! its own parameters, and its sampling: every 15 s, 60 s or 5 min, jittered timestamps,
//! scrape outages.

use super::{HOUR, MB, Rng, Scenario, Situation, at_ms, cut_gaps};
use crate::detect::options::SeriesKind;
use crate::series::Sample;

const DAY: f64 = 24.0 * HOUR;
/// The length of the week-long situations, in days.
const WEEK_DAYS: f64 = 7.0;
const TAU: f64 = std::f64::consts::TAU;

/// A day of traffic: `peak · (night + (1 - night) · shape(t))`, with `shape` in [0, 1] (0 at
/// the night low, 1 at the peak): a daily cosine plus a second harmonic, so the rise and the
/// fall need not be symmetric.
struct Day {
    peak: f64,
    night: f64,
    low_at: f64,
    h2: f64,
    h2_phase: f64,
    /// Minimum and range of the raw curve, to map it onto [0, 1].
    norm: (f64, f64),
    /// Relative noise of one traffic sample (a rate over a short interval).
    noise: f64,
}

impl Day {
    fn draw(rng: &mut Rng) -> Day {
        let mut d = Day {
            peak: rng.log_uniform(5.0, 2000.0),
            night: rng.uniform(0.1, 0.6),
            low_at: rng.uniform(0.0, DAY),
            h2: rng.uniform(0.0, 0.15),
            h2_phase: rng.uniform(0.0, TAU),
            norm: (0.0, 1.0),
            noise: rng.uniform(0.02, 0.1),
        };
        let raw: Vec<f64> = (0..1440).map(|m| d.raw(f64::from(m) * 60.0)).collect();
        let lo = raw.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        d.norm = (lo, (hi - lo).max(1e-9));
        d
    }
    fn raw(&self, t: f64) -> f64 {
        let x = TAU * (t - self.low_at) / DAY;
        0.5 - 0.5 * x.cos() + self.h2 * (2.0 * x + self.h2_phase).sin()
    }
    /// The day's shape at `t`, in [0, 1].
    fn shape(&self, t: f64) -> f64 {
        ((self.raw(t) - self.norm.0) / self.norm.1).clamp(0.0, 1.0)
    }
    /// The day's mean request rate (the rate halfway between the night low and the peak).
    fn mean_rate(&self) -> f64 {
        self.peak * (self.night + (1.0 - self.night) * 0.5)
    }
    /// The noise-free request rate at `t`.
    fn rate(&self, t: f64) -> f64 {
        self.peak * (self.night + (1.0 - self.night) * self.shape(t))
    }
}

/// A second day whose traffic is `scale` times the first day's, its peak `shift` seconds later,
/// reached from midnight over `BLEND` seconds.
struct SecondDay {
    scale: f64,
    shift: f64,
}

const BLEND: f64 = 2.0 * HOUR;

impl SecondDay {
    /// The weight of the second day's traffic at `t`.
    fn weight(t: f64) -> f64 {
        ((t - DAY) / BLEND).clamp(0.0, 1.0)
    }
    /// The second day's shape at `t` on the first day's scale (0 at its night low, 1 at its
    /// peak): below 0 when quieter than the first night, above 1 when busier than its peak.
    fn shape(&self, day: &Day, t: f64) -> f64 {
        self.scale * day.shape(t - self.shift) + day.night * (self.scale - 1.0) / (1.0 - day.night)
    }
}

/// A weekend in a week-long series: from Saturday's night low (the night low of day 3, day 0
/// being the series' first) to Monday's, blended in and out over `BLEND`, the traffic is
/// `day.scale` times the weekday's (`day.shift` is 0).
struct Weekend {
    day: SecondDay,
    from: f64,
    to: f64,
}

impl Weekend {
    /// The weight of the weekend's traffic at `t`.
    fn weight(&self, t: f64) -> f64 {
        ((t - self.from) / BLEND).clamp(0.0, 1.0) - ((t - self.to) / BLEND).clamp(0.0, 1.0)
    }
}

/// Growth of the floor beyond what traffic explains.
#[derive(Clone, Copy)]
enum Growth {
    None,
    /// A cache warming from `start` for `dur`, by `amp` of the base, decelerating like a
    /// logarithm with time constant `tau`.
    Warmup {
        start: f64,
        dur: f64,
        amp: f64,
        tau: f64,
    },
    /// A one-off step by `size` of the base at `at`, ramped over `ramp`.
    Step {
        at: f64,
        size: f64,
        ramp: f64,
    },
    /// A leak of `rate` units per second on average from `start` to `stop`; `per_request`:
    /// its rate follows traffic (a little retained per request).
    Leak {
        start: f64,
        stop: f64,
        rate: f64,
        per_request: bool,
    },
    /// A leak of `rate` units per second while the batch runs, from `start` on: the floor
    /// rises by the batch's requests and is flat while it idles; `mean` is its rate averaged
    /// from `start` to the end of the series.
    BatchLeak {
        start: f64,
        rate: f64,
        mean: f64,
    },
}

/// A batch job's runs (`[from, to)` seconds, in order) and the request rate it adds while one
/// runs; `live`: its requests hold live data while they run, as the day's do (else it
/// streams, and only the leak keeps anything).
struct Batch {
    runs: Vec<(f64, f64)>,
    rate: f64,
    live: bool,
}

impl Batch {
    fn rate_at(&self, t: f64) -> f64 {
        if self.runs.iter().any(|&(a, b)| a <= t && t < b) {
            self.rate
        } else {
            0.0
        }
    }

    /// How long the batch ran between `from` and `to` (seconds).
    fn run_time(&self, from: f64, to: f64) -> f64 {
        self.runs
            .iter()
            .map(|&(a, b)| (b.min(to) - a.max(from)).max(0.0))
            .sum()
    }

    /// Runs of 20 min to 3 h (one length per series, each run and idle spell 0.7–1.3 times
    /// it) over `end` seconds, at a random phase.
    fn cron(rng: &mut Rng, end: f64, rate: f64, live: bool) -> Batch {
        let len = rng.log_uniform(20.0 * 60.0, 3.0 * HOUR);
        let mut t = -rng.uniform(0.0, 2.0 * len);
        let mut runs = Vec::new();
        while t < end {
            let to = t + len * rng.uniform(0.7, 1.3);
            runs.push((t.max(0.0), to));
            t = to + len * rng.uniform(0.7, 1.3);
        }
        Batch { runs, rate, live }
    }

    /// A leak of `lo`–`hi` of the base per hour while the batch runs, from its first run
    /// that begins at 2–12 h or later.
    fn leak(&self, rng: &mut Rng, base: f64, lo: f64, hi: f64, end: f64) -> Growth {
        let after = rng.uniform(2.0, 12.0) * HOUR;
        let rate = base * rng.log_uniform(lo, hi) / HOUR;
        let start = (self.runs.iter().map(|r| r.0).find(|&a| a >= after))
            .expect("a run and an idle spell last at most 7.8 h, so one begins by 19.8 h");
        Growth::BatchLeak {
            start,
            rate,
            mean: rate * self.run_time(start, end) / (end - start),
        }
    }
}

/// A batch whose requests hold live data raises the day's shape above 1 by its rate over the
/// day's range of rates (per-request data as the day's).
fn live_shape(rate: f64, day: &Day) -> f64 {
    rate / (day.peak * (1.0 - day.night))
}

/// The highest shape of a healthy floor: 1, or more while a batch holding live data runs at
/// the peak, or on a busier second day.
fn top_shape(batch: &Option<Batch>, second: &Option<SecondDay>, day: &Day) -> f64 {
    let busier = second.as_ref().map_or(1.0, |s| {
        s.scale + day.night * (s.scale - 1.0) / (1.0 - day.night)
    });
    match batch {
        Some(b) if b.live => 1.0 + live_shape(b.rate, day),
        _ => busier.max(1.0),
    }
}

/// Every random choice of one series.
struct Service {
    kind: SeriesKind,
    day: Day,
    base: f64,
    /// Floor rise from the night low to the peak, as a share of the base.
    swing: f64,
    /// Curvature of the floor's response to traffic.
    gamma: f64,
    /// Lag of the floor's response to traffic (seconds).
    lag: f64,
    growth: Growth,
    limit: Option<f64>,
    /// Garbage allowed before a collection, as a share of the live heap.
    gc_share: f64,
    /// Garbage allocated per request, in units of the base.
    alloc: f64,
    /// Standard deviation of the noise, in units of the series.
    noise_sd: f64,
    spike_p: f64,
    step: f64,
    days: f64,
    jitter: f64,
    gaps: Vec<(i64, i64)>,
    /// A batch job whose requests add to the daily traffic.
    batch: Option<Batch>,
    /// A second day unlike the first.
    second: Option<SecondDay>,
    /// A quieter weekend (the week-long situations).
    weekend: Option<Weekend>,
}

/// A healthy shape for the sampling situations: flat, a daily swing, a step or a warm-up.
fn healthy_growth(rng: &mut Rng, swing: &mut f64) -> Growth {
    match rng.0.usize(0..4) {
        0 => Growth::None,
        1 => {
            *swing = rng.uniform(0.05, 0.4);
            Growth::None
        }
        2 => Growth::Step {
            at: rng.uniform(3.0, 20.0) * HOUR,
            size: rng.uniform(0.1, 0.5),
            ramp: rng.uniform(0.0, 30.0) * 60.0,
        },
        _ => warmup(rng),
    }
}

fn warmup(rng: &mut Rng) -> Growth {
    let start = if rng.chance(0.5) {
        0.0
    } else {
        rng.uniform(1.0, 10.0) * HOUR
    };
    let dur = rng.uniform(1.0, 8.0) * HOUR;
    Growth::Warmup {
        start,
        dur,
        amp: rng.uniform(0.2, 0.35),
        tau: dur * rng.log_uniform(0.02, 0.3),
    }
}

/// A leak of `lo`–`hi` of the base per hour (log-uniform) from 2–`latest` h, linear or per
/// request, going on to the end.
fn leak(rng: &mut Rng, base: f64, lo: f64, hi: f64, latest: f64, per_request: bool) -> Growth {
    Growth::Leak {
        start: rng.uniform(2.0, latest) * HOUR,
        stop: f64::INFINITY,
        rate: base * rng.log_uniform(lo, hi) / HOUR,
        per_request,
    }
}

/// `g` a day later.
fn next_day(g: Growth) -> Growth {
    match g {
        Growth::Leak {
            start,
            stop,
            rate,
            per_request,
        } => Growth::Leak {
            start: start + DAY,
            stop: stop + DAY,
            rate,
            per_request,
        },
        g => g,
    }
}

impl Service {
    fn draw(situation: Situation, rng: &mut Rng) -> Service {
        use Situation as S;
        let day = Day::draw(rng);
        let base = match situation {
            S::SlowLeakToLimit => rng.log_uniform(500.0 * MB, 4000.0 * MB),
            S::CountSwing | S::SlowCountLeak | S::CountLeakStops => rng.log_uniform(20.0, 500.0),
            _ => rng.log_uniform(50.0 * MB, 5000.0 * MB),
        };
        let mut swing = match situation {
            S::DailySwing
            | S::DailySwingTwoDays
            | S::SwingLeak
            | S::RequestLeak
            | S::SwingLeakTwoDays
            | S::BusierDayTwoDays
            | S::LeakAcrossDays
            | S::WeekSwing
            | S::WeekSlowLeak
            | S::WeekLateLeak
            | S::WeekMondayLeak => rng.uniform(0.05, 0.4),
            S::CountSwing => rng.uniform(0.2, 1.0),
            S::SlowCountLeak | S::CountLeakStops => rng.uniform(0.1, 0.5),
            S::SparseLeak | S::MinuteLeak | S::GappyLeak | S::BatchLeak => rng.uniform(0.0, 0.3),
            S::LeakStops => rng.uniform(0.0, 0.1),
            _ => rng.uniform(0.0, 0.04),
        };
        let gamma = rng.uniform(0.7, 1.5);
        let lag = if rng.chance(0.3) {
            0.0
        } else {
            rng.uniform(0.0, 30.0) * 60.0
        };
        let per_request = rng.chance(0.5);
        let mean_rate = day.mean_rate();
        let (growth, batch, second, weekend) =
            Self::draw_growth(situation, rng, &day, base, per_request, &mut swing);
        let headroom = rng.uniform(1.3, 3.0);
        let ttl = rng.log_uniform(8.0, 100.0) * HOUR;
        let limit = match (situation.kind(), growth) {
            (SeriesKind::Count, _) => None,
            (_, Growth::Leak { rate, .. }) if situation == S::SlowLeakToLimit => {
                Some(base * (1.0 + swing) + rate * ttl)
            }
            _ => {
                Some(base * (1.0 + swing * top_shape(&batch, &second, &day).powf(gamma)) * headroom)
            }
        };
        let gc_share = rng.uniform(0.1, 1.0);
        let period = rng.log_uniform(10.0, 1800.0);
        let step = match situation {
            S::SparseHealthy | S::SparseLeak => 300.0,
            S::MinuteHealthy | S::MinuteLeak => 60.0,
            // A quarter of the batch situations are scraped every minute.
            S::BatchLeak | S::CountLeakStops if rng.chance(0.25) => 60.0,
            _ => 15.0,
        };
        let gappy = matches!(situation, S::GappyHealthy | S::GappyLeak);
        let jitter = if gappy { rng.uniform(0.1, 0.4) } else { 0.0 };
        let gaps = if gappy {
            (0..rng.0.usize(1..=3))
                .map(|_| {
                    let from = rng.uniform(1.0, 23.0) * HOUR;
                    (at_ms(from), at_ms(from + rng.uniform(10.0, 30.0) * 60.0))
                })
                .collect()
        } else {
            Vec::new()
        };
        Service {
            kind: situation.kind(),
            base,
            swing,
            gamma,
            lag,
            growth,
            limit,
            gc_share,
            // A collection every `period` at the mean rate.
            alloc: gc_share / (mean_rate * period),
            noise_sd: match situation.kind() {
                SeriesKind::Count => rng.uniform(3.0, 8.0),
                SeriesKind::Heap => base * rng.uniform(0.001, 0.005),
            },
            spike_p: match situation.kind() {
                SeriesKind::Count => 0.005,
                SeriesKind::Heap => 0.001,
            },
            step,
            days: if situation.week() {
                WEEK_DAYS
            } else if matches!(
                situation,
                S::DailySwingTwoDays
                    | S::SwingLeakTwoDays
                    | S::BusierDayTwoDays
                    | S::LeakAcrossDays
            ) {
                2.0
            } else {
                1.0
            },
            jitter,
            gaps,
            batch,
            second,
            weekend,
            day,
        }
    }

    /// What grows on the floor (a leak, a warm-up or nothing), and the batch, second day or
    /// weekend that drives it; a healthy sampled series may narrow `swing`. The draws follow
    /// `draw`'s order.
    fn draw_growth(
        situation: Situation,
        rng: &mut Rng,
        day: &Day,
        base: f64,
        per_request: bool,
        swing: &mut f64,
    ) -> (Growth, Option<Batch>, Option<SecondDay>, Option<Weekend>) {
        use Situation as S;
        let mean_rate = day.mean_rate();
        let mut batch = None;
        let mut second = None;
        let mut weekend = None;
        let growth = match situation {
            S::CacheWarmup => warmup(rng),
            S::SparseHealthy | S::MinuteHealthy | S::GappyHealthy => healthy_growth(rng, swing),
            S::SwingLeak => leak(rng, base, 0.01, 0.3, 14.0, false),
            S::RequestLeak => leak(rng, base, 0.01, 0.3, 14.0, true),
            S::SwingLeakTwoDays => next_day(leak(rng, base, 0.01, 0.3, 14.0, per_request)),
            S::SparseLeak | S::MinuteLeak | S::GappyLeak => {
                leak(rng, base, 0.02, 0.3, 12.0, per_request)
            }
            S::LeakStops => {
                let start = rng.uniform(2.0, 12.0) * HOUR;
                Growth::Leak {
                    start,
                    stop: start + rng.uniform(1.0, 8.0) * HOUR,
                    rate: base * rng.log_uniform(0.03, 0.3) / HOUR,
                    per_request: false,
                }
            }
            S::SlowLeakToLimit => Growth::Leak {
                start: rng.uniform(1.0, 8.0) * HOUR,
                stop: f64::INFINITY,
                rate: rng.log_uniform(200.0, 2000.0),
                per_request: false,
            },
            S::SlowCountLeak => Growth::Leak {
                start: rng.uniform(2.0, 8.0) * HOUR,
                stop: f64::INFINITY,
                rate: 1.0 / rng.uniform(300.0, 1200.0),
                per_request: false,
            },
            S::BatchLeak => {
                let rate = mean_rate * rng.log_uniform(0.1, 1.0);
                let live = rng.chance(0.5);
                let b = Batch::cron(rng, DAY, rate, live);
                let g = b.leak(rng, base, 0.01, 0.3, DAY);
                batch = Some(b);
                g
            }
            S::CountLeakStops => {
                let start = rng.uniform(2.0, 12.0) * HOUR;
                let stop = start + rng.uniform(1.0, 8.0) * HOUR;
                batch = Some(Batch {
                    runs: vec![(start, stop)],
                    rate: mean_rate * rng.log_uniform(0.1, 1.0),
                    live: rng.chance(0.5),
                });
                Growth::Leak {
                    start,
                    stop,
                    rate: 1.0 / rng.uniform(120.0, 1200.0),
                    per_request: false,
                }
            }
            S::BusierDayTwoDays => {
                let scale = rng.log_uniform(0.5, 2.0);
                let shift = if rng.chance(0.5) {
                    rng.uniform(-3.0, 3.0) * HOUR
                } else {
                    0.0
                };
                second = Some(SecondDay { scale, shift });
                Growth::None
            }
            S::LeakAcrossDays => Growth::Leak {
                start: rng.uniform(12.0, 22.0) * HOUR,
                stop: f64::INFINITY,
                rate: base * rng.log_uniform(0.01, 0.3) / HOUR,
                per_request,
            },
            S::WeekSwing | S::WeekSlowLeak | S::WeekLateLeak | S::WeekMondayLeak => {
                let scale = rng.uniform(0.3, 0.7);
                let low = day.low_at;
                weekend = Some(Weekend {
                    day: SecondDay { scale, shift: 0.0 },
                    from: 3.0 * DAY + low,
                    to: 5.0 * DAY + low,
                });
                let start = match situation {
                    S::WeekSlowLeak => rng.uniform(2.0, 24.0) * HOUR,
                    S::WeekLateLeak => rng.uniform(2.0 * DAY, 6.0 * DAY),
                    // Monday's morning ramp, 1–4 h after its night low.
                    _ => 5.0 * DAY + low + rng.uniform(1.0, 4.0) * HOUR,
                };
                let per_day = if situation == S::WeekSlowLeak {
                    rng.log_uniform(0.002, 0.01)
                } else {
                    24.0 * rng.log_uniform(0.005, 0.05)
                };
                match situation {
                    S::WeekSwing => Growth::None,
                    _ => Growth::Leak {
                        start,
                        stop: f64::INFINITY,
                        rate: base * per_day / DAY,
                        per_request,
                    },
                }
            }
            _ => Growth::None,
        };
        (growth, batch, second, weekend)
    }

    /// The day's shape (on the first day's scale) and noise-free request rate at `t`, the second
    /// day's blended in from midnight, or the weekend's from Saturday's night low to Monday's.
    fn load(&self, t: f64) -> (f64, f64) {
        let (shape, rate) = (self.day.shape(t), self.day.rate(t));
        let (other, w) = match (&self.second, &self.weekend) {
            (Some(s), _) if t > DAY => (s, SecondDay::weight(t)),
            (_, Some(we)) => (&we.day, we.weight(t)),
            _ => return (shape, rate),
        };
        let rate2 = other.scale * self.day.rate(t - other.shift);
        (
            shape + w * (other.shape(&self.day, t) - shape),
            rate + w * (rate2 - rate),
        )
    }

    /// The floor's response to the (lagged) shape: below the night's floor when the shape is
    /// below 0 (a day quieter than the first night).
    fn response(&self, lagged: f64) -> f64 {
        if lagged < 0.0 {
            -self.swing * (-lagged).powf(self.gamma)
        } else {
            self.swing * lagged.powf(self.gamma)
        }
    }

    /// The floor's growth beyond traffic at `t`, given the requests served since the leak
    /// began (`served`, per-request leaks) and the mean rate (`mean_rate`).
    fn growth(&self, t: f64, served: f64, mean_rate: f64) -> f64 {
        match self.growth {
            Growth::None => 0.0,
            Growth::Warmup {
                start,
                dur,
                amp,
                tau,
            } if t >= start => {
                let dt = (t - start).min(dur);
                self.base * amp * (dt / tau).ln_1p() / (dur / tau).ln_1p()
            }
            Growth::Step { at, size, ramp } if t >= at => {
                self.base * size * ((t - at) / ramp.max(1.0)).min(1.0)
            }
            Growth::Leak {
                start,
                stop,
                rate,
                per_request,
            } if t >= start => {
                if per_request {
                    rate * served / mean_rate
                } else {
                    rate * (t.min(stop) - start)
                }
            }
            Growth::BatchLeak { start, rate, .. } => {
                rate * self.batch.as_ref().map_or(0.0, |b| b.run_time(start, t))
            }
            _ => 0.0,
        }
    }
}

/// The labels of a growth: leak start, mean rate and stop, or a warm-up's end.
fn labels(g: Growth) -> (Option<f64>, Option<f64>, Option<f64>) {
    match g {
        Growth::Leak {
            start, stop, rate, ..
        } => (Some(start), Some(rate), stop.is_finite().then_some(stop)),
        Growth::BatchLeak { start, mean, .. } => (Some(start), Some(mean), None),
        Growth::Warmup { start, dur, .. } => (None, None, Some(start + dur)),
        _ => (None, None, None),
    }
}

/// Generates one series of a later situation.
pub(super) fn generate(situation: Situation, seed: u64, spikes: bool) -> Scenario {
    let mut rng = Rng::seeded(situation, seed, 0);
    let sv = Service::draw(situation, &mut rng);
    let n = (sv.days * DAY / sv.step) as usize;
    let mut samples = Vec::with_capacity(n);
    let mut traffic = Vec::with_capacity(n);
    let mut lagged = sv.day.shape(0.0);
    let mean_rate = sv.day.mean_rate();
    let (leak_start, rate, stop) = labels(sv.growth);
    let (mut served, mut garbage) = (0.0, rng.uniform(0.0, sv.gc_share));
    let (mut leak_floor, mut limit_reached_ms) = (None, None);
    let (mut spike_left, mut spike) = (0u32, 0.0);
    let mut prev_t = 0.0;
    for i in 0..n {
        let nominal = i as f64 * sv.step;
        let t = if i == 0 {
            0.0
        } else {
            nominal + sv.jitter * sv.step * rng.uniform(-1.0, 1.0)
        };
        let dt = t - prev_t;
        prev_t = t;
        let batch_rate = sv.batch.as_ref().map_or(0.0, |b| b.rate_at(t));
        let live_rate = match &sv.batch {
            Some(b) if b.live => batch_rate,
            _ => 0.0,
        };
        let (day_shape, day_rate) = sv.load(t);
        let shape = day_shape + live_shape(live_rate, &sv.day);
        lagged = if sv.lag > 0.0 {
            lagged + (shape - lagged) * (1.0 - (-dt / sv.lag).exp())
        } else {
            shape
        };
        let clean_rate = day_rate + batch_rate;
        if leak_start.is_some_and(|s| t >= s) && stop.is_none_or(|e| t < e) {
            served += clean_rate * dt;
        }
        let floor = sv.base * (1.0 + sv.response(lagged)) + sv.growth(t, served, mean_rate);
        if let Some(s) = leak_start
            && t >= s
        {
            leak_floor.get_or_insert(floor);
            if sv.limit.is_some_and(|l| floor >= l) {
                limit_reached_ms.get_or_insert(at_ms(t));
            }
        }
        let v = match sv.kind {
            SeriesKind::Count => (floor + sv.noise_sd * rng.normal()).max(0.0).round(),
            SeriesKind::Heap => {
                // A collection when the garbage reaches its share of the live heap, or the
                // limit (a runtime that knows its limit collects before it).
                let room = sv.limit.map_or(f64::INFINITY, |l| (l - floor) / floor);
                let share = sv.gc_share.min(room.max(0.01));
                garbage = (garbage + sv.alloc * clean_rate * dt) % share;
                floor * (1.0 + garbage) + sv.noise_sd * rng.normal()
            }
        };
        if spike_left == 0 && rng.chance(sv.spike_p) {
            spike_left = rng.0.u32(1..=8);
            spike = floor * rng.uniform(0.5, 3.0);
        }
        let v = if spike_left > 0 {
            spike_left -= 1;
            if spikes { v + spike } else { v }
        } else {
            v
        };
        samples.push(Sample {
            ts_ms: at_ms(t),
            value: v.max(0.0),
        });
        traffic.push(Sample {
            ts_ms: at_ms(t),
            value: (clean_rate * (1.0 + sv.day.noise * rng.normal())).max(0.0),
        });
    }
    cut_gaps(&mut samples, &sv.gaps);
    cut_gaps(&mut traffic, &sv.gaps);
    Scenario {
        situation,
        seed,
        kind: sv.kind,
        limit: sv.limit,
        leak_start_ms: leak_start.map(at_ms),
        leak_rate_per_sec: rate,
        leak_share_per_hour: rate.zip(leak_floor).map(|(r, f)| r * HOUR / f),
        growth_stop_ms: stop.filter(|&s| s < sv.days * DAY).map(at_ms),
        warmup: match sv.growth {
            Growth::Warmup {
                start,
                dur,
                amp,
                tau,
            } => Some([start, dur, amp, tau]),
            _ => None,
        },
        limit_reached_ms,
        step_secs: sv.step as u32,
        samples,
        full_gcs: Vec::new(),
        traffic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_spans_its_night_low_to_its_peak() {
        let mut rng = Rng::seeded(Situation::DailySwing, 3, 0);
        let d = Day::draw(&mut rng);
        let shapes: Vec<f64> = (0..1440).map(|m| d.shape(f64::from(m) * 60.0)).collect();
        let lo = shapes.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = shapes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(lo < 0.01 && hi > 0.99, "{lo} {hi}");
        assert!((d.rate(d.low_at) / d.peak - d.night).abs() < 0.05);
    }

    #[test]
    fn a_daily_swing_moves_the_floor_by_its_share_and_leaks_are_labelled() {
        for seed in 0..10 {
            let sc = generate(Situation::DailySwing, seed, true);
            assert!(sc.leak_start_ms.is_none() && sc.growth_stop_ms.is_none());
            assert_eq!(sc.samples.len(), sc.traffic.len());
            let stop = generate(Situation::LeakStops, seed, true);
            let (start, end) = (stop.leak_start_ms.unwrap(), stop.growth_stop_ms.unwrap());
            assert!(end > start && stop.leak_share_per_hour.unwrap() >= 0.03 * 0.9);
            let slow = generate(Situation::SlowLeakToLimit, seed, true);
            let rate = slow.leak_rate_per_sec.unwrap();
            assert!((200.0..=2000.0).contains(&rate));
            if let Some(oom) = slow.limit_reached_ms {
                assert!(oom > slow.leak_start_ms.unwrap());
            }
        }
        let two = generate(Situation::DailySwingTwoDays, 1, true);
        assert_eq!(two.samples.len(), 2 * 5760);
        let sparse = generate(Situation::SparseLeak, 1, true);
        assert_eq!((sparse.step_secs, sparse.samples.len()), (300, 288));
    }

    #[test]
    fn a_second_day_leak_begins_after_a_full_healthy_day() {
        for seed in 0..10 {
            let sc = generate(Situation::SwingLeakTwoDays, seed, true);
            assert_eq!(sc.samples.len(), 2 * 5760);
            let start = sc.leak_start_ms.unwrap();
            assert!((at_ms(26.0 * HOUR)..=at_ms(38.0 * HOUR)).contains(&start));
            assert!(sc.growth_stop_ms.is_none());
            let share = sc.leak_share_per_hour.unwrap();
            assert!((0.005..=0.3).contains(&share), "seed {seed}: {share}");
            // The same hour of the day (the same load) stands higher at the end of the
            // second day than on the first, by the leak.
            let low = |from: usize| {
                sc.samples[from..from + 240]
                    .iter()
                    .map(|s| s.value)
                    .fold(f64::INFINITY, f64::min)
            };
            assert!(low(2 * 5760 - 240) > low(5760 - 240), "seed {seed}");
        }
    }

    /// The series' service as `generate` draws it.
    fn drawn(situation: Situation, seed: u64) -> Service {
        Service::draw(situation, &mut Rng::seeded(situation, seed, 0))
    }

    /// The mean over `[from, to)` seconds of the traffic over the day's noise-free rate.
    fn traffic_ratio(sc: &Scenario, day: &Day, from: f64, to: f64) -> f64 {
        let r: Vec<f64> = sc
            .traffic
            .iter()
            .map(|x| ((x.ts_ms - at_ms(0.0)) as f64 / 1000.0, x.value))
            .filter(|&(t, _)| from <= t && t < to)
            .map(|(t, v)| v / day.rate(t))
            .collect();
        r.iter().sum::<f64>() / r.len() as f64
    }

    #[test]
    fn a_batch_leak_grows_only_while_its_batch_runs() {
        let mut live = 0;
        for seed in 0..20 {
            let sv = drawn(Situation::BatchLeak, seed);
            let sc = generate(Situation::BatchLeak, seed, true);
            let b = sv.batch.as_ref().expect("a batch");
            live += usize::from(b.live);
            let Growth::BatchLeak { start, rate, mean } = sv.growth else {
                panic!("seed {seed}: not a batch leak");
            };
            assert!(b.runs.iter().any(|r| r.0 == start), "seed {seed}");
            assert!((2.0 * HOUR..20.0 * HOUR).contains(&start), "seed {seed}");
            assert_eq!(sc.leak_start_ms, Some(at_ms(start)));
            assert_eq!(sc.growth_stop_ms, None);
            let share = rate * HOUR / sv.base;
            assert!((0.01..=0.3).contains(&share), "seed {seed}: {share}");
            // Runs and idle spells alternate, each 14 min to 3.9 h (but the first run, cut at
            // the series' start), in order.
            let spells: Vec<f64> = b
                .runs
                .windows(2)
                .flat_map(|w| [w[1].0 - w[0].1, w[1].1 - w[1].0])
                .collect();
            assert!(
                spells
                    .iter()
                    .all(|&d| (0.7 * 1200.0..=1.3 * 3.0 * HOUR).contains(&d))
            );
            // The leak is flat through every idle spell and climbs at its rate through every
            // run after it began; its label is its mean rate.
            for w in b.runs.windows(2).filter(|w| w[0].0 >= start) {
                let (run, idle) = ((w[0].0, w[0].1), (w[0].1, w[1].0));
                let g = |t| sv.growth(t, 0.0, 1.0);
                assert!((g(run.1) - g(run.0) - rate * (run.1 - run.0)).abs() < 1e-6 * sv.base);
                assert_eq!(g(idle.0), g(idle.1 - 1.0), "seed {seed}");
            }
            let grown = sv.growth(DAY, 0.0, 1.0);
            assert!(
                (mean * (DAY - start) - grown).abs() < 1e-6 * grown,
                "seed {seed}"
            );
            assert_eq!(sc.leak_rate_per_sec, Some(mean));
            // The traffic shows the batch on top of the day's.
            let (run, idle) = (b.runs[1], (b.runs[1].1, b.runs[2].0));
            let (on, off) = (
                traffic_ratio(&sc, &sv.day, run.0, run.1),
                traffic_ratio(&sc, &sv.day, idle.0, idle.1),
            );
            let expected = b.rate / sv.day.peak;
            assert!((off - 1.0).abs() < 0.03, "seed {seed}: {off}");
            assert!(on - off > 0.5 * expected, "seed {seed}: {on} {off}");
        }
        assert!(
            (4..=16).contains(&live),
            "{live} of 20 batches hold live data"
        );
        let steps: Vec<u32> = (0..20)
            .map(|seed| generate(Situation::BatchLeak, seed, true).step_secs)
            .collect();
        assert!(steps.contains(&15) && steps.contains(&60), "{steps:?}");
    }

    #[test]
    fn a_count_leak_stops_with_its_batch_and_stays() {
        for seed in 0..20 {
            let sv = drawn(Situation::CountLeakStops, seed);
            let sc = generate(Situation::CountLeakStops, seed, true);
            let b = sv.batch.as_ref().expect("a batch");
            let Growth::Leak {
                start, stop, rate, ..
            } = sv.growth
            else {
                panic!("seed {seed}: not a leak");
            };
            assert_eq!(b.runs, vec![(start, stop)]);
            assert!((2.0 * HOUR..=12.0 * HOUR).contains(&start), "seed {seed}");
            assert!((1.0 * HOUR..=8.0 * HOUR).contains(&(stop - start)));
            assert!((1.0 / 1200.0..=1.0 / 120.0).contains(&rate), "seed {seed}");
            assert_eq!(sc.kind, SeriesKind::Count);
            assert_eq!(sc.leak_start_ms, Some(at_ms(start)));
            assert_eq!(sc.growth_stop_ms, Some(at_ms(stop)));
            // What leaked stays: the count's median over the last 2 h stands above its median
            // over the 2 h before the leak by about the leak (the noise is ±20, the daily swing
            // moves both).
            let median = |from: f64, to: f64| {
                let mut v: Vec<f64> = (sc.samples.iter())
                    .filter(|s| (at_ms(from)..at_ms(to)).contains(&s.ts_ms))
                    .map(|s| s.value)
                    .collect();
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            let leaked = rate * (stop - start);
            let moved = median(DAY - 2.0 * HOUR, DAY) - median(start - 2.0 * HOUR, start);
            assert!(
                (moved - leaked).abs() < 10.0 + sv.swing * sv.base,
                "seed {seed}: {moved} vs {leaked}"
            );
            let on = traffic_ratio(&sc, &sv.day, start, stop);
            let off = traffic_ratio(&sc, &sv.day, stop, DAY);
            assert!(
                on - off > 0.5 * b.rate / sv.day.peak,
                "seed {seed}: {on} {off}"
            );
        }
    }

    /// The median of the samples over `[from, to)` hours.
    fn median_between(samples: &[Sample], from: f64, to: f64) -> f64 {
        let mut v: Vec<f64> = (samples.iter())
            .filter(|s| (at_ms(from * HOUR)..at_ms(to * HOUR)).contains(&s.ts_ms))
            .map(|s| s.value)
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    #[test]
    fn a_busier_second_day_scales_its_traffic_and_moves_its_floor() {
        let (mut busier, mut quieter, mut shifted, mut moved_checked) = (0, 0, 0, 0);
        for seed in 0..20 {
            let sv = drawn(Situation::BusierDayTwoDays, seed);
            let sc = generate(Situation::BusierDayTwoDays, seed, true);
            let s = sv.second.as_ref().expect("a second day");
            assert!((0.5..=2.0).contains(&s.scale), "seed {seed}");
            assert!(s.shift.abs() <= 3.0 * HOUR);
            busier += usize::from(s.scale > 1.0);
            quieter += usize::from(s.scale < 1.0);
            shifted += usize::from(s.shift != 0.0);
            assert_eq!(sc.samples.len(), 2 * 5760);
            assert!(sc.leak_start_ms.is_none() && sc.growth_stop_ms.is_none());
            // A whole day's traffic, past the blend, is the first day's times the factor (the
            // shift moves the peak within the day, not the day's mean).
            let mean = |from: f64| {
                let v: Vec<f64> = (sc.traffic.iter())
                    .filter(|x| (at_ms(from)..at_ms(from + 22.0 * HOUR)).contains(&x.ts_ms))
                    .map(|x| x.value)
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            let ratio = mean(DAY + BLEND) / mean(BLEND);
            // The first 22 h of a day and the last 22 h differ by 2 h of the cycle.
            assert!((ratio / s.scale - 1.0).abs() < 0.25, "seed {seed}: {ratio}");
            // The floor follows: a clearly busier (quieter) second day stands higher (lower).
            let moved =
                median_between(&sc.samples, 26.0, 48.0) - median_between(&sc.samples, 2.0, 24.0);
            if sv.swing * (s.scale - 1.0).abs() > 0.05 {
                moved_checked += 1;
                assert_eq!(moved > 0.0, s.scale > 1.0, "seed {seed}: {moved}");
            }
            // The limit stands above the busier day's floor.
            let limit = sv.limit.expect("a heap");
            assert!(
                (0..576).all(|i| {
                    let t = f64::from(i) * 300.0;
                    sv.base * (1.0 + sv.response(sv.load(t).0)) < limit
                }),
                "seed {seed}"
            );
        }
        assert!(
            busier >= 4 && quieter >= 4 && shifted >= 4,
            "{busier} {quieter} {shifted}"
        );
        assert!(moved_checked >= 4, "{moved_checked}");
    }

    #[test]
    fn a_leak_across_days_begins_on_the_first_evening_and_goes_on() {
        let mut per_request = 0;
        for seed in 0..20 {
            let sv = drawn(Situation::LeakAcrossDays, seed);
            let sc = generate(Situation::LeakAcrossDays, seed, true);
            let Growth::Leak {
                start, stop, rate, ..
            } = sv.growth
            else {
                panic!("seed {seed}: not a leak");
            };
            per_request += usize::from(matches!(
                sv.growth,
                Growth::Leak {
                    per_request: true,
                    ..
                }
            ));
            assert!((12.0 * HOUR..=22.0 * HOUR).contains(&start), "seed {seed}");
            assert!(stop.is_infinite() && sc.growth_stop_ms.is_none());
            assert_eq!(sc.leak_start_ms, Some(at_ms(start)));
            assert_eq!(sc.samples.len(), 2 * 5760);
            let share = rate * HOUR / sv.base;
            assert!((0.01..=0.3).contains(&share), "seed {seed}: {share}");
            // It goes on through the second day: the same hours of the day stand higher at its
            // end than a day before, and higher before the leak's own hour comes round than
            // just before it began.
            let hours = |h: f64| median_between(&sc.samples, h, h + 2.0);
            assert!(hours(46.0) > hours(22.0), "seed {seed}");
            let began = start / HOUR - 2.0;
            assert!(hours(began + 22.0) > hours(began), "seed {seed}");
        }
        assert!(
            (4..=16).contains(&per_request),
            "{per_request} of 20 per request"
        );
    }

    #[test]
    fn a_week_has_a_quieter_weekend_and_its_leaks_begin_when_drawn() {
        for seed in 0..10 {
            for situation in Situation::WEEK {
                let sv = drawn(situation, seed);
                let sc = generate(situation, seed, true);
                assert_eq!(sc.samples.len(), 7 * 5760);
                let we = sv.weekend.as_ref().expect("a weekend");
                assert!((0.3..=0.7).contains(&we.day.scale), "seed {seed}");
                assert_eq!(
                    (we.from, we.to),
                    (3.0 * DAY + sv.day.low_at, 5.0 * DAY + sv.day.low_at)
                );
                // Saturday and Sunday, past the blend, carry the weekday's traffic times the
                // weekend's factor; Monday morning is busier than Sunday morning by its inverse.
                let mean = |from: f64, to: f64| traffic_ratio(&sc, &sv.day, from, to);
                let weekend = mean(we.from + BLEND, we.to);
                assert!((weekend / we.day.scale - 1.0).abs() < 0.05, "seed {seed}");
                let weekday = mean(we.to + BLEND, we.to + BLEND + 2.0 * DAY);
                assert!((weekday - 1.0).abs() < 0.03, "seed {seed}: {weekday}");
                let (sunday, monday) = (
                    median_between(
                        &sc.traffic,
                        (we.to - 20.0 * HOUR) / HOUR,
                        (we.to - 16.0 * HOUR) / HOUR,
                    ),
                    median_between(
                        &sc.traffic,
                        (we.to + 4.0 * HOUR) / HOUR,
                        (we.to + 8.0 * HOUR) / HOUR,
                    ),
                );
                assert!(monday > 1.2 * sunday, "seed {seed}: {monday} {sunday}");
                let Some(start) = sc.leak_start_ms else {
                    assert_eq!(situation, Situation::WeekSwing);
                    continue;
                };
                let share = sc.leak_share_per_hour.expect("a leak");
                let hours = (start - at_ms(0.0)) as f64 / 3.6e6;
                match situation {
                    Situation::WeekSlowLeak => {
                        assert!((2.0..=24.0).contains(&hours), "seed {seed}");
                        let per_day = 24.0 * share;
                        assert!(
                            (0.0015..=0.012).contains(&per_day),
                            "seed {seed}: {per_day}"
                        );
                        assert_eq!(sc.limit_reached_ms, None, "seed {seed}");
                    }
                    Situation::WeekLateLeak => {
                        assert!((48.0..=144.0).contains(&hours), "seed {seed}");
                        assert!((0.004..=0.06).contains(&share), "seed {seed}: {share}");
                    }
                    _ => {
                        let monday = hours - we.to / HOUR;
                        assert!((1.0..=4.0).contains(&monday), "seed {seed}: {monday}");
                        assert!((0.004..=0.06).contains(&share), "seed {seed}: {share}");
                    }
                }
            }
        }
    }

    #[test]
    fn gappy_series_miss_their_outages_and_stay_in_order() {
        for seed in 0..10 {
            let sc = generate(Situation::GappyLeak, seed, true);
            assert!(sc.samples.len() < 5760, "seed {seed}");
            assert!(crate::series::validate(&sc.samples).is_ok());
            let longest = sc
                .samples
                .windows(2)
                .map(|w| w[1].ts_ms - w[0].ts_ms)
                .max()
                .unwrap();
            assert!(longest >= 600_000, "seed {seed}: {longest}");
        }
    }
}

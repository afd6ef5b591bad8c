//! Labelled synthetic memory series for judging leak detectors (feature `scenarios`).
//!
//! Each [`Situation`] is one thing a real service does: a flat GC sawtooth, a warm-up, a deploy
//! step, daily traffic, restarts, spikes, noise, and the leaks the detector must catch. A seed
//! fixes every random choice (base size from 50 MB to 5 GB, GC period from 10 s to 30 min, or
//! 1–4 h for the slow-GC situations, sawtooth amplitude, noise, when things happen), so a run is
//! reproducible and train and held-out seed ranges never overlap.

use crate::detect::options::SeriesKind;
use crate::series::Sample;

/// Unix ms at which every generated series starts.
pub const START_MS: i64 = 1_700_000_000_000;
const HOUR: f64 = 3600.0;
const MB: f64 = 1e6;

/// One kind of behaviour a generated series shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Situation {
    /// A flat floor under a GC sawtooth.
    Flat,
    /// A warm-up that plateaus.
    WarmupPlateau,
    /// A one-off step up (a deploy, a cache fill), then flat.
    Step,
    /// Daily traffic raises and lowers the floor and the sawtooth.
    Diurnal,
    /// One to three restarts, each with its own warm-up.
    Restarts,
    /// Big temporary allocations: frequent upward spikes.
    Spikes,
    /// Heavy noise on the floor.
    Noise,
    /// A noisy integer count (goroutines) following traffic, no leak.
    CountHealthy,
    /// A slow leak: 1–2 kB/s on a 100–400 MB heap.
    SlowLeak,
    /// A fast leak: 5–30% of the baseline per hour.
    FastLeak,
    /// A leak in steps of 1–4% of the baseline every 15–60 min.
    StaircaseLeak,
    /// A leak under a sawtooth 1.5–3 times larger than the baseline.
    BigSawtoothLeak,
    /// A leak whose rate follows daily traffic, on a diurnal floor.
    TrafficLeak,
    /// A warm-up that plateaus, then a leak.
    LeakAfterWarmup,
    /// A goroutine-style count leak.
    CountLeak,
    // The slow-GC situations come last so that adding them left every other situation's
    // discriminant, and so its seeded series, unchanged.
    /// A flat floor under a slow GC: a full collection every 1–4 h, so the heap ramps up for
    /// hours between collections.
    SlowGc,
    /// A leak that begins mid-series (6–14 h) under a slow GC.
    SlowGcLeak,
    /// `SlowGc` as a V8 heap sampled every tick shows it: the old generation collected every
    /// 1–4 h, under the young generation's sawtooth (a scavenge every 5–60 s, 2–10% of the
    /// base).
    V8SlowGc,
    /// `SlowGcLeak` under the same two sawtooths.
    V8SlowGcLeak,
}

impl Situation {
    /// Every situation, healthy ones first.
    pub const ALL: [Situation; 19] = [
        Situation::Flat,
        Situation::WarmupPlateau,
        Situation::Step,
        Situation::Diurnal,
        Situation::Restarts,
        Situation::Spikes,
        Situation::Noise,
        Situation::CountHealthy,
        Situation::SlowGc,
        Situation::V8SlowGc,
        Situation::SlowLeak,
        Situation::FastLeak,
        Situation::StaircaseLeak,
        Situation::BigSawtoothLeak,
        Situation::TrafficLeak,
        Situation::LeakAfterWarmup,
        Situation::CountLeak,
        Situation::SlowGcLeak,
        Situation::V8SlowGcLeak,
    ];

    /// A short snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Situation::Flat => "flat",
            Situation::WarmupPlateau => "warmup_plateau",
            Situation::Step => "step",
            Situation::Diurnal => "diurnal",
            Situation::Restarts => "restarts",
            Situation::Spikes => "spikes",
            Situation::Noise => "noise",
            Situation::CountHealthy => "count_healthy",
            Situation::SlowLeak => "slow_leak",
            Situation::FastLeak => "fast_leak",
            Situation::StaircaseLeak => "staircase_leak",
            Situation::BigSawtoothLeak => "big_sawtooth_leak",
            Situation::TrafficLeak => "traffic_leak",
            Situation::LeakAfterWarmup => "leak_after_warmup",
            Situation::CountLeak => "count_leak",
            Situation::SlowGc => "slow_gc",
            Situation::SlowGcLeak => "slow_gc_leak",
            Situation::V8SlowGc => "v8_slow_gc",
            Situation::V8SlowGcLeak => "v8_slow_gc_leak",
        }
    }

    /// The situations whose full collections come only every 1–4 h.
    pub fn slow_gc(self) -> bool {
        matches!(
            self,
            Situation::SlowGc
                | Situation::SlowGcLeak
                | Situation::V8SlowGc
                | Situation::V8SlowGcLeak
        )
    }

    /// Whether series of this situation leak.
    pub fn leaks(self) -> bool {
        matches!(
            self,
            Situation::SlowLeak
                | Situation::FastLeak
                | Situation::StaircaseLeak
                | Situation::BigSawtoothLeak
                | Situation::TrafficLeak
                | Situation::LeakAfterWarmup
                | Situation::CountLeak
                | Situation::SlowGcLeak
                | Situation::V8SlowGcLeak
        )
    }

    /// Heap bytes or a count.
    pub fn kind(self) -> SeriesKind {
        match self {
            Situation::CountHealthy | Situation::CountLeak => SeriesKind::Count,
            _ => SeriesKind::Heap,
        }
    }
}

/// One generated, labelled series.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What it shows.
    pub situation: Situation,
    /// The seed it came from.
    pub seed: u64,
    /// Heap or count.
    pub kind: SeriesKind,
    /// The memory limit of the simulated container (heap series only).
    pub limit: Option<f64>,
    /// When the leak begins (unix ms); `None` for healthy series.
    pub leak_start_ms: Option<i64>,
    /// The mean leak rate in units per second; `None` for healthy series.
    pub leak_rate_per_sec: Option<f64>,
    /// When the leak's live data (the noise-free floor, without garbage, spikes or noise)
    /// reaches the limit, the out-of-memory kill a runtime that collects before dying would
    /// suffer; `None` when that is not within the series.
    pub limit_reached_ms: Option<i64>,
    /// The samples, 24 h at the requested step (plus, for the V8 situations, one right after
    /// each full collection, as the Node binding takes one after every major GC).
    pub samples: Vec<Sample>,
    /// Indices into `samples` of the samples taken right after a full collection (V8
    /// situations only; empty otherwise).
    pub full_gcs: Vec<usize>,
}

/// Small helpers over a seeded fastrand generator.
struct Rng(fastrand::Rng);

impl Rng {
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.f64()
    }
    fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.0.f64()).exp()
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.0.f64().max(1e-300);
        let u2 = self.0.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.f64() < p
    }
}

/// A GC sawtooth: the heap allocated since the last collection, as a fraction of the amplitude.
struct Sawtooth {
    period: f64,
    last_gc: f64,
    next_gc: f64,
}

impl Sawtooth {
    fn new(rng: &mut Rng, period: f64) -> Self {
        let first = rng.uniform(0.0, period);
        Sawtooth {
            period,
            last_gc: first - period,
            next_gc: first,
        }
    }
    fn phase(&mut self, rng: &mut Rng, t: f64) -> f64 {
        while self.next_gc <= t {
            self.last_gc = self.next_gc;
            self.next_gc += self.period * rng.uniform(0.8, 1.2);
        }
        (t - self.last_gc) / (self.next_gc - self.last_gc)
    }
}

/// Generates 24 h of `situation` at `step_secs` from `seed`.
pub fn generate(situation: Situation, seed: u64, step_secs: u32) -> Scenario {
    // Mix the situation in so two situations with one seed differ.
    let mut rng = Rng(fastrand::Rng::with_seed(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (situation as u64 + 1) << 48,
    ));
    let step = f64::from(step_secs.max(1));
    let n = (24.0 * HOUR / step) as usize;
    match situation.kind() {
        SeriesKind::Count => count_series(situation, seed, &mut rng, step, n),
        SeriesKind::Heap => heap_series(situation, seed, &mut rng, step, n),
    }
}

fn count_series(situation: Situation, seed: u64, rng: &mut Rng, step: f64, n: usize) -> Scenario {
    let workers = rng.log_uniform(20.0, 300.0);
    let inflight = workers * rng.uniform(0.1, 0.5);
    let day_phase = rng.uniform(0.0, std::f64::consts::TAU);
    let day_amp = rng.uniform(0.2, 0.6);
    let leak_start = rng.uniform(2.0, 8.0) * HOUR;
    let leak_rate = rng.log_uniform(0.2, 2.0) / 60.0;
    let leaks = situation == Situation::CountLeak;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 * step;
        let traffic = 1.0 + day_amp * (std::f64::consts::TAU * t / (24.0 * HOUR) + day_phase).sin();
        let lambda = inflight * traffic;
        let mut v = workers + lambda + lambda.sqrt() * rng.normal();
        if rng.chance(0.005) {
            v += lambda * rng.uniform(1.0, 4.0);
        }
        if leaks && t >= leak_start {
            v += leak_rate * (t - leak_start);
        }
        samples.push(Sample {
            ts_ms: START_MS + (t * 1000.0) as i64,
            value: v.max(0.0).round(),
        });
    }
    Scenario {
        situation,
        seed,
        kind: SeriesKind::Count,
        limit: None,
        leak_start_ms: leaks.then(|| START_MS + (leak_start * 1000.0) as i64),
        leak_rate_per_sec: leaks.then_some(leak_rate),
        limit_reached_ms: None,
        samples,
        full_gcs: Vec::new(),
    }
}

/// Every random choice of a heap series, drawn in one fixed order (so a seed gives the same
/// series whatever is added after).
struct Heap {
    situation: Situation,
    base: f64,
    limit: f64,
    period: f64,
    amp_ratio: f64,
    noise_sd: f64,
    spike_p: f64,
    day_phase: f64,
    day_floor: f64,
    day_traffic: f64,
    warm: bool,
    warm_from: f64,
    warm_tau: f64,
    step_at: f64,
    step_size: f64,
    step_ramp: f64,
    restarts: Vec<f64>,
    restart_from: f64,
    restart_tau: f64,
    leak_start: f64,
    leak_rate: f64,
    stair_every: f64,
    stair_size: f64,
}

impl Heap {
    fn draw(situation: Situation, rng: &mut Rng) -> Self {
        use Situation as S;
        let base = if situation == S::SlowLeak {
            rng.uniform(100.0 * MB, 400.0 * MB)
        } else {
            rng.log_uniform(50.0 * MB, 5000.0 * MB)
        };
        let limit = base * rng.uniform(1.5, 4.0);
        let period = match situation {
            S::SlowGc | S::SlowGcLeak | S::V8SlowGc | S::V8SlowGcLeak => {
                rng.log_uniform(HOUR, 4.0 * HOUR)
            }
            _ => rng.log_uniform(10.0, 1800.0),
        };
        let amp_ratio = match situation {
            S::BigSawtoothLeak => rng.uniform(1.5, 3.0),
            S::Noise => rng.uniform(0.02, 0.1),
            _ => rng.uniform(0.1, 1.0),
        };
        let noise_sd = base
            * if situation == S::Noise {
                rng.uniform(0.01, 0.02)
            } else {
                rng.uniform(0.001, 0.005)
            };
        let spike_p = if situation == S::Spikes { 0.01 } else { 0.001 };
        let day_phase = rng.uniform(0.0, std::f64::consts::TAU);
        let diurnal = matches!(situation, S::Diurnal | S::TrafficLeak);
        let day_floor = if diurnal {
            rng.uniform(0.01, 0.04)
        } else {
            0.0
        };
        let day_traffic = if diurnal { rng.uniform(0.3, 0.8) } else { 0.0 };
        let warm = matches!(situation, S::WarmupPlateau | S::LeakAfterWarmup);
        let warm_from = rng.uniform(0.3, 0.7);
        let warm_tau = rng.uniform(10.0, 45.0) * 60.0;
        let step_at = rng.uniform(3.0, 20.0) * HOUR;
        let step_size = rng.uniform(0.1, 0.5);
        let step_ramp = rng.uniform(0.0, 30.0) * 60.0;
        let mut restarts: Vec<f64> = if situation == S::Restarts {
            (0..rng.0.usize(1..=3))
                .map(|_| rng.uniform(2.0, 22.0) * HOUR)
                .collect()
        } else {
            Vec::new()
        };
        restarts.sort_by(f64::total_cmp);
        let restart_from = rng.uniform(0.3, 0.6);
        let restart_tau = rng.uniform(5.0, 30.0) * 60.0;
        let leak_start = match situation {
            S::FastLeak => rng.uniform(2.0, 12.0),
            S::SlowLeak | S::LeakAfterWarmup => rng.uniform(2.0, 6.0),
            S::SlowGcLeak | S::V8SlowGcLeak => rng.uniform(6.0, 14.0),
            _ => rng.uniform(2.0, 8.0),
        } * HOUR;
        // Leak rate in bytes per second.
        let leak_rate = match situation {
            S::SlowLeak => rng.uniform(1000.0, 2000.0),
            S::FastLeak => base * rng.uniform(0.05, 0.3) / HOUR,
            _ => base * rng.uniform(0.01, 0.05) / HOUR,
        };
        let stair_every = rng.uniform(15.0, 60.0) * 60.0;
        let stair_size = base * rng.uniform(0.01, 0.04);
        Heap {
            situation,
            base,
            limit,
            period,
            amp_ratio,
            noise_sd,
            spike_p,
            day_phase,
            day_floor,
            day_traffic,
            warm,
            warm_from,
            warm_tau,
            step_at,
            step_size,
            step_ramp,
            restarts,
            restart_from,
            restart_tau,
            leak_start,
            leak_rate,
            stair_every,
            stair_size,
        }
    }

    /// The noise-free floor (live data) at `t` seconds, given the daily cycle's value `day`.
    fn floor(&self, t: f64, day: f64) -> f64 {
        use Situation as S;
        let situation = self.situation;
        let base = self.base;
        let mut floor = base * (1.0 + self.day_floor * day);
        if self.warm {
            floor *= 1.0 - (1.0 - self.warm_from) * (-t / self.warm_tau).exp();
        }
        if situation == S::Step && t >= self.step_at {
            floor +=
                base * self.step_size * ((t - self.step_at) / self.step_ramp.max(1.0)).min(1.0);
        }
        if let Some(&r) = self.restarts.iter().rev().find(|&&r| t >= r) {
            floor *= 1.0 - (1.0 - self.restart_from) * (-(t - r) / self.restart_tau).exp();
        }
        let leak_start = self.leak_start;
        if situation.leaks() && t >= leak_start {
            let dt = t - leak_start;
            floor += match situation {
                S::StaircaseLeak => self.stair_size * (dt / self.stair_every).floor(),
                // Integral of leak_rate * (1 + a sin(w t + p)) from leak_start to t.
                S::TrafficLeak => {
                    let w = std::f64::consts::TAU / (24.0 * HOUR);
                    let p = self.day_phase;
                    self.leak_rate
                        * (dt
                            - self.day_traffic / w
                                * ((w * t + p).cos() - (w * leak_start + p).cos()))
                }
                _ => self.leak_rate * dt,
            };
        }
        floor
    }
}

fn heap_series(situation: Situation, seed: u64, rng: &mut Rng, step: f64, n: usize) -> Scenario {
    use Situation as S;
    let h = Heap::draw(situation, rng);
    let (base, limit) = (h.base, h.limit);
    let leaks = situation.leaks();
    let mut saw = Sawtooth::new(rng, h.period);
    let mut spike_left = 0u32;
    let mut spike = 0.0;
    let mut samples = Vec::with_capacity(n);
    let mut limit_reached_ms = None;
    let mut full_gcs = Vec::new();
    // V8's young generation: its own fast sawtooth on top (drawn only for these situations, so
    // every other situation's series is unchanged).
    let mut young = if matches!(situation, S::V8SlowGc | S::V8SlowGcLeak) {
        let period = rng.log_uniform(5.0, 60.0);
        let amp = base * rng.uniform(0.02, 0.1);
        Some((Sawtooth::new(rng, period), amp))
    } else {
        None
    };
    let tau = std::f64::consts::TAU;
    for i in 0..n {
        let t = i as f64 * step;
        let day = (tau * t / (24.0 * HOUR) + h.day_phase).sin();
        let floor = h.floor(t, day);
        if leaks && floor >= limit && limit_reached_ms.is_none() {
            limit_reached_ms = Some(START_MS + (t * 1000.0) as i64);
        }
        let amp = base * h.amp_ratio * (1.0 + h.day_traffic * day);
        let phase = saw.phase(rng, t);
        let mut v = floor + amp * phase + h.noise_sd * rng.normal();
        if let Some((young, young_amp)) = &mut young {
            v += *young_amp * young.phase(rng, t);
            // A full collection since the last sample: the binding's sample right after it
            // sees the floor (both generations collected).
            let gc_ms = START_MS + (saw.last_gc * 1000.0) as i64;
            if saw.last_gc > t - step
                && gc_ms < START_MS + (t * 1000.0) as i64
                && samples.last().is_some_and(|p: &Sample| p.ts_ms < gc_ms)
            {
                full_gcs.push(samples.len());
                samples.push(Sample {
                    ts_ms: gc_ms,
                    value: (floor + h.noise_sd * rng.normal()).max(0.0),
                });
            }
        }
        if spike_left == 0 && rng.chance(h.spike_p) {
            spike_left = rng.0.u32(1..=8);
            spike = base * rng.uniform(0.5, 3.0);
        }
        if spike_left > 0 {
            spike_left -= 1;
            v += spike;
        }
        samples.push(Sample {
            ts_ms: START_MS + (t * 1000.0) as i64,
            value: v.max(0.0),
        });
    }
    Scenario {
        situation,
        seed,
        kind: SeriesKind::Heap,
        limit: Some(limit),
        leak_start_ms: leaks.then(|| START_MS + (h.leak_start * 1000.0) as i64),
        leak_rate_per_sec: leaks.then_some(if situation == S::StaircaseLeak {
            h.stair_size / h.stair_every
        } else {
            h.leak_rate
        }),
        limit_reached_ms,
        samples,
        full_gcs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_reproducible_and_labelled() {
        for s in Situation::ALL {
            let a = generate(s, 7, 15);
            let b = generate(s, 7, 15);
            assert_eq!(a.samples, b.samples, "{}", s.name());
            assert_eq!(a.samples.len(), 5760 + a.full_gcs.len());
            assert!(a.full_gcs.iter().all(|&i| i < a.samples.len()));
            assert_eq!(
                !a.full_gcs.is_empty(),
                matches!(s, Situation::V8SlowGc | Situation::V8SlowGcLeak)
            );
            assert_eq!(a.leak_start_ms.is_some(), s.leaks());
            assert!(crate::series::validate(&a.samples).is_ok());
            assert_ne!(generate(s, 8, 15).samples, a.samples);
            if let Some(oom) = a.limit_reached_ms {
                assert!(oom >= a.leak_start_ms.expect("only leaks reach the limit"));
            }
        }
        // Fast leaks often outgrow their limit within the day.
        let reached = (0..20)
            .filter(|&seed| {
                generate(Situation::FastLeak, seed, 15)
                    .limit_reached_ms
                    .is_some()
            })
            .count();
        assert!(reached > 0);
    }
}

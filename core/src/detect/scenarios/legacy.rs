//! The first nineteen situations, as they were generated before the traffic covariate: their
//! memory series are unchanged draw for draw, except that a limit stands above the healthy
//! heap's peak, and a leak's heap is collected at the limit (a runtime that knows its limit
//! collects before it). Their traffic comes from a separate random stream ([`TRAFFIC_STREAM`])
//! afterwards.

use super::{HOUR, MB, Rng, START_MS, Sawtooth, Scenario, Situation, at_ms};
use crate::detect::options::SeriesKind;
use crate::series::Sample;

/// The random stream of the legacy situations' traffic (the memory series use stream 0).
const TRAFFIC_STREAM: u64 = 0x7EA7_F1C0;

/// The request rate of a legacy series at its memory samples' times (`full_gcs` excluded):
/// `peak · (1 + amp · day)` with `day` the series' own daily sine when its floor or sawtooth
/// follows traffic (`shape`), else a daily cycle of its own, plus the noise of a per-step rate.
fn legacy_traffic(
    situation: Situation,
    seed: u64,
    samples: &[Sample],
    full_gcs: &[usize],
    shape: Option<(f64, f64)>,
) -> Vec<Sample> {
    let mut rng = Rng::seeded(situation, seed, TRAFFIC_STREAM);
    let peak = rng.log_uniform(5.0, 2000.0);
    let own = (
        rng.uniform(0.0, std::f64::consts::TAU),
        rng.uniform(0.2, 0.8),
    );
    let (phase, amp) = shape.unwrap_or(own);
    let noise = rng.uniform(0.02, 0.1);
    let mut gcs = full_gcs.iter().peekable();
    let mut out = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        if gcs.next_if_eq(&&i).is_some() {
            continue;
        }
        let t = (s.ts_ms - START_MS) as f64 / 1000.0;
        let day = (std::f64::consts::TAU * t / (24.0 * HOUR) + phase).sin();
        let rate = peak * (1.0 + amp * day) / (1.0 + amp);
        out.push(Sample {
            ts_ms: s.ts_ms,
            value: (rate * (1.0 + noise * rng.normal())).max(0.0),
        });
    }
    out
}

pub(super) fn count_series(
    situation: Situation,
    seed: u64,
    rng: &mut Rng,
    step: f64,
    n: usize,
) -> Scenario {
    let workers = rng.log_uniform(20.0, 300.0);
    let inflight = workers * rng.uniform(0.1, 0.5);
    let day_phase = rng.uniform(0.0, std::f64::consts::TAU);
    let day_amp = rng.uniform(0.2, 0.6);
    let leak_start = rng.uniform(2.0, 8.0) * HOUR;
    let leak_rate = rng.log_uniform(0.2, 2.0) / 60.0;
    let leaks = situation == Situation::CountLeak;
    let mut samples = Vec::with_capacity(n);
    let mut leak_floor = None;
    for i in 0..n {
        let t = i as f64 * step;
        let traffic = 1.0 + day_amp * (std::f64::consts::TAU * t / (24.0 * HOUR) + day_phase).sin();
        let lambda = inflight * traffic;
        if leaks && t >= leak_start {
            leak_floor.get_or_insert(workers + lambda);
        }
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
    let traffic = legacy_traffic(situation, seed, &samples, &[], Some((day_phase, day_amp)));
    Scenario {
        situation,
        seed,
        kind: SeriesKind::Count,
        limit: None,
        leak_start_ms: leaks.then(|| at_ms(leak_start)),
        leak_rate_per_sec: leaks.then_some(leak_rate),
        leak_share_per_hour: leak_floor.map(|f| leak_rate * HOUR / f),
        growth_stop_ms: None,
        warmup: None,
        limit_reached_ms: None,
        step_secs: 0,
        samples,
        full_gcs: Vec::new(),
        traffic,
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

pub(super) fn heap_series(
    situation: Situation,
    seed: u64,
    rng: &mut Rng,
    step: f64,
    n: usize,
    spikes: bool,
) -> Scenario {
    use Situation as S;
    let h = Heap::draw(situation, rng);
    let base = h.base;
    let leaks = situation.leaks();
    let mut saw = Sawtooth::new(rng, h.period);
    let mut spike_left = 0u32;
    let mut spike = 0.0;
    let mut samples = Vec::with_capacity(n);
    let mut limit_reached_ms = None;
    let mut full_gcs = Vec::new();
    let mut leak_floor = None;
    // V8's young generation: its own fast sawtooth on top (drawn only for these situations, so
    // every other situation's series is unchanged).
    let mut young = if matches!(situation, S::V8SlowGc | S::V8SlowGcLeak) {
        let period = rng.log_uniform(5.0, 60.0);
        let amp = base * rng.uniform(0.02, 0.1);
        Some((Sawtooth::new(rng, period), amp))
    } else {
        None
    };
    let young_max = young.as_ref().map_or(0.0, |y| y.1);
    let tau = std::f64::consts::TAU;
    // A container's limit is sized above the heap's healthy peak (the crest of its sawtooth,
    // which the draw ties only to the base): where the crest would reach the drawn limit before
    // any leak, the limit stands 10 % above it instead (no draw, so every other series is
    // unchanged).
    let peak = (0..n)
        .map(|i| i as f64 * step)
        .filter(|&t| !(leaks && t >= h.leak_start))
        .map(|t| {
            let day = (tau * t / (24.0 * HOUR) + h.day_phase).sin();
            h.floor(t, day) + base * h.amp_ratio * (1.0 + h.day_traffic * day) + young_max
        })
        .fold(0.0, f64::max);
    let limit = if peak >= h.limit { 1.1 * peak } else { h.limit };
    for i in 0..n {
        let t = i as f64 * step;
        let day = (tau * t / (24.0 * HOUR) + h.day_phase).sin();
        let floor = h.floor(t, day);
        if leaks && t >= h.leak_start {
            leak_floor.get_or_insert(floor);
        }
        if leaks && floor >= limit && limit_reached_ms.is_none() {
            limit_reached_ms = Some(START_MS + (t * 1000.0) as i64);
        }
        let amp = base * h.amp_ratio * (1.0 + h.day_traffic * day);
        let mut phase = saw.phase(rng, t);
        // A runtime that knows its limit (GOMEMLIMIT, V8's heap limit) collects before it: when
        // a leak brings the garbage to fill the room under the limit (less the young
        // generation's), a collection is forced as it fills it, and the next cycle starts
        // there. A series whose heap stays under its limit is unchanged, draw for draw.
        let room = (limit - floor - young_max).max(0.01 * floor);
        while amp * phase >= room {
            saw.collect(saw.last_gc + (saw.next_gc - saw.last_gc) * room / amp);
            phase = saw.phase(rng, t);
        }
        let mut v = floor + amp * phase + h.noise_sd * rng.normal();
        if let Some((young, young_amp)) = &mut young {
            v += *young_amp * young.phase(rng, t);
            // A full collection (scheduled or forced at the limit) since the last sample: the
            // binding's sample right after the last one sees the floor (both generations
            // collected).
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
            if spikes {
                v += spike;
            }
        }
        samples.push(Sample {
            ts_ms: START_MS + (t * 1000.0) as i64,
            value: v.max(0.0),
        });
    }
    let rate = if situation == S::StaircaseLeak {
        h.stair_size / h.stair_every
    } else {
        h.leak_rate
    };
    let follows = (h.day_traffic > 0.0).then_some((h.day_phase, h.day_traffic));
    let traffic = legacy_traffic(situation, seed, &samples, &full_gcs, follows);
    Scenario {
        situation,
        seed,
        kind: SeriesKind::Heap,
        limit: Some(limit),
        leak_start_ms: leaks.then(|| at_ms(h.leak_start)),
        leak_rate_per_sec: leaks.then_some(rate),
        leak_share_per_hour: leak_floor.map(|f| rate * HOUR / f),
        growth_stop_ms: None,
        warmup: None,
        limit_reached_ms,
        step_secs: 0,
        samples,
        full_gcs,
        traffic,
    }
}

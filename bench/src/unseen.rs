//! An independent generator of memory series for a check on shapes the detector was not tuned
//! on. Written apart from `leaksense_core::detect::scenarios` (its own random stream, its own
//! shapes) and run only at checkpoints, never while tuning: piecewise traffic with weekly and
//! lunch-time patterns and bursts, GOGC-style and generational GCs, post-GC readings at
//! collection times, sigmoid and exponential warm-ups, a deploy step with a cache refill, a
//! saturating fragmentation creep, accelerating and staircase leaks, leaks that stop, sampling
//! every 10 s to 5 min with jitter and outages.

use leaksense_core::detect::SeriesKind;
use leaksense_core::series::Sample;

use crate::quality::Truth;

const H: f64 = 3600.0;
const DAY: f64 = 24.0 * H;
/// Unix ms of the series' start: a Monday 00:00 UTC.
const T0_MS: i64 = 1_704_067_200_000;

/// One kind of unseen series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Floor follows traffic through a saturating response, weekly traffic.
    LoadFloor,
    /// A logistic (S-shaped) cache warm-up.
    SigmoidWarmup,
    /// An exponential approach to a plateau from the start.
    ExpWarmup,
    /// A deploy: a step down (restart-free reload), then a refill ramp to a higher level.
    DeployRefill,
    /// Fragmentation creep: a slow rise that saturates over half a day.
    Creep,
    /// Traffic bursts that lift the floor for 10–40 min.
    Bursts,
    /// A healthy goroutine count following traffic.
    CountLoad,
    /// A linear leak on a floor that follows traffic.
    LinearLeak,
    /// A per-request leak, starting during the morning ramp.
    RampLeak,
    /// An accelerating leak (growth rate rising over time).
    AcceleratingLeak,
    /// Irregular steps: a leak of chunks at random intervals.
    ChunkLeak,
    /// A leak that stops after 2–6 h.
    StoppingLeak,
    /// A goroutine leak that comes in bursts.
    CountBurstLeak,
}

impl Shape {
    /// Every shape, healthy ones first.
    pub const ALL: [Shape; 13] = [
        Shape::LoadFloor,
        Shape::SigmoidWarmup,
        Shape::ExpWarmup,
        Shape::DeployRefill,
        Shape::Creep,
        Shape::Bursts,
        Shape::CountLoad,
        Shape::LinearLeak,
        Shape::RampLeak,
        Shape::AcceleratingLeak,
        Shape::ChunkLeak,
        Shape::StoppingLeak,
        Shape::CountBurstLeak,
    ];

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::LoadFloor => "load_floor",
            Shape::SigmoidWarmup => "sigmoid_warmup",
            Shape::ExpWarmup => "exp_warmup",
            Shape::DeployRefill => "deploy_refill",
            Shape::Creep => "creep",
            Shape::Bursts => "bursts",
            Shape::CountLoad => "count_load",
            Shape::LinearLeak => "linear_leak",
            Shape::RampLeak => "ramp_leak",
            Shape::AcceleratingLeak => "accelerating_leak",
            Shape::ChunkLeak => "chunk_leak",
            Shape::StoppingLeak => "stopping_leak",
            Shape::CountBurstLeak => "count_burst_leak",
        }
    }

    /// Whether it leaks.
    pub fn leaks(self) -> bool {
        (self as usize) >= Shape::LinearLeak as usize
    }

    fn kind(self) -> SeriesKind {
        match self {
            Shape::CountLoad | Shape::CountBurstLeak => SeriesKind::Count,
            _ => SeriesKind::Heap,
        }
    }
}

/// One generated series.
#[derive(Debug, Clone)]
pub struct Series {
    pub kind: SeriesKind,
    pub limit: Option<f64>,
    pub samples: Vec<Sample>,
    pub traffic: Vec<Sample>,
    pub truth: Truth,
    /// Mean leak rate over the floor at its start, per hour.
    pub share_per_hour: Option<f64>,
    /// The growth plan's base level, size `a` (a share of the base), and times `b` and `c`
    /// (seconds): a warm-up's shape, for diagnostics.
    pub plan: [f64; 4],
}

struct R(fastrand::Rng);

impl R {
    fn u(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.f64()
    }
    fn lu(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.0.f64()).exp()
    }
    fn n(&mut self) -> f64 {
        // Sum of uniforms: a bounded, roughly normal noise.
        (0..6).map(|_| self.0.f64()).sum::<f64>() - 3.0
    }
}

/// Traffic: a piecewise-linear weekday profile (night, morning ramp, lunch dip, evening
/// shoulder), weekends lower, bursts of 10–40 min.
struct Load {
    peak: f64,
    night: f64,
    weekend: f64,
    shift: f64,
    bursts: Vec<(f64, f64, f64)>,
}

impl Load {
    fn draw(r: &mut R, days: f64) -> Load {
        let bursts = (0..r.0.usize(0..6))
            .map(|_| {
                let at = r.u(0.0, days * DAY);
                (at, at + r.u(600.0, 2400.0), r.u(0.3, 1.0))
            })
            .collect();
        Load {
            peak: r.lu(2.0, 3000.0),
            night: r.u(0.05, 0.5),
            weekend: r.u(0.4, 1.0),
            shift: r.u(-4.0, 4.0) * H,
            bursts,
        }
    }
    /// Share of the peak at `t`.
    fn level(&self, t: f64) -> f64 {
        let knots = [
            (0.0, 0.0),
            (6.0, 0.0),
            (9.0, 0.9),
            (12.0, 1.0),
            (13.0, 0.8),
            (15.0, 0.95),
            (19.0, 0.7),
            (23.0, 0.1),
            (24.0, 0.0),
        ];
        let tod = ((t + self.shift).rem_euclid(DAY)) / H;
        let w = knots.windows(2).find(|w| tod >= w[0].0 && tod <= w[1].0);
        let shape = w.map_or(0.0, |w| {
            w[0].1 + (w[1].1 - w[0].1) * (tod - w[0].0) / (w[1].0 - w[0].0)
        });
        let day = ((t + self.shift) / DAY).floor() as i64;
        let week = if day.rem_euclid(7) >= 5 {
            self.weekend
        } else {
            1.0
        };
        let burst: f64 = self
            .bursts
            .iter()
            .filter(|b| t >= b.0 && t < b.1)
            .map(|b| b.2)
            .sum();
        (self.night + (1.0 - self.night) * shape) * week + burst
    }
}

/// How the heap is sampled.
#[derive(Clone, Copy)]
enum Gc {
    /// GOGC: collects when the heap reaches `(1 + gogc) ×` the live heap.
    Gogc { gogc: f64 },
    /// A young generation collected every few seconds and an old one every 10–60 min.
    Generational { young: f64, old_every: f64 },
    /// Readings of the live heap right after each collection, every `every` seconds on average.
    AfterCollection { every: f64 },
}

/// Generates one unseen series of `shape` from `seed`.
pub fn generate(shape: Shape, seed: u64) -> Series {
    let mut r = R(fastrand::Rng::with_seed(
        seed ^ 0x5EED_0F00_u64.wrapping_mul(shape as u64 + 7),
    ));
    let days = if r.0.f64() < 0.3 { 2.0 } else { 1.0 };
    let load = Load::draw(&mut r, days);
    let step = [10.0, 15.0, 30.0, 60.0, 120.0, 300.0][r.0.usize(0..6)];
    let jitter = if r.0.f64() < 0.4 { r.u(0.0, 0.3) } else { 0.0 };
    let outages: Vec<(f64, f64)> = (0..r.0.usize(0..3))
        .map(|_| {
            let at = r.u(H, days * DAY - H);
            (at, at + r.u(300.0, 1800.0))
        })
        .collect();
    let base = match shape.kind() {
        SeriesKind::Count => r.lu(30.0, 800.0),
        SeriesKind::Heap => r.lu(30e6, 6e9),
    };
    let gc = match r.0.usize(0..3) {
        0 => Gc::Gogc {
            gogc: r.u(0.25, 2.0),
        },
        1 => Gc::Generational {
            young: r.u(0.02, 0.15),
            old_every: r.u(600.0, 3600.0),
        },
        _ => Gc::AfterCollection {
            every: r.u(20.0, 600.0),
        },
    };
    let mut plan = Plan::draw(shape, &mut r, base, days, &load);
    let load_share = match shape {
        Shape::LoadFloor | Shape::CountLoad | Shape::LinearLeak | Shape::RampLeak => r.u(0.1, 0.5),
        Shape::CountBurstLeak => r.u(0.1, 0.8),
        _ => r.u(0.0, 0.08),
    };
    let sat = r.u(0.5, 3.0);
    let noise = match shape.kind() {
        SeriesKind::Count => r.u(2.0, 10.0),
        SeriesKind::Heap => base * r.u(0.0005, 0.006),
    };
    // A container's limit is sized above the heap's healthy peak: where the GC's crest over
    // the live heap would reach the drawn limit before any leak, it stands 10 % above it.
    let resp = |lv: f64| (1.0 - (-sat * lv).exp()) / (1.0 - (-sat).exp());
    let crest = match gc {
        Gc::Gogc { gogc } => 1.0 + gogc,
        Gc::Generational { young, .. } => 1.0 + young + 0.3,
        Gc::AfterCollection { .. } => 1.0,
    };
    let peak = (0..(days * DAY / 60.0) as usize)
        .map(|i| i as f64 * 60.0)
        .filter(|&t| plan.leak_start.is_none_or(|l| t < l))
        .map(|t| (base * (1.0 + load_share * resp(load.level(t))) + plan.growth(t, 0.0)) * crest)
        .fold(0.0, f64::max);
    if let Some(l) = plan.limit
        && peak >= l
    {
        plan.limit = Some(1.1 * peak);
    }
    let mut s = Sim {
        r,
        gc,
        phase: 0.0,
        old: 0.0,
        next_gc: 0.0,
    };
    let mut samples = Vec::new();
    let mut traffic = Vec::new();
    let mut served = 0.0;
    let (mut leak_floor, mut reached) = (None, None);
    let mut t = 0.0;
    let mut prev = 0.0;
    while t < days * DAY {
        let lv = load.level(t);
        if plan.leak_start.is_some_and(|l| t >= l) && plan.stop.is_none_or(|e| t < e) {
            served += lv * (t - prev);
        }
        prev = t;
        // A saturating response of the floor to load: `sat` sets how soon it bends.
        let resp = (1.0 - (-sat * lv).exp()) / (1.0 - (-sat).exp());
        let live = base * (1.0 + load_share * resp) + plan.growth(t, served);
        if plan.leak_start.is_some_and(|l| t >= l) {
            leak_floor.get_or_insert(live);
            if plan.limit.is_some_and(|l| live >= l) {
                reached.get_or_insert(t);
            }
        }
        let out = outages.iter().any(|o| t >= o.0 && t < o.1);
        let ts_ms = T0_MS + (t * 1000.0) as i64;
        let reading = s.read(shape.kind(), live, lv, step, noise, plan.limit);
        let rate = load.peak * lv * (1.0 + 0.05 * s.r.n()).max(0.0);
        if !out {
            traffic.push(Sample { ts_ms, value: rate });
            if let Some(v) = reading {
                samples.push(Sample { ts_ms, value: v });
            }
        }
        t += step * (1.0 + jitter * s.r.u(-1.0, 1.0));
    }
    let ms = |t: f64| T0_MS + (t * 1000.0) as i64;
    Series {
        kind: shape.kind(),
        limit: plan.limit,
        samples,
        traffic,
        truth: Truth {
            leak_start_ms: plan.leak_start.map(ms),
            growth_stop_ms: plan.stop.filter(|&x| x < days * DAY).map(ms),
            limit_reached_ms: reached.map(ms),
        },
        share_per_hour: plan.rate.zip(leak_floor).map(|(r, f)| r * H / f),
        plan: [plan.base, plan.a, plan.b, plan.c],
    }
}

/// The growth of one series beyond load.
struct Plan {
    shape: Shape,
    base: f64,
    a: f64,
    b: f64,
    c: f64,
    chunks: Vec<(f64, f64)>,
    leak_start: Option<f64>,
    stop: Option<f64>,
    rate: Option<f64>,
    limit: Option<f64>,
    /// The mean load over a week (per-request leaks retain in proportion to it).
    mean: f64,
}

impl Plan {
    fn draw(shape: Shape, r: &mut R, base: f64, days: f64, load: &Load) -> Plan {
        let mean = (0..7 * 288)
            .map(|i| load.level(f64::from(i) * 300.0))
            .sum::<f64>()
            / (7.0 * 288.0);
        let mut p = Plan {
            mean,
            shape,
            base,
            a: r.u(0.1, 0.4),
            b: r.u(0.5, 6.0) * H,
            c: r.u(0.0, 8.0) * H,
            chunks: Vec::new(),
            leak_start: None,
            stop: None,
            rate: None,
            limit: (shape.kind() == SeriesKind::Heap).then(|| base * r.u(1.6, 4.0)),
        };
        let start = if shape == Shape::RampLeak {
            // During the morning ramp (6–9 h local time).
            (r.u(6.0, 9.0) * H - load.shift)
                .rem_euclid(DAY)
                .max(1.5 * H)
        } else {
            r.u(1.5, 12.0) * H
        };
        let per_hour = r.lu(0.01, 0.25);
        match shape {
            Shape::SigmoidWarmup | Shape::ExpWarmup | Shape::Creep => {
                p.stop = Some(p.c + 4.0 * p.b);
            }
            Shape::DeployRefill => p.stop = Some(p.c + p.b),
            Shape::LinearLeak | Shape::RampLeak | Shape::AcceleratingLeak => {
                p.leak_start = Some(start);
                p.rate = Some(base * per_hour / H);
            }
            Shape::StoppingLeak => {
                p.leak_start = Some(start);
                p.rate = Some(base * per_hour.max(0.03) / H);
                p.stop = Some(start + r.u(2.0, 6.0) * H);
            }
            Shape::ChunkLeak | Shape::CountBurstLeak => {
                p.leak_start = Some(start);
                let mut t = start;
                let size = match shape.kind() {
                    SeriesKind::Count => r.u(2.0, 12.0),
                    SeriesKind::Heap => base * r.u(0.005, 0.03),
                };
                while t < days * DAY {
                    p.chunks.push((t, size * r.u(0.3, 1.7)));
                    t += r.lu(300.0, 5400.0);
                }
                p.rate = Some(p.chunks.iter().map(|c| c.1).sum::<f64>() / (days * DAY - start));
            }
            _ => {}
        }
        p
    }

    fn growth(&self, t: f64, served: f64) -> f64 {
        let (a, b, c) = (self.a * self.base, self.b, self.c);
        match self.shape {
            Shape::SigmoidWarmup => a / (1.0 + (-(t - c - 2.0 * b) / (b / 2.0)).exp()),
            Shape::ExpWarmup => a * (1.0 - (-t / b).exp()),
            Shape::Creep => 0.3 * a * (1.0 - (-(t / (3.0 * b))).exp()),
            Shape::DeployRefill if t >= c => {
                -0.3 * self.base * (-(t - c) / (b / 3.0)).exp() + 0.5 * a * ((t - c) / b).min(1.0)
            }
            Shape::Bursts => 0.0,
            _ => self.leak(t, served),
        }
    }

    fn leak(&self, t: f64, served: f64) -> f64 {
        let (Some(start), Some(rate)) = (self.leak_start, self.rate) else {
            return 0.0;
        };
        if t < start {
            return 0.0;
        }
        let dt = self.stop.map_or(t, |s| t.min(s)) - start;
        match self.shape {
            // `served` is in load-seconds since the start, `mean` the mean load.
            Shape::RampLeak => rate * served / self.mean,
            Shape::AcceleratingLeak => rate * dt * dt / (8.0 * H),
            Shape::ChunkLeak | Shape::CountBurstLeak => {
                self.chunks.iter().filter(|c| c.0 <= t).map(|c| c.1).sum()
            }
            _ => rate * dt,
        }
    }
}

/// The sampling of one series: the GC's state between samples.
struct Sim {
    r: R,
    gc: Gc,
    phase: f64,
    old: f64,
    next_gc: f64,
}

impl Sim {
    /// The reading at a sample of `live` data under load `lv`, `None` when this GC style gives
    /// no reading now.
    /// A runtime that knows its `limit` (GOMEMLIMIT, V8's heap limit) collects before it: when
    /// a leak brings the garbage to fill the room under the limit, the collection comes there (a GOGC cycle
    /// restarts from it, a generational heap collects its old generation, then the young one if
    /// that is not enough). A series whose heap stays under its limit is unchanged.
    fn read(
        &mut self,
        kind: SeriesKind,
        live: f64,
        lv: f64,
        step: f64,
        noise: f64,
        limit: Option<f64>,
    ) -> Option<f64> {
        let n = noise * self.r.n();
        if kind == SeriesKind::Count {
            return Some((live + n).max(0.0).round());
        }
        let room = limit.map_or(f64::INFINITY, |l| (l - live).max(0.01 * live));
        let v = match self.gc {
            Gc::Gogc { gogc } => {
                self.phase = (self.phase + step * lv * self.r.u(0.002, 0.05)) % 1.0;
                if live * gogc * self.phase >= room {
                    self.phase = (live * gogc * self.phase % room) / (live * gogc);
                }
                live * (1.0 + gogc * self.phase)
            }
            Gc::Generational { young, old_every } => {
                self.old += step / old_every * self.r.u(0.5, 1.5);
                if self.old >= 1.0 {
                    self.old = 0.0;
                }
                let fresh = young * self.r.0.f64();
                if live * (fresh + 0.3 * self.old) >= room {
                    self.old = 0.0;
                    live * (1.0 + live * fresh % room / live)
                } else {
                    live * (1.0 + fresh + 0.3 * self.old)
                }
            }
            Gc::AfterCollection { every } => {
                self.next_gc -= step;
                if self.next_gc > 0.0 {
                    return None;
                }
                self.next_gc = every * self.r.u(0.3, 1.7) / lv.max(0.1);
                live
            }
        };
        Some((v + n).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_heap_stays_under_its_limit() {
        // A container's limit stands above its healthy heap's peak, so the heap is not pressed
        // against it as one collected at the limit would be. Before, 116 healthy heaps of seeds
        // 100..240 rose above it (up to 2.38 times it).
        for shape in Shape::ALL.into_iter().filter(|s| !s.leaks()) {
            for seed in 100..140 {
                let s = generate(shape, seed);
                let Some(limit) = s.limit else { continue };
                let top = s.samples.iter().map(|x| x.value).fold(0.0, f64::max);
                assert!(top < limit, "{} {seed}: {}", shape.name(), top / limit);
            }
        }
    }
}

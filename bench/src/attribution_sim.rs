//! Simulated services for `attribution-quality`: per-route Poisson traffic, a heap with a GC
//! sawtooth (or a count with no GC), and what the tracker would count.
//!
//! Each series is a service of 4–10 routes over 14 h, seen as a runtime would see it: every
//! second each route serves a Poisson number of requests (its own rate, 0.2–20/s, a daily
//! cycle shared by all routes, a slow cycle of its own (period 4–24 h, up to ±50%: the mix
//! drifts) and per-route bursts redrawn every 5–30 min); every request
//! allocates 10 kB–1 MB of garbage and a leaking route also keeps `β` bytes (the leak adds
//! 2–15% of the 50 MB–2 GB base per hour); a GC runs when the garbage reaches a fraction of
//! the live heap (as GOGC or V8's growth factor do). What a GC leaves is live data plus
//! floating garbage: the garbage of the requests still running, or allocated while the GC
//! marked (Little's law: each route's current rate times how long its garbage stays
//! referenced times its garbage per request), plus an untied part. So a trough read while a
//! garbage-heavy route is busy sits higher, as it does in a real runtime.
//!
//! A count (goroutines, descriptors, handles) has no GC: it is sampled every 15 s, and holds
//! what the running requests hold (one each, for as long as they run) plus what leaked.

use leaksense_core::Sample;
use leaksense_core::requests::{RouteSnapshot, SlotCounts, TrackerSnapshot};

/// Start of every simulated service (unix ms).
pub const T0_MS: i64 = 1_700_000_000_000;
/// Length of every simulated service.
pub const HOURS: i64 = 14;
/// Sampling interval of a sampled series.
pub const SAMPLE_SECS: i64 = 15;
/// The tracker's slot.
pub const SLOT_MS: i64 = 60_000;
/// The tracker's default ring: 12 h of one-minute slots.
pub const RING_SLOTS: usize = 720;

/// What leaks, and what makes it hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// One leaking route among healthy ones.
    OneRoute,
    /// The leak is on the quietest route; the busiest healthy route's traffic rises 60% when
    /// the leak begins (the article's "+50%" rule accuses it).
    LowTrafficLeak,
    /// The leaking route first appears when the leak begins.
    NewRoute,
    /// Two routes leak, at different sizes.
    TwoRoutes,
    /// A timer keeps memory, no route does: no route should be named.
    Background,
    /// One leaking route, but the traffic mix never changes (only the shared daily cycle):
    /// the model cannot tell the routes apart, so naming nobody is right and a healthy route
    /// is wrong.
    RegularTraffic,
    /// One leaking route beside a healthy garbage-heavy one (an upload that holds a large
    /// buffer while it runs): a trough read while it is busy sits higher.
    GarbageRoute,
    /// The same with two garbage-heavy healthy routes.
    TwoGarbageRoutes,
    /// A count (goroutines, descriptors, handles) sampled every 15 s: one route leaves some
    /// per request; every route holds one per running request, and one healthy route (a
    /// stream or a long poll) holds many.
    CountLeak,
    /// A count that grows from a timer, not from any route, beside a long-request route.
    CountBackground,
}

impl Situation {
    /// Every situation, in table order.
    pub const ALL: [Situation; 10] = [
        Situation::OneRoute,
        Situation::LowTrafficLeak,
        Situation::NewRoute,
        Situation::TwoRoutes,
        Situation::Background,
        Situation::RegularTraffic,
        Situation::GarbageRoute,
        Situation::TwoGarbageRoutes,
        Situation::CountLeak,
        Situation::CountBackground,
    ];

    /// The name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Situation::OneRoute => "one_route",
            Situation::LowTrafficLeak => "low_traffic_leak",
            Situation::NewRoute => "new_route",
            Situation::TwoRoutes => "two_routes",
            Situation::Background => "background",
            Situation::RegularTraffic => "regular_traffic",
            Situation::GarbageRoute => "garbage_route",
            Situation::TwoGarbageRoutes => "two_garbage_routes",
            Situation::CountLeak => "count_leak",
            Situation::CountBackground => "count_background",
        }
    }

    /// A count rather than bytes: sampled, no GC, watched by the count detector.
    pub fn is_count(self) -> bool {
        matches!(self, Situation::CountLeak | Situation::CountBackground)
    }

    /// Some route leaks (otherwise a timer does).
    pub fn route_leaks(self) -> bool {
        !matches!(self, Situation::Background | Situation::CountBackground)
    }

    /// How the series is observed: a heap both ways, a count only sampled.
    pub fn modes(self) -> &'static [Observe] {
        if self.is_count() {
            &[Observe::Sampled]
        } else {
            &[Observe::Sampled, Observe::AfterGc]
        }
    }
}

/// What the detector is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    /// The series every 15 s, sawtooth and all (RSS, a runtime without a GC hook, a count).
    Sampled,
    /// The heap left after each GC, as the bindings feed it (Go's `/gc/heap/live:bytes`, V8
    /// after a major GC, CPython's `gc.callbacks`): live data plus floating garbage.
    AfterGc,
}

/// xorshift64*: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    /// A generator for one seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        self.range(lo.ln(), hi.ln()).exp()
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// Knuth's method for small means, a rounded normal for large ones.
    fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 30.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0u64, self.unit());
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }
    /// An index in `0..n` other than those in `not` (which must leave one free).
    fn pick(&mut self, n: usize, not: &[usize]) -> usize {
        loop {
            let i = (self.unit() * n as f64) as usize % n;
            if !not.contains(&i) {
                return i;
            }
        }
    }
}

/// One route of a simulated service.
pub struct Route {
    /// The route's name.
    pub name: String,
    /// Mean requests per second before any daily cycle or burst.
    pub rate: f64,
    /// Bytes (or counts) kept per request once the leak has begun (0: healthy).
    pub retain: f64,
    /// Bytes of garbage per request (for a count: what a running request holds).
    pub garbage: f64,
    /// Seconds a request's garbage stays referenced (while it runs, or while a GC marks):
    /// a GC finds `rate × hold` requests' garbage still alive.
    pub hold: f64,
    /// A healthy route that holds much while it runs (garbage-heavy, or long requests).
    pub heavy: bool,
    /// Rate multiplier from the leak's start on (the article's "+50%" trap).
    pub rate_after: f64,
    /// Served only from the leak's start on.
    pub new_at_leak: bool,
}

/// A generated service and what happened to its series and its traffic.
pub struct Service {
    /// The routes, leaking or not.
    pub routes: Vec<Route>,
    /// When the leak began.
    pub leak_start_ms: i64,
    /// The series the detector is fed.
    pub series: Vec<Sample>,
    /// Requests per route per minute.
    pub slots: Vec<Vec<u64>>,
    /// When each route served its first request.
    pub first_seen_ms: Vec<Option<i64>>,
}

/// The per-service draws that are not per route.
struct Shape {
    base: f64,
    growth_per_hour: f64,
    leak_start_ms: i64,
}

/// Routes and leak for a situation.
fn routes_for(sit: Situation, rng: &mut Rng, shape: &Shape) -> (Vec<Route>, f64) {
    let n = 4 + (rng.unit() * 7.0) as usize;
    let count = sit.is_count();
    let mut routes: Vec<Route> = (0..n)
        .map(|i| Route {
            name: format!("/r{i}/{{id}}"),
            rate: rng.log_range(0.2, 20.0),
            retain: 0.0,
            // A count: each running request holds one (a goroutine, a descriptor).
            garbage: if count { 1.0 } else { rng.log_range(10e3, 1e6) },
            hold: rng.log_range(0.01, 0.5),
            heavy: false,
            rate_after: 1.0,
            new_at_leak: false,
        })
        .collect();
    let leak = |r: &Route| shape.growth_per_hour / 3600.0 / r.rate;
    let mut background_per_sec = 0.0;
    let by_rate = |routes: &[Route]| {
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by(|&a, &b| routes[a].rate.total_cmp(&routes[b].rate));
        order
    };
    let mut heavy = 0;
    match sit {
        Situation::OneRoute | Situation::RegularTraffic => {
            let l = rng.pick(n, &[]);
            routes[l].retain = leak(&routes[l]);
        }
        Situation::LowTrafficLeak => {
            let order = by_rate(&routes);
            let (quiet, busy) = (order[0], order[n - 1]);
            routes[quiet].retain = leak(&routes[quiet]);
            routes[busy].rate_after = 1.6;
        }
        Situation::NewRoute => {
            let l = rng.pick(n, &[]);
            routes[l].retain = leak(&routes[l]);
            routes[l].new_at_leak = true;
        }
        Situation::TwoRoutes => {
            let a = rng.pick(n, &[]);
            let b = rng.pick(n, &[a]);
            let split = rng.range(0.3, 0.7);
            routes[a].retain = split * leak(&routes[a]);
            routes[b].retain = (1.0 - split) * leak(&routes[b]);
        }
        Situation::Background => background_per_sec = shape.growth_per_hour / 3600.0,
        Situation::GarbageRoute | Situation::CountLeak => {
            let l = rng.pick(n, &[]);
            routes[l].retain = leak(&routes[l]);
            heavy = 1;
        }
        Situation::TwoGarbageRoutes => {
            let l = rng.pick(n, &[]);
            routes[l].retain = leak(&routes[l]);
            heavy = 2;
        }
        Situation::CountBackground => {
            background_per_sec = shape.growth_per_hour / 3600.0;
            heavy = 1;
        }
    }
    for _ in 0..heavy {
        let taken: Vec<usize> = (0..n)
            .filter(|&i| routes[i].retain > 0.0 || routes[i].heavy)
            .collect();
        let h = rng.pick(n, &taken);
        let r = &mut routes[h];
        r.heavy = true;
        if count {
            // A stream or long poll: requests that stay open for seconds to minutes, so that
            // at its mean rate it holds 5–50% of the base count.
            r.hold = (rng.log_range(0.05, 0.5) * shape.base / r.rate).max(1.0);
        } else {
            // An upload or report that holds a large buffer while it runs: at its mean
            // rate, 1–10% of the base heap is its garbage in flight.
            r.hold = rng.log_range(0.2, 2.0);
            r.garbage = rng.log_range(0.01, 0.1) * shape.base / (r.rate * r.hold);
        }
    }
    (routes, background_per_sec)
}

/// Generates one service's series and traffic.
pub fn generate(sit: Situation, seed: u64, observe: Observe) -> Service {
    let mut rng = Rng::new(seed.wrapping_add(sit as u64 * 1_000_003));
    let count = sit.is_count();
    let base = if count {
        rng.log_range(20.0, 2000.0)
    } else {
        rng.log_range(50e6, 2e9)
    };
    // Leak growth as a share of the base per hour; bytes per request follow from the rate.
    // The count detector asks for 5x the relative rise, and count leaks are steep.
    let growth_per_hour = base
        * if count {
            rng.log_range(0.1, 1.0)
        } else {
            rng.log_range(0.02, 0.15)
        };
    let shape = Shape {
        base,
        growth_per_hour,
        leak_start_ms: T0_MS + (rng.range(3.0, 6.0) * 3600e3) as i64,
    };
    let (routes, background_per_sec) = routes_for(sit, &mut rng, &shape);
    run_service(sit, &mut rng, &shape, routes, background_per_sec, observe)
}

/// Runs the service second by second.
fn run_service(
    sit: Situation,
    rng: &mut Rng,
    shape: &Shape,
    routes: Vec<Route>,
    background_per_sec: f64,
    observe: Observe,
) -> Service {
    let (n, base, count) = (routes.len(), shape.base, sit.is_count());
    let bursty = sit != Situation::RegularTraffic;
    let burst_secs = rng.range(300.0, 1800.0) as i64;
    let day_phase = rng.range(0.0, 86_400.0);
    let gc_ratio = rng.range(0.1, 1.0);
    let floating = rng.range(0.0, 0.05);

    let secs = HOURS * 3600;
    // Each route's share drifts too (its own slow cycle: a mix that shifts over the day).
    let drift: Vec<(f64, f64, f64)> = (0..n)
        .map(|_| {
            let amplitude = if bursty { rng.range(0.0, 0.5) } else { 0.0 };
            (
                amplitude,
                rng.range(4.0, 24.0) * 3600.0,
                rng.range(0.0, 86_400.0),
            )
        })
        .collect();
    let mut burst = vec![1.0; n];
    let mut rate_now = vec![0.0; n];
    let mut retained = 0.0;
    let mut garbage = 0.0;
    let mut series = Vec::with_capacity((secs / SAMPLE_SECS) as usize + 1);
    let mut slots = vec![vec![0u64; n]; (secs * 1000 / SLOT_MS) as usize];
    let mut first_seen_ms = vec![None; n];
    for s in 0..secs {
        let ts = T0_MS + s * 1000;
        let leaking = ts >= shape.leak_start_ms;
        if bursty && s % burst_secs == 0 {
            for b in burst.iter_mut() {
                *b = rng.range(0.3, 1.7);
            }
        }
        let day = 1.0 + 0.5 * (std::f64::consts::TAU * (s as f64 + day_phase) / 86_400.0).sin();
        for (i, r) in routes.iter().enumerate() {
            rate_now[i] = 0.0;
            if r.new_at_leak && !leaking {
                continue;
            }
            let after = if leaking { r.rate_after } else { 1.0 };
            let (amplitude, period, phase) = drift[i];
            let own = 1.0 + amplitude * (std::f64::consts::TAU * (s as f64 + phase) / period).sin();
            rate_now[i] = r.rate * day * own * burst[i] * after;
            let k = rng.poisson(rate_now[i]);
            if k == 0 {
                continue;
            }
            first_seen_ms[i].get_or_insert(ts);
            slots[(s * 1000 / SLOT_MS) as usize][i] += k;
            garbage += k as f64 * r.garbage;
            if leaking {
                retained += k as f64 * r.retain;
            }
        }
        if leaking {
            retained += background_per_sec;
        }
        if count {
            if s % SAMPLE_SECS == 0 {
                let noise = (0.01 * base * rng.normal()).round();
                let value =
                    (base + retained.floor() + in_flight(rng, &routes, &rate_now) + noise).max(0.0);
                series.push(Sample { ts_ms: ts, value });
            }
            continue;
        }
        let live = base + retained;
        // Allocator and fragmentation noise on top of live data and garbage.
        let noise = 0.002 * base * rng.normal();
        if garbage > gc_ratio * live {
            garbage = in_flight(rng, &routes, &rate_now) + floating * gc_ratio * live * rng.unit();
            if observe == Observe::AfterGc {
                series.push(Sample {
                    ts_ms: ts,
                    value: (live + garbage + noise).max(1.0),
                });
            }
        }
        if observe == Observe::Sampled && s % SAMPLE_SECS == 0 {
            series.push(Sample {
                ts_ms: ts,
                value: (live + garbage + noise).max(1.0),
            });
        }
    }
    Service {
        routes,
        leak_start_ms: shape.leak_start_ms,
        series,
        slots,
        first_seen_ms,
    }
}

/// What the running requests hold now (Little's law, with Poisson noise).
fn in_flight(rng: &mut Rng, routes: &[Route], rate_now: &[f64]) -> f64 {
    routes
        .iter()
        .zip(rate_now)
        .map(|(r, &l)| rng.poisson(l * r.hold) as f64 * r.garbage)
        .sum()
}

/// What the tracker would hold at `at_ms`: totals so far and the newest `RING_SLOTS` slots.
pub fn snapshot(svc: &Service, at_ms: i64) -> TrackerSnapshot {
    let upto = ((at_ms - T0_MS) / SLOT_MS) as usize;
    let from = upto.saturating_sub(RING_SLOTS);
    let seen: Vec<usize> = (0..svc.routes.len())
        .filter(|&i| svc.first_seen_ms[i].is_some_and(|f| f <= at_ms))
        .collect();
    TrackerSnapshot {
        measures: Vec::new(),
        slot_ms: SLOT_MS,
        routes: seen
            .iter()
            .map(|&i| RouteSnapshot {
                route: svc.routes[i].name.clone(),
                first_seen_ms: svc.first_seen_ms[i],
                count: svc.slots[..upto].iter().map(|c| c[i]).sum(),
                measures: Vec::new(),
            })
            .collect(),
        slots: (from..upto)
            .map(|k| SlotCounts {
                start_ms: T0_MS + k as i64 * SLOT_MS,
                counts: seen.iter().map(|&i| svc.slots[k][i]).collect(),
            })
            .collect(),
    }
}

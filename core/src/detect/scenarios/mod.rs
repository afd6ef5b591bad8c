//! Labelled synthetic memory series for judging leak detectors (feature `scenarios`).
//!
//! Each [`Situation`] is one thing a real service does: a flat GC sawtooth, a warm-up, a deploy
//! step, daily traffic, restarts, spikes, noise, and the leaks the detector must catch. A seed
//! fixes every random choice (base size from 50 MB to 5 GB, GC period from 10 s to 30 min, or
//! 1–4 h for the slow-GC situations, sawtooth amplitude, noise, when things happen), so a run is
//! reproducible and train and held-out seed ranges never overlap.
//!
//! Every series comes with the request rate of the simulated service ([`Scenario::traffic`]),
//! the covariate the in-process monitor feeds the detector. The first nineteen situations
//! ([`legacy`]) predate it: their memory series are unchanged (but for a limit above the
//! healthy peak and a collection forced where a leak reaches it), and their traffic is drawn
//! from a separate random stream (it drives their sawtooth and small daily floor where they
//! have one, and nothing else). The later ones ([`service`]) model a service whose floor and
//! GC follow its traffic: daily floor swings, cache warm-ups, leaks that stop, slow leaks
//! towards a limit, slow count leaks, sparse, jittered or gappy sampling, and leaks that grow
//! only while a batch job runs, a second day busier or quieter than the first, and a leak that
//! runs across midnight.

mod legacy;
mod service;

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
    // The slow-GC situations come after the first fifteen so that adding them left every other
    // situation's discriminant, and so its seeded series, unchanged; the same holds for every
    // situation added later.
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
    /// A healthy floor that follows daily traffic: 5–40% higher at the afternoon peak than at
    /// the night low (live per-request data, traffic-sized caches), 24 h.
    DailySwing,
    /// `DailySwing` over 48 h: the second day repeats the first.
    DailySwingTwoDays,
    /// A cache that warms for 1–8 h (+20–35%, decelerating), then stays flat; from the
    /// process start or after a flat spell.
    CacheWarmup,
    /// A count (goroutines) whose in-flight part swings with daily traffic, under ±20 noise.
    CountSwing,
    /// A healthy service (flat, daily swing, step or warm-up) scraped every 5 min.
    SparseHealthy,
    /// A healthy service scraped every 60 s.
    MinuteHealthy,
    /// A healthy service scraped every 15 s with jittered timestamps and 1–3 outages of
    /// 10–30 min.
    GappyHealthy,
    /// A leak of 1–30%/h on a floor with a daily swing of 5–40%.
    SwingLeak,
    /// A leak that retains a little per request (its rate follows traffic), on a daily swing.
    RequestLeak,
    /// A leak of 3–30%/h that stops after 1–8 h (a bug hit only during a batch).
    LeakStops,
    /// A very slow leak, 0.2–2 kB/s on 0.5–4 GB, under a limit it reaches 8–100 h after it
    /// begins.
    SlowLeakToLimit,
    /// A count leak of one per 5–20 min under ±20 noise.
    SlowCountLeak,
    /// A leak (linear or per request) scraped every 5 min.
    SparseLeak,
    /// A leak scraped every 60 s.
    MinuteLeak,
    /// A leak scraped every 15 s with jittered timestamps and 1–3 outages of 10–30 min.
    GappyLeak,
    /// `SwingLeak` over 48 h, the leak beginning 2–14 h into the second day (at any phase of
    /// the day's traffic, whose night low falls at a random hour), half of them per request:
    /// the detector has seen one full swing before it.
    SwingLeakTwoDays,
    /// A leak on a route a batch job (or cron) calls: the batch runs for 20 min to 3 h (one
    /// length per series, each run and idle spell 0.7–1.3 times it), then idles about as long,
    /// all day; from one of its runs at 2–12 h on, each run leaks 1–30% of the base per hour
    /// while it runs, and the leak is flat while it idles. The batch's requests add to the
    /// service's daily traffic; for half the series they also hold live data while they run,
    /// as the day's requests do. Sampled every 15 s, or 60 s for a quarter.
    BatchLeak,
    /// A count (goroutines, handles) leaking one per 2–20 min under ±20 noise while a batch
    /// runs, for 1–8 h from 2–12 h, then flat (`growth_stop_ms`). The batch's requests add to
    /// the daily traffic (and, for half the series, to the count in flight). Sampled every
    /// 15 s, or 60 s for a quarter.
    CountLeakStops,
    /// `DailySwingTwoDays` whose second day is busier or quieter: from midnight (over 2 h) its
    /// traffic is 0.5–2 times the first day's (one factor per series), and for half the series
    /// its peak comes up to 3 h earlier or later; the floor's load part follows the traffic.
    /// No leak: the second day differs from the first as a weekday from a weekend.
    BusierDayTwoDays,
    /// A leak of 1–30%/h (half of them per request) on a daily swing as `SwingLeakTwoDays`,
    /// beginning 12–22 h into the first day and going on through the second, 48 h.
    LeakAcrossDays,
    // The week-long situations are not in `ALL` (the quality benches' 24–48 h runs) but in
    // `WEEK` (`bench/examples/week.rs`).
    /// A week (7 days) of a daily floor swing of 5–40 % with its traffic, day 0 a Wednesday:
    /// from Saturday's night low (day 3's) to Monday's the traffic is 0.3–0.7 times a weekday's
    /// (blended over 2 h), and the floor's load part follows it. No leak.
    WeekSwing,
    /// `WeekSwing` with a very slow leak, 0.2–1 % of the base per day (half of them per
    /// request) from 2–24 h on: it reaches no limit within the week.
    WeekSlowLeak,
    /// `WeekSwing` with a leak of 0.5–5 %/h (half of them per request) beginning on day 3–6
    /// (48–144 h).
    WeekLateLeak,
    /// `WeekSwing` with a leak of 0.5–5 %/h (half of them per request) beginning on Monday's
    /// morning ramp, 1–4 h after its night low, the first busy morning after the weekend.
    WeekMondayLeak,
}

impl Situation {
    /// Every situation, healthy ones first (the first nineteen, then the later ones).
    pub const ALL: [Situation; 39] = [
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
        Situation::DailySwing,
        Situation::DailySwingTwoDays,
        Situation::CacheWarmup,
        Situation::CountSwing,
        Situation::SparseHealthy,
        Situation::MinuteHealthy,
        Situation::GappyHealthy,
        Situation::SwingLeak,
        Situation::RequestLeak,
        Situation::LeakStops,
        Situation::SlowLeakToLimit,
        Situation::SlowCountLeak,
        Situation::SparseLeak,
        Situation::MinuteLeak,
        Situation::GappyLeak,
        Situation::SwingLeakTwoDays,
        Situation::BatchLeak,
        Situation::CountLeakStops,
        Situation::BusierDayTwoDays,
        Situation::LeakAcrossDays,
    ];

    /// The week-long situations, healthy first (not in [`Situation::ALL`]).
    pub const WEEK: [Situation; 4] = [
        Situation::WeekSwing,
        Situation::WeekSlowLeak,
        Situation::WeekLateLeak,
        Situation::WeekMondayLeak,
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
            Situation::DailySwing => "daily_swing",
            Situation::DailySwingTwoDays => "daily_swing_2d",
            Situation::CacheWarmup => "cache_warmup",
            Situation::CountSwing => "count_swing",
            Situation::SparseHealthy => "sparse_healthy",
            Situation::MinuteHealthy => "minute_healthy",
            Situation::GappyHealthy => "gappy_healthy",
            Situation::SwingLeak => "swing_leak",
            Situation::RequestLeak => "request_leak",
            Situation::LeakStops => "leak_stops",
            Situation::SlowLeakToLimit => "slow_leak_to_limit",
            Situation::SlowCountLeak => "slow_count_leak",
            Situation::SparseLeak => "sparse_leak",
            Situation::MinuteLeak => "minute_leak",
            Situation::GappyLeak => "gappy_leak",
            Situation::SwingLeakTwoDays => "swing_leak_2d",
            Situation::BatchLeak => "batch_leak",
            Situation::CountLeakStops => "count_leak_stops",
            Situation::BusierDayTwoDays => "busier_day_2d",
            Situation::LeakAcrossDays => "leak_across_days",
            Situation::WeekSwing => "week_swing",
            Situation::WeekSlowLeak => "week_slow_leak",
            Situation::WeekLateLeak => "week_late_leak",
            Situation::WeekMondayLeak => "week_monday_leak",
        }
    }

    /// The situation of a [`Situation::name`].
    pub fn from_name(name: &str) -> Option<Situation> {
        (Situation::ALL.into_iter())
            .chain(Situation::WEEK)
            .find(|s| s.name() == name)
    }

    /// The week-long situations ([`Situation::WEEK`]).
    pub fn week(self) -> bool {
        (self as usize) >= Situation::WeekSwing as usize
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

    /// The situations that predate the traffic covariate (their series are unchanged).
    pub fn legacy(self) -> bool {
        (self as usize) <= Situation::V8SlowGcLeak as usize
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
                | Situation::SwingLeak
                | Situation::RequestLeak
                | Situation::LeakStops
                | Situation::SlowLeakToLimit
                | Situation::SlowCountLeak
                | Situation::SparseLeak
                | Situation::MinuteLeak
                | Situation::GappyLeak
                | Situation::SwingLeakTwoDays
                | Situation::BatchLeak
                | Situation::CountLeakStops
                | Situation::LeakAcrossDays
                | Situation::WeekSlowLeak
                | Situation::WeekLateLeak
                | Situation::WeekMondayLeak
        )
    }

    /// Heap bytes or a count.
    pub fn kind(self) -> SeriesKind {
        match self {
            Situation::CountHealthy
            | Situation::CountLeak
            | Situation::CountSwing
            | Situation::SlowCountLeak
            | Situation::CountLeakStops => SeriesKind::Count,
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
    /// The mean leak rate as a share of the floor when it began, per hour; `None` for healthy
    /// series.
    pub leak_share_per_hour: Option<f64>,
    /// When the growth of the floor stopped, if it did within the series: the end of a leak
    /// that stops, or of a warm-up (healthy growth whose alert, if any, must resolve).
    pub growth_stop_ms: Option<i64>,
    /// A cache warm-up's plan ([`Situation::CacheWarmup`]): its start and duration in seconds
    /// from the series' start, its total rise as a share of the base, and its time scale τ in
    /// seconds (the floor rises as ln(1 + t/τ)); `None` for the other situations.
    pub warmup: Option<[f64; 4]>,
    /// When the leak's live data (the noise-free floor, without garbage, spikes or noise)
    /// reaches the limit, the out-of-memory kill a runtime that collects before dying would
    /// suffer; `None` when that is not within the series.
    pub limit_reached_ms: Option<i64>,
    /// The nominal sampling step in seconds (samples may be jittered or missing).
    pub step_secs: u32,
    /// The samples (24 h, or 48 h for the two-day situations, [`Situation::DailySwingTwoDays`],
    /// [`Situation::SwingLeakTwoDays`], [`Situation::BusierDayTwoDays`] and
    /// [`Situation::LeakAcrossDays`], 7 days for [`Situation::WEEK`]; plus, for the V8
    /// situations, one right after each full collection, as the Node binding takes one after
    /// every major GC).
    pub samples: Vec<Sample>,
    /// Indices into `samples` of the samples taken right after a full collection (V8
    /// situations only; empty otherwise).
    pub full_gcs: Vec<usize>,
    /// The service's request rate (requests per second), each the mean over the interval
    /// since the previous one, as a Prometheus `rate()` or the monitor's request tracker gives
    /// it; taken at the memory samples' times (scrape outages miss both).
    pub traffic: Vec<Sample>,
}

/// Small helpers over a seeded fastrand generator.
struct Rng(fastrand::Rng);

impl Rng {
    fn seeded(situation: Situation, seed: u64, stream: u64) -> Rng {
        // Mix the situation in so two situations with one seed differ.
        Rng(fastrand::Rng::with_seed(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (situation as u64 + 1) << 48 ^ stream,
        ))
    }
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
    /// A collection forced at `at` (the heap reached its limit): the next cycle, as long as
    /// the one it cuts short was to be, starts there.
    fn collect(&mut self, at: f64) {
        let len = self.next_gc - self.last_gc;
        self.last_gc = at;
        self.next_gc = at + len;
    }
}

/// Unix ms of `t` seconds into a series.
fn at_ms(t: f64) -> i64 {
    START_MS + (t * 1000.0) as i64
}

/// Generates `situation` from `seed`: 24 h (48 h for the two-day situations, 7 days for the
/// week-long ones) at
/// `step_secs` for the first nineteen situations; the later ones sample at their own step
/// (15 s, or 60 s and 300 s for the minute and sparse situations) and ignore `step_secs`.
pub fn generate(situation: Situation, seed: u64, step_secs: u32) -> Scenario {
    generate_with(situation, seed, step_secs, true)
}

/// [`generate`]'s series without its spikes (the big temporary allocations), every random
/// draw the same: what the heap would be between them (`bench/examples/limit_audit.rs`).
#[doc(hidden)]
pub fn generate_without_spikes(situation: Situation, seed: u64, step_secs: u32) -> Scenario {
    generate_with(situation, seed, step_secs, false)
}

fn generate_with(situation: Situation, seed: u64, step_secs: u32, spikes: bool) -> Scenario {
    if !situation.legacy() {
        return service::generate(situation, seed, spikes);
    }
    let mut rng = Rng::seeded(situation, seed, 0);
    let step = f64::from(step_secs.max(1));
    let n = (24.0 * HOUR / step) as usize;
    let mut sc = match situation.kind() {
        SeriesKind::Count => legacy::count_series(situation, seed, &mut rng, step, n),
        SeriesKind::Heap => legacy::heap_series(situation, seed, &mut rng, step, n, spikes),
    };
    sc.step_secs = step_secs.max(1);
    sc
}

/// A legacy situation's series as a scraper at `k` times its step would see it: 1 in `k` of
/// its samples kept (the first, the `k+1`-th, ...), each kept traffic rate the mean of the
/// rates over the interval since the previous kept one, and every sample right after a full
/// collection kept (the binding takes those, not the scraper). `k` 0 or 1 returns it as is.
pub fn thin(sc: Scenario, k: usize) -> Scenario {
    if k <= 1 {
        return sc;
    }
    let mut samples = Vec::with_capacity(sc.samples.len() / k + sc.full_gcs.len() + 1);
    let mut full_gcs = Vec::with_capacity(sc.full_gcs.len());
    let mut gcs = sc.full_gcs.iter().peekable();
    let mut regular = 0;
    for (i, s) in sc.samples.iter().enumerate() {
        if gcs.next_if_eq(&&i).is_some() {
            full_gcs.push(samples.len());
            samples.push(*s);
            continue;
        }
        if regular % k == 0 {
            samples.push(*s);
        }
        regular += 1;
    }
    let traffic = sc
        .traffic
        .iter()
        .enumerate()
        .step_by(k)
        .map(|(j, r)| {
            let since = &sc.traffic[(j + 1).saturating_sub(k)..=j];
            Sample {
                ts_ms: r.ts_ms,
                value: since.iter().map(|x| x.value).sum::<f64>() / since.len() as f64,
            }
        })
        .collect();
    Scenario {
        samples,
        full_gcs,
        traffic,
        step_secs: sc.step_secs * k as u32,
        ..sc
    }
}

/// Drops the samples of `series` inside the `gaps` ((start, end) unix ms).
fn cut_gaps(series: &mut Vec<Sample>, gaps: &[(i64, i64)]) {
    series.retain(|s| !gaps.iter().any(|&(a, b)| s.ts_ms >= a && s.ts_ms < b));
}

#[cfg(test)]
mod tests;

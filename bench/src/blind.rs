//! A third series generator, written blind (from issue 17's text and the physics of real
//! runtimes, without reading the detector or the other two generators' drawing code): a
//! per-instance request rate with two regional peaks, a lunch dip, weekends, flash crowds,
//! autoscaling and nightly batch jobs; live data made of per-request data, traffic-sized
//! caches, TTL session stores, LRU caches and leaks; and runtimes that turn live data into
//! what a scrape reads: Go's pacer (GOGC, GOMEMLIMIT), JVM G1 (young collections, mixed
//! cycles), CPython's RSS ratchet, V8 (scavenges, mark-compact), glibc arenas, goroutine
//! counts. Deploys restart the process (the heap resets, a leak starts again from nothing).
//! Scrapes every 10 s to 5 min with jitter, missed scrapes, outages and retried scrapes 1 ms
//! apart. Every parameter is drawn per seed.

use leaksense_core::detect::SeriesKind;
use leaksense_core::series::Sample;

use crate::quality::Truth;

const H: f64 = 3600.0;
const DAY: f64 = 24.0 * H;
const MB: f64 = 1024.0 * 1024.0;
/// Unix seconds of a Monday 00:00 UTC (2025-01-06); a series starts some time in that week.
const MONDAY: f64 = 1_736_121_600.0;
/// The simulation step, seconds.
const DT: f64 = 2.0;

/// One blind situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// Go heap; the floor follows traffic (per-request data and traffic-sized caches).
    GoTraffic,
    /// An LRU cache that fills with traffic until its capacity, then is flat.
    LruFill,
    /// A session store with a TTL of 30 min to 4 h: sessions follow traffic.
    SessionTtl,
    /// Flash crowds (x2-4 for 10-40 min) that raise live data for half an hour.
    FlashCrowd,
    /// A weekend, then a Monday.
    WeekendMonday,
    /// CPython RSS: ratchets up to the busiest hour's high-water mark and stays.
    PythonRatchet,
    /// JVM G1: the old generation climbs between mixed cycles.
    JvmOldGen,
    /// A Go heap near its GOMEMLIMIT, healthy.
    GoMemlimit,
    /// V8 heapUsed: scavenges every few s, mark-compact every few min.
    V8Heap,
    /// glibc arenas: RSS grows with concurrency, then is flat.
    GlibcArenas,
    /// Deploys every 2-24 h reset the heap; caches refill.
    Deploys,
    /// A healthy goroutine count following concurrency.
    CountHealthy,
    /// A nightly batch job raises live data for 20-60 min.
    NightlyBatch,
    /// A per-request map entry: grows with requests served.
    PerRequestLeak,
    /// A goroutine leaked per failed request; errors come in bursts.
    ErrorBurstCountLeak,
    /// A slow listener leak, 0.2-2 kB/s on 0.5-4 GB, with a limit.
    SlowListenerLeak,
    /// A Go leak under GOMEMLIMIT: the sawtooth shrinks as live nears the limit.
    MemlimitLeak,
    /// A JVM old-generation leak, seen only at mixed cycles.
    JvmOldLeak,
    /// A leak inside CPython's RSS ratchet.
    PythonRssLeak,
    /// A per-request leak interrupted by restarts.
    RestartLeak,
    /// A leak that stops after 1-6 h (a bug hit only during a batch).
    StoppingLeak,
    /// A V8 closure leak.
    V8Leak,
}

impl Situation {
    /// Every situation, healthy ones first.
    pub const ALL: [Situation; 22] = [
        Situation::GoTraffic,
        Situation::LruFill,
        Situation::SessionTtl,
        Situation::FlashCrowd,
        Situation::WeekendMonday,
        Situation::PythonRatchet,
        Situation::JvmOldGen,
        Situation::GoMemlimit,
        Situation::V8Heap,
        Situation::GlibcArenas,
        Situation::Deploys,
        Situation::CountHealthy,
        Situation::NightlyBatch,
        Situation::PerRequestLeak,
        Situation::ErrorBurstCountLeak,
        Situation::SlowListenerLeak,
        Situation::MemlimitLeak,
        Situation::JvmOldLeak,
        Situation::PythonRssLeak,
        Situation::RestartLeak,
        Situation::StoppingLeak,
        Situation::V8Leak,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Situation::GoTraffic => "go_traffic",
            Situation::LruFill => "lru_fill",
            Situation::SessionTtl => "session_ttl",
            Situation::FlashCrowd => "flash_crowd",
            Situation::WeekendMonday => "weekend_monday",
            Situation::PythonRatchet => "python_ratchet",
            Situation::JvmOldGen => "jvm_old_gen",
            Situation::GoMemlimit => "go_memlimit",
            Situation::V8Heap => "v8_heap",
            Situation::GlibcArenas => "glibc_arenas",
            Situation::Deploys => "deploys",
            Situation::CountHealthy => "count_healthy",
            Situation::NightlyBatch => "nightly_batch",
            Situation::PerRequestLeak => "per_request_leak",
            Situation::ErrorBurstCountLeak => "error_burst_count_leak",
            Situation::SlowListenerLeak => "slow_listener_leak",
            Situation::MemlimitLeak => "memlimit_leak",
            Situation::JvmOldLeak => "jvm_old_leak",
            Situation::PythonRssLeak => "python_rss_leak",
            Situation::RestartLeak => "restart_leak",
            Situation::StoppingLeak => "stopping_leak",
            Situation::V8Leak => "v8_leak",
        }
    }

    pub fn leaks(self) -> bool {
        matches!(
            self,
            Situation::PerRequestLeak
                | Situation::ErrorBurstCountLeak
                | Situation::SlowListenerLeak
                | Situation::MemlimitLeak
                | Situation::JvmOldLeak
                | Situation::PythonRssLeak
                | Situation::RestartLeak
                | Situation::StoppingLeak
                | Situation::V8Leak
        )
    }

    pub fn kind(self) -> SeriesKind {
        match self {
            Situation::CountHealthy | Situation::ErrorBurstCountLeak => SeriesKind::Count,
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
    /// Mean leak growth per hour over the live data at the leak start.
    pub share_per_hour: Option<f64>,
}

struct R(fastrand::Rng);

impl R {
    fn u(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.f64()
    }
    fn lu(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (hi.ln() - lo.ln()) * self.0.f64()).exp()
    }
    fn p(&mut self, p: f64) -> bool {
        self.0.f64() < p
    }
    /// A standard normal draw (Box-Muller).
    fn n(&mut self) -> f64 {
        let a = self.0.f64().max(1e-12);
        let b = self.0.f64();
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
    /// Times of a Poisson process of `per_day` events over `0..dur` seconds.
    fn events(&mut self, per_day: f64, dur: f64) -> Vec<f64> {
        let mut v = Vec::new();
        if per_day <= 0.0 {
            return v;
        }
        let mut t = 0.0;
        loop {
            t += -(1.0 - self.0.f64()).ln() * DAY / per_day;
            if t >= dur {
                return v;
            }
            v.push(t);
        }
    }
}

/// A bump of height 1 at hour `mu` with width `sigma` hours, on the 24-h circle.
fn bump(h: f64, mu: f64, sigma: f64) -> f64 {
    let mut d = (h - mu).rem_euclid(24.0);
    if d > 12.0 {
        d = 24.0 - d;
    }
    (-0.5 * (d / sigma).powi(2)).exp()
}

/// The service's global request rate, before autoscaling.
struct Traffic {
    peak: f64,
    night: f64,
    main_at: f64,
    main_w: f64,
    second: f64,
    second_at: f64,
    lunch: f64,
    lunch_at: f64,
    weekend: f64,
    /// (start, duration, multiplier), seconds from the series start.
    flashes: Vec<(f64, f64, f64)>,
    /// A nightly batch: hour, duration (s), multiplier of traffic, extra live share.
    batch: Option<(f64, f64, f64, f64)>,
    /// Unix seconds of the series start.
    t0: f64,
    /// Hours between UTC and the service's local time.
    tz: f64,
}

impl Traffic {
    fn draw(r: &mut R, t0: f64, dur: f64, flash_rate: f64) -> Traffic {
        let flashes = r
            .events(flash_rate, dur)
            .into_iter()
            .map(|t| (t, r.u(600.0, 2400.0), r.u(2.0, 4.0)))
            .collect();
        Traffic {
            peak: r.lu(20.0, 3000.0),
            night: r.u(0.08, 0.45),
            main_at: r.u(13.0, 16.0),
            main_w: r.u(2.5, 4.5),
            second: if r.p(0.6) { r.u(0.2, 0.8) } else { 0.0 },
            second_at: r.u(19.0, 22.0),
            lunch: if r.p(0.7) { r.u(0.05, 0.25) } else { 0.0 },
            lunch_at: r.u(12.0, 13.0),
            weekend: r.u(0.4, 0.9),
            flashes,
            batch: None,
            t0,
            tz: r.u(-8.0, 9.0).round(),
        }
    }

    fn local(&self, t: f64) -> (f64, i64) {
        let l = self.t0 + t + self.tz * H - MONDAY;
        let day = (l / DAY).floor() as i64;
        (l.rem_euclid(DAY) / H, day.rem_euclid(7))
    }

    fn day_shape(&self, h: f64) -> f64 {
        let up = bump(h, self.main_at, self.main_w).max(self.second * bump(h, self.second_at, 1.5));
        (self.night + (1.0 - self.night) * up - self.lunch * bump(h, self.lunch_at, 0.5)).max(0.02)
    }

    /// Global rate at `t` seconds from the start; also whether a batch runs.
    fn rate(&self, t: f64) -> (f64, bool) {
        let (h, wd) = self.local(t);
        let mut x = self.peak * self.day_shape(h);
        if wd >= 5 {
            x *= self.weekend;
        }
        for &(s, d, m) in &self.flashes {
            if t >= s && t < s + d {
                let ramp = ((t - s) / 120.0).min(1.0).min((s + d - t) / 300.0);
                x *= 1.0 + (m - 1.0) * ramp.max(0.0);
            }
        }
        let mut batch = false;
        if let Some((bh, bd, bm, _)) = self.batch {
            let since = (h - bh).rem_euclid(24.0) * H;
            if since < bd {
                x *= bm;
                batch = true;
            }
        }
        (x, batch)
    }
}

/// How the runtime turns live data into what a scrape reads.
#[derive(Debug, Clone, Copy)]
enum Runtime {
    /// GOGC percent; GOMEMLIMIT bytes.
    Go { gogc: f64, memlimit: Option<f64> },
    /// Eden bytes, initiating occupancy bytes, garbage left by a mixed cycle.
    Jvm { eden: f64, ihop: f64, residual: f64 },
    /// RSS over live (fragmentation), release of the excess per second.
    Python { frag: f64, release: f64 },
    /// Young space bytes, the old space's growth factor before a mark-compact.
    V8 { young: f64, factor: f64 },
    /// Bytes of an arena per concurrent thread, the arena cap.
    Glibc { arena: f64, max_arenas: f64 },
    /// Goroutines per in-flight request, the idle count.
    Count { per_req: f64, idle: f64 },
}

/// The mutable state of a runtime's heap.
#[derive(Debug, Default, Clone, Copy)]
struct Heap {
    /// Go: the heap in use; JVM/V8: garbage in the old generation; Python/glibc: the
    /// high-water overhead.
    a: f64,
    /// The live data at the last full collection (V8), the arenas in use (glibc), mixed cycle
    /// time left (JVM).
    b: f64,
}

/// The leak's kind of growth.
#[derive(Debug, Clone, Copy)]
enum Leak {
    None,
    /// Bytes per request served.
    PerRequest(f64),
    /// Bytes per second.
    Constant(f64),
    /// Goroutines per failed request; error bursts per day, failure share during a burst.
    PerFailure {
        per_day: f64,
        share_h: f64,
    },
}

struct Plan {
    runtime: Runtime,
    base: f64,
    /// Share of base that follows traffic (floor swing), and its instant part.
    swing: f64,
    instant: f64,
    /// Time constant of traffic-sized caches, seconds.
    tau: f64,
    /// Session store: bytes per session per request rate unit... (TTL s, bytes per request).
    session: Option<(f64, f64)>,
    /// LRU: capacity bytes, bytes per request of new keys.
    lru: Option<(f64, f64)>,
    /// Restart period range, seconds.
    restarts: Option<(f64, f64)>,
    leak: Leak,
    leak_start: f64,
    leak_stop: Option<f64>,
    /// Autoscaling: replicas' capacity (global rate per replica), if any.
    scale_cap: Option<f64>,
    /// A limit: share of peak live above it (healthy), or time to reach it (leaks).
    limit_mode: LimitMode,
}

#[derive(Debug, Clone, Copy)]
enum LimitMode {
    None,
    /// The limit is this many times the healthy peak live data.
    Headroom(f64),
    /// The limit is reached this many seconds after the leak start (approximately).
    Reach(f64),
    /// Fixed at the runtime's limit (GOMEMLIMIT's container, JVM Xmx), in bytes.
    Fixed(f64),
}

fn draw_runtime(r: &mut R, base: f64, which: u32) -> Runtime {
    match which {
        0 => Runtime::Go {
            gogc: [50.0, 100.0, 100.0, 200.0, 400.0][r.0.usize(0..5)],
            memlimit: None,
        },
        1 => {
            let heap_max = base * r.u(2.0, 4.0);
            Runtime::Jvm {
                eden: heap_max * r.u(0.05, 0.3),
                ihop: heap_max * r.u(0.45, 0.7),
                residual: r.u(0.05, 0.2),
            }
        }
        2 => Runtime::Python {
            frag: r.u(1.05, 1.4),
            release: r.u(0.0, 0.03) / H,
        },
        3 => Runtime::V8 {
            young: r.u(8.0, 64.0) * MB,
            factor: r.u(1.3, 2.0),
        },
        _ => Runtime::Glibc {
            arena: r.u(0.5, 4.0) * MB,
            max_arenas: 8.0 * [2.0, 4.0, 8.0, 16.0][r.0.usize(0..4)],
        },
    }
}

/// The seed's random stream, apart for each situation.
fn rng(sit: Situation, seed: u64) -> R {
    let i = Situation::ALL.iter().position(|&s| s == sit).unwrap_or(0) as u64;
    R(fastrand::Rng::with_seed(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (i + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ 0xB11D,
    ))
}

/// Draws `sit`'s series for `seed`.
pub fn generate(sit: Situation, seed: u64) -> Series {
    let mut r = rng(sit, seed);
    let days = r.u(1.0, 3.0);
    let mut dur = days * DAY;
    let start_offset = if sit == Situation::WeekendMonday {
        // Saturday 00:00-12:00 local, through Monday.
        5.0 * DAY + r.u(0.0, 12.0) * H
    } else {
        r.u(0.0, 7.0 * DAY)
    };
    if sit == Situation::WeekendMonday {
        dur = dur.max(2.0 * DAY + r.u(6.0, 20.0) * H);
    }
    let t0 = MONDAY + start_offset;
    let flash_rate = match sit {
        Situation::FlashCrowd => r.u(1.0, 4.0),
        _ => r.u(0.0, 1.0),
    };
    let mut traffic = Traffic::draw(&mut r, t0, dur, flash_rate);
    // The traffic model uses local time; undo the zone for the weekend case so it starts on a
    // local Saturday.
    if sit == Situation::WeekendMonday {
        traffic.t0 -= traffic.tz * H;
    }
    let batch_live = r.u(0.05, 0.3);
    if sit == Situation::NightlyBatch || r.p(0.15) {
        traffic.batch = Some((
            r.u(0.5, 4.0),
            r.u(1200.0, 3600.0),
            r.u(1.5, 4.0),
            batch_live,
        ));
    }
    let base = match sit {
        Situation::SlowListenerLeak => r.lu(512.0 * MB, 4096.0 * MB),
        _ => r.lu(40.0 * MB, 3000.0 * MB),
    };
    let which = match sit {
        Situation::GoTraffic
        | Situation::GoMemlimit
        | Situation::MemlimitLeak
        | Situation::PerRequestLeak
        | Situation::LruFill => 0,
        Situation::JvmOldGen | Situation::JvmOldLeak => 1,
        Situation::PythonRatchet | Situation::PythonRssLeak => 2,
        Situation::V8Heap | Situation::V8Leak => 3,
        Situation::GlibcArenas => 4,
        _ => r.0.u32(0..4),
    };
    let mut runtime = draw_runtime(&mut r, base, which);
    let leak_start = r.u(4.0 * H, (dur * 0.6).max(5.0 * H));
    let share_h = r.lu(0.005, 0.25);
    let mut plan = Plan {
        runtime,
        base,
        swing: r.u(0.05, 0.4),
        instant: r.u(0.2, 0.8),
        tau: r.u(600.0, 3600.0),
        session: None,
        lru: None,
        restarts: None,
        leak: Leak::None,
        leak_start,
        leak_stop: None,
        scale_cap: if r.p(0.3) {
            Some(traffic.peak * r.u(0.15, 0.5))
        } else {
            None
        },
        limit_mode: if r.p(0.5) {
            LimitMode::Headroom(r.u(1.3, 3.0))
        } else {
            LimitMode::None
        },
    };
    // The mean global rate, to size per-request leaks.
    let mean_rate = traffic.peak * (traffic.night + 0.5 * (1.0 - traffic.night)) * 0.8;
    let per_req = |share: f64, scale: f64| share * base / H / (mean_rate * scale).max(1e-9);
    let replicas_guess = plan
        .scale_cap
        .map_or(1.0, |c| (traffic.peak * 0.6 / c).ceil().max(1.0));
    match sit {
        Situation::LruFill => {
            plan.lru = Some((base * r.u(0.1, 0.5), 0.0));
        }
        Situation::SessionTtl => {
            plan.session = Some((r.u(1800.0, 4.0 * H), 0.0));
        }
        Situation::Deploys => {
            plan.restarts = Some((2.0 * H, 24.0 * H));
            plan.lru = Some((base * r.u(0.05, 0.3), 0.0));
        }
        Situation::GoMemlimit => {
            // Live peaks at 60-90 % of GOMEMLIMIT.
            let peak_live = base * (1.0 + plan.swing);
            let ml = peak_live / r.u(0.6, 0.9);
            plan.runtime = Runtime::Go {
                gogc: 100.0,
                memlimit: Some(ml),
            };
            plan.limit_mode = LimitMode::Fixed(ml / 0.9);
        }
        Situation::PerRequestLeak => {
            plan.leak = Leak::PerRequest(per_req(share_h, 1.0 / replicas_guess));
            plan.limit_mode = LimitMode::Reach(r.u(0.3, 2.0) * (dur - leak_start));
        }
        Situation::ErrorBurstCountLeak => {
            plan.leak = Leak::PerFailure {
                per_day: r.u(2.0, 12.0),
                share_h: r.lu(0.005, 0.5),
            };
        }
        Situation::SlowListenerLeak => {
            plan.leak = Leak::Constant(r.u(200.0, 2048.0));
            plan.limit_mode = LimitMode::Reach(r.u(0.5, 2.5) * (dur - leak_start));
            plan.swing = r.u(0.02, 0.2);
        }
        Situation::MemlimitLeak => {
            let peak_live = base * (1.0 + plan.swing);
            let ml = peak_live / r.u(0.5, 0.85);
            plan.runtime = Runtime::Go {
                gogc: 100.0,
                memlimit: Some(ml),
            };
            plan.limit_mode = LimitMode::Fixed(ml / 0.9);
            // Reaches the container limit within 0.4-2 x the rest of the series.
            let need = ml / 0.9 - base;
            let secs = r.u(0.4, 2.0) * (dur - leak_start);
            plan.leak = Leak::PerRequest(need / secs / (mean_rate / replicas_guess).max(1e-9));
        }
        Situation::JvmOldLeak | Situation::PythonRssLeak | Situation::V8Leak => {
            plan.leak = Leak::PerRequest(per_req(share_h, 1.0 / replicas_guess));
            if r.p(0.5) {
                plan.limit_mode = LimitMode::Reach(r.u(0.4, 2.0) * (dur - leak_start));
            } else {
                plan.limit_mode = LimitMode::None;
            }
        }
        Situation::RestartLeak => {
            plan.restarts = Some((2.0 * H, 24.0 * H));
            plan.leak = Leak::PerRequest(per_req(share_h.max(0.02), 1.0 / replicas_guess));
            plan.limit_mode = LimitMode::None;
        }
        Situation::StoppingLeak => {
            plan.leak = Leak::PerRequest(per_req(share_h.max(0.02), 1.0 / replicas_guess));
            let stop = leak_start + r.u(1.0, 6.0) * H;
            plan.leak_stop = Some(stop);
            dur = dur.max(stop + r.u(4.0, 12.0) * H);
            plan.limit_mode = LimitMode::None;
        }
        Situation::CountHealthy => {}
        _ => {}
    }
    if sit.kind() == SeriesKind::Count {
        runtime = Runtime::Count {
            per_req: r.u(1.0, 3.0),
            idle: r.lu(20.0, 2000.0),
        };
        plan.runtime = runtime;
        plan.limit_mode = LimitMode::None;
    }
    // Restarts now and then in other situations too (deploys).
    if plan.restarts.is_none() && !sit.leaks() && r.p(0.15) {
        plan.restarts = Some((6.0 * H, 24.0 * H));
    }
    // The limit, from the healthy series' highest reading (a first pass without the leak).
    let limit = match plan.limit_mode {
        LimitMode::None => None,
        LimitMode::Fixed(b) => Some(b),
        LimitMode::Headroom(_) | LimitMode::Reach(_) => {
            let mut r2 = R(r.0.clone());
            let healthy = simulate(sit, &mut r2, &traffic, &plan, dur, false, None);
            let hi = healthy.samples.iter().map(|s| s.value).fold(0.0, f64::max);
            match plan.limit_mode {
                LimitMode::Headroom(x) => Some(hi * x),
                LimitMode::Reach(secs) => {
                    let mean_rate = mean_rate / replicas_guess;
                    let per_s = match plan.leak {
                        Leak::PerRequest(b) => b * mean_rate,
                        Leak::Constant(b) => b,
                        _ => 0.0,
                    };
                    Some(hi * 1.02 + per_s * secs)
                }
                _ => None,
            }
        }
    };
    simulate(sit, &mut r, &traffic, &plan, dur, true, limit)
}

/// Scrape times (seconds from the start), jittered, with missed scrapes, outages and retries.
fn scrape_times(r: &mut R, dur: f64) -> (f64, Vec<f64>) {
    let every = [10.0, 15.0, 15.0, 30.0, 60.0, 60.0, 120.0, 300.0][r.0.usize(0..8)];
    let jitter = r.u(0.0, 0.15) * every;
    let miss = r.u(0.0, 0.03);
    let outage_rate = r.u(0.0, 2.0);
    let outages: Vec<(f64, f64)> = r
        .events(outage_rate, dur)
        .into_iter()
        .map(|t| (t, r.u(300.0, 1800.0)))
        .collect();
    let retry = r.u(0.0, 0.005);
    let phase = r.u(0.0, every);
    let mut v = Vec::new();
    let mut k = 0.0;
    loop {
        let t = phase + k * every + jitter * r.u(-1.0, 1.0);
        k += 1.0;
        if t >= dur {
            return (every, v);
        }
        if t < 0.0 || r.p(miss) || outages.iter().any(|&(s, d)| t >= s && t < s + d) {
            continue;
        }
        v.push(t);
        if r.p(retry) {
            v.push(t + 0.001);
        }
    }
}

/// The series of `plan` (its leak only `with_leak`); `limit` ends it where a reading reaches it
/// after the leak start (the process is killed).
fn simulate(
    sit: Situation,
    r: &mut R,
    tr: &Traffic,
    plan: &Plan,
    dur_in: f64,
    with_leak: bool,
    limit: Option<f64>,
) -> Series {
    let mut dur = dur_in;
    let (every, mut scrapes) = scrape_times(r, dur);
    let traffic_phase = r.u(0.0, every);
    // Restart times.
    let mut restarts = Vec::new();
    if let Some((lo, hi)) = plan.restarts {
        let mut t = r.u(lo * 0.5, hi);
        while t < dur {
            restarts.push(t);
            t += r.u(lo, hi);
        }
    }
    let downtime: Vec<f64> = restarts.iter().map(|_| r.u(20.0, 120.0)).collect();
    // Error bursts for the per-failure leak.
    let bursts: Vec<(f64, f64)> = match plan.leak {
        Leak::PerFailure { per_day, .. } => r
            .events(per_day, dur)
            .into_iter()
            .map(|t| (t, r.u(300.0, 3600.0)))
            .collect(),
        _ => Vec::new(),
    };
    let latency = r.u(0.03, 0.4);
    let session_per_req = plan.base * r.u(0.05, 0.3);
    let lru_per_req = r.u(0.5, 3.0);
    let gc_period = r.u(2.0, 60.0);
    let young_period = r.u(2.0, 20.0);
    let mixed_period = r.u(20.0, 90.0) * 60.0;
    let mc_period = r.u(120.0, 600.0);
    let float = r.u(0.0, 0.05);
    // Per-instance peak rate, to size allocation rates.
    let replicas_at = |g: f64| plan.scale_cap.map_or(1.0, |c| (g / c).ceil().max(1.0));
    let rpk = tr.peak / replicas_at(tr.peak * 0.8).max(1.0);
    let conc_pk = rpk * latency * 1.5;

    let mut samples = Vec::with_capacity(scrapes.len());
    let mut traffic = Vec::with_capacity(scrapes.len());
    let mut next_scrape = 0;
    let mut next_rate_t = traffic_phase;
    let mut replicas = replicas_at(tr.peak * tr.night);
    let mut above = 0.0;
    let mut below = 0.0;
    let mut cache = 0.0;
    let mut sessions: std::collections::VecDeque<f64> = Default::default();
    let mut session_sum = 0.0;
    let mut minute_acc = 0.0;
    let mut lru = 0.0;
    let mut leak = 0.0;
    let mut leak_total = 0.0;
    let mut heap = Heap::default();
    let mut rate_acc = 0.0;
    let mut rate_n = 0.0f64;
    let mut ri = 0;
    let mut down_until = -1.0;
    let mut live_at_start = None;
    let mut lru_full_at = None;
    let mut limit_reached = None;
    let mut first = true;
    let mut t = 0.0;
    let mut step = 0u64;
    let mut g = 0.0;
    let mut batch = false;
    let mut count_noise = 0.0;
    // The per-failure leak: its mean rate over the floor count, weighted to the error bursts.
    let count_floor = match plan.runtime {
        Runtime::Count { per_req, idle } => idle + per_req * rpk * latency * 0.5,
        _ => 0.0,
    };
    let in_bursts: f64 = bursts
        .iter()
        .map(|&(s, d)| (s + d).min(dur) - s.max(plan.leak_start))
        .filter(|&x| x > 0.0)
        .sum();
    let f = (in_bursts / (dur - plan.leak_start).max(1.0)).max(0.01);
    let burst_w = (1.0 - 0.1 * (1.0 - f)) / f;
    while t < dur {
        if step.is_multiple_of(5) {
            (g, batch) = tr.rate(t);
            // Autoscaling: add a replica after 3 min above 80 %, remove after 15 min below 40 %.
            if let Some(cap) = plan.scale_cap {
                let load = g / (replicas * cap);
                if load > 0.8 {
                    above += 5.0 * DT;
                    below = 0.0;
                } else if load < 0.4 && replicas > 1.0 {
                    below += 5.0 * DT;
                    above = 0.0;
                } else {
                    above = 0.0;
                    below = 0.0;
                }
                if above >= 180.0 {
                    replicas += 1.0;
                    above = 0.0;
                }
                if below >= 900.0 {
                    replicas -= 1.0;
                    below = 0.0;
                }
            }
        }
        step += 1;
        let rate = g / replicas;
        if ri < restarts.len() && t >= restarts[ri] {
            // A restart: the heap, caches, sessions and the leak start again from nothing.
            down_until = t + downtime[ri];
            ri += 1;
            cache = 0.0;
            sessions.clear();
            session_sum = 0.0;
            lru = 0.0;
            leak = 0.0;
            heap = Heap::default();
            first = true;
        }
        let down = t < down_until;
        // Concurrency grows faster than the rate near saturation.
        let conc = rate * latency * (1.0 + 0.5 * (rate / rpk).powi(2));
        let load = rate / rpk;
        cache += (load - cache) * (DT / plan.tau).min(1.0);
        // Sessions: arrivals per minute kept for the TTL.
        if let Some((ttl, _)) = plan.session {
            minute_acc += rate * DT;
            if step.is_multiple_of(30) {
                let arrivals = minute_acc / rpk / 60.0;
                minute_acc = 0.0;
                sessions.push_back(arrivals);
                session_sum += arrivals;
                while sessions.len() as f64 > ttl / 60.0 {
                    session_sum -= sessions.pop_front().unwrap_or(0.0);
                }
            }
        }
        if let Some((cap, _)) = plan.lru
            && lru < cap
        {
            lru = (lru + lru_per_req * rate * DT * cap / (rpk * 4.0 * H)).min(cap);
            if lru >= cap && lru_full_at.is_none() && !down {
                lru_full_at = Some(t);
            }
        }
        // The leak.
        let leaking = t >= plan.leak_start && plan.leak_stop.is_none_or(|s| t < s);
        if leaking && with_leak && !down {
            let add = match plan.leak {
                Leak::None => 0.0,
                Leak::PerRequest(b) => b * rate * DT,
                Leak::Constant(b) => b * DT,
                Leak::PerFailure { share_h, .. } => {
                    let in_burst = bursts.iter().any(|&(s, d)| t >= s && t < s + d);
                    let w = if in_burst { burst_w } else { 0.1 };
                    let mean = share_h * count_floor / H * w * (load / 0.5) * DT;
                    // Poisson-ish goroutine leaks.
                    (mean + mean.sqrt() * r.n()).max(0.0)
                }
            };
            leak += add;
            leak_total += add;
        }
        let batch_live = if batch {
            tr.batch.map_or(0.0, |b| b.3) * plan.base
        } else {
            0.0
        };
        let healthy_live = plan.base
            * (1.0 + plan.swing * (plan.instant * load + (1.0 - plan.instant) * cache))
            + plan
                .session
                .map_or(0.0, |(ttl, _)| session_per_req * session_sum / (ttl / 60.0))
            + lru
            + batch_live;
        let live = healthy_live
            + if matches!(plan.runtime, Runtime::Count { .. }) {
                0.0
            } else {
                leak
            };
        if live_at_start.is_none() && t >= plan.leak_start {
            live_at_start = Some(healthy_live);
        }
        // The runtime.
        let value = match plan.runtime {
            Runtime::Go { gogc, memlimit } => {
                if first {
                    heap.a = live;
                }
                let mut goal = (live * (1.0 + gogc / 100.0)).max(live + 4.0 * MB);
                if let Some(ml) = memlimit {
                    goal = goal.min(ml).max(live * 1.01);
                }
                // Allocation sized so a GC comes every `gc_period` s at peak.
                let a = (live * gogc / 100.0) / gc_period * (rate / rpk.max(1e-9));
                // Allocation is bursty: GC periods vary from cycle to cycle.
                heap.a += a * DT * (1.0 + 0.3 * r.n()).max(0.0);
                if heap.a >= goal {
                    // What was allocated past the goal carries into the next cycle: a GC
                    // faster than the step does not lock its phase to the scrapes.
                    let span = (goal - live).max(1.0);
                    heap.a = live * (1.0 + float * r.0.f64()) + (heap.a - goal) % span;
                }
                heap.a.max(live)
            }
            Runtime::Jvm {
                eden,
                ihop,
                residual,
            } => {
                // Old-generation garbage promoted at a rate that fills to IHOP every
                // `mixed_period` at peak.
                let room = (ihop - live).max(ihop * 0.05);
                heap.a += room / mixed_period * (rate / rpk.max(1e-9)) * DT;
                if heap.b > 0.0 {
                    // After a mixed phase, a pause before the next concurrent cycle.
                    heap.b -= DT;
                } else if live + heap.a >= ihop {
                    // A concurrent cycle and its mixed collections clear the old garbage.
                    heap.a *= residual;
                    heap.b = r.u(60.0, 300.0);
                }
                let young =
                    eden * ((t / young_period.max(1.0)).fract()) * (0.5 + 0.5 * load.min(1.0));
                live + heap.a + young
            }
            Runtime::Python { frag, release } => {
                let target = live * frag + plan.base * 0.1 * conc / conc_pk;
                if target > heap.a {
                    heap.a = target;
                } else {
                    heap.a = target + (heap.a - target) * (-release * DT).exp();
                }
                heap.a * (1.0 + 0.001 * r.n())
            }
            Runtime::V8 { young, factor } => {
                if first {
                    heap.b = live;
                }
                heap.a += (factor - 1.0) * heap.b / mc_period * (rate / rpk.max(1e-9)) * DT;
                if live + heap.a >= heap.b * factor {
                    heap.a = live * float * r.0.f64();
                    heap.b = live;
                }
                live + heap.a + young * r.0.f64()
            }
            Runtime::Glibc { arena, max_arenas } => {
                heap.b = heap.b.max(conc.min(max_arenas));
                live * 1.05 + heap.b * arena
            }
            Runtime::Count { per_req, idle } => {
                count_noise += (r.n() * 3.0 - count_noise) * 0.2;
                let busy = per_req * conc;
                (idle + busy + busy.sqrt() * r.n() + count_noise + leak).max(1.0)
            }
        };
        first = false;
        if let Some(l) = limit
            && with_leak
            && plan.leak.is_leak()
            && t >= plan.leak_start
            && value >= l
            && limit_reached.is_none()
        {
            limit_reached = Some(t);
            // The process dies at its limit (OOM): the series ends a few minutes later.
            dur = dur.min(t + 300.0);
        }
        rate_acc += rate;
        rate_n += 1.0;
        // Scrapes due at or before this step.
        while next_scrape < scrapes.len() && scrapes[next_scrape] <= t {
            let ts = scrapes[next_scrape];
            next_scrape += 1;
            if down || ts >= dur {
                continue;
            }
            let v = match plan.runtime {
                Runtime::Count { .. } => value.round().max(1.0),
                _ => value,
            };
            samples.push((ts, v));
        }
        if t >= next_rate_t {
            // A rate() over the last minute of requests, with counting noise.
            let m = rate_acc / rate_n.max(1.0);
            let noisy = (m + (m / 60.0).sqrt() * r.n()).max(0.0);
            if !down {
                traffic.push((t, noisy));
            }
            rate_acc = 0.0;
            rate_n = 0.0;
            next_rate_t += every;
        }
        t += DT;
    }
    scrapes.clear();
    let to_ms = |s: f64| ((tr.t0 + s) * 1000.0).round() as i64;
    let samples = strictly_increasing(samples.into_iter().map(|(s, v)| Sample {
        ts_ms: to_ms(s),
        value: v,
    }));
    let traffic = strictly_increasing(traffic.into_iter().map(|(s, v)| Sample {
        ts_ms: to_ms(s),
        value: v,
    }));
    let leaks = sit.leaks();
    let truth = Truth {
        leak_start_ms: leaks.then(|| to_ms(plan.leak_start)),
        growth_stop_ms: if leaks {
            plan.leak_stop.map(to_ms)
        } else {
            lru_full_at.filter(|_| plan.restarts.is_none()).map(to_ms)
        },
        limit_reached_ms: limit_reached.map(to_ms),
    };
    let share_per_hour = leaks.then(|| {
        let end = plan.leak_stop.unwrap_or(dur).min(dur);
        let hours = ((end - plan.leak_start) / H).max(1e-6);
        let floor = match plan.runtime {
            Runtime::Count { .. } => count_floor,
            _ => live_at_start.unwrap_or(plan.base),
        };
        leak_total / hours / floor
    });
    Series {
        kind: sit.kind(),
        limit,
        samples,
        traffic,
        truth,
        share_per_hour,
    }
}

impl Leak {
    fn is_leak(&self) -> bool {
        !matches!(self, Leak::None)
    }
}

/// Samples with timestamps strictly after the previous one (a collision at ms resolution is
/// dropped, as a scraper would keep one of two samples with the same timestamp).
fn strictly_increasing(it: impl Iterator<Item = Sample>) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    for s in it {
        if out.last().is_none_or(|p| s.ts_ms > p.ts_ms) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_finite_positive_and_consistent_truth() {
        for sit in Situation::ALL {
            for seed in 0..6 {
                let a = generate(sit, seed);
                let b = generate(sit, seed);
                assert_eq!(a.samples, b.samples, "{} {seed}", sit.name());
                assert_eq!(a.traffic, b.traffic, "{} {seed}", sit.name());
                assert!(a.samples.len() > 100, "{} {seed}", sit.name());
                for w in a.samples.windows(2) {
                    assert!(w[1].ts_ms > w[0].ts_ms);
                }
                for w in a.traffic.windows(2) {
                    assert!(w[1].ts_ms > w[0].ts_ms);
                }
                assert!(
                    a.samples
                        .iter()
                        .all(|s| s.value.is_finite() && s.value > 0.0)
                );
                assert!(
                    a.traffic
                        .iter()
                        .all(|s| s.value.is_finite() && s.value >= 0.0)
                );
                let (first, last) = (a.samples[0].ts_ms, a.samples[a.samples.len() - 1].ts_ms);
                assert_eq!(a.truth.leak_start_ms.is_some(), sit.leaks());
                assert_eq!(a.share_per_hour.is_some(), sit.leaks());
                if let Some(l) = a.truth.leak_start_ms {
                    assert!(l > first && l < last, "{} {seed}", sit.name());
                    assert!(a.share_per_hour.is_some_and(|s| s.is_finite() && s > 0.0));
                }
                if let Some(s) = a.truth.growth_stop_ms {
                    assert!(a.truth.leak_start_ms.is_none_or(|l| s > l));
                }
                if let Some(o) = a.truth.limit_reached_ms {
                    assert!(a.limit.is_some() && a.truth.leak_start_ms.is_some_and(|l| o > l));
                }
                assert!(a.limit.is_none_or(|l| l.is_finite() && l > 0.0));
            }
        }
    }
}

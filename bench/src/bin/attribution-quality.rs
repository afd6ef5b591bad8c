//! Attribution quality: does the report name the route that leaks, and how close is its
//! "bytes retained per request"? leaksense's NNLS model against the article's two rules ("new
//! endpoint", "traffic increased > 50%"), on simulated services, in the same run.
//!
//! `cargo run --release -p leaksense-bench --bin attribution-quality -- --seeds 0..20`
//!
//! Each series is a service of 4–10 routes over 14 h, seen as a runtime would see it: every
//! second each route serves a Poisson number of requests (its own rate, 0.2–20/s, a daily cycle
//! shared by all routes and per-route bursts redrawn every 5–30 min); every request allocates
//! 10 kB–1 MB of garbage and a leaking route also keeps `β` bytes (the leak adds 2–15% of the
//! 50 MB–2 GB base per hour); a GC runs when the garbage reaches a fraction of the
//! live heap (as GOGC or V8's growth factor do) and leaves some floating garbage. The heap is
//! sampled every 15 s into the real detector (production defaults: 5 min buckets, 30 min `for`)
//! and requests are counted per minute, as the tracker does. When the alert first fires, one
//! hour later and at the end, the real `LeakReport::build` runs on the detector's troughs and the
//! counts. The article's rules are computed inside that report from the same counts and the
//! same growth start (so they get leaksense's growth start, not their own inflection finder's).
//!
//! A route counts as named when it is among the report's suspects (for the article: among its
//! suspects). Per situation it prints the detector's catches, then for the report at first
//! firing and at the end: leaking routes named, healthy routes named (false accusations), the
//! median relative error of the named leaking routes' `β̂`, and how often their 95% interval
//! holds the true `β`.

use std::process::ExitCode;
use std::time::Instant;

use leaksense_core::Sample;
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, Verdict};
use leaksense_core::report::{LeakReport, SUSPECT_ALPHA_DIVISOR, SUSPECT_LOOKS, SuspectWatch};
use leaksense_core::requests::{AttributionConfig, RouteSnapshot, SlotCounts, TrackerSnapshot};

const T0_MS: i64 = 1_700_000_000_000;
const HOURS: i64 = 14;
const SAMPLE_SECS: i64 = 15;
const SLOT_MS: i64 = 60_000;
/// The tracker's default ring: 12 h of one-minute slots.
const RING_SLOTS: usize = 720;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Situation {
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
}

impl Situation {
    const ALL: [Situation; 6] = [
        Situation::OneRoute,
        Situation::LowTrafficLeak,
        Situation::NewRoute,
        Situation::TwoRoutes,
        Situation::Background,
        Situation::RegularTraffic,
    ];

    fn name(self) -> &'static str {
        match self {
            Situation::OneRoute => "one_route",
            Situation::LowTrafficLeak => "low_traffic_leak",
            Situation::NewRoute => "new_route",
            Situation::TwoRoutes => "two_routes",
            Situation::Background => "background",
            Situation::RegularTraffic => "regular_traffic",
        }
    }
}

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn unit(&mut self) -> f64 {
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
}

struct Route {
    name: String,
    /// Mean requests per second before any daily cycle or burst.
    rate: f64,
    /// Bytes kept per request once the leak has begun (0: healthy).
    retain: f64,
    /// Bytes of garbage per request.
    garbage: f64,
    /// Rate multiplier from the leak's start on (the article's "+50%" trap).
    rate_after: f64,
    /// Served only from the leak's start on.
    new_at_leak: bool,
}

/// A generated service and what happened to its heap and its traffic.
struct Service {
    routes: Vec<Route>,
    leak_start_ms: i64,
    heap: Vec<Sample>,
    /// Requests per route per minute.
    slots: Vec<Vec<u64>>,
    first_seen_ms: Vec<Option<i64>>,
}

/// What the detector is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Observe {
    /// The heap every 15 s, sawtooth and all (RSS, or a runtime without a GC hook).
    Sampled,
    /// The heap left after each GC, as the bindings feed it (Go's `/gc/heap/live:bytes`, V8
    /// after a major GC, CPython's `gc.callbacks`): live data plus floating garbage.
    AfterGc,
}

fn generate(sit: Situation, seed: u64, observe: Observe) -> Service {
    let mut rng = Rng::new(seed.wrapping_add(sit as u64 * 1_000_003));
    let n = 4 + (rng.unit() * 7.0) as usize;
    let mut routes: Vec<Route> = (0..n)
        .map(|i| Route {
            name: format!("/r{i}/{{id}}"),
            rate: rng.log_range(0.2, 20.0),
            retain: 0.0,
            garbage: rng.log_range(10e3, 1e6),
            rate_after: 1.0,
            new_at_leak: false,
        })
        .collect();
    let base = rng.log_range(50e6, 2e9);
    // Leak growth as a share of the base per hour; bytes per request follow from the rate.
    let growth_per_hour = rng.log_range(0.02, 0.15) * base;
    let leak_start_ms = T0_MS + (rng.range(3.0, 6.0) * 3600e3) as i64;
    let mut background_per_sec = 0.0;
    let by_rate = |routes: &[Route]| {
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by(|&a, &b| routes[a].rate.total_cmp(&routes[b].rate));
        order
    };
    match sit {
        Situation::OneRoute | Situation::RegularTraffic => {
            let l = (rng.unit() * n as f64) as usize % n;
            routes[l].retain = growth_per_hour / 3600.0 / routes[l].rate;
        }
        Situation::LowTrafficLeak => {
            let order = by_rate(&routes);
            let (quiet, busy) = (order[0], order[n - 1]);
            routes[quiet].retain = growth_per_hour / 3600.0 / routes[quiet].rate;
            routes[busy].rate_after = 1.6;
        }
        Situation::NewRoute => {
            let l = (rng.unit() * n as f64) as usize % n;
            routes[l].retain = growth_per_hour / 3600.0 / routes[l].rate;
            routes[l].new_at_leak = true;
        }
        Situation::TwoRoutes => {
            let a = (rng.unit() * n as f64) as usize % n;
            let b = (a + 1 + (rng.unit() * (n - 1) as f64) as usize % (n - 1)) % n;
            let split = rng.range(0.3, 0.7);
            routes[a].retain = split * growth_per_hour / 3600.0 / routes[a].rate;
            routes[b].retain = (1.0 - split) * growth_per_hour / 3600.0 / routes[b].rate;
        }
        Situation::Background => background_per_sec = growth_per_hour / 3600.0,
    }
    let bursty = sit != Situation::RegularTraffic;
    let burst_secs = rng.range(300.0, 1800.0) as i64;
    let day_phase = rng.range(0.0, 86_400.0);
    let gc_ratio = rng.range(0.1, 1.0);
    let floating = rng.range(0.0, 0.05);

    let secs = HOURS * 3600;
    let mut burst = vec![1.0; n];
    let mut retained = 0.0;
    let mut garbage = 0.0;
    let mut heap = Vec::with_capacity((secs / SAMPLE_SECS) as usize + 1);
    let mut slots = vec![vec![0u64; n]; (secs * 1000 / SLOT_MS) as usize];
    let mut first_seen_ms = vec![None; n];
    for s in 0..secs {
        let ts = T0_MS + s * 1000;
        let leaking = ts >= leak_start_ms;
        if bursty && s % burst_secs == 0 {
            for b in burst.iter_mut() {
                *b = rng.range(0.3, 1.7);
            }
        }
        let day = 1.0 + 0.5 * (std::f64::consts::TAU * (s as f64 + day_phase) / 86_400.0).sin();
        for (i, r) in routes.iter().enumerate() {
            if r.new_at_leak && !leaking {
                continue;
            }
            let after = if leaking { r.rate_after } else { 1.0 };
            let k = rng.poisson(r.rate * day * burst[i] * after);
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
        let live = base + retained;
        // Allocator and fragmentation noise on top of live data and garbage.
        let noise = 0.002 * base * rng.normal();
        if garbage > gc_ratio * live {
            garbage = floating * gc_ratio * live * rng.unit();
            if observe == Observe::AfterGc {
                heap.push(Sample {
                    ts_ms: ts,
                    value: (live + garbage + noise).max(1.0),
                });
            }
        }
        if observe == Observe::Sampled && s % SAMPLE_SECS == 0 {
            heap.push(Sample {
                ts_ms: ts,
                value: (live + garbage + noise).max(1.0),
            });
        }
    }
    Service {
        routes,
        leak_start_ms,
        heap,
        slots,
        first_seen_ms,
    }
}

/// What the tracker would hold at `at_ms`: totals so far and the newest `RING_SLOTS` slots.
fn snapshot(svc: &Service, at_ms: i64) -> TrackerSnapshot {
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

/// One report, scored.
#[derive(Debug, Default, Clone)]
struct Score {
    /// Leaking routes named, of leaking routes.
    named: usize,
    leaking: usize,
    /// Healthy routes named.
    accused: usize,
    /// The top suspect is a leaking route.
    top_right: bool,
    /// |β̂ - β| / β of each named leaking route, and whether its interval held β.
    rel_errs: Vec<f64>,
    covered: usize,
}

/// A route a report names, with the model's estimate and interval when it has one.
type Named = (String, Option<(f64, [f64; 2])>);

fn score(svc: &Service, named: &[Named]) -> Score {
    let mut sc = Score {
        leaking: svc.routes.iter().filter(|r| r.retain > 0.0).count(),
        ..Score::default()
    };
    for (i, (route, estimate)) in named.iter().enumerate() {
        let Some(r) = svc.routes.iter().find(|r| &r.name == route) else {
            // `_other` pools routes the model did not give their own column: not a route.
            continue;
        };
        if r.retain > 0.0 {
            sc.named += 1;
            sc.top_right |= i == 0;
            if let Some((beta, [lo, hi])) = estimate {
                sc.rel_errs.push((beta - r.retain).abs() / r.retain);
                sc.covered += usize::from(*lo <= r.retain && r.retain <= *hi);
            }
        } else {
            sc.accused += 1;
        }
    }
    sc
}

/// The report at one moment, built from `cfg` (and timed).
fn build(
    svc: &Service,
    detector: &Detector,
    at_ms: i64,
    cfg: &AttributionConfig,
    out: &mut Outcome,
) -> LeakReport {
    let (analysis, troughs, snap) = (
        detector.analysis(),
        detector.troughs(),
        snapshot(svc, at_ms),
    );
    let began = Instant::now();
    let report =
        LeakReport::build(analysis, &troughs, &snap, cfg).expect("generated inputs are valid");
    out.build_secs.push(began.elapsed().as_secs_f64());
    report
}

/// Scores of leaksense and the article at one moment, with the default options.
fn judge(svc: &Service, detector: &Detector, at_ms: i64, out: &mut Outcome) -> (Score, Score) {
    let report = build(svc, detector, at_ms, &AttributionConfig::default(), out);
    scores(svc, &report)
}

/// Scores of leaksense's suspects and the article's in one report.
fn scores(svc: &Service, report: &LeakReport) -> (Score, Score) {
    let ours: Vec<_> = report
        .suspects
        .iter()
        .map(|s| {
            (
                s.route.clone(),
                Some((s.retained_bytes_per_request, s.interval)),
            )
        })
        .collect();
    let article: Vec<_> = report
        .article_suspects
        .iter()
        .map(|s| (s.route.clone(), None))
        .collect();
    (score(svc, &ours), score(svc, &article))
}

/// What happened on one series: the reports at first firing, an hour later and at the end.
#[derive(Default)]
struct Outcome {
    fired: bool,
    at: [Option<(Score, Score)>; 3],
    /// What `Monitor`'s `suspects` event would deliver (the looks of `SuspectWatch` while the
    /// alert fires), with the minutes since the alert first fired.
    announced: Option<(f64, Score)>,
    /// Wall time of each `LeakReport::build`.
    build_secs: Vec<f64>,
}

fn run(svc: &Service) -> Outcome {
    let mut d = Detector::new(DetectorConfig::default()).expect("defaults are valid");
    let mut out = Outcome::default();
    let mut fired_at = None;
    // As `Monitor::check_suspects`: from each firing on, a look per bucket until one names.
    let look_ms = (DetectorConfig::default().bucket_secs * 1000.0) as i64;
    let mut watch: Option<SuspectWatch> = None;
    let look_cfg = SuspectWatch::config(&AttributionConfig::default());
    for s in &svc.heap {
        let event = d.update(*s).expect("generated samples are valid");
        if fired_at.is_none() && d.state() == AlertState::Firing && s.ts_ms >= svc.leak_start_ms {
            fired_at = Some(s.ts_ms);
            out.fired = true;
            out.at[0] = Some(judge(svc, &d, s.ts_ms, &mut out));
        }
        if let Some(e) = event {
            watch = (e.to == AlertState::Firing && fired_at.is_some() && out.announced.is_none())
                .then(|| SuspectWatch::new(e.ts_ms, look_ms));
        }
        if let (Some(w), Some(first)) = (&mut watch, fired_at)
            && w.is_due(s.ts_ms)
        {
            let report = build(svc, &d, s.ts_ms, &look_cfg, &mut out);
            if w.look(s.ts_ms, &report) {
                out.announced = Some(((s.ts_ms - first) as f64 / 60_000.0, scores(svc, &report).0));
                watch = None;
            }
        }
        if out.at[1].is_none() && fired_at.is_some_and(|f| s.ts_ms >= f + 3600 * 1000) {
            out.at[1] = Some(judge(svc, &d, s.ts_ms, &mut out));
        }
    }
    let end = svc.heap.last().map_or(T0_MS, |s| s.ts_ms);
    if out.fired && d.analysis().verdict == Verdict::Leak {
        out.at[2] = Some(judge(svc, &d, end, &mut out));
    }
    out
}

#[derive(Default)]
struct Tally {
    reports: usize,
    all_named: usize,
    top_right: usize,
    any_accused: usize,
    rel_errs: Vec<f64>,
    estimates: usize,
    covered: usize,
}

impl Tally {
    fn add(&mut self, s: &Score) {
        self.reports += 1;
        self.all_named += usize::from(s.named == s.leaking && s.leaking > 0);
        self.top_right += usize::from(s.top_right);
        self.any_accused += usize::from(s.accused > 0);
        self.estimates += s.rel_errs.len();
        self.covered += s.covered;
        self.rel_errs.extend(&s.rel_errs);
    }
}

fn frac(k: usize, n: usize) -> String {
    if n == 0 {
        "–".into()
    } else {
        format!("{k}/{n}")
    }
}

fn median_pct(v: &[f64]) -> String {
    if v.is_empty() {
        return "n/a".into();
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    format!("{:.0}%", 100.0 * v[v.len() / 2])
}

/// Series, alerts and the two tallies of one table row.
#[derive(Default)]
struct Group {
    series: usize,
    fired: usize,
    ours: Tally,
    article: Tally,
}

impl Group {
    /// Adds one series and its report at moment `m`, when there was one.
    fn add(&mut self, run: &Outcome, m: usize) {
        self.series += 1;
        self.fired += usize::from(run.fired);
        if let Some((ours, article)) = &run.at[m] {
            self.ours.add(ours);
            self.article.add(article);
        }
    }
}

fn row(name: &str, g: &Group, leaks: bool) {
    let (ours, art) = (&g.ours, &g.article);
    let leak_cell = |k: usize, n: usize| if leaks { frac(k, n) } else { "–".into() };
    println!(
        "| {name} | {} | {} | {} / {} | {} / {} | {} / {} | {} | {} |",
        g.series,
        frac(g.fired, g.series),
        leak_cell(ours.all_named, ours.reports),
        leak_cell(art.all_named, art.reports),
        leak_cell(ours.top_right, ours.reports),
        leak_cell(art.top_right, art.reports),
        frac(ours.any_accused, ours.reports),
        frac(art.any_accused, art.reports),
        median_pct(&ours.rel_errs),
        frac(ours.covered, ours.estimates),
    );
}

fn parse_seeds(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once("..")?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a < b).then_some((a, b))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seeds = match (
        args.next().as_deref(),
        args.next().as_deref().map(parse_seeds),
    ) {
        (None, _) => (0, 20),
        (Some("--seeds"), Some(Some(r))) if args.next().is_none() => r,
        _ => {
            eprintln!("usage: attribution-quality [--seeds A..B]");
            return ExitCode::from(2);
        }
    };
    println!(
        "seeds {}..{} ({} per situation), {HOURS} h services at {SAMPLE_SECS} s; cells are leaksense / article",
        seeds.0,
        seeds.1,
        seeds.1 - seeds.0
    );
    let moments = ["at first firing", "1 h after firing", "at the end (14 h)"];
    let header = "| situation | series | alert fired | every leaking route named | top suspect leaks | a healthy route named | median β error | 95% interval holds β |\n|---|---|---|---|---|---|---|---|";
    // Every seed runs twice: the heap sampled every 15 s, and the heap left after each GC.
    let modes = [Observe::Sampled, Observe::AfterGc];
    let outcomes: Vec<(Situation, Vec<(Observe, Outcome)>)> = Situation::ALL
        .iter()
        .map(|&sit| {
            let runs = (seeds.0..seeds.1)
                .flat_map(|seed| modes.map(|m| (m, run(&generate(sit, seed, m)))))
                .collect();
            (sit, runs)
        })
        .collect();
    for (m, moment) in moments.iter().enumerate() {
        println!("\nReport {moment}:\n\n{header}");
        // One group per observation mode, then both.
        let mut summary: Vec<Group> = (0..=modes.len()).map(|_| Group::default()).collect();
        for (sit, runs) in &outcomes {
            let leaks = *sit != Situation::Background;
            let mut group = Group::default();
            for (mode, run) in runs {
                group.add(run, m);
                if leaks {
                    let i = modes.iter().position(|x| x == mode).expect("a listed mode");
                    summary[i].add(run, m);
                    summary[modes.len()].add(run, m);
                }
            }
            row(sit.name(), &group, leaks);
        }
        let labels = [
            "**route leaks, heap sampled every 15 s**",
            "**route leaks, heap after each GC**",
            "**route leaks, all**",
        ];
        for (label, group) in labels.iter().zip(&summary) {
            row(label, group, true);
        }
    }
    println!(
        "\nFollow-up: what the monitor's `suspects` event announces while the alert fires (a look \
         every 5 min from the firing on, intervals {}x stricter in alpha, the same top suspect \
         in {} consecutive looks):\n\n\
         | series | alert fired | a suspect named | top suspect leaks | a healthy route named | \
         median minutes after the first firing |\n|---|---|---|---|---|---|",
        SUSPECT_ALPHA_DIVISOR, SUSPECT_LOOKS
    );
    let follow_up = |label: &str, pick: &dyn Fn(Situation, Observe) -> bool| {
        let runs: Vec<&Outcome> = outcomes
            .iter()
            .flat_map(|(sit, runs)| {
                runs.iter()
                    .filter(|(mode, _)| pick(*sit, *mode))
                    .map(|(_, r)| r)
            })
            .collect();
        let fired = runs.iter().filter(|r| r.fired).count();
        let announced: Vec<&(f64, Score)> =
            runs.iter().filter_map(|r| r.announced.as_ref()).collect();
        let mut minutes: Vec<f64> = announced.iter().map(|(m, _)| *m).collect();
        minutes.sort_by(f64::total_cmp);
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            frac(fired, runs.len()),
            frac(announced.len(), fired),
            frac(
                announced.iter().filter(|(_, s)| s.top_right).count(),
                announced.len()
            ),
            frac(
                announced.iter().filter(|(_, s)| s.accused > 0).count(),
                announced.len()
            ),
            minutes
                .get(minutes.len() / 2)
                .map_or("n/a".into(), |m| format!("{m:.0}")),
        );
    };
    let route_leak = |sit: Situation| sit != Situation::Background;
    follow_up("route leaks, heap sampled every 15 s", &|sit, m| {
        route_leak(sit) && m == Observe::Sampled
    });
    follow_up("route leaks, heap after each GC", &|sit, m| {
        route_leak(sit) && m == Observe::AfterGc
    });
    follow_up("route leaks, all", &|sit, _| route_leak(sit));
    follow_up("background (no route leaks)", &|sit, _| !route_leak(sit));
    let mut build: Vec<f64> = outcomes
        .iter()
        .flat_map(|(_, runs)| runs.iter().flat_map(|(_, r)| r.build_secs.iter().copied()))
        .collect();
    build.sort_by(f64::total_cmp);
    if let (Some(max), false) = (build.last(), build.is_empty()) {
        println!(
            "\nLeakReport::build: median {:.2} ms, max {:.2} ms over {} reports",
            1e3 * build[build.len() / 2],
            1e3 * max,
            build.len()
        );
    }
    ExitCode::SUCCESS
}

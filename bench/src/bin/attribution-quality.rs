//! Attribution quality: does the report name the route that leaks, and how close is its
//! "bytes retained per request"? leaksense's NNLS model against the article's two rules ("new
//! endpoint", "traffic increased > 50%"), on simulated services, in the same run.
//!
//! `cargo run --release -p leaksense-bench --bin attribution-quality -- --seeds 0..20`
//!
//! The services are those of `leaksense_bench::attribution_sim` (its module documentation
//! says how they are made): heap leaks on one or two routes, beside garbage-heavy healthy
//! routes, from a timer, and count leaks (goroutines, descriptors). The heap is sampled every
//! 15 s, or read after each GC, into the real detector (production defaults: 5 min buckets,
//! 30 min `for`; a count goes to the count detector), and requests are counted per minute, as
//! the tracker does. When the alert first fires, one hour later and at the end, the real
//! `LeakReport::build` runs on the detector's troughs and the counts. The article's rules are
//! computed inside that report from the same counts and the same growth start (so they get
//! leaksense's growth start, not their own inflection finder's).
//!
//! A route counts as named when it is among the report's suspects (for the article: among its
//! suspects). Per situation it prints the detector's catches, then for the report at first
//! firing and at the end: leaking routes named, healthy routes named (false accusations), the
//! median relative error of the named leaking routes' `β̂`, and how often their 95% interval
//! holds the true `β`.

use std::process::ExitCode;
use std::time::Instant;

use leaksense_bench::attribution_sim::{
    HOURS, Observe, SAMPLE_SECS, Service, Situation, T0_MS, generate, snapshot,
};
use leaksense_bench::parse_seeds;
use leaksense_core::detect::{AlertState, Detector, DetectorConfig, SeriesKind, Verdict};
use leaksense_core::report::{LeakReport, SUSPECT_ALPHA_DIVISOR, SUSPECT_LOOKS, SuspectWatch};
use leaksense_core::requests::AttributionConfig;

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
    /// A healthy garbage-heavy (or long-request) route named.
    heavy_accused: bool,
    /// |β̂ - β| / β of each named leaking route, and whether its interval held β.
    rel_errs: Vec<f64>,
    /// β̂ / β - 1 of each named leaking route.
    signed_errs: Vec<f64>,
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
                sc.signed_errs.push(beta / r.retain - 1.0);
                sc.covered += usize::from(*lo <= r.retain && r.retain <= *hi);
            }
        } else {
            sc.accused += 1;
            sc.heavy_accused |= r.heavy;
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

fn run(svc: &Service, kind: SeriesKind) -> Outcome {
    let mut d = Detector::new(DetectorConfig::for_kind(kind)).expect("defaults are valid");
    let mut out = Outcome::default();
    let mut fired_at = None;
    // As `Monitor::check_suspects`: from each firing on, a look per bucket until one names.
    let look_ms = (DetectorConfig::default().bucket_secs * 1000.0) as i64;
    let mut watch: Option<SuspectWatch> = None;
    let look_cfg = SuspectWatch::config(&AttributionConfig::default());
    for s in &svc.series {
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
    let end = svc.series.last().map_or(T0_MS, |s| s.ts_ms);
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
    // Every heap seed runs twice: the heap sampled every 15 s, and the heap left after each
    // GC; a count is only sampled.
    let outcomes: Vec<(Situation, Vec<(Observe, Outcome)>)> = Situation::ALL
        .iter()
        .map(|&sit| {
            let kind = if sit.is_count() {
                SeriesKind::Count
            } else {
                SeriesKind::Heap
            };
            let runs = (seeds.0..seeds.1)
                .flat_map(|seed| {
                    sit.modes()
                        .iter()
                        .map(move |&m| (m, run(&generate(sit, seed, m), kind)))
                })
                .collect();
            (sit, runs)
        })
        .collect();
    // The summary rows: which runs each one pools.
    type Pick = dyn Fn(Situation, Observe) -> bool;
    fn heap_leak(sit: Situation) -> bool {
        sit.route_leaks() && !sit.is_count()
    }
    let summaries: [(&str, &Pick); 5] = [
        ("route leaks, heap sampled every 15 s", &|sit, m| {
            heap_leak(sit) && m == Observe::Sampled
        }),
        ("route leaks, heap after each GC", &|sit, m| {
            heap_leak(sit) && m == Observe::AfterGc
        }),
        ("route leaks, heap, all", &|sit, _| heap_leak(sit)),
        ("route leaks, count", &|sit, _| {
            sit.route_leaks() && sit.is_count()
        }),
        ("route leaks, all", &|sit, _| sit.route_leaks()),
    ];
    let pooled = |pick: &Pick| -> Vec<&Outcome> {
        outcomes
            .iter()
            .flat_map(|(sit, runs)| {
                runs.iter()
                    .filter(|(mode, _)| pick(*sit, *mode))
                    .map(|(_, r)| r)
            })
            .collect()
    };
    for (m, moment) in moments.iter().enumerate() {
        println!("\nReport {moment}:\n\n{header}");
        for (sit, runs) in &outcomes {
            let mut group = Group::default();
            for (_, run) in runs {
                group.add(run, m);
            }
            row(sit.name(), &group, sit.route_leaks());
        }
        for (label, pick) in &summaries {
            let mut group = Group::default();
            for run in pooled(pick) {
                group.add(run, m);
            }
            row(&format!("**{label}**"), &group, true);
        }
    }
    println!(
        "\nFollow-up: what the monitor's `suspects` event announces while the alert fires (a look \
         every 5 min from the firing on, intervals {}x stricter in alpha, the same top suspect \
         in {} consecutive looks):\n\n\
         | series | alert fired | a suspect named | top suspect leaks | a healthy route named | \
         a garbage-heavy route named | median β̂/β - 1 | median minutes after the first firing \
         |\n|---|---|---|---|---|---|---|---|",
        SUSPECT_ALPHA_DIVISOR, SUSPECT_LOOKS
    );
    let follow_up = |label: &str, pick: &Pick| {
        let runs = pooled(pick);
        let fired = runs.iter().filter(|r| r.fired).count();
        let announced: Vec<&(f64, Score)> =
            runs.iter().filter_map(|r| r.announced.as_ref()).collect();
        let mut minutes: Vec<f64> = announced.iter().map(|(m, _)| *m).collect();
        minutes.sort_by(f64::total_cmp);
        let mut signed: Vec<f64> = announced
            .iter()
            .flat_map(|(_, s)| s.signed_errs.iter().copied())
            .collect();
        signed.sort_by(f64::total_cmp);
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} |",
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
            frac(
                announced.iter().filter(|(_, s)| s.heavy_accused).count(),
                runs.len()
            ),
            signed
                .get(signed.len() / 2)
                .map_or("n/a".into(), |e| format!("{:+.0}%", 100.0 * e)),
            minutes
                .get(minutes.len() / 2)
                .map_or("n/a".into(), |m| format!("{m:.0}")),
        );
    };
    for sit in Situation::ALL {
        follow_up(sit.name(), &move |s, _| s == sit);
    }
    for (label, pick) in &summaries {
        follow_up(&format!("**{label}**"), pick);
    }
    follow_up("garbage-heavy healthy routes (heap)", &|sit, _| {
        matches!(sit, Situation::GarbageRoute | Situation::TwoGarbageRoutes)
    });
    follow_up("background, heap (no route leaks)", &|sit, _| {
        sit == Situation::Background
    });
    follow_up("background, count (no route leaks)", &|sit, _| {
        sit == Situation::CountBackground
    });
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

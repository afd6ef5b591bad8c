//! Where the delay of leaks of at least 5 %/h goes, on training seeds:
//! `cargo run --release -p leaksense-bench --example lag_tally -- 0..50 100..140` (quality
//! seeds, then unseen seeds; `SET=field=value,...` overrides options). For each such leak, with
//! traffic and on the series alone: the first pending and the first firing after the leak
//! start, and the floor's window when the pending began (the newest floor point is the minimum
//! over that window, so a rising floor shows there what it was a window ago: the floor's lag).
//! Prints one CSV row per leak (`ROWS=1`) and a summary per column: medians of the delay, of
//! the wait before the first pending less the window (the judgement's bars), of the window,
//! of the hold (pending to firing), and of the traffic column's extra delay over the series
//! alone on leaks both columns catch (the load veto and the traffic-only warm-up test).
//! `ONLY=sparse_leak,minute_leak` restricts it to those situations or shapes, and `MIN_SHARE`
//! (0.05) sets the slowest leak tallied.

use leaksense_bench::unseen::{self, Shape};
use leaksense_bench::{config, fed_rates, feed_traffic, overrides_from_env, par_map, parse_seeds};
use leaksense_core::Sample;
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector, DetectorConfig};

struct Leak {
    name: &'static str,
    seed: u64,
    share: f64,
    cfg: DetectorConfig,
    samples: Vec<Sample>,
    traffic: Vec<Sample>,
    start_ms: i64,
}

/// First pending and first firing after the leak start (min), and the floor's window when the
/// first pending began (min).
#[derive(Clone, Copy)]
struct Run {
    pending: Option<f64>,
    firing: Option<f64>,
    window: Option<f64>,
    /// Minutes between the leak start and the first pending, per reason the analysis gave at
    /// each bucket close (`not_a_leak_because`; "no rise" when no significant rise was found).
    held: [f64; REASONS],
}

const REASONS: usize = 10;
const REASON_NAMES: [&str; REASONS] = [
    "no rise",
    "too_short",
    "levelled_off",
    "warm_up",
    "too_small",
    "noise",
    "explained_by_load",
    "daily_cycle",
    "no_collection_yet",
    "not_judged_yet",
];

fn reason_index(a: &leaksense_core::detect::Analysis) -> usize {
    use leaksense_core::detect::NoLeakReason as R;
    match a.not_a_leak_because {
        None => 0,
        Some(R::TooShort) => 1,
        Some(R::LevelledOff) => 2,
        Some(R::WarmUp) => 3,
        Some(R::TooSmall) => 4,
        Some(R::Noise) => 5,
        Some(R::ExplainedByLoad) => 6,
        Some(R::DailyCycle) => 7,
        Some(R::NoCollectionYet) => 8,
        Some(R::NotJudgedYet) => 9,
    }
}

fn run(l: &Leak, traffic: bool) -> Run {
    let mut d = Detector::new(l.cfg.clone()).expect("valid config");
    let mut rates = fed_rates(&l.traffic, traffic);
    let mut r = Run {
        pending: None,
        firing: None,
        window: None,
        held: [0.0; REASONS],
    };
    let t0 = l.samples[0].ts_ms;
    let mut bucket = 0;
    let mins = |t: i64| (t - l.start_ms) as f64 / 60_000.0;
    let bucket_ms = (l.cfg.bucket_secs * 1000.0) as i64;
    for s in &l.samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        d.update(*s).expect("valid samples");
        let closed = (s.ts_ms - t0) / bucket_ms != bucket;
        bucket = (s.ts_ms - t0) / bucket_ms;
        if s.ts_ms < l.start_ms {
            continue;
        }
        if closed && r.pending.is_none() && d.state() == AlertState::Inactive {
            r.held[reason_index(&d.analysis())] += l.cfg.bucket_secs / 60.0;
        }
        match d.state() {
            AlertState::Pending if r.pending.is_none() => {
                r.pending = Some(mins(s.ts_ms));
                // The newest floor point sits at the middle of its window, which ends at the
                // bucket the evaluation closed.
                if let Some(p) = d.floor().last() {
                    let end = s.ts_ms - (s.ts_ms - t0) % bucket_ms;
                    r.window = Some(2.0 * (end - p.ts_ms) as f64 / 60_000.0);
                }
            }
            AlertState::Firing => {
                r.firing.get_or_insert(mins(s.ts_ms));
                if r.pending.is_none() {
                    // Fired at once (no hold) or an alert still firing at the start.
                    r.pending = r.firing;
                }
                break;
            }
            _ => {}
        }
    }
    r
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: lag_tally QUALITY_SEEDS UNSEEN_SEEDS (A..B each)";
    let q = args.first().and_then(|s| parse_seeds(s)).expect(usage);
    let u = args.get(1).and_then(|s| parse_seeds(s)).expect(usage);
    let overrides = overrides_from_env();
    let only: Option<Vec<String>> = std::env::var("ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name));
    let min_share: f64 = std::env::var("MIN_SHARE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.05);
    let mut leaks = Vec::new();
    for sit in Situation::ALL
        .iter()
        .filter(|s| s.leaks() && wanted(s.name()))
    {
        for seed in q.0..q.1 {
            let sc = generate(*sit, seed, 15);
            let (Some(share), Some(start_ms)) = (sc.leak_share_per_hour, sc.leak_start_ms) else {
                continue;
            };
            if share < min_share {
                continue;
            }
            leaks.push(Leak {
                name: sit.name(),
                seed,
                share,
                cfg: config(&sc, &overrides),
                samples: sc.samples,
                traffic: sc.traffic,
                start_ms,
            });
        }
    }
    let quality = leaks.len();
    for shape in Shape::ALL.iter().filter(|s| s.leaks() && wanted(s.name())) {
        for seed in u.0..u.1 {
            let s = unseen::generate(*shape, seed);
            let (Some(share), Some(start_ms)) = (s.share_per_hour, s.truth.leak_start_ms) else {
                continue;
            };
            if share < min_share {
                continue;
            }
            let cfg = leaksense_bench::unseen_config(&s, &overrides);
            leaks.push(Leak {
                name: shape.name(),
                seed,
                share,
                cfg,
                samples: s.samples,
                traffic: s.traffic,
                start_ms,
            });
        }
    }
    let runs: Vec<(Run, Run)> = par_map(&leaks, |l| (run(l, true), run(l, false)));
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.0}"));
    if std::env::var_os("ROWS").is_some() {
        println!("bench,situation,seed,share,col,pending,firing,window,no_rise");
        for (i, (l, (t, a))) in leaks.iter().zip(&runs).enumerate() {
            let bench = if i < quality { "quality" } else { "unseen" };
            for (col, r) in [("traffic", t), ("alone", a)] {
                println!(
                    "{bench},{},{},{:.3},{col},{},{},{},{:.0}",
                    l.name,
                    l.seed,
                    l.share,
                    f(r.pending),
                    f(r.firing),
                    f(r.window),
                    r.held[0]
                );
            }
        }
    }
    for (bench, range) in [("quality", 0..quality), ("unseen", quality..leaks.len())] {
        let rs = &runs[range];
        for (col, pick) in [("traffic", 0usize), ("alone", 1)] {
            let get = |p: &(Run, Run)| if pick == 0 { p.0 } else { p.1 };
            let caught: Vec<Run> = rs.iter().map(get).filter(|r| r.firing.is_some()).collect();
            // Misses count as infinitely late for the delay's median, as the benches do.
            let delays: Vec<f64> = rs
                .iter()
                .map(|p| get(p).firing.unwrap_or(f64::INFINITY))
                .collect();
            let window = |r: &Run| r.window.unwrap_or(0.0);
            let bars: Vec<f64> = caught
                .iter()
                .map(|r| r.pending.unwrap_or(0.0) - window(r))
                .collect();
            let holds: Vec<f64> = caught
                .iter()
                .map(|r| r.firing.unwrap_or(0.0) - r.pending.unwrap_or(0.0))
                .collect();
            let windows: Vec<f64> = caught.iter().map(window).collect();
            let wide = windows.iter().filter(|&&w| w > 10.0).count();
            println!(
                "{bench} {col}: {} leaks >= 5 %/h, caught {}; median delay {:.0} min; median \
                 first pending {:.0}, of which floor window {:.0} (over 10 min in {wide}) and \
                 the rest {:.0}; median hold {:.0}",
                rs.len(),
                caught.len(),
                median(delays),
                median(caught.iter().map(|r| r.pending.unwrap_or(0.0)).collect()),
                median(windows.clone()),
                median(bars),
                median(holds)
            );
        }
        for (col, pick) in [("traffic", 0usize), ("alone", 1)] {
            let mut sums = [0.0; REASONS];
            let mut n = 0.0;
            for p in rs {
                let r = if pick == 0 { p.0 } else { p.1 };
                if r.firing.is_some() {
                    n += 1.0;
                    for (s, h) in sums.iter_mut().zip(r.held) {
                        *s += h;
                    }
                }
            }
            let parts: Vec<String> = REASON_NAMES
                .iter()
                .zip(sums)
                .filter(|(_, s)| *s > 0.0)
                .map(|(name, s)| format!("{name} {:.1}", s / n))
                .collect();
            println!(
                "{bench} {col}: mean minutes per leak before the first pending, by reason (caught leaks): {}",
                parts.join(", ")
            );
        }
        let extra: Vec<f64> = rs
            .iter()
            .filter_map(|(t, a)| Some(t.firing? - a.firing?))
            .collect();
        let later = extra.iter().filter(|&&x| x > 0.0).count();
        println!(
            "{bench}: traffic over alone on {} leaks both catch: median {:.0} min, later in {later}, \
             sum of the later {:.0} min",
            extra.len(),
            median(extra.clone()),
            extra.iter().filter(|&&x| x > 0.0).sum::<f64>()
        );
    }
}

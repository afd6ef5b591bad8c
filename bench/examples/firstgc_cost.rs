//! What waiting for a first collection (`first_collection_secs`) costs a heap series that
//! never falls like a collection: the heap leak situations of the quality bench, cut to begin
//! 0–1 h before their leak (so the leak begins at the start, when the wait is armed), fed
//!
//! - `raw`: as generated (its collections still fall);
//! - `post_gc`: the lowest sample of the last 30 min at every sample, as a series of post-GC
//!   values (Go's live heap, Python's RSS after a full collection, `observe_baseline`) shows
//!   the floor: it never falls by a collection's share;
//! - `monotone`: the highest sample so far, an RSS that the allocator never returns;
//! - `restart`: `post_gc` with 3 h more before the cut, 1.6 times higher, so the series
//!   restarts (falls by 37 %) at the cut and the leak begins 0–1 h after a restart.
//!
//! and the healthy heap situations from their start, transformed the same way (`post_gc`,
//! `monotone`), for the false alarms a bypass of the wait may add.
//!
//! `cargo run --release -p leaksense-bench --example firstgc_cost -- 0..50 LABEL=field=v,field=v ...`
//! Each LABEL is a configuration (overrides of the defaults); `base` (no overrides) is always
//! first. Cells are with traffic / alone: leaks caught, their median delay, leaks that reach
//! their limit alerted with at least half the time to it left, healthy series with a false
//! alarm.

use leaksense_bench::quality::{Outcome, Truth, leaksense, median_min};
use leaksense_bench::{config, par_map, parse_set};
use leaksense_core::detect::SeriesKind;
use leaksense_core::detect::scenarios::{Scenario, Situation, generate};
use leaksense_core::series::Sample;
use std::collections::VecDeque;

const HOUR_MS: i64 = 3_600_000;
const FLOOR_WINDOW_MS: i64 = 30 * 60_000;
const TRANSFORMS: [&str; 4] = ["raw", "post_gc", "monotone", "restart"];

type Overrides = Vec<(String, serde_json::Value)>;

/// The lowest value of the last 30 min at each sample.
fn post_gc(samples: &[Sample]) -> Vec<Sample> {
    let mut q: VecDeque<Sample> = VecDeque::new();
    samples
        .iter()
        .map(|s| {
            while q.back().is_some_and(|b| b.value >= s.value) {
                q.pop_back();
            }
            q.push_back(*s);
            while q
                .front()
                .is_some_and(|f| f.ts_ms <= s.ts_ms - FLOOR_WINDOW_MS)
            {
                q.pop_front();
            }
            Sample {
                ts_ms: s.ts_ms,
                value: q.front().map_or(s.value, |f| f.value),
            }
        })
        .collect()
}

/// The highest value so far at each sample.
fn monotone(samples: &[Sample]) -> Vec<Sample> {
    let mut top = f64::NEG_INFINITY;
    samples
        .iter()
        .map(|s| {
            top = top.max(s.value);
            Sample {
                ts_ms: s.ts_ms,
                value: top,
            }
        })
        .collect()
}

/// One series as fed: samples, traffic, truth.
struct Fed {
    samples: Vec<Sample>,
    traffic: Vec<Sample>,
    truth: Truth,
}

/// `sc` transformed; leaks cut to begin 0–1 h (by the seed) before the leak.
fn feed(sc: &Scenario, transform: &str) -> Fed {
    let truth = Truth::from(sc);
    let cut = match sc.leak_start_ms {
        Some(l) => {
            let lead = (sc.seed.wrapping_mul(0x9E37_79B9) % 61) as i64 * 60_000;
            let extra = if transform == "restart" {
                3 * HOUR_MS
            } else {
                0
            };
            l - lead - extra
        }
        None => i64::MIN,
    };
    // The post-GC series is taken over the whole series before the cut, so that it does not
    // begin with the sawtooth's value at the cut and fall to the floor over its first 30 min.
    let floor = post_gc(&sc.samples);
    let after =
        |v: &[Sample]| -> Vec<Sample> { v.iter().filter(|s| s.ts_ms >= cut).copied().collect() };
    let samples = match transform {
        "raw" => after(&sc.samples),
        "post_gc" => after(&floor),
        "monotone" => monotone(&after(&sc.samples)),
        "restart" => {
            let restart = cut + 3 * HOUR_MS;
            after(&floor)
                .into_iter()
                .map(|s| Sample {
                    ts_ms: s.ts_ms,
                    value: if s.ts_ms < restart {
                        1.6 * s.value
                    } else {
                        s.value
                    },
                })
                .collect()
        }
        _ => unreachable!(),
    };
    let traffic = sc
        .traffic
        .iter()
        .filter(|s| s.ts_ms >= cut)
        .copied()
        .collect();
    Fed {
        samples,
        traffic,
        truth,
    }
}

#[derive(Default)]
struct Cell {
    n: usize,
    caught: usize,
    delays: Vec<f64>,
    reach: usize,
    half: usize,
    alarms: usize,
}

impl Cell {
    fn add(&mut self, leaks: bool, o: &Outcome) {
        self.n += 1;
        if leaks {
            self.caught += usize::from(o.delay_secs.is_some());
            self.delays.extend(o.delay_secs);
            if let Some(h) = o.half_ttl {
                self.reach += 1;
                self.half += usize::from(h);
            }
        } else {
            self.alarms += usize::from(o.false_alarm);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (a, b) = args
        .first()
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect("usage: firstgc_cost A..B [LABEL=field=v,field=v]...");
    let mut configs: Vec<(String, Overrides)> = vec![("base".into(), Vec::new())];
    for arg in &args[1..] {
        let (label, sets) = arg.split_once('=').expect("LABEL=field=v,...");
        let o = sets
            .split(',')
            .map(|kv| parse_set(kv).expect("field=value, a DetectorConfig field"))
            .collect();
        configs.push((label.to_string(), o));
    }
    let heap = |s: &Situation| s.kind() == SeriesKind::Heap;
    let leaks: Vec<Situation> = Situation::ALL
        .into_iter()
        .filter(|s| heap(s) && s.leaks())
        .collect();
    let healthy: Vec<Situation> = Situation::ALL
        .into_iter()
        .filter(|s| heap(s) && !s.leaks())
        .collect();
    let jobs: Vec<(Situation, u64)> = leaks
        .iter()
        .chain(&healthy)
        .flat_map(|&s| (a..b).map(move |seed| (s, seed)))
        .collect();
    // Per job: per transform, per config, (with traffic, alone).
    let results = par_map(&jobs, |&(sit, seed)| {
        let sc = generate(sit, seed, 15);
        TRANSFORMS
            .iter()
            .map(|t| {
                if !sit.leaks() && (*t == "raw" || *t == "restart") {
                    return Vec::new();
                }
                let fed = feed(&sc, t);
                configs
                    .iter()
                    .map(|(_, o)| {
                        let cfg = config(&sc, o);
                        let run = |traffic: Option<&[Sample]>| {
                            leaksense(&fed.samples, traffic, &[], &fed.truth, cfg.clone())
                        };
                        (run(Some(&fed.traffic)), run(None))
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    });
    println!(
        "heap leak situations cut to begin 0-1 h before the leak, seeds {a}..{b}; cells: with traffic / alone"
    );
    println!();
    println!(
        "| series | config | leaks caught | median delay | half the time to limit left | healthy with a false alarm |"
    );
    println!("|---|---|---|---|---|---|");
    for (ti, t) in TRANSFORMS.iter().enumerate() {
        for (ci, (label, _)) in configs.iter().enumerate() {
            let mut cells = [Cell::default(), Cell::default()];
            for (job, r) in jobs.iter().zip(&results) {
                if let Some(per_cfg) = r[ti].get(ci) {
                    cells[0].add(job.0.leaks(), &per_cfg.0);
                    cells[1].add(job.0.leaks(), &per_cfg.1);
                }
            }
            let leak_n = leaks.len() * (b - a) as usize;
            let healthy_n = cells[0].n - leak_n;
            let healthy = if healthy_n > 0 {
                format!("{} / {} of {healthy_n}", cells[0].alarms, cells[1].alarms)
            } else {
                "–".into()
            };
            println!(
                "| {t} | {label} | {} / {} of {leak_n} | {} / {} | {}/{} / {}/{} | {healthy} |",
                cells[0].caught,
                cells[1].caught,
                median_min(&cells[0].delays),
                median_min(&cells[1].delays),
                cells[0].half,
                cells[0].reach,
                cells[1].half,
                cells[1].reach,
            );
        }
    }
    if std::env::var_os("BY_SITUATION").is_none() {
        return;
    }
    // Per transform and configuration: the series whose outcome (with traffic / alone: caught,
    // false alarm) differs from `base`, by situation.
    println!();
    for (ti, t) in TRANSFORMS.iter().enumerate() {
        for (ci, (label, _)) in configs.iter().enumerate().skip(1) {
            let mut moved: std::collections::BTreeMap<String, [i32; 2]> = Default::default();
            for (job, r) in jobs.iter().zip(&results) {
                let (Some(base), Some(this)) = (r[ti].first(), r[ti].get(ci)) else {
                    continue;
                };
                let score = |o: &Outcome| {
                    if job.0.leaks() {
                        i32::from(o.delay_secs.is_some())
                    } else {
                        -i32::from(o.false_alarm)
                    }
                };
                for (k, (b, c)) in [(&base.0, &this.0), (&base.1, &this.1)].iter().enumerate() {
                    let d = score(c) - score(b);
                    if d != 0 {
                        moved.entry(format!("{:?}", job.0)).or_default()[k] += d;
                        println!(
                            "{t} {label}: {:?} {} {} {d:+}",
                            job.0,
                            job.1,
                            ["traffic", "alone"][k]
                        );
                    }
                }
            }
            for (sit, [w, a]) in moved {
                println!("{t} {label}: {sit} {w:+} / {a:+}");
            }
        }
    }
}

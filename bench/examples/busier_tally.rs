//! The false alarms with traffic on healthy second days and before a batch leak (design
//! section 66): `cargo run --release -p leaksense-bench --features probe --example
//! busier_tally -- 0..50` (quality seeds of `busier_day_2d` and `batch_leak`; `SIT=a,b` names
//! other situations). For each alert with traffic that fires before any leak it prints the
//! hour it fired (from the series' start), which judgement held the condition at its first
//! pending and at its firing (`raw`, the usable floor; `unmasked`; `yesterday`), the load veto's
//! verdict at the firing (`iso`/`record`/`reuse` and whether it explained the rise; `-` when
//! not consulted), the growth start, and the load then against the highest load seen before the
//! growth start (30-min means, as a share of the range seen before it: above 1 is a record).
//! `SET=field=value,...` overrides options. A diagnostic for tuning on training seeds.

use leaksense_bench::held::{alarms_before_leak, holder};
use leaksense_bench::{config, overrides_from_env, parse_seeds};
use leaksense_core::detect::scenarios::{Situation, generate};

const H: f64 = 3.6e6;

/// The load veto's last verdict among the tags.
fn veto(tags: &[String]) -> String {
    tags.iter()
        .rev()
        .find(|t| t.contains("veto"))
        .cloned()
        .unwrap_or_else(|| "-".into())
}

/// The 30-min mean load at `ts`, and the lowest and highest 30-min means before `before`.
fn load_state(traffic: &[leaksense_core::Sample], ts: i64, before: i64) -> (f64, f64, f64) {
    let mean = |t: i64| {
        let w: Vec<f64> = traffic
            .iter()
            .filter(|r| r.ts_ms > t - 1_800_000 && r.ts_ms <= t)
            .map(|r| r.value)
            .collect();
        w.iter().sum::<f64>() / w.len().max(1) as f64
    };
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let first = traffic.first().map_or(0, |r| r.ts_ms);
    let mut t = first + 1_800_000;
    while t <= before {
        let m = mean(t);
        lo = lo.min(m);
        hi = hi.max(m);
        t += 300_000;
    }
    (mean(ts), lo, hi)
}

fn main() {
    let seeds = std::env::args().nth(1).unwrap_or_else(|| "0..50".into());
    let (a, b) = parse_seeds(&seeds).expect("seeds A..B");
    let sits: Vec<Situation> = std::env::var("SIT")
        .unwrap_or_else(|_| "busier_day_2d,batch_leak".into())
        .split(',')
        .map(|n| Situation::from_name(n).expect("a situation"))
        .collect();
    let overrides = overrides_from_env();
    for sit in sits {
        for seed in a..b {
            let sc = generate(sit, seed, 15);
            let first = sc.samples[0].ts_ms;
            let cfg = config(&sc, &overrides);
            alarms_before_leak(&sc, cfg, true, |d, s, onset, tags| {
                let a = d.analysis();
                let start = a.growth_start_ms.unwrap_or(s.ts_ms);
                let (x, lo, hi) = load_state(&sc.traffic, s.ts_ms, start);
                let share = (x - lo) / (hi - lo).max(1e-9);
                println!(
                    "{} seed {seed}: fired {:.2} h, growth start {:.2} h, pending {onset}, \
                     firing {}, {}, load {x:.1} (before start {lo:.1}..{hi:.1}, {share:.2} \
                     of that range), reason {:?}",
                    sit.name(),
                    (s.ts_ms - first) as f64 / H,
                    (start - first) as f64 / H,
                    holder(tags),
                    veto(tags),
                    a.not_a_leak_because,
                );
                if std::env::var_os("TAGS").is_some() {
                    println!("  tags {tags:?}");
                }
            });
        }
    }
}

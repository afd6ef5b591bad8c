//! The quality generator's cache warm-ups that alarm (docs/design/detector.md section 74): for
//! each `cache_warmup` seed (`SEEDS=a..b`, default 0..250) that goes pending with traffic
//! (`ALONE=1`: on the series alone), what the detector and the load see at its first pending
//! and first firing: the time, the warm-up's start, end and size (a share of the base), the share of its rise done, the
//! hours since it began, the analysis's growth start (`0` marks a rise from the first floor
//! point's hour), its rate as %/h of the baseline, the rise since the growth start over the
//! baseline, the time to limit, the headroom (limit over baseline), the load's mean over the
//! rise's second half over its first half, and the warm-up's true rate (%/h of the base).
//! `TAGS=1` adds the warm-up tests' probe tags of that evaluation (feature `probe`: the shape
//! tests' verdicts, the urgency, `warmup_bound`'s thirds' rates in %/h of the baseline, their
//! pace q, the rise so far, the projected rest and the bound; `lo2`, section 89: the load's
//! rise over the segment's older and newer halves and whether the floor with the load's part
//! out would hold a rise after a flat baseline). A last line counts the seeds
//! that fired, and those whose post-collection floor comes within 3 % of the memory limit
//! (the generator's limit ignores the warm-up), with how many of them fired. `SET=key=value,...` overrides options.
use leaksense_bench::held::{FirstTransition, first_transitions, tags_with};
use leaksense_bench::{config, overrides_from_env};
use leaksense_core::detect::scenarios::{START_MS, Situation, generate};
use leaksense_core::detect::{Detector, probe};

fn main() {
    let seeds = std::env::var("SEEDS").unwrap_or_else(|_| "0..250".into());
    let (a, b) = seeds.split_once("..").expect("a..b");
    let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
    let traffic = std::env::var_os("ALONE").is_none();
    let overrides = overrides_from_env();
    let tags = std::env::var_os("TAGS").is_some();
    probe::enable();
    println!(
        "| seed | event | h | wu start h | wu end h | wu size | done | h in | growth start h | rate %/h | rise/base | ttl h | limit/base | load 2nd/1st half | true rate %/h |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut fired, mut at_limit, mut at_limit_fired) = (0, Vec::new(), 0);
    for seed in a..b {
        let s = generate(Situation::CacheWarmup, seed, 15);
        let [start, dur, amp, tau] = s.warmup.expect("a warm-up");
        let g = |t: f64| {
            if t < start {
                0.0
            } else {
                let dt = (t - start).min(dur);
                amp * (dt / tau).ln_1p() / (dur / tau).ln_1p()
            }
        };
        let secs = |ts: i64| (ts - START_MS) as f64 / 1000.0;
        let load_ratio = |from: i64, to: i64| leaksense_bench::load_ratio(&s.traffic, from, to);
        let mut d = Detector::new(config(&s, &overrides)).unwrap();
        let mut fire = false;
        first_transitions(&mut d, &s.traffic, traffic, &s.samples, 1.0, |_, tr| {
            let FirstTransition {
                first,
                ts_ms,
                baseline: bl,
                growth_start_ms: gs,
                ..
            } = tr;
            fire |= first == "firing";
            fired += usize::from(first == "firing");
            let t = secs(ts_ms);
            let true_rate = (g(t + 60.0) - g(t - 60.0)) / 120.0 * 3600.0 * 100.0;
            println!(
                "| {seed} | {first} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.3} | {} | {} | {:.2} | {:.1} |",
                t / 3600.0,
                start / 3600.0,
                (start + dur) / 3600.0,
                amp,
                g(t) / amp,
                (t - start) / 3600.0,
                secs(gs) / 3600.0,
                tr.rate_pct_per_h,
                tr.rise,
                tr.time_to_limit_secs
                    .map_or("–".into(), |x| format!("{:.1}", x / 3600.0)),
                s.limit.map_or("–".into(), |l| format!("{:.2}", l / bl)),
                load_ratio(gs, ts_ms),
                true_rate,
            );
            if tags {
                let keep = tags_with(&tr.tags, &["shape", "bnd", "wu", "lo2"]);
                println!("    {keep:?}");
            }
        });
        // The detector's post-collection floor within 3 % of the limit: the warm-up took the
        // live heap there.
        let reaches = s
            .limit
            .is_some_and(|l| d.floor().iter().any(|p| p.value >= 0.97 * l));
        if reaches {
            at_limit.push(seed);
            at_limit_fired += usize::from(fire);
        }
    }
    println!(
        "fired: {fired} of {}; reaching the limit: {at_limit:?} ({at_limit_fired} of them fired)",
        b - a
    );
}

//! Why the article's rule alerts 5-min leaks with half their time to the limit left where
//! leaksense does not (docs/design/detector.md, section 77): for each `sparse_leak` (or
//! `ONLY=`) seed that reaches its limit (`SEEDS=0..250`), leaksense's outcome with traffic
//! and the article's; where the article is in time and leaksense is not, the article's first
//! firing against the leak's start and half mark, and its `deriv(heap[2h])` there over the
//! leak's true rate; then, over the same seeds, how often the article's condition held before
//! the leak began (its own false alarms on the same series).
use leaksense_bench::quality::{Truth, article, leaksense};
use leaksense_bench::{config, overrides_from_env, parse_seeds};
use leaksense_core::detect::prom::{WindowRule, deriv_at};
use leaksense_core::detect::scenarios::{Situation, generate};

fn main() {
    let seeds = parse_seeds(&std::env::var("SEEDS").unwrap_or("0..250".into())).unwrap();
    let name = std::env::var("ONLY").unwrap_or("sparse_leak".into());
    let sit = Situation::from_name(&name).expect("a situation");
    let (mut n, mut ours_in, mut art_in, mut art_only, mut art_only_pre) = (0, 0, 0, 0, 0);
    let mut art_pre = 0;
    for seed in seeds.0..seeds.1 {
        let sc = generate(sit, seed, 15);
        let truth = Truth::from(&sc);
        let (Some(l), Some(o)) = (truth.leak_start_ms, truth.limit_reached_ms) else {
            continue;
        };
        n += 1;
        let cfg = config(&sc, &overrides_from_env());
        let ours = leaksense(&sc.samples, Some(&sc.traffic), &sc.full_gcs, &truth, cfg);
        let art = article(&sc.samples, sc.kind, &truth);
        // Did the article's condition (a 2-h slope over 10 kB/s held 30 min) fire before
        // the leak, on the healthy part of this series?
        let mut since: Option<i64> = None;
        let mut pre = false;
        let mut t = sc.samples[0].ts_ms;
        while t < l {
            let c = deriv_at(&sc.samples, t, 7_200_000, WindowRule::Closed)
                .is_some_and(|d| d > 10_000.0);
            since = if c { since.or(Some(t)) } else { None };
            pre |= since.is_some_and(|a| t - a >= 1_800_000);
            t += 60_000;
        }
        art_pre += usize::from(pre);
        let (a_in, o_in) = (art.half_ttl == Some(true), ours.half_ttl == Some(true));
        ours_in += usize::from(o_in);
        art_in += usize::from(a_in);
        if a_in && !o_in {
            art_only += 1;
            art_only_pre += usize::from(pre);
            let half = l + (o - l) / 2;
            let rate = sc.leak_share_per_hour.unwrap_or(0.0);
            let d_half = deriv_at(&sc.samples, half, 7_200_000, WindowRule::Closed).unwrap_or(0.0);
            println!(
                "{name} {seed}: ttl {:.1} h, article first {:+.1} h from the half mark \
                 (delay {:.1} h, by a new alert {}), ours {:+.1} h; article alarm before the \
                 leak {pre}; leak {:.1} %/h of base; deriv at half {:.0} B/s",
                (o - l) as f64 / 3.6e6,
                art.delay_secs
                    .map_or(f64::NAN, |d| (l - half) as f64 / 3.6e6 + d / 3600.0),
                art.delay_secs.map_or(f64::NAN, |d| d / 3600.0),
                art.caught_by_new_alert,
                ours.delay_secs
                    .map_or(f64::NAN, |d| (l - half) as f64 / 3.6e6 + d / 3600.0),
                100.0 * rate,
                d_half,
            );
        }
    }
    println!(
        "{name}: {n} reach their limit; half the time left: leaksense with traffic {ours_in}, \
         article {art_in}; article only {art_only} (of which {art_only_pre} had the article's \
         condition hold 30 min before the leak began); article's condition held 30 min before \
         the leak on {art_pre} of {n}"
    );
}

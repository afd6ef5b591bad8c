//! Per-series outcomes of the robust detector as CSV, for studying delays and near misses on
//! training seeds: `cargo run --release -p leaksense-bench --example delays -- 0..50 [key=json]...`
//! Columns: situation, seed, rate (% of the pre-leak floor per hour), delay_min (first firing
//! after the leak start), first_pending_min (relative to the leak start), false_alarm,
//! longest_pending_min (healthy series: the longest pending stretch, a margin to a false alarm).
//! `TRAFFIC=1` feeds each series' traffic, as the in-process monitor does.

use leaksense_bench::{fed_rates, feed_traffic};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{AlertState, Detector};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (a, b) = args
        .first()
        .and_then(|s| leaksense_bench::parse_seeds(s))
        .expect("usage: delays A..B [key=json]...");
    let overrides: Vec<(String, serde_json::Value)> = args[1..]
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=json");
            (k.to_string(), serde_json::from_str(v).expect("json value"))
        })
        .collect();
    println!("situation,seed,rate,delay_min,first_pending_min,false_alarm,longest_pending_min");
    let jobs: Vec<(Situation, u64)> = Situation::ALL
        .iter()
        .flat_map(|&s| (a..b).map(move |seed| (s, seed)))
        .collect();
    let rows = leaksense_bench::par_map(&jobs, |&(s, seed)| row(s, seed, &overrides));
    for r in rows {
        println!("{r}");
    }
}

fn row(sit: Situation, seed: u64, overrides: &[(String, serde_json::Value)]) -> String {
    let sc = generate(sit, seed, 15);
    let cfg = leaksense_bench::config(&sc, overrides);
    let mut d = Detector::new(cfg).expect("valid config");
    let lstart = sc.leak_start_ms;
    let rate = match (lstart, sc.leak_rate_per_sec) {
        (Some(l), Some(r)) => {
            let pre = sc
                .samples
                .iter()
                .filter(|s| s.ts_ms < l && s.ts_ms >= l - 3_600_000)
                .map(|s| s.value)
                .fold(f64::INFINITY, f64::min);
            format!("{:.2}", 100.0 * r * 3600.0 / pre)
        }
        _ => String::new(),
    };
    let (mut delay, mut first_pending, mut fa) = (None, None, false);
    let (mut pend_since, mut longest) = (None::<i64>, 0i64);
    let mut rates = fed_rates(&sc.traffic, std::env::var_os("TRAFFIC").is_some());
    for s in &sc.samples {
        feed_traffic(&mut d, &mut rates, s.ts_ms);
        d.update(*s).expect("valid samples");
        let st = d.state();
        let after = lstart.is_some_and(|l| s.ts_ms >= l);
        match st {
            AlertState::Pending => {
                pend_since.get_or_insert(s.ts_ms);
                if after && first_pending.is_none() {
                    first_pending = Some(s.ts_ms);
                }
            }
            AlertState::Firing => {
                if after {
                    delay.get_or_insert(s.ts_ms);
                } else {
                    fa = true;
                }
            }
            AlertState::Inactive => {}
        }
        if st != AlertState::Pending
            && let Some(p) = pend_since.take()
            && !after
        {
            longest = longest.max(s.ts_ms - p);
        }
    }
    let rel = |t: Option<i64>| match (t, lstart) {
        (Some(t), Some(l)) => format!("{:.0}", (t - l) as f64 / 60_000.0),
        _ => String::new(),
    };
    format!(
        "{},{seed},{rate},{},{},{},{:.0}",
        sit.name(),
        rel(delay),
        rel(first_pending),
        u8::from(fa),
        longest as f64 / 60_000.0
    )
}

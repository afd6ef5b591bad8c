//! `find_growth_inflection` equals the article's Python function on thousands of random series.
//! The Python runs under `python3` (verbatim for window 12 and ratio 0.8, the article's
//! constants; with those two constants as parameters otherwise).

mod common;

use common::Rng;
use common::article::{self, Call};
use leaksense_core::detect::find_growth_inflection_secs;

fn random_call(rng: &mut Rng) -> Call {
    let n = rng.range(1, 80) as usize;
    let (window, ratio) = if rng.range(0, 2) == 0 {
        (12, 0.8)
    } else {
        let ratios = [0.0, 0.25, 1.0 / 3.0, 0.5, 0.75, 0.8, 0.9, 1.0, rng.unit()];
        (
            rng.range(1, 16) as usize,
            ratios[rng.range(0, ratios.len() as i64 - 1) as usize],
        )
    };
    // Irregular timestamps with millisecond offsets, as a real scrape has.
    let mut ts_ms = 1_700_000_000_000 + rng.range(0, 999_999);
    let mut ts = Vec::with_capacity(n);
    for _ in 0..n {
        ts.push(ts_ms as f64 / 1000.0);
        ts_ms += rng.range(1, 600_000);
    }
    // Values: a rising tendency that switches on somewhere, over a sawtooth or noise, with
    // repeated values so that ties (not growth) occur.
    let onset = rng.range(0, n as i64) as usize;
    let p_up_after = 0.6 + 0.4 * rng.unit();
    let sawtooth = rng.range(0, 3) == 0;
    let mut v = 100.0;
    let values = (0..n)
        .map(|i| {
            let p_up = if i >= onset { p_up_after } else { 0.4 };
            let r = rng.unit();
            v += if r < p_up {
                rng.range(1, 3) as f64
            } else if r < p_up + (1.0 - p_up) / 2.0 {
                0.0
            } else {
                -(rng.range(1, 3) as f64)
            };
            if sawtooth && i % 5 == 4 { v - 10.0 } else { v }
        })
        .collect();
    (ts, values, window, ratio)
}

#[test]
fn matches_the_articles_python_exactly() {
    let mut rng = Rng::new(12);
    let calls: Vec<Call> = (0..3000).map(|_| random_call(&mut rng)).collect();
    let expected = article::run(&calls);
    assert_eq!(expected.len(), calls.len());
    let mut found = 0;
    let mut verbatim = 0;
    for ((ts, vs, window, ratio), want) in calls.iter().zip(&expected) {
        let got = find_growth_inflection_secs(ts, vs, *window, *ratio).unwrap();
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "window {window} ratio {ratio}\nts {ts:?}\nvalues {vs:?}"
        );
        found += usize::from(got != ts[0]);
        verbatim += usize::from(*window == 12 && *ratio == 0.8);
    }
    println!(
        "article inflection: {} series equal to Python ({verbatim} through the verbatim \
         function), {found} answers other than the fallback",
        calls.len()
    );
    // Both branches of the function must have been exercised.
    assert!(found > 300 && calls.len() - found > 300 && verbatim > 500);
}

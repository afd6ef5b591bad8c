//! Bit-for-bit parity of `deriv` and `predict_linear` with a real Prometheus 2.x server.
//!
//! Generated series are backfilled with promtool, served by `prometheus` on 127.0.0.1, and
//! queried at hundreds of evaluation times on and between sample timestamps (and exactly on the
//! window's left edge). Every answer, including "no value", must equal ours exactly. The test
//! fails, never skips, when Prometheus is not installed.

mod common;

use std::collections::BTreeMap;

use common::Rng;
use common::prom_server::{
    Backfill, Labels, PromServer, labels_without_name, now_ms, series_from_steps,
};
use leaksense_core::Sample;
use leaksense_core::detect::WindowRule;
use leaksense_core::detect::prom::{deriv_at, predict_linear_at};

const METRIC: &str = "parity_value";

fn scenarios(start_ms: i64, rng: &mut Rng) -> Vec<(&'static str, Vec<Sample>)> {
    let n = 720; // 3 h at 15 s
    let mut v = Vec::new();
    v.push((
        "sawtooth",
        series_from_steps(
            start_ms,
            (0..n).map(|i| (15_000, 100e6 + (i % 20) as f64 * 5e6 + i as f64 * 1000.0)),
        ),
    ));
    v.push((
        "linear",
        series_from_steps(
            start_ms + 3,
            (0..n).map(|i| (15_000, 5.0 + 0.25 * i as f64)),
        ),
    ));
    let mut r = rng.unit();
    v.push((
        "noisy",
        series_from_steps(
            start_ms + 7,
            (0..n).map(|_| {
                r = 1000.0 + 37.5 * rng.normal();
                (15_000 + rng.range(-900, 900), r)
            }),
        ),
    ));
    let mut walk = 0.0;
    v.push((
        "random_walk_irregular",
        series_from_steps(
            start_ms + 1,
            (0..900).map(|_| {
                walk += rng.normal() * 3.7;
                let gap = match rng.range(0, 19) {
                    0 => rng.range(300_000, 900_000), // gaps longer than the short windows
                    1..=4 => rng.range(1, 999),       // bursts a few ms apart
                    _ => rng.range(1_000, 20_000),
                };
                (gap, walk)
            }),
        ),
    ));
    let mut big = 1e9;
    v.push((
        "large",
        series_from_steps(
            start_ms + 11,
            (0..n).map(|_| {
                big += rng.normal() * 4096.5 + 700.125;
                (15_000 + rng.range(0, 50), big)
            }),
        ),
    ));
    v.push((
        "tiny",
        series_from_steps(
            start_ms + 13,
            (0..n).map(|i| {
                (
                    15_000,
                    1e-9 * (1.0 + i as f64 * 1e-3) + 1e-12 * rng.normal(),
                )
            }),
        ),
    ));
    v.push((
        "huge_offset",
        series_from_steps(
            start_ms + 17,
            (0..n).map(|i| (15_000, 3.5e15 + (i % 7) as f64 * 0.5 - i as f64 * 0.125)),
        ),
    ));
    v.push((
        "constant",
        series_from_steps(start_ms + 19, (0..n).map(|_| (15_000, 42.5))),
    ));
    v.push((
        "sparse",
        series_from_steps(
            start_ms + 23,
            (0..20).map(|_| (rng.range(240_000, 900_000), rng.normal() * 1e6)),
        ),
    ));
    v.push((
        "negative",
        series_from_steps(
            start_ms + 29,
            (0..n).map(|i| (15_000, -1e6 - i as f64 * 333.3 + rng.normal() * 50.0)),
        ),
    ));
    v
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => false,
    }
}

#[test]
fn deriv_and_predict_linear_match_a_real_prometheus_bit_for_bit() {
    let mut rng = Rng::new(0x5eed_1ea4);
    let now_ms = now_ms();
    // Inside the default 15-day retention and clear of "now".
    let start_ms = now_ms - 8 * 3_600_000 + 456;
    let series: Vec<Backfill> = scenarios(start_ms, &mut rng)
        .into_iter()
        .map(|(name, samples)| Backfill {
            name: METRIC.to_string(),
            labels: vec![("series".to_string(), name.to_string())],
            samples,
        })
        .collect();
    let by_labels: BTreeMap<Labels, &[Sample]> = series
        .iter()
        .map(|b| (labels_without_name(b), b.samples.as_slice()))
        .collect();
    let last_ms = series
        .iter()
        .map(|b| b.samples.last().unwrap().ts_ms)
        .max()
        .unwrap();

    let server = PromServer::start(&series);
    let dir = server.dir();

    // The backfill must hold exactly our samples, or every comparison below is moot.
    server.assert_holds(&series);

    // Evaluation times: exactly on samples, between them, on a window's left edge (t - r equal
    // to a sample: the closed-window rule decides), one millisecond either side of it, and
    // before the first and after the last sample (no value).
    let ranges_ms: [i64; 4] = [60_000, 300_000, 3_600_000, 90_500];
    let horizons = [3600.0, 0.25, -60.0, 86_400.5];
    let all: Vec<Sample> = series.iter().flat_map(|b| b.samples.clone()).collect();
    let mut times = Vec::new();
    for k in 0..360 {
        let s = all[rng.range(0, all.len() as i64 - 1) as usize].ts_ms;
        let r = ranges_ms[k % ranges_ms.len()];
        times.push(match k % 6 {
            0 | 1 => s,
            2 => s + rng.range(1, 14_999),
            3 => s + r,
            4 => s + r + rng.range(-1, 1),
            _ => rng.range(start_ms - 600_000, last_ms + 4_000_000),
        });
    }

    let mut comparisons = 0usize;
    let mut no_value = 0usize;
    let mut mismatches = Vec::new();
    for (k, &t) in times.iter().enumerate() {
        for (ri, &range_ms) in ranges_ms.iter().enumerate() {
            let horizon = horizons[(k + ri) % horizons.len()];
            let queries = [
                (format!("deriv({METRIC}[{range_ms}ms])"), None),
                (
                    format!("predict_linear({METRIC}[{range_ms}ms], {horizon})"),
                    Some(horizon),
                ),
            ];
            for (promql, horizon) in queries {
                let got = server.instant(&promql, t);
                for (labels, samples) in &by_labels {
                    let ours = match horizon {
                        None => deriv_at(samples, t, range_ms, WindowRule::Closed),
                        Some(h) => predict_linear_at(samples, t, range_ms, h, WindowRule::Closed),
                    };
                    let theirs = got.get(labels).copied();
                    comparisons += 1;
                    no_value += usize::from(theirs.is_none());
                    if !same(ours, theirs) {
                        mismatches.push(format!(
                            "{promql} at {t} ms, {labels:?}: ours {ours:?}, prometheus {theirs:?}"
                        ));
                    }
                }
                assert!(
                    got.keys().all(|l| by_labels.contains_key(l)),
                    "unexpected series in {promql}: {got:?}"
                );
            }
        }
    }
    println!(
        "prometheus parity: {comparisons} comparisons ({} evaluation times, {no_value} with no \
         value), {} mismatches",
        times.len(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {comparisons} differ, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
    // Both outcomes must have been exercised, or the test proves less than it claims.
    assert!(no_value > 100 && comparisons - no_value > 10_000);

    drop(server);
    assert!(!dir.exists(), "temp dir {} not removed", dir.display());
}

#[test]
fn the_server_is_stopped_and_its_data_removed_even_when_a_test_panics() {
    let now_ms = now_ms();
    let samples = series_from_steps(now_ms - 3_600_000, (0..10).map(|i| (15_000, f64::from(i))));
    let series = [Backfill {
        name: METRIC.into(),
        labels: vec![("series".into(), "guard".into())],
        samples,
    }];
    let server = PromServer::start(&series);
    let (pid, dir) = (server.pid(), server.dir());
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _server = server;
        panic!("a failing assertion while the server runs");
    }));
    assert!(result.is_err());
    // Dropped during the unwind: the process is gone (reaped, so no zombie) and so is the dir.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} still there"
    );
    assert!(!dir.exists(), "{} still there", dir.display());
}

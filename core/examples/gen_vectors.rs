//! Regenerates `tests/vectors/prom.json` and `tests/vectors/inflection.json`.
//!
//! Expected `deriv` and `predict_linear` values come from a real Prometheus 2.x server (backfilled
//! with promtool and queried over HTTP), and expected inflection timestamps from the article's
//! Python function run under `python3`; nothing here computes an expectation with leaksense.
//! Run by hand: `cargo run -p leaksense-core --example gen_vectors`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Rng;
use common::article::{self, Call};
use common::prom_server::{Backfill, PromServer, series_from_steps};
use common::vectors::{num_to_json, nums_to_json};
use leaksense_core::Sample;
use serde_json::{Value, json};

const METRIC: &str = "vector_value";

/// One Prometheus-backed case: a series and, for predict_linear, where and how far to look.
struct PromCase {
    name: &'static str,
    samples: Vec<Sample>,
    /// `None` for deriv; `Some((eval_offset_ms after the last sample, horizon secs))` otherwise.
    predict: Option<(i64, f64)>,
}

fn prom_cases(start_ms: i64, rng: &mut Rng) -> Vec<PromCase> {
    let mut shapes: Vec<(&'static str, Vec<Sample>)> = vec![
        (
            "two_points",
            series_from_steps(start_ms, [(0, 1.0), (10_000, 6.0)]),
        ),
        (
            "linear",
            series_from_steps(
                start_ms,
                (0..60).map(|i| (15_000, 5.0 + 0.25 * f64::from(i))),
            ),
        ),
        (
            "gc_sawtooth",
            series_from_steps(
                start_ms,
                (0..120).map(|i| (15_000, 100e6 + f64::from(i % 20) * 5e6 + f64::from(i) * 1e3)),
            ),
        ),
        (
            "constant",
            series_from_steps(start_ms, (0..30).map(|_| (15_000, 42.5))),
        ),
        (
            "negative",
            series_from_steps(
                start_ms,
                (0..40).map(|i| (15_000, -1e6 - f64::from(i) * 333.3)),
            ),
        ),
        (
            "tiny_values",
            series_from_steps(
                start_ms,
                (0..40).map(|i| (15_000, 1e-9 * (1.0 + f64::from(i) * 1e-3))),
            ),
        ),
        (
            "kahan_large_offset",
            series_from_steps(
                start_ms,
                (0..50).map(|i| {
                    (
                        15_000,
                        3.5e15 + f64::from(i % 7) * 0.5 - f64::from(i) * 0.125,
                    )
                }),
            ),
        ),
        (
            "overflow_gives_nan",
            series_from_steps(start_ms, [(0, 1e308), (1_000, -1e308), (1_000, 1.7e308)]),
        ),
        ("single_sample", series_from_steps(start_ms, [(0, 3.0)])),
    ];
    let mut walk = 0.0;
    let irregular = series_from_steps(
        start_ms,
        (0..80).map(|_| {
            walk += rng.normal() * 3.7;
            let gap = if rng.range(0, 3) == 0 {
                rng.range(1, 999)
            } else {
                rng.range(1_000, 60_000)
            };
            (gap, walk)
        }),
    );
    shapes.push(("random_walk_irregular_ms", irregular));
    let mut big = 1e9;
    let large = series_from_steps(
        start_ms,
        (0..100).map(|_| {
            big += rng.normal() * 4096.5 + 700.125;
            (15_000 + rng.range(0, 50), big)
        }),
    );
    shapes.push(("heap_1e9_noisy", large));

    let mut cases = Vec::new();
    for (name, samples) in shapes {
        cases.push(PromCase {
            name,
            samples: samples.clone(),
            predict: None,
        });
        for (offset_ms, horizon) in [(0, 3600.0), (12_345, -60.0), (61_000, 0.0)] {
            cases.push(PromCase {
                name,
                samples: samples.clone(),
                predict: Some((offset_ms, horizon)),
            });
        }
    }
    cases
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn args(samples: &[Sample]) -> serde_json::Map<String, Value> {
    let ts: Vec<f64> = samples.iter().map(|s| secs(s.ts_ms)).collect();
    let vs: Vec<f64> = samples.iter().map(|s| s.value).collect();
    let mut m = serde_json::Map::new();
    m.insert("timestamps".into(), nums_to_json(&ts));
    m.insert("values".into(), nums_to_json(&vs));
    m
}

fn prom_json() -> Value {
    let mut rng = Rng::new(2042);
    // A fixed start (2026-01-01) makes the file reproducible: the test server keeps data of
    // any age.
    let start_ms = 1_767_225_600_321;
    let cases = prom_cases(start_ms, &mut rng);
    // One backfilled series per case, so each query selects exactly its own samples.
    let backfill: Vec<Backfill> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| Backfill {
            name: METRIC.into(),
            labels: vec![("case".into(), i.to_string())],
            samples: c.samples.clone(),
        })
        .collect();
    let server = PromServer::start(&backfill);
    server.assert_holds(&backfill);
    let mut out = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let first = c.samples[0].ts_ms;
        let last = c.samples.last().unwrap().ts_ms;
        let (op, eval_ms, a, name) = match c.predict {
            None => ("deriv", last, args(&c.samples), format!("deriv_{}", c.name)),
            Some((offset, horizon)) => {
                let mut a = args(&c.samples);
                a.insert("eval_time".into(), num_to_json(secs(last + offset)));
                a.insert("horizon".into(), num_to_json(horizon));
                let name = format!(
                    "predict_linear_{}_at_last_plus_{offset}ms_{horizon}s",
                    c.name
                );
                ("predict_linear", last + offset, a, name)
            }
        };
        // The closed window [eval - range, eval] starts exactly at the first sample, so the
        // server sees the whole series, as the vector's op does. A 1 ms range for a single
        // sample still holds only it.
        let range_ms = (eval_ms - first).max(1);
        let sel = format!("{METRIC}{{case=\"{i}\"}}[{range_ms}ms]");
        let promql = match c.predict {
            None => format!("deriv({sel})"),
            Some((_, h)) => format!("predict_linear({sel}, {h})"),
        };
        let got = server.instant(&promql, eval_ms);
        assert!(got.len() <= 1, "{promql}: {got:?}");
        let value = got.values().next().map_or(Value::Null, |&v| num_to_json(v));
        out.push(json!({"name": name, "op": op, "args": a, "expect": {"value": value}}));
    }
    drop(server);

    // Cases Prometheus cannot be asked: no samples at all (it answers nothing, by definition)
    // and input our validation rejects before any math.
    let fixed = [
        json!({"name": "deriv_empty_series", "op": "deriv",
               "args": {"timestamps": [], "values": []}, "expect": {"value": null}}),
        json!({"name": "predict_linear_empty_series", "op": "predict_linear",
               "args": {"timestamps": [], "values": [], "eval_time": 10, "horizon": 60},
               "expect": {"value": null}}),
        json!({"name": "deriv_nan_value", "op": "deriv",
               "args": {"timestamps": [1, 2], "values": [1, "NaN"]},
               "expect": {"error": "non_finite_value"}}),
        json!({"name": "deriv_infinite_value", "op": "deriv",
               "args": {"timestamps": [1, 2, 3], "values": [1, "Infinity", 2]},
               "expect": {"error": "non_finite_value"}}),
        json!({"name": "deriv_nan_timestamp", "op": "deriv",
               "args": {"timestamps": [1, "NaN"], "values": [1, 2]},
               "expect": {"error": "non_finite_value"}}),
        json!({"name": "deriv_out_of_order", "op": "deriv",
               "args": {"timestamps": [2, 1], "values": [1, 2]},
               "expect": {"error": "out_of_order"}}),
        json!({"name": "deriv_duplicate_timestamp", "op": "deriv",
               "args": {"timestamps": [1, 2, 2], "values": [1, 2, 3]},
               "expect": {"error": "out_of_order"}}),
        json!({"name": "deriv_length_mismatch", "op": "deriv",
               "args": {"timestamps": [1, 2, 3], "values": [1, 2]},
               "expect": {"error": "invalid_option"}}),
        json!({"name": "predict_linear_nan_eval_time", "op": "predict_linear",
               "args": {"timestamps": [1, 2], "values": [1, 2], "eval_time": "NaN", "horizon": 1},
               "expect": {"error": "invalid_option"}}),
        json!({"name": "predict_linear_infinite_horizon", "op": "predict_linear",
               "args": {"timestamps": [1, 2], "values": [1, 2], "eval_time": 2,
                        "horizon": "Infinity"},
               "expect": {"error": "invalid_option"}}),
        json!({"name": "predict_linear_out_of_order", "op": "predict_linear",
               "args": {"timestamps": [1, 3, 2], "values": [1, 2, 3], "eval_time": 3,
                        "horizon": 1},
               "expect": {"error": "out_of_order"}}),
    ];
    out.extend(fixed);
    json!({
        "description": "PromQL deriv and predict_linear over the whole given series (Prometheus \
            2.x closed window). Expected values were returned by a real Prometheus 2.42 server \
            (core/examples/gen_vectors.rs); empty series and error cases follow leaksense's \
            validation. Timestamps are unix seconds; predict_linear measures x from eval_time.",
        "cases": out,
    })
}

/// The inflection cases with a series: hand-made shapes, then random walks.
fn inflection_series() -> Vec<(String, Call)> {
    let mut rng = Rng::new(8);
    let mut named: Vec<(String, Call)> = Vec::new();
    let t0 = 1_700_000_000.0;
    let five_min = |n: usize| (0..n).map(|i| t0 + 300.0 * i as f64).collect::<Vec<f64>>();
    let sawtooth: Vec<f64> = (0..96).map(|i| 100.0 + f64::from(i % 6) * 20.0).collect();
    named.push((
        "gc_sawtooth_falls_back".into(),
        (five_min(96), sawtooth, 12, 0.8),
    ));
    let leak_under_sawtooth: Vec<f64> = (0..96)
        .map(|i| 100.0 + f64::from(i % 6) * 20.0 + f64::from(i) * 2.0)
        .collect();
    named.push((
        "leak_under_sawtooth_is_missed".into(),
        (five_min(96), leak_under_sawtooth, 12, 0.8),
    ));
    let mut flat_then_rising = vec![500.0; 30];
    flat_then_rising.extend((0..40).map(|i| 501.0 + f64::from(i)));
    named.push((
        "flat_then_rising".into(),
        (five_min(70), flat_then_rising, 12, 0.8),
    ));
    let rising: Vec<f64> = (0..12).map(f64::from).collect();
    named.push((
        "too_short_for_a_window".into(),
        (five_min(12), rising.clone(), 12, 0.8),
    ));
    named.push((
        "ratio_one_never_matches".into(),
        (five_min(12), rising, 4, 1.0),
    ));
    named.push((
        "last_window_is_never_tried".into(),
        (five_min(4), vec![3.0, 2.0, 1.0, 2.0], 2, 0.5),
    ));
    named.push((
        "ties_are_not_growth".into(),
        (five_min(5), vec![1.0, 1.0, 1.0, 2.0, 2.0], 2, 0.5),
    ));
    named.push((
        "single_point".into(),
        (vec![t0 + 0.123], vec![7.0], 12, 0.8),
    ));
    for k in 0..24 {
        let n = rng.range(13, 60) as usize;
        let mut ts_ms = 1_700_000_000_000 + rng.range(0, 999_999);
        let mut ts = Vec::new();
        let onset = rng.range(0, n as i64) as usize;
        let mut v = 1e8;
        let mut vs = Vec::new();
        for i in 0..n {
            ts.push(ts_ms as f64 / 1000.0);
            ts_ms += rng.range(1, 600_000);
            let p_up = if i >= onset { 0.9 } else { 0.45 };
            let r = rng.unit();
            v += if r < p_up {
                rng.range(1, 5000) as f64
            } else if r < p_up + 0.05 {
                0.0
            } else {
                -(rng.range(1, 5000) as f64)
            };
            vs.push(v);
        }
        let (window, ratio) = if k % 2 == 0 {
            (12, 0.8)
        } else {
            (rng.range(2, 10) as usize, [0.5, 0.75, 0.9][k % 3])
        };
        named.push((format!("random_{k}"), (ts, vs, window, ratio)));
    }
    named
}

/// The inflection cases that must fail, with their error codes.
fn inflection_errors() -> Vec<Value> {
    let err = |name: &str, ts: Value, vs: Value, window: Value, ratio: Value, code: &str| {
        json!({"name": name, "op": "find_growth_inflection",
               "args": {"timestamps": ts, "values": vs, "window": window, "ratio": ratio},
               "expect": {"error": code}})
    };
    vec![
        err(
            "empty_series",
            json!([]),
            json!([]),
            json!(12),
            json!(0.8),
            "empty_input",
        ),
        err(
            "window_zero",
            json!([1, 2]),
            json!([1, 2]),
            json!(0),
            json!(0.8),
            "invalid_option",
        ),
        err(
            "ratio_nan",
            json!([1, 2]),
            json!([1, 2]),
            json!(1),
            json!("NaN"),
            "invalid_option",
        ),
        err(
            "ratio_above_one",
            json!([1, 2]),
            json!([1, 2]),
            json!(1),
            json!(1.5),
            "invalid_option",
        ),
        err(
            "ratio_negative",
            json!([1, 2]),
            json!([1, 2]),
            json!(1),
            json!(-0.1),
            "invalid_option",
        ),
        err(
            "nan_value",
            json!([1, 2]),
            json!([1, "NaN"]),
            json!(1),
            json!(0.8),
            "non_finite_value",
        ),
        err(
            "out_of_order",
            json!([2, 1]),
            json!([1, 2]),
            json!(1),
            json!(0.8),
            "out_of_order",
        ),
        err(
            "length_mismatch",
            json!([1, 2]),
            json!([1]),
            json!(1),
            json!(0.8),
            "invalid_option",
        ),
    ]
}

fn inflection_json() -> Value {
    let named = inflection_series();
    let calls: Vec<Call> = named.iter().map(|(_, c)| c.clone()).collect();
    let expected = article::run(&calls);
    let mut cases: Vec<Value> = named
        .iter()
        .zip(expected)
        .map(|((name, (ts, vs, window, ratio)), want)| {
            json!({"name": name, "op": "find_growth_inflection",
                   "args": {"timestamps": nums_to_json(ts), "values": nums_to_json(vs),
                            "window": window, "ratio": num_to_json(*ratio)},
                   "expect": {"timestamp": num_to_json(want)}})
        })
        .collect();
    cases.extend(inflection_errors());
    json!({
        "description": "The article's find_growth_inflection(points, window, ratio). Expected \
            timestamps (unix seconds) were computed by the article's Python function under \
            python3 (core/tests/common/article_inflection.py, generated by \
            core/examples/gen_vectors.rs); error cases follow leaksense's validation.",
        "cases": cases,
    })
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, doc) in [
        ("prom.json", prom_json()),
        ("inflection.json", inflection_json()),
    ] {
        let mut text = serde_json::to_string_pretty(&doc).unwrap();
        text.push('\n');
        std::fs::write(dir.join(file), text).unwrap();
        println!(
            "wrote tests/vectors/{file}: {} cases",
            doc["cases"].as_array().unwrap().len()
        );
    }
}

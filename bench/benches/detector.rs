//! Detector speed: one `update`, and `analyze` of a day at 15 s (5,760 points), next to the
//! article's rule (`deriv(heap[2h]) > 10000`, evaluated every 60 s) over the same day.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leaksense_core::detect::prom::{WindowRule, deriv_at};
use leaksense_core::detect::scenarios::{Situation, generate};
use leaksense_core::detect::{Detector, DetectorConfig, analyze};
use std::hint::black_box;

fn day(c: &mut Criterion) {
    for sit in [Situation::Flat, Situation::FastLeak] {
        let sc = generate(sit, 1, 15);
        let cfg = DetectorConfig {
            limit: sc.limit,
            ..DetectorConfig::for_kind(sc.kind)
        };
        let n = sc.samples.len() as u64;
        let mut g = c.benchmark_group(format!("detector/{}", sit.name()));
        g.throughput(Throughput::Elements(n));
        g.bench_function("update", |b| {
            b.iter_batched_ref(
                || Detector::new(cfg.clone()).unwrap(),
                |d| {
                    for s in &sc.samples {
                        black_box(d.update(*s).unwrap());
                    }
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("analyze_day", |b| {
            b.iter(|| analyze(black_box(&sc.samples), &cfg).unwrap())
        });
        g.bench_function("article_rule_day", |b| {
            b.iter(|| {
                let (first, last) = (sc.samples[0].ts_ms, sc.samples[sc.samples.len() - 1].ts_ms);
                let mut fired = 0u32;
                let mut t = first;
                while t <= last {
                    let d = deriv_at(black_box(&sc.samples), t, 7_200_000, WindowRule::Closed);
                    fired += u32::from(d.is_some_and(|d| d > 10_000.0));
                    t += 60_000;
                }
                fired
            })
        });
        g.finish();
    }
}

criterion_group!(benches, day);
criterion_main!(benches);

//! One collection cycle through the SDK's in-memory reader: leaksense's registration (one shared
//! kept-open statm collector, sampled once per cycle) against a naive sysinfo-refresh callback.

use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use leaksense_core::catalog::{Naming, Runtime};
use leaksense_core::collect::Collector;
use leaksense_core::otel::register_process_metrics;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

fn provider() -> (SdkMeterProvider, InMemoryMetricExporter) {
    let exporter = InMemoryMetricExporter::default();
    let reader = PeriodicReader::builder(exporter.clone()).build();
    (
        SdkMeterProvider::builder().with_reader(reader).build(),
        exporter,
    )
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("otel_collect");

    let (ours, exp) = provider();
    let collector = Arc::new(Mutex::new(Collector::new().expect("collector")));
    register_process_metrics(
        &ours.meter("b"),
        Runtime::Process,
        Naming::Semconv,
        collector,
    )
    .expect("register");
    g.bench_function("leaksense_registration", |b| {
        b.iter(|| {
            ours.force_flush().expect("flush");
            exp.reset();
        })
    });

    let (naive, exp2) = provider();
    let pid = Pid::from_u32(std::process::id());
    let sys = Mutex::new(System::new().expect("sysinfo"));
    naive
        .meter("b")
        .i64_observable_up_down_counter("process.memory.usage")
        .with_unit("By")
        .with_callback(move |o| {
            let mut s = sys.lock().expect("lock");
            s.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing().with_memory(),
            );
            if let Some(p) = s.process(pid) {
                o.observe(p.memory() as i64, &[]);
            }
        })
        .build();
    g.bench_function("naive_sysinfo_callback", |b| {
        b.iter(|| {
            naive.force_flush().expect("flush");
            exp2.reset();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

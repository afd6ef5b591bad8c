//! Cost of one process-memory sample: leaksense's kept-open statm `pread` against a sysinfo
//! refresh and against reading `/proc/self/status` whole, in the same run, with the ratios.
//! Then one container sample: the kept-open cgroup files against opening them each time.
//!
//! Run: `cargo bench -p leaksense-core --bench sample_cost`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use leaksense_core::collect::cgroup::{Cgroup, CgroupFiles};
use leaksense_core::collect::procfs::{StatmProbe, read_status_rss};
use leaksense_core::collect::sysinfo_probe::SysinfoProbe;
use leaksense_core::collect::{Collector, MemoryProbe};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("process_memory_sample");
    let mut statm = StatmProbe::open().expect("statm");
    g.bench_function("leaksense_statm_pread", |b| {
        b.iter(|| black_box(statm.process_memory().unwrap()))
    });
    g.bench_function("proc_status_open_read_parse", |b| {
        b.iter(|| black_box(read_status_rss().unwrap()))
    });
    let mut sys = SysinfoProbe::new().expect("sysinfo");
    g.bench_function("sysinfo_refresh_process_memory", |b| {
        b.iter(|| black_box(sys.process_memory().unwrap()))
    });
    g.finish();

    let cg = cgroup();
    let files = CgroupFiles::open(&cg);
    let mut g = c.benchmark_group("container_sample");
    g.bench_function("leaksense_kept_open_pread", |b| {
        b.iter(|| black_box(files.read()))
    });
    g.bench_function("open_read_close_each_file", |b| {
        b.iter(|| black_box(cg.read()))
    });
    let mut collector = Collector::new().expect("collector");
    g.bench_function("collector_snapshot_whole", |b| {
        b.iter(|| black_box(collector.snapshot().unwrap()))
    });
    g.finish();
}

/// This machine's memory cgroup, or the v2 fixture where there is none.
fn cgroup() -> Cgroup {
    Cgroup::discover().unwrap_or_else(|| {
        println!("no memory cgroup here: measuring the v2 fixture");
        let base =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup/v2");
        Cgroup::discover_in(&base.join("proc_cgroup"), &base.join("sys")).expect("fixture")
    })
}

/// Median time per call over `rounds` rounds of `iters` calls: the ratio printout uses its own
/// interleaved measurement so both sides see the same machine state.
fn median_ns(mut f: impl FnMut(), iters: u32, rounds: usize) -> f64 {
    let mut v: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ratios() {
    let mut statm = StatmProbe::open().expect("statm");
    let mut sys = SysinfoProbe::new().expect("sysinfo");
    let (mut fast, mut status, mut sysinfo) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        fast.push(median_ns(
            || {
                black_box(statm.process_memory().unwrap());
            },
            2000,
            5,
        ));
        status.push(median_ns(
            || {
                black_box(read_status_rss().unwrap());
            },
            500,
            5,
        ));
        sysinfo.push(median_ns(
            || {
                black_box(sys.process_memory().unwrap());
            },
            200,
            5,
        ));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (f, s, y) = (med(&mut fast), med(&mut status), med(&mut sysinfo));
    println!("\nsummary (interleaved medians, ns per sample):");
    println!("  leaksense statm pread        {f:>9.0} ns   1.0x");
    println!(
        "  /proc/self/status read whole {s:>9.0} ns  {:>5.1}x slower",
        s / f
    );
    println!(
        "  sysinfo process refresh      {y:>9.0} ns  {:>5.1}x slower",
        y / f
    );

    let cg = cgroup();
    let files = CgroupFiles::open(&cg);
    let (mut kept, mut reopen) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        kept.push(median_ns(
            || {
                black_box(files.read());
            },
            500,
            5,
        ));
        reopen.push(median_ns(
            || {
                black_box(cg.read());
            },
            200,
            5,
        ));
    }
    let (k, r) = (med(&mut kept), med(&mut reopen));
    println!("container sample ({:?}, {}):", cg.version, cg.dir.display());
    println!("  leaksense kept-open pread    {k:>9.0} ns   1.0x");
    println!(
        "  open + read + close each     {r:>9.0} ns  {:>5.1}x slower",
        r / k
    );
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
    // `cargo test --benches` runs this binary in test mode; skip the extra measurement there.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        ratios();
    }
}

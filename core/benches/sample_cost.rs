//! Cost of one process-memory sample: leaksense's kept-open statm `pread` against a sysinfo
//! refresh and against reading `/proc/self/status` whole, in the same run, with the ratios.
//! Then one container sample: the kept-open cgroup files against opening them each time. Then
//! the descriptor count: a `stat` of `/proc/self/fd` (its size, Linux 6.2+) against listing it
//! (what older kernels need, and what psutil's `num_fds` does), with few and with 10,000 open.
//!
//! Run: `cargo bench -p leaksense-core --bench sample_cost`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use leaksense_core::collect::cgroup::{Cgroup, CgroupFiles};
use leaksense_core::collect::procfs::{
    StatmProbe, count_fd_entries, fd_limit, open_fds, read_status_rss,
};
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

    let mut g = c.benchmark_group("descriptor_count");
    for extra in [0, EXTRA_FDS] {
        let _files = open_extra(extra);
        let n = open_fds().unwrap();
        g.bench_function(format!("leaksense_stat_size/{n}_fds"), |b| {
            b.iter(|| black_box(open_fds().unwrap()))
        });
        g.bench_function(format!("list_proc_self_fd/{n}_fds"), |b| {
            b.iter(|| black_box(count_fd_entries().unwrap()))
        });
    }
    g.finish();
}

/// Descriptors held open for the second descriptor-count measurement: a service leaking them.
const EXTRA_FDS: usize = 10_000;

/// `n` more open descriptors (fewer if the soft limit is near), closed when dropped.
fn open_extra(n: usize) -> Vec<std::fs::File> {
    let room = fd_limit().map_or(n, |l| {
        (l as usize).saturating_sub(open_fds().unwrap() as usize + 64)
    });
    (0..n.min(room))
        .map(|_| std::fs::File::open("/dev/null").expect("/dev/null"))
        .collect()
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

    println!("descriptor count:");
    for extra in [0, EXTRA_FDS] {
        let _files = open_extra(extra);
        let n = open_fds().unwrap();
        assert_eq!(n, count_fd_entries().unwrap(), "both ways count the same");
        let (mut stat, mut list) = (Vec::new(), Vec::new());
        for _ in 0..15 {
            stat.push(median_ns(
                || {
                    black_box(open_fds().unwrap());
                },
                500,
                5,
            ));
            list.push(median_ns(
                || {
                    black_box(count_fd_entries().unwrap());
                },
                if extra == 0 { 200 } else { 5 },
                5,
            ));
        }
        let (st, li) = (med(&mut stat), med(&mut list));
        println!("  {n:>6} open: leaksense stat size {st:>9.0} ns   1.0x");
        println!(
            "  {n:>6} open: list /proc/self/fd  {li:>9.0} ns  {:>5.1}x slower",
            li / st
        );
    }
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

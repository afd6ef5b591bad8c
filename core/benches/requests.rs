//! Cost of one request's `begin` + `end`, alone and with a second thread contending, against a
//! naive `Mutex<HashMap<String, Stats>>` tracker in the same run; and the memory each holds
//! after a million distinct route strings.
//!
//! Run: `cargo bench -p leaksense-core --bench requests`

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use leaksense_core::requests::{RequestTracker, TrackerConfig};

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// The obvious implementation: one global mutex around a map of per-route running sums.
#[derive(Default)]
struct NaiveStats {
    count: u64,
    sum: f64,
    sumsq: f64,
    first_seen_ms: i64,
}

struct Naive {
    map: Mutex<HashMap<String, NaiveStats>>,
    origin: Instant,
}

struct NaiveToken<'a> {
    route: &'a str,
    start: f64,
}

impl Naive {
    fn new() -> Self {
        Naive {
            map: Mutex::new(HashMap::new()),
            origin: Instant::now(),
        }
    }
    fn begin<'a>(&self, route: &'a str, start: f64) -> NaiveToken<'a> {
        NaiveToken { route, start }
    }
    fn end(&self, tok: NaiveToken<'_>, end: f64) -> (f64, i64) {
        let d = end - tok.start;
        let now = self.origin.elapsed().as_millis() as i64;
        let mut map = self.map.lock().unwrap();
        // get_mut first, so a known route allocates nothing here either.
        let s = match map.get_mut(tok.route) {
            Some(s) => s,
            None => map.entry(tok.route.to_string()).or_insert(NaiveStats {
                first_seen_ms: now,
                ..Default::default()
            }),
        };
        s.count += 1;
        s.sum += d;
        s.sumsq += d * d;
        (d, s.first_seen_ms)
    }
}

trait Pair: Send + Sync {
    fn pair(&self, route: &str, x: f64);
}

impl Pair for RequestTracker {
    fn pair(&self, route: &str, x: f64) {
        let tok = self.begin(route, &[x]).unwrap();
        black_box(self.end(tok, &[x + 64.0]).unwrap());
    }
}

impl Pair for Naive {
    fn pair(&self, route: &str, x: f64) {
        let tok = self.begin(route, x);
        black_box(self.end(tok, x + 64.0));
    }
}

fn leaksense() -> Arc<RequestTracker> {
    Arc::new(RequestTracker::new(TrackerConfig::new(["heap_used"])).unwrap())
}

/// Times `iters` pairs on this thread while, optionally, another thread runs pairs on
/// `rival_route` as fast as it can.
/// What the second thread does while the first is timed.
#[derive(Clone, Copy)]
enum Rival {
    /// No second thread.
    None,
    /// Spins on arithmetic: the control, showing what a busy second core costs by itself
    /// (shared caches, frequency, a hypervisor's scheduling) without touching the tracker.
    Spin,
    /// Runs begin+end pairs on this route.
    Pairs(&'static str),
}

fn contended<T: Pair + 'static>(t: &Arc<T>, route: &str, rival: Rival, iters: u64) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let spawn = |r: Option<&'static str>| {
        let (t, stop) = (Arc::clone(t), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut x = 0.0;
            while !stop.load(Ordering::Relaxed) {
                match r {
                    Some(r) => t.pair(r, x),
                    None => x = black_box(x * 1.000_001 + 1.0),
                }
                x += 1.0;
            }
        })
    };
    let rival = match rival {
        Rival::None => None,
        Rival::Spin => Some(spawn(None)),
        Rival::Pairs(r) => Some(spawn(Some(r))),
    };
    // Let the rival get going before the clock starts.
    if rival.is_some() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let start = Instant::now();
    for i in 0..iters {
        t.pair(route, i as f64);
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = rival {
        h.join().unwrap();
    }
    elapsed
}

fn bench_pairs(c: &mut Criterion) {
    let ls = leaksense();
    let naive = Arc::new(Naive::new());
    for r in ["/api/users/:id", "/api/orders"] {
        ls.pair(r, 0.0);
        naive.pair(r, 0.0);
    }
    let cases: [(&str, Rival); 4] = [
        ("one_thread", Rival::None),
        ("second_thread_spinning", Rival::Spin),
        ("two_threads_same_route", Rival::Pairs("/api/users/:id")),
        ("two_threads_other_route", Rival::Pairs("/api/orders")),
    ];
    let mut g = c.benchmark_group("begin_end_pair");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, rival) in cases {
        g.bench_function(format!("{name}/leaksense"), |b| {
            b.iter_custom(|iters| contended(&ls, "/api/users/:id", rival, iters))
        });
        g.bench_function(format!("{name}/naive_mutex_hashmap"), |b| {
            b.iter_custom(|iters| contended(&naive, "/api/users/:id", rival, iters))
        });
    }
    g.finish();
}

/// Live heap bytes each tracker adds for a million distinct route strings (printed once).
fn memory_report() {
    let mut path = String::with_capacity(64);
    let mut fill = |p: &dyn Pair| {
        use std::fmt::Write;
        let before = counting_alloc::live();
        for i in 0..1_000_000 {
            path.clear();
            write!(path, "/users/{i}/profile").unwrap();
            p.pair(&path, 0.0);
        }
        counting_alloc::live() - before
    };
    let base = counting_alloc::live();
    let ls = leaksense();
    let empty = counting_alloc::live() - base;
    let ls_grow = fill(&*ls);
    let naive = Naive::new();
    let naive_grow = fill(&naive);
    println!(
        "memory/leaksense: {} KiB at construction + {} KiB after 1,000,000 distinct routes \
         (cap 1000; {} tracked)",
        empty / 1024,
        ls_grow / 1024,
        ls.route_count()
    );
    println!(
        "memory/naive_mutex_hashmap: {} KiB after 1,000,000 distinct routes ({} tracked)",
        naive_grow / 1024,
        naive.map.lock().unwrap().len()
    );
    println!(
        "memory/ratio naive/leaksense (total): {:.1}x",
        naive_grow as f64 / (empty + ls_grow) as f64
    );
}

criterion_group!(benches, bench_pairs);

fn main() {
    memory_report();
    benches();
    Criterion::default().configure_from_args().final_summary();
}

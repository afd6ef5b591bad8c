//! The hot path allocates nothing for a known route, and memory stays bounded by the route
//! cap however many distinct paths arrive. Measured with a counting global allocator.

use std::sync::Mutex;

use leaksense_core::requests::{OTHER_ROUTE, RequestTracker, TrackerConfig};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

static SERIAL: Mutex<()> = Mutex::new(());

use counting_alloc::{thread_allocs as allocs, thread_net_bytes};

#[test]
fn known_route_pair_allocates_nothing() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rss = || Some(123_456.0);
    let mut cfg = TrackerConfig::new(["heap_used", "objects"]);
    cfg.rss_source = Some(std::sync::Arc::new(rss));
    let t = RequestTracker::new(cfg).unwrap();
    let routes = ["/a", "/b/:id", "/c"];
    // Warm-up: interns the routes and gives this thread's shard their accumulators.
    for r in routes {
        let tok = t.begin_at(r, 0, &[1.0, 2.0]).unwrap();
        t.end_at(tok, 0, &[3.0, 2.0]).unwrap();
    }
    let before = allocs();
    // 10 slots of one minute: slot roll-overs fold counts into the preallocated ring.
    for i in 0..10_000i64 {
        let r = routes[i as usize % 3];
        let tok = t.begin_at(r, i * 60, &[i as f64, 5.0]).unwrap();
        let out = t.end_at(tok, i * 60, &[i as f64 + 100.0, 6.0]).unwrap();
        assert_eq!(out.deltas(), &[100.0, 1.0]);
        assert_eq!(out.rss_delta, Some(0.0));
    }
    // The real-clock path too.
    for _ in 0..1000 {
        let tok = t.begin("/a", &[0.0, 0.0]).unwrap();
        t.end(tok, &[1.0, 1.0]).unwrap();
    }
    // The bindings' path: route ids resolved once, then one `record` per request.
    let ids = routes.map(|r| t.route_id(r));
    for i in 0..10_000i64 {
        let id = ids[i as usize % 3];
        let rss = t.rss_now();
        let out = t
            .record_at(
                id,
                600_000 + i * 60,
                &[i as f64, 5.0],
                &[i as f64 + 7.0, 5.0],
                rss,
            )
            .unwrap();
        assert_eq!(out.deltas(), &[7.0, 0.0]);
        assert_eq!(out.rss_delta, Some(0.0));
    }
    for _ in 0..1000 {
        t.record(ids[0], &[0.0, 0.0], &[1.0, 1.0], f64::NAN)
            .unwrap();
    }
    assert_eq!(allocs() - before, 0, "the hot path allocated");
    let snap = t.snapshot();
    assert_eq!(snap.routes.iter().map(|r| r.count).sum::<u64>(), 22_003);
    assert_eq!(snap.measures, vec!["heap_used", "objects", "rss"]);
}

#[test]
fn a_million_distinct_paths_stay_bounded_by_the_cap() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let t = RequestTracker::new(TrackerConfig::new(["heap_used"])).unwrap();
    let mut path = String::with_capacity(64);
    let mut serve = |i: usize, t: &RequestTracker| {
        use std::fmt::Write;
        path.clear();
        write!(path, "/users/{i}/profile").unwrap();
        let tok = t.begin_at(&path, 0, &[0.0]).unwrap();
        t.end_at(tok, 0, &[1.0]).unwrap();
    };
    let base = thread_net_bytes();
    for i in 0..1000 {
        serve(i, &t);
    }
    let at_cap = thread_net_bytes();
    for i in 1000..1_000_000 {
        serve(i, &t);
    }
    let after = thread_net_bytes();
    assert_eq!(t.route_count(), 1000);
    eprintln!(
        "tracker growth: first 1000 routes {} B, next 999000 routes {} B",
        at_cap - base,
        after - at_cap
    );
    // Past the cap, new paths cost nothing: they are counted in `_other`.
    assert!(
        after - at_cap < 4096,
        "grew {} B past the cap",
        after - at_cap
    );
    let snap = t.snapshot();
    let other = snap.routes.iter().find(|r| r.route == OTHER_ROUTE).unwrap();
    assert_eq!(other.count, 999_000);
    assert_eq!(snap.routes.len(), 1001);
}

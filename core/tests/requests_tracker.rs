//! The request tracker's contract: errors on bad input, exact counts under concurrency,
//! the cardinality cap, slots and first-seen times.

use std::sync::Arc;

use leaksense_core::ErrorCode;
use leaksense_core::requests::{
    MAX_ROUTE_LEN, OTHER_ROUTE, RequestTracker, TrackerConfig, UNMATCHED_ROUTE, bucket_of,
};

fn tracker(measures: &[&str]) -> RequestTracker {
    RequestTracker::new(TrackerConfig::new(measures.iter().copied())).unwrap()
}

#[test]
fn bad_config_is_refused() {
    let bad = [
        TrackerConfig::new(["a", "b", "c", "d", "e"]),
        TrackerConfig::new(["a", "a"]),
        TrackerConfig::new([""]),
        TrackerConfig::new(["rss"]),
        TrackerConfig {
            max_routes: 0,
            ..TrackerConfig::new(["a"])
        },
        TrackerConfig {
            slot_ms: 10,
            ..TrackerConfig::new(["a"])
        },
        TrackerConfig {
            slots: 1,
            ..TrackerConfig::new(["a"])
        },
        TrackerConfig {
            shards: 0,
            ..TrackerConfig::new(["a"])
        },
    ];
    for cfg in bad {
        let e = RequestTracker::new(cfg.clone()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{cfg:?}");
    }
    assert!(RequestTracker::new(TrackerConfig::new(Vec::<String>::new())).is_ok());
}

#[test]
fn bad_measures_and_foreign_tokens_are_typed_errors() {
    let t = tracker(&["heap_used"]);
    assert_eq!(
        t.begin("/a", &[]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    assert_eq!(
        t.begin("/a", &[f64::NAN]).unwrap_err().code(),
        ErrorCode::NonFiniteValue
    );
    let tok = t.begin("/a", &[1.0]).unwrap();
    assert_eq!(
        t.end(tok, &[1.0, 2.0]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    assert_eq!(
        t.end(tok, &[f64::INFINITY]).unwrap_err().code(),
        ErrorCode::NonFiniteValue
    );
    assert_eq!(
        t.begin_at("/a", i64::MAX, &[1.0]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    assert_eq!(
        t.end_at(tok, i64::MIN, &[1.0]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    let huge = t.begin("/a", &[-1e308]).unwrap();
    assert_eq!(
        t.end(huge, &[1e308]).unwrap_err().code(),
        ErrorCode::NonFiniteValue
    );
    let other = tracker(&["heap_used"]);
    assert_eq!(
        other.end(tok, &[1.0]).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    // The failed ends recorded nothing; a good one does.
    assert!(t.snapshot().routes.is_empty());
    assert_eq!(t.end(tok, &[5.0]).unwrap().deltas(), &[4.0]);
    assert_eq!(t.snapshot().routes[0].count, 1);
}

#[test]
fn concurrent_counts_are_exact() {
    let t = Arc::new(tracker(&["heap_used"]));
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                for i in 0..5000i64 {
                    // Half on one shared route, half on a per-thread route, across 5 slots.
                    let route = if i % 2 == 0 {
                        "/shared".to_string()
                    } else {
                        format!("/t{k}")
                    };
                    let ts = 1_000_000 + i * 60;
                    let tok = t.begin_at(&route, ts, &[0.0]).unwrap();
                    t.end_at(tok, ts, &[(i % 7) as f64 * 1024.0]).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let snap = t.snapshot();
    let shared = snap.routes.iter().find(|r| r.route == "/shared").unwrap();
    assert_eq!(shared.count, 10_000);
    assert_eq!(snap.routes.len(), 5);
    let m = &shared.measures[0];
    // Deltas cycle 0..7 KiB evenly: mean 3 KiB.
    assert!((m.mean - 3.0 * 1024.0).abs() < 50.0, "{m:?}");
    assert_eq!(m.min, 0.0);
    assert_eq!(m.max, 6.0 * 1024.0);
    assert_eq!(
        m.histogram.iter().map(|&c| u64::from(c)).sum::<u64>(),
        10_000
    );
    assert!(m.histogram[0] > 0 && m.histogram[bucket_of(6144.0)] > 0);
    let slot_total: u64 = snap.slots.iter().flat_map(|s| s.counts.iter()).sum();
    assert_eq!(slot_total, 20_000);
    assert_eq!(
        snap.slots.len(),
        6,
        "{:?}",
        snap.slots.iter().map(|s| s.start_ms).collect::<Vec<_>>()
    );
    assert!(snap.slots.windows(2).all(|w| w[0].start_ms < w[1].start_ms));
}

#[test]
fn cap_overflow_and_odd_routes_go_to_other() {
    let t = RequestTracker::new(TrackerConfig {
        max_routes: 3,
        ..TrackerConfig::new(["m"])
    })
    .unwrap();
    let long = "x".repeat(MAX_ROUTE_LEN + 1);
    for (i, r) in ["/a", "/b", "/c", "/d", "/e", "", &long, OTHER_ROUTE, "/a"]
        .iter()
        .enumerate()
    {
        let tok = t.begin_at(r, 1000 + i as i64, &[0.0]).unwrap();
        t.end_at(tok, 1000 + i as i64, &[1.0]).unwrap();
    }
    let snap = t.snapshot();
    let get = |n: &str| snap.routes.iter().find(|r| r.route == n).map(|r| r.count);
    assert_eq!(t.route_count(), 3);
    assert_eq!(get("/a"), Some(2));
    assert_eq!(get("/d"), None);
    assert_eq!(get(OTHER_ROUTE), Some(5));
    let first_seen = |n: &str| {
        snap.routes
            .iter()
            .find(|r| r.route == n)
            .unwrap()
            .first_seen_ms
    };
    assert_eq!(first_seen("/a"), Some(1000));
    assert_eq!(first_seen("/c"), Some(1002));
    assert_eq!(first_seen(OTHER_ROUTE), Some(1003));
}

#[test]
fn unmatched_requests_are_their_own_route_not_the_overflow_bucket() {
    assert_ne!(UNMATCHED_ROUTE, OTHER_ROUTE);
    let t = tracker(&["m"]);
    let unmatched = t.route_id(UNMATCHED_ROUTE);
    assert_ne!(
        unmatched,
        t.route_id(""),
        "the overflow bucket has its own id"
    );
    assert_eq!(t.route_name(unmatched), Some(UNMATCHED_ROUTE));
}

#[test]
fn late_requests_land_in_their_own_slot_and_old_ones_fall_off_the_ring() {
    let t = RequestTracker::new(TrackerConfig {
        slots: 3,
        ..TrackerConfig::new(["m"])
    })
    .unwrap();
    let at = |ts: i64| {
        let tok = t.begin_at("/a", ts, &[0.0]).unwrap();
        t.end_at(tok, ts, &[0.0]).unwrap();
    };
    at(120_000); // slot 2
    at(60_000); // late: slot 1
    at(180_000); // slot 3
    at(240_000); // slot 4: slot 1 leaves the 3-slot ring
    at(0); // too old for the ring: counted on the route, not in a slot
    let snap = t.snapshot();
    let starts: Vec<i64> = snap.slots.iter().map(|s| s.start_ms).collect();
    assert_eq!(starts, vec![120_000, 180_000, 240_000]);
    assert_eq!(snap.routes[0].count, 5);
}

#[test]
fn real_clock_is_unix_ms() {
    let t = tracker(&[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let tok = t.begin("/a", &[]).unwrap();
    let out = t.end(tok, &[]).unwrap();
    assert!((out.ts_ms - now).abs() < 5_000);
    assert!(out.deltas().is_empty() && out.rss_delta.is_none());
}

#[test]
fn racing_inserts_keep_routes_unique_and_the_cap_exact() {
    let t = Arc::new(
        RequestTracker::new(TrackerConfig {
            max_routes: 1000,
            ..TrackerConfig::new(["m"])
        })
        .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|k| {
            let t = Arc::clone(&t);
            std::thread::spawn(move || {
                // Every thread inserts the same 2,000 routes, in different orders.
                for i in 0..2000usize {
                    let i = if k % 2 == 0 { i } else { 1999 - i };
                    let tok = t.begin_at(&format!("/r{i}"), 0, &[0.0]).unwrap();
                    t.end_at(tok, 0, &[0.0]).unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    assert_eq!(t.route_count(), 1000);
    let snap = t.snapshot();
    let mut names: Vec<&str> = snap.routes.iter().map(|r| r.route.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 1001, "a route was interned twice");
    assert_eq!(snap.routes.iter().map(|r| r.count).sum::<u64>(), 8000);
    // A route admitted by one thread is the same route for all: its count is a multiple of 4
    // unless it raced the cap, so at least most routes have all four threads' requests.
    let full = snap.routes.iter().filter(|r| r.count == 4).count();
    assert!(full >= 900, "{full}");
}

#[test]
fn tracker_is_shareable_and_the_token_is_small() {
    fn send_sync<T: Send + Sync>() {}
    fn copy<T: Copy>() {}
    send_sync::<RequestTracker>();
    copy::<leaksense_core::requests::RequestToken>();
    assert!(std::mem::size_of::<leaksense_core::requests::RequestToken>() <= 48);
}

proptest::proptest! {
    /// Any route string, measure values and injected times: a token and an outcome, or a typed
    /// error, never a panic; counts add up.
    #[test]
    fn hot_path_never_panics(
        reqs in proptest::collection::vec(
            (".{0,300}", proptest::prelude::any::<f64>(), proptest::prelude::any::<f64>(),
             proptest::prelude::any::<i64>()),
            0..60,
        ),
    ) {
        let t = RequestTracker::new(TrackerConfig { max_routes: 8, ..TrackerConfig::new(["m"]) })
            .unwrap();
        let mut ok = 0u64;
        for (route, a, b, ts) in reqs {
            if let Ok(tok) = t.begin_at(&route, ts, &[a])
                && t.end_at(tok, ts, &[b]).is_ok()
            {
                ok += 1;
            }
        }
        let snap = t.snapshot();
        proptest::prop_assert_eq!(snap.routes.iter().map(|r| r.count).sum::<u64>(), ok);
        for r in &snap.routes {
            proptest::prop_assert!(r.measures[0].mean.is_finite());
        }
        proptest::prop_assert!(t.route_count() <= 8);
    }
}

#[test]
fn reroute_moves_an_in_flight_request_and_refuses_foreign_tokens() {
    let t = tracker(&["heap_used"]);
    let tok = t.begin("", &[1.0]).unwrap();
    let moved = t.reroute(tok, "/users/:id").unwrap();
    assert_eq!(t.end(moved, &[4.0]).unwrap().deltas(), &[3.0]);
    let snap = t.snapshot();
    assert_eq!(snap.routes.len(), 1, "{:?}", snap.routes);
    assert_eq!(snap.routes[0].route, "/users/:id");
    assert_eq!(snap.routes[0].count, 1);
    let other = tracker(&["heap_used"]);
    assert_eq!(
        other.reroute(tok, "/x").unwrap_err().code(),
        ErrorCode::InvalidOption
    );
}

#[test]
fn record_counts_a_request_on_a_route_id_in_one_call() {
    let t = tracker(&["heap_used"]);
    let users = t.route_id("/users/:id");
    assert_eq!(t.route_id("/users/:id"), users, "ids are stable");
    let health = t.route_id_at("/health", 1_000).unwrap();
    assert_ne!(users, health);
    let out = t.record(users, &[100.0], &[164.0], f64::NAN).unwrap();
    assert_eq!(out.deltas(), [64.0]);
    assert_eq!(out.rss_delta, None, "no RSS source: no RSS delta");
    t.record_at(health, 61_000, &[5.0], &[4.0], f64::NAN)
        .unwrap();
    let snap = t.snapshot();
    let count = |r: &str| snap.routes.iter().find(|x| x.route == r).unwrap().count;
    assert_eq!((count("/users/:id"), count("/health")), (1, 1));
    let h = snap.routes.iter().find(|x| x.route == "/health").unwrap();
    assert_eq!(h.first_seen_ms, Some(1_000));
    assert!(
        snap.slots
            .iter()
            .any(|s| s.start_ms == 60_000 && s.counts.iter().sum::<u64>() == 1)
    );
    // Odd routes resolve to the overflow bucket's id, which records like any other.
    let other = t.route_id("");
    assert_eq!(t.route_name(other), Some(OTHER_ROUTE));
    t.record(other, &[0.0], &[0.0], f64::NAN).unwrap();
}

#[test]
fn record_refuses_unknown_ids_and_bad_measures_without_counting() {
    let t = tracker(&["heap_used"]);
    let a = t.route_id("/a");
    let unknown = [a + 1, u32::MAX, 1 << 20];
    for id in unknown {
        let e = t.record(id, &[0.0], &[1.0], f64::NAN).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidOption, "{id}");
    }
    let cases: [(&[f64], &[f64], ErrorCode); 5] = [
        (&[], &[1.0], ErrorCode::InvalidOption),
        (&[0.0], &[], ErrorCode::InvalidOption),
        (&[f64::NAN], &[1.0], ErrorCode::NonFiniteValue),
        (&[0.0], &[f64::INFINITY], ErrorCode::NonFiniteValue),
        (&[-1e308], &[1e308], ErrorCode::NonFiniteValue),
    ];
    for (start, end, code) in cases {
        assert_eq!(
            t.record(a, start, end, f64::NAN).unwrap_err().code(),
            code,
            "{start:?} {end:?}"
        );
    }
    assert_eq!(
        t.record_at(a, i64::MAX, &[0.0], &[1.0], f64::NAN)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidOption
    );
    assert!(t.snapshot().routes.is_empty(), "nothing was counted");
}

#[test]
fn record_reads_the_end_rss_itself_and_takes_the_start_from_the_binding() {
    let rss = Arc::new(std::sync::atomic::AtomicU64::new(1000));
    let source = Arc::clone(&rss);
    let cfg = TrackerConfig {
        rss_source: Some(Arc::new(move || {
            Some(source.load(std::sync::atomic::Ordering::Relaxed) as f64)
        })),
        ..TrackerConfig::new(Vec::<String>::new())
    };
    let t = RequestTracker::new(cfg).unwrap();
    assert!(t.reads_rss());
    let id = t.route_id("/a");
    let start = t.rss_now();
    assert_eq!(start, 1000.0);
    rss.store(5096, std::sync::atomic::Ordering::Relaxed);
    let out = t.record(id, &[], &[], start).unwrap();
    assert_eq!(out.rss_delta, Some(4096.0));
    // No start reading (NaN): counted, with no RSS delta.
    let out = t.record(id, &[], &[], f64::NAN).unwrap();
    assert_eq!(out.rss_delta, None);
    let snap = t.snapshot();
    assert_eq!(snap.measures, ["rss"]);
    assert_eq!(snap.routes[0].count, 2);
    assert_eq!(tracker(&[]).rss_now().to_bits(), f64::NAN.to_bits());
}

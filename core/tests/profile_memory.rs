//! The live-heap profile stays under 5 MB whatever the program: 100,000 distinct stacks (and
//! frames, and long names) are fed both ways, and a counting global allocator measures the
//! bytes the profile keeps. One test per binary, so no other test's allocations count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use leaksense_core::profile::{FrameRef, HeapProfile, PprofKind, ProfileConfig, StackSample};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: forwards to the system allocator; only adds to a counter of live bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const LIMIT: i64 = 5_000_000;
const STACKS: usize = 100_000;
const DEPTH: usize = 32;

#[test]
fn a_hundred_thousand_distinct_stacks_cost_under_5_mb() {
    // Inputs first, so that only the profile's own allocations are measured.
    let names: Vec<String> = (0..STACKS * 2)
        .map(|i| {
            format!(
                "github.com/example/service/internal/pkg{}.(*Handler).method{i}",
                i % 50
            )
        })
        .collect();
    let files: Vec<String> = (0..STACKS)
        .map(|i| format!("/home/build/go/src/github.com/example/service/internal/pkg{i}/file.go"))
        .collect();
    let frames: Vec<FrameRef<'_>> = names
        .iter()
        .zip(files.iter().cycle())
        .enumerate()
        .map(|(i, (f, file))| FrameRef {
            function: f,
            file,
            line: i as u32,
        })
        .collect();
    // Each stack: its own two leaf frames, then 30 frames shared in a rotating window.
    let stacks: Vec<Vec<u32>> = (0..STACKS)
        .map(|i| {
            let mut s = vec![(2 * i) as u32, (2 * i + 1) as u32];
            s.extend((0..DEPTH - 2).map(|d| ((i * 7 + d) % frames.len()) as u32));
            s
        })
        .collect();
    let samples: Vec<StackSample<'_>> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| StackSample {
            frames: s,
            objects: 1 + i as u64 % 5,
            bytes: 4096 * (1 + i as u64 % 5),
        })
        .collect();

    let before = LIVE.load(Relaxed);
    let whole = HeapProfile::new(ProfileConfig::default()).unwrap();
    for round in 0..10 {
        let part = &samples[round * STACKS / 10..(round + 1) * STACKS / 10];
        whole
            .replace(round as i64 * 300_000, &frames, part, 524_288)
            .unwrap();
    }
    let kept = LIVE.load(Relaxed) - before;
    let stats = whole.stats();
    assert!(kept < LIMIT, "the whole-profile feed keeps {kept} bytes");
    assert!(stats.overflowed > 0, "the caps were reached");
    // The profile's own estimate of its size is close to what the allocator saw.
    let est = stats.heap_bytes as f64;
    assert!(
        (est / kept as f64 - 1.0).abs() < 0.35,
        "estimate {est} vs {kept}"
    );
    // Reports and exports are transient.
    let growth = whole.growth(Some(0), Some(1e9)).unwrap();
    assert!(!growth.sites.is_empty());
    let pb = whole.pprof(PprofKind::Inuse, None).unwrap();
    assert!(!pb.is_empty());
    drop((growth, pb));
    assert_eq!(LIVE.load(Relaxed) - before, kept);
    // Printed only now: the test harness's output capture allocates too.
    println!("whole-profile feed: {kept} bytes kept, {stats:?}");
    drop(whole);

    let before = LIVE.load(Relaxed);
    let allocs = HeapProfile::new(ProfileConfig::default()).unwrap();
    for (i, s) in stacks.iter().enumerate() {
        let fr: Vec<FrameRef<'_>> = s.iter().map(|&f| frames[f as usize]).collect();
        let addr = (i as u64 + 1) * 64;
        allocs.record_alloc(addr, 4096, &fr, Some(&names[i % 2000]));
        if i % 4 != 0 {
            allocs.record_free(addr);
        }
        if i % 5000 == 0 {
            allocs.tick(i as i64 * 60_000);
        }
    }
    let kept = LIVE.load(Relaxed) - before;
    println!("allocation feed: {kept} bytes kept, {:?}", allocs.stats());
    assert!(kept < LIMIT, "the allocation feed keeps {kept} bytes");
    assert!(
        allocs.stats().dropped_samples > 0,
        "the block table's cap was reached"
    );
    drop(allocs);

    // Short names, deep stacks: the stack table (not the name budget) is what fills.
    let short: Vec<String> = (0..4000).map(|i| format!("f{i}")).collect();
    let frames: Vec<FrameRef<'_>> = short
        .iter()
        .map(|f| FrameRef {
            function: f,
            file: "a.py",
            line: 1,
        })
        .collect();
    let stacks: Vec<Vec<u32>> = (0..STACKS)
        .map(|i| {
            let mut s = vec![(i % 4000) as u32, (i / 4000) as u32];
            s.extend((0..62).map(|d| ((i * 31 + d * 7) % 4000) as u32));
            s
        })
        .collect();
    let samples: Vec<StackSample<'_>> = stacks
        .iter()
        .map(|s| StackSample {
            frames: s,
            objects: 1,
            bytes: 64,
        })
        .collect();
    let before = LIVE.load(Relaxed);
    let deep = HeapProfile::new(ProfileConfig::default()).unwrap();
    for round in 0..20 {
        let part = &samples[round * STACKS / 20..(round + 1) * STACKS / 20];
        deep.replace(round as i64 * 300_000, &frames, part, 1)
            .unwrap();
    }
    let kept = LIVE.load(Relaxed) - before;
    let stats = deep.stats();
    println!("deep stacks: {kept} bytes kept, {stats:?}");
    assert_eq!(stats.stacks, ProfileConfig::default().max_stacks);
    assert!(kept < LIMIT, "deep stacks keep {kept} bytes");
}

//! The process-memory fast path and the kept-open cgroup files allocate nothing per sample, proven with a counting global
//! allocator. Counting is per thread so other test threads cannot disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use leaksense_core::collect::MemoryProbe;
use leaksense_core::collect::cgroup::{Cgroup, CgroupFiles};
use leaksense_core::collect::procfs::StatmProbe;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only adds a thread-local counter increment.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn statm_sampling_allocates_nothing() {
    let mut probe = StatmProbe::open().unwrap();
    probe.process_memory().unwrap();
    let before = allocations();
    let mut total = 0u64;
    for _ in 0..10_000 {
        total = total.wrapping_add(probe.process_memory().unwrap().rss_bytes);
    }
    let after = allocations();
    assert!(total > 0);
    assert_eq!(after - before, 0, "the statm fast path allocated");
}

#[test]
fn a_whole_snapshot_allocates_nothing() {
    // statm, the peak (getrusage) and this machine's cgroup files, if any: what a scrape reads.
    let mut c = leaksense_core::collect::Collector::new().unwrap();
    c.snapshot().unwrap();
    let before = allocations();
    let mut peak = 0u64;
    for _ in 0..1_000 {
        peak = peak.max(c.snapshot().unwrap().peak_rss.unwrap());
        peak = peak.max(c.scrape().unwrap().peak_rss.unwrap());
    }
    let after = allocations();
    assert!(peak > 0);
    assert_eq!(after - before, 0, "a collector snapshot allocated");
}

#[test]
fn container_sampling_allocates_nothing() {
    // The v2 fixture (limit, usage and events files), so the test runs on any machine.
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cgroup/v2");
    let cg = Cgroup::discover_in(&base.join("proc_cgroup"), &base.join("sys")).unwrap();
    let files = CgroupFiles::open(&cg);
    files.read();
    let before = allocations();
    let mut total = 0u64;
    for _ in 0..1_000 {
        let m = files.read();
        total = total.wrapping_add(m.usage.unwrap() + m.limit.unwrap() + m.oom_kill.unwrap());
    }
    let after = allocations();
    assert!(total > 0);
    assert_eq!(
        after - before,
        0,
        "reading the kept-open cgroup files allocated"
    );
}

#[test]
fn the_counter_does_count() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 100]);
    assert!(allocations() > before);
    drop(v);
}

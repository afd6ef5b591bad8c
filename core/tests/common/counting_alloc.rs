//! A counting global allocator shared by the tests and benches that measure memory: it tracks
//! live heap bytes (what a runtime's "heap used" is) and allocations per thread. Include it
//! with `#[path]` and install it with `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

/// Forwards to the system allocator and counts.
pub struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);

thread_local! {
    // Per thread, so the test harness's other threads do not disturb a count.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    // Bytes allocated minus bytes freed by this thread.
    static NET: Cell<i64> = const { Cell::new(0) };
}

/// Bytes this thread allocated minus bytes it freed (immune to the harness's other threads).
#[allow(dead_code)]
pub fn thread_net_bytes() -> i64 {
    NET.with(|c| c.get())
}

/// Live heap bytes now.
#[allow(dead_code)]
pub fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) made by this thread so far.
#[allow(dead_code)]
pub fn thread_allocs() -> u64 {
    ALLOCS.with(|c| c.get())
}

// SAFETY: forwards every call to the system allocator and only adds bookkeeping; a const
// thread-local Cell needs no allocation and no destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        NET.with(|c| c.set(c.get() + l.size() as i64));
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NET.with(|c| c.set(c.get() - l.size() as i64));
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        NET.with(|c| c.set(c.get() + new as i64 - l.size() as i64));
        LIVE.fetch_add(new as i64 - l.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

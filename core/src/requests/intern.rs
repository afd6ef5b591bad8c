//! Route interning: a fixed-capacity, lock-free open-addressing table from route string to a
//! small integer id.
//!
//! Why this shape rather than `RwLock<HashMap>` or a sharded map: the table never resizes (its
//! capacity is fixed by the cardinality cap), so a slot, once written, never moves. A lookup of
//! a known route is then a hash, a few acquire loads and one string compare, with no lock and
//! no write to shared memory, so two threads reading the same route do not bounce a cache line
//! (an `RwLock` read still does an atomic read-modify-write on its counter). Inserting a new
//! route claims an empty slot with `OnceLock::set`; losers of a race re-read the winner's value
//! and keep probing. The hash is std's keyed SipHash (`RandomState`): an attacker who sends a
//! million crafted paths cannot aim them at one probe chain, which a fixed FNV/Fx hash allows.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Routes longer than this go to the overflow bucket, so one request cannot pin a huge string.
pub const MAX_ROUTE_LEN: usize = 256;

/// The name of the overflow bucket for routes beyond the cap (and empty or over-long routes).
pub const OTHER_ROUTE: &str = "_other";

/// The route every binding's middleware gives a request that no framework route matched and
/// no user code named (404s): an ordinary route, kept apart from the overflow bucket.
pub const UNMATCHED_ROUTE: &str = "_unmatched";

struct Entry {
    hash: u64,
    first_seen_ms: i64,
    name: Box<str>,
}

/// The interning table. Ids `0..capacity()` are table slots; `other_id()` is the overflow bucket.
pub(crate) struct RouteTable {
    // Everything about a route is published at once by `OnceLock::set`, so a reader that sees
    // the entry sees all of it.
    slots: Box<[OnceLock<Entry>]>,
    mask: usize,
    max_routes: usize,
    len: AtomicUsize,
    other_first_seen_ms: AtomicI64,
    hasher: RandomState,
    // Held only while a new route is written into its slot. A `OnceLock` being set is
    // "running" until it is done, and a fork at that instant would leave that slot blocking
    // every later insert in the child forever; the fork handler takes this lock first.
    inserting: Mutex<()>,
}

impl RouteTable {
    /// A table that admits at most `max_routes` distinct routes (at least 1).
    pub fn new(max_routes: usize) -> Self {
        // Load factor <= 0.5 keeps probe chains short, and guarantees an empty slot exists.
        let capacity = (max_routes.max(1) * 2).next_power_of_two();
        RouteTable {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            mask: capacity - 1,
            max_routes: max_routes.max(1),
            len: AtomicUsize::new(0),
            other_first_seen_ms: AtomicI64::new(i64::MAX),
            hasher: RandomState::new(),
            inserting: Mutex::new(()),
        }
    }

    /// Number of table slots; ids below this are routes.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The id of the overflow bucket.
    pub fn other_id(&self) -> u32 {
        self.slots.len() as u32
    }

    /// Number of distinct routes admitted so far (the overflow bucket not included).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed).min(self.max_routes)
    }

    /// Finds or inserts `route` and returns its id. `now_ms` is called only when the route is
    /// new (it is the route's first-seen time), so the known-route path reads no clock.
    pub fn intern(&self, route: &str, now_ms: impl FnOnce() -> i64) -> u32 {
        if route.is_empty() || route.len() > MAX_ROUTE_LEN || route == OTHER_ROUTE {
            return self.other(now_ms);
        }
        let hash = self.hasher.hash_one(route);
        let mut i = hash as usize & self.mask;
        let mut now_ms = Some(now_ms);
        let mut first_seen = i64::MAX;
        // The table is at most half full, so a probe meets the route or an empty slot well
        // before it wraps around; the bound only guards the invariant.
        for _ in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.get().is_none() {
                // Reserve a place under the cap before claiming the slot.
                if self.len.fetch_add(1, Ordering::Relaxed) >= self.max_routes {
                    self.len.fetch_sub(1, Ordering::Relaxed);
                    return self.other(|| now_ms.take().map_or(first_seen, |f| f()));
                }
                if let Some(f) = now_ms.take() {
                    first_seen = f();
                }
                let entry = Entry {
                    hash,
                    first_seen_ms: first_seen,
                    name: route.into(),
                };
                let set = {
                    let _inserting = self.insert_lock();
                    slot.set(entry)
                };
                if set.is_ok() {
                    return i as u32;
                }
                // Another thread filled this slot first: give the reservation back and look
                // at what it wrote.
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            if let Some(e) = slot.get()
                && e.hash == hash
                && &*e.name == route
            {
                return i as u32;
            }
            i = (i + 1) & self.mask;
        }
        self.other(|| first_seen)
    }

    /// The lock a new route's insertion holds (the fork handler takes it too).
    pub fn insert_lock(&self) -> MutexGuard<'_, ()> {
        self.inserting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn other(&self, now_ms: impl FnOnce() -> i64) -> u32 {
        if self.other_first_seen_ms.load(Ordering::Relaxed) == i64::MAX {
            self.other_first_seen_ms
                .fetch_min(now_ms(), Ordering::Relaxed);
        }
        self.other_id()
    }

    /// The name of a route id, if it names a route (or the overflow bucket).
    pub fn name(&self, id: u32) -> Option<&str> {
        if id == self.other_id() {
            return Some(OTHER_ROUTE);
        }
        self.slots.get(id as usize)?.get().map(|e| &*e.name)
    }

    /// When the route was first seen, in unix ms.
    pub fn first_seen_ms(&self, id: u32) -> Option<i64> {
        let v = if id == self.other_id() {
            self.other_first_seen_ms.load(Ordering::Relaxed)
        } else {
            self.slots.get(id as usize)?.get()?.first_seen_ms
        };
        (v != i64::MAX).then_some(v)
    }
}

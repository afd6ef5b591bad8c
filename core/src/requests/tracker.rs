//! The request hot path: `begin` / `end`, per-route aggregates and per-slot request counts.
//!
//! Concurrency design. Route names go through a lock-free interning table (see `intern.rs`).
//! Statistics live in per-thread shards: each thread is pinned to one shard (round-robin on
//! first use) and updates it under that shard's own mutex. With at least as many shards as
//! busy threads the mutex is uncontended, so a pair costs one uncontended lock and no shared
//! cache-line traffic, even when every thread serves the same route; per-route atomics would
//! make exactly that case (one hot route) bounce a line between cores. Shards are merged only
//! when a snapshot is taken. Per-slot request counts are kept dense per shard for the current
//! slot and folded into one bounded global ring when the slot rolls over (about once a minute
//! per shard), which is the only time the global ring's mutex is taken on the request path.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

mod deferred;

use super::intern::RouteTable;
use super::stats::{MeasureSummary, RouteAcc};
use crate::error::InputError;

/// Most runtime measures a tracker accepts (the optional RSS measure comes on top).
pub const MAX_MEASURES: usize = 4;

/// The name under which the core-read RSS delta is reported.
pub const RSS_MEASURE: &str = "rss";

/// A reading the core takes itself at `begin` and `end` (process RSS from the collect module).
/// `None` means the read failed; that request then has no delta for this measure.
pub trait MeasureSource: Send + Sync {
    /// Reads the current value (bytes).
    fn read(&self) -> Option<f64>;
}

impl<F: Fn() -> Option<f64> + Send + Sync> MeasureSource for F {
    fn read(&self) -> Option<f64> {
        self()
    }
}

/// How a [`RequestTracker`] is built.
#[derive(Clone)]
pub struct TrackerConfig {
    /// Names of the runtime measures the binding passes to `begin`/`end`, in order
    /// (e.g. `["heap_used"]` in Node, `["allocated_blocks", "traced_bytes"]` in Python).
    pub measures: Vec<String>,
    /// Distinct routes tracked before the rest go to `_other` (default 1,000).
    pub max_routes: usize,
    /// Width of a request-count slot in milliseconds (default 60,000).
    pub slot_ms: i64,
    /// Slots kept in the ring (default 720: 12 h of one-minute slots, enough for the
    /// article's 6 h before-window plus 6 h after growth began).
    pub slots: usize,
    /// Statistics shards (default: twice the number of CPUs, clamped to 4..=64). Threads
    /// running at once get distinct shards while they are fewer than this.
    pub shards: usize,
    /// Optional source read by the core at `begin` and `end`, reported as the `rss` measure.
    /// Costs one read (~0.3 µs for a statm pread) at each end of a request.
    pub rss_source: Option<Arc<dyn MeasureSource>>,
}

impl std::fmt::Debug for TrackerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackerConfig")
            .field("measures", &self.measures)
            .field("max_routes", &self.max_routes)
            .field("slot_ms", &self.slot_ms)
            .field("slots", &self.slots)
            .field("shards", &self.shards)
            .field("rss_source", &self.rss_source.is_some())
            .finish()
    }
}

impl TrackerConfig {
    /// Defaults for the given measure names.
    pub fn new<S: Into<String>>(measures: impl IntoIterator<Item = S>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        TrackerConfig {
            measures: measures.into_iter().map(Into::into).collect(),
            max_routes: 1000,
            slot_ms: 60_000,
            slots: 720,
            shards: (2 * cpus).clamp(4, 64),
            rss_source: None,
        }
    }

    fn validate(&self) -> Result<(), InputError> {
        if self.measures.len() > MAX_MEASURES {
            return Err(InputError::invalid_option(
                "measures",
                format!(
                    "at most {MAX_MEASURES} measures, got {}",
                    self.measures.len()
                ),
            ));
        }
        for (i, m) in self.measures.iter().enumerate() {
            if m.is_empty() || m == RSS_MEASURE || self.measures[..i].contains(m) {
                return Err(InputError::invalid_option(
                    "measures",
                    format!("measure name {m:?} is empty, reserved or repeated"),
                ));
            }
        }
        if !(1..=100_000).contains(&self.max_routes) {
            return Err(InputError::invalid_option(
                "max_routes",
                "must be in 1..=100000",
            ));
        }
        if !(1_000..=86_400_000).contains(&self.slot_ms) {
            return Err(InputError::invalid_option(
                "slot_ms",
                "must be between 1 s and 1 day",
            ));
        }
        if !(2..=100_000).contains(&self.slots) {
            return Err(InputError::invalid_option("slots", "must be in 2..=100000"));
        }
        if !(1..=256).contains(&self.shards) {
            return Err(InputError::invalid_option("shards", "must be in 1..=256"));
        }
        Ok(())
    }
}

/// Handle for one request in flight: small, `Copy`, no heap. Pass it back to `end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestToken {
    tracker: u32,
    route: u32,
    start: [f64; MAX_MEASURES],
    rss_start: f64,
}

impl RequestToken {
    /// The interned route id (stable for the tracker's lifetime).
    pub fn route_id(&self) -> u32 {
        self.route
    }
}

/// What `end` returns: the per-measure deltas for the request's span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestOutcome {
    n: usize,
    deltas: [f64; MAX_MEASURES],
    /// Change in process RSS over the request, when the tracker reads RSS and both reads worked.
    pub rss_delta: Option<f64>,
    /// The time the request was counted at (unix ms).
    pub ts_ms: i64,
}

impl RequestOutcome {
    /// The deltas of the runtime measures, in the order declared in the config.
    pub fn deltas(&self) -> &[f64] {
        &self.deltas[..self.n]
    }
}

// Keeps each shard on its own cache lines (128 covers adjacent-line prefetch on x86).
#[repr(align(128))]
struct Padded<T>(T);

struct Shard {
    routes: Vec<Option<Box<RouteAcc>>>,
    slot: i64,
    // [start, end) of `slot` in ms, so the common case needs no division.
    slot_range: (i64, i64),
    counts: Vec<u32>,
    touched: Vec<u32>,
}

/// Route counts each ring slot has room for from the start. The ring is allocated up front so
/// that the tracker's own memory does not creep up while the ring fills (which a leak
/// detector watching the same heap would see as growth); a slot with more active routes than
/// this grows once, still bounded by the route cap.
const SLOT_PREALLOC: usize = 64;

struct SlotEntry {
    slot: i64,
    // Sorted by route id; bounded by the number of route ids.
    counts: Vec<(u32, u32)>,
}

struct SlotRing {
    entries: Vec<SlotEntry>,
}

impl SlotRing {
    fn add(&mut self, slot: i64, route: u32, n: u32) {
        let len = self.entries.len() as i64;
        let e = &mut self.entries[slot.rem_euclid(len) as usize];
        if e.slot != slot {
            if e.slot > slot {
                return; // older than anything the ring holds
            }
            e.slot = slot;
            e.counts.clear();
        }
        match e.counts.binary_search_by_key(&route, |c| c.0) {
            Ok(i) => e.counts[i].1 = e.counts[i].1.saturating_add(n),
            Err(i) => e.counts.insert(i, (route, n)),
        }
    }
}

static NEXT_TRACKER: AtomicU32 = AtomicU32::new(1);
/// Small dense thread numbers, reused after a thread exits, so that the threads alive at once
/// map to distinct shards (a plain counter would let a churning thread pool pile onto one
/// shard). Taken once per thread, off the request path.
static FREE_THREAD_IDS: Mutex<(usize, Vec<usize>)> = Mutex::new((0, Vec::new()));

struct ThreadNumber(usize);

/// The thread-number lock, for the fork handler: a thread starting or exiting holds it.
#[cfg(feature = "collect")]
pub(crate) fn thread_ids_guard() -> crate::fork::Guard<'static> {
    Box::new(lock(&FREE_THREAD_IDS))
}

impl ThreadNumber {
    fn acquire() -> Self {
        let mut g = lock(&FREE_THREAD_IDS);
        let (next, free) = &mut *g;
        if let Some(pos) = free
            .iter()
            .enumerate()
            .min_by_key(|(_, v)| **v)
            .map(|(i, _)| i)
        {
            return ThreadNumber(free.swap_remove(pos));
        }
        *next += 1;
        ThreadNumber(*next - 1)
    }
}

impl Drop for ThreadNumber {
    fn drop(&mut self) {
        lock(&FREE_THREAD_IDS).1.push(self.0);
    }
}

thread_local! {
    static THREAD_NUMBER: ThreadNumber = ThreadNumber::acquire();
}

/// A cheap wall clock: a monotonic read plus the wall time captured at construction, so the
/// clock never steps backwards when NTP adjusts the system time. On Linux it reads
/// `CLOCK_MONOTONIC_COARSE` (about 5 ns, tick resolution of 1-4 ms, ample for one-minute slots)
/// instead of `Instant::now()` (`CLOCK_MONOTONIC`, about 20 ns here).
#[derive(Debug, Clone, Copy)]
struct Clock {
    origin_mono_ms: i64,
    origin_ms: i64,
}

#[cfg(all(feature = "collect", target_os = "linux"))]
fn monotonic_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE exists on every Linux
    // since 2.6.32, and on failure `ts` stays zeroed, which only freezes the slot clock.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
}

#[cfg(not(all(feature = "collect", target_os = "linux")))]
fn monotonic_ms() -> i64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as i64
}

impl Clock {
    fn new() -> Self {
        let origin_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Clock {
            origin_mono_ms: monotonic_ms(),
            origin_ms,
        }
    }

    fn now_ms(&self) -> i64 {
        self.origin_ms + (monotonic_ms() - self.origin_mono_ms)
    }
}

/// Per-request memory tracker: interns routes, aggregates per-route deltas and counts
/// requests per time slot. `Send + Sync`; share it by reference or `Arc` across threads.
pub struct RequestTracker {
    id: u32,
    measures: Vec<String>,
    rss_source: Option<Arc<dyn MeasureSource>>,
    table: RouteTable,
    shards: Box<[Padded<Mutex<Shard>>]>,
    ring: Mutex<SlotRing>,
    slot_ms: i64,
    clock: Clock,
}

impl std::fmt::Debug for RequestTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTracker")
            .field("measures", &self.measures)
            .field("routes", &self.table.len())
            .finish_non_exhaustive()
    }
}

// A poisoned lock only means another thread panicked mid-update of plain counters; the data
// is still usable, and the tracker must never take the host down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RequestTracker {
    /// Builds a tracker; errors on an invalid config.
    pub fn new(config: TrackerConfig) -> Result<Self, InputError> {
        config.validate()?;
        let table = RouteTable::new(config.max_routes);
        let ids = table.capacity() + 1;
        let shards = (0..config.shards)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    routes: (0..ids).map(|_| None).collect(),
                    slot: i64::MIN,
                    slot_range: (0, 0),
                    counts: vec![0; ids],
                    touched: Vec::with_capacity(ids),
                }))
            })
            .collect();
        let ring = SlotRing {
            entries: (0..config.slots)
                .map(|_| SlotEntry {
                    slot: i64::MIN,
                    counts: Vec::with_capacity(SLOT_PREALLOC),
                })
                .collect(),
        };
        let mut measures = config.measures;
        if config.rss_source.is_some() {
            measures.push(RSS_MEASURE.to_string());
        }
        Ok(RequestTracker {
            id: NEXT_TRACKER.fetch_add(1, Ordering::Relaxed),
            measures,
            rss_source: config.rss_source,
            table,
            shards,
            ring: Mutex::new(ring),
            slot_ms: config.slot_ms,
            clock: Clock::new(),
        })
    }

    /// Names of all measures, runtime ones first, then `rss` if the tracker reads it.
    pub fn measures(&self) -> &[String] {
        &self.measures
    }

    /// How many measures the binding passes to `begin` and `end` (all but `rss`).
    pub fn runtime_measures(&self) -> usize {
        self.measures.len() - usize::from(self.rss_source.is_some())
    }

    /// The current time on the tracker's clock (unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Starts tracking a request on `route` with the runtime measures read now.
    pub fn begin(&self, route: &str, start: &[f64]) -> Result<RequestToken, InputError> {
        self.begin_inner(route, start, || self.clock.now_ms())
    }

    /// `begin` with an injected time (tests, replays). The time matters only for a new
    /// route, whose first-seen time it sets.
    pub fn begin_at(
        &self,
        route: &str,
        ts_ms: i64,
        start: &[f64],
    ) -> Result<RequestToken, InputError> {
        crate::series::check_ts("ts_ms", ts_ms)?;
        self.begin_inner(route, start, || ts_ms)
    }

    // Checks a binding's measure slice (length and finiteness) and copies it inline.
    fn measures_in(
        &self,
        what: &'static str,
        values: &[f64],
    ) -> Result<[f64; MAX_MEASURES], InputError> {
        let n = self.runtime_measures();
        if values.len() != n {
            return Err(InputError::invalid_option(
                what,
                format!("expected {n} measures, got {}", values.len()),
            ));
        }
        let mut buf = [0.0; MAX_MEASURES];
        for (index, (&v, slot)) in values.iter().zip(buf.iter_mut()).enumerate() {
            if !v.is_finite() {
                return Err(InputError::NonFinite {
                    index,
                    what,
                    value: v,
                });
            }
            *slot = v;
        }
        Ok(buf)
    }

    fn begin_inner(
        &self,
        route: &str,
        start: &[f64],
        now_ms: impl FnOnce() -> i64,
    ) -> Result<RequestToken, InputError> {
        let buf = self.measures_in("start", start)?;
        let route = self.table.intern(route, now_ms);
        Ok(RequestToken {
            tracker: self.id,
            route,
            start: buf,
            rss_start: self.rss_now(),
        })
    }

    /// The same in-flight request moved to `route`: for frameworks that know the route only
    /// after routing ran (Express sets `req.route` once the request has begun).
    pub fn reroute(&self, token: RequestToken, route: &str) -> Result<RequestToken, InputError> {
        if token.tracker != self.id {
            return Err(InputError::invalid_option(
                "token",
                "the token was not issued by this tracker",
            ));
        }
        let route = self.table.intern(route, || self.clock.now_ms());
        Ok(RequestToken { route, ..token })
    }

    /// Ends a request: records its deltas and counts it in the current slot.
    pub fn end(&self, token: RequestToken, end: &[f64]) -> Result<RequestOutcome, InputError> {
        self.end_inner(token, end, None)
    }

    /// `end` with an injected time (tests, replays): the slot the request is counted in.
    pub fn end_at(
        &self,
        token: RequestToken,
        ts_ms: i64,
        end: &[f64],
    ) -> Result<RequestOutcome, InputError> {
        crate::series::check_ts("ts_ms", ts_ms)?;
        self.end_inner(token, end, Some(ts_ms))
    }

    fn end_inner(
        &self,
        token: RequestToken,
        end: &[f64],
        ts_ms: Option<i64>,
    ) -> Result<RequestOutcome, InputError> {
        if token.tracker != self.id || token.route > self.table.other_id() {
            return Err(InputError::invalid_option(
                "token",
                "the token was not issued by this tracker",
            ));
        }
        self.record_inner(token.route, &token.start, end, token.rss_start, ts_ms)
    }

    /// The id of `route`, interned now if new (beyond the cap, the `_other` bucket's id).
    /// Stable for the tracker's lifetime: a binding resolves each route once and keeps the id
    /// (in a cache capped like this table), so no string crosses into the core per request.
    pub fn route_id(&self, route: &str) -> u32 {
        self.table.intern(route, || self.clock.now_ms())
    }

    /// [`RequestTracker::route_id`] with an injected first-seen time (tests, replays).
    pub fn route_id_at(&self, route: &str, ts_ms: i64) -> Result<u32, InputError> {
        crate::series::check_ts("ts_ms", ts_ms)?;
        Ok(self.table.intern(route, || ts_ms))
    }

    /// Records one finished request on a route id in a single call: the runtime measures read
    /// at its start and at its end, and `rss_start`, the reading of [`RequestTracker::rss_now`]
    /// taken at its start (NaN when the tracker reads no RSS; the core reads the end itself).
    /// The request is counted at the tracker's clock now. This is the bindings' hot path: it
    /// needs no token and no call at the start of the request.
    pub fn record(
        &self,
        route: u32,
        start: &[f64],
        end: &[f64],
        rss_start: f64,
    ) -> Result<RequestOutcome, InputError> {
        let start = self.measures_in("start", start)?;
        self.record_inner(route, &start, end, rss_start, None)
    }

    /// [`RequestTracker::record`] counted at an injected time (tests, replays).
    pub fn record_at(
        &self,
        route: u32,
        ts_ms: i64,
        start: &[f64],
        end: &[f64],
        rss_start: f64,
    ) -> Result<RequestOutcome, InputError> {
        crate::series::check_ts("ts_ms", ts_ms)?;
        let start = self.measures_in("start", start)?;
        self.record_inner(route, &start, end, rss_start, Some(ts_ms))
    }

    /// Process RSS now from the tracker's source, for the start of a request passed to
    /// `record` (NaN when the tracker reads no RSS or the read failed).
    pub fn rss_now(&self) -> f64 {
        self.rss_source
            .as_ref()
            .and_then(|s| s.read())
            .unwrap_or(f64::NAN)
    }

    /// Whether the tracker reads process RSS per request (then a binding passes
    /// [`RequestTracker::rss_now`] taken at the start of each request to `record`).
    pub fn reads_rss(&self) -> bool {
        self.rss_source.is_some()
    }

    fn record_inner(
        &self,
        route: u32,
        start: &[f64; MAX_MEASURES],
        end: &[f64],
        rss_start: f64,
        ts_ms: Option<i64>,
    ) -> Result<RequestOutcome, InputError> {
        if self.table.name(route).is_none() {
            return Err(InputError::invalid_option(
                "route",
                format!("{route} is not a route id of this tracker"),
            ));
        }
        let n = self.runtime_measures();
        let mut deltas = self.measures_in("end", end)?;
        for (index, (d, s)) in deltas.iter_mut().zip(start).enumerate() {
            *d -= s;
            // Two finite values can still differ by more than f64 holds (1e308 - -1e308).
            if !d.is_finite() {
                return Err(InputError::NonFinite {
                    index,
                    what: "delta",
                    value: *d,
                });
            }
        }
        let rss_delta = self
            .rss_source
            .as_ref()
            .and_then(|s| s.read())
            .map(|v| v - rss_start)
            .filter(|d| d.is_finite());
        let ts_ms = ts_ms.unwrap_or_else(|| self.clock.now_ms());

        // A thread whose thread-locals are being torn down uses shard 0.
        let shard_ix = THREAD_NUMBER.try_with(|n| n.0).unwrap_or(0) % self.shards.len();
        let mut shard = lock(&self.shards[shard_ix].0);
        let nm = self.measures.len();
        let acc = shard.routes[route as usize].get_or_insert_with(|| Box::new(RouteAcc::new(nm)));
        let has_rss = self.rss_source.is_some();
        acc.push(
            deltas[..n]
                .iter()
                .map(|&d| Some(d))
                .chain(has_rss.then_some(rss_delta)),
        );
        self.count(&mut shard, route, ts_ms);
        Ok(RequestOutcome {
            n,
            deltas,
            rss_delta,
            ts_ms,
        })
    }

    // Counts one request in its time slot.
    fn count(&self, shard: &mut Shard, route: u32, ts_ms: i64) {
        if !(shard.slot_range.0..shard.slot_range.1).contains(&ts_ms) {
            let slot = ts_ms.div_euclid(self.slot_ms);
            if slot < shard.slot {
                // Counted late (a slow request, or another thread's clock): straight to the ring.
                lock(&self.ring).add(slot, route, 1);
                return;
            }
            self.flush(shard);
            shard.slot = slot;
            shard.slot_range = (slot * self.slot_ms, (slot + 1) * self.slot_ms);
        }
        let r = route as usize;
        if shard.counts[r] == 0 {
            shard.touched.push(route);
        }
        shard.counts[r] = shard.counts[r].saturating_add(1);
    }

    // Moves a shard's counts for its current slot into the ring (caller holds the shard lock;
    // the lock order is always shard, then ring).
    fn flush(&self, shard: &mut Shard) {
        if shard.touched.is_empty() {
            return;
        }
        let mut ring = lock(&self.ring);
        let Shard {
            slot,
            counts,
            touched,
            ..
        } = shard;
        for &r in touched.iter() {
            ring.add(*slot, r, std::mem::take(&mut counts[r as usize]));
        }
        touched.clear();
    }

    /// Every lock of the tracker, in the order its code nests them (shards, then the ring; a
    /// route insertion holds no other), for the fork handler.
    #[cfg(feature = "collect")]
    pub(crate) fn fork_guards(&self) -> Vec<crate::fork::Guard<'_>> {
        let mut guards: Vec<crate::fork::Guard<'_>> = vec![Box::new(self.table.insert_lock())];
        guards.extend(
            self.shards
                .iter()
                .map(|s| Box::new(lock(&s.0)) as crate::fork::Guard<'_>),
        );
        guards.push(Box::new(lock(&self.ring)));
        guards
    }

    /// Distinct routes admitted so far (not counting `_other`).
    pub fn route_count(&self) -> usize {
        self.table.len()
    }

    /// The name of a route id (`_other` for the overflow bucket).
    pub fn route_name(&self, id: u32) -> Option<&str> {
        self.table.name(id)
    }

    /// Merges all shards into a consistent-enough copy for reports (concurrent requests may
    /// land on either side of it).
    pub fn snapshot(&self) -> TrackerSnapshot {
        let ids = self.table.capacity() + 1;
        let mut merged: Vec<Option<RouteAcc>> = (0..ids).map(|_| None).collect();
        for shard in self.shards.iter() {
            let mut shard = lock(&shard.0);
            self.flush(&mut shard);
            for (m, acc) in merged.iter_mut().zip(&shard.routes) {
                if let Some(acc) = acc {
                    m.get_or_insert_with(|| RouteAcc::new(self.measures.len()))
                        .merge(acc);
                }
            }
        }
        let mut index = vec![usize::MAX; ids];
        let mut routes = Vec::new();
        for (id, acc) in merged.iter().enumerate() {
            if let Some(acc) = acc {
                index[id] = routes.len();
                routes.push(RouteSnapshot {
                    route: self.table.name(id as u32).unwrap_or("?").to_string(),
                    first_seen_ms: self.table.first_seen_ms(id as u32),
                    count: acc.count,
                    measures: acc.summaries(&self.measures),
                });
            }
        }
        let ring = lock(&self.ring);
        let mut slots: Vec<SlotCounts> = ring
            .entries
            .iter()
            .filter(|e| e.slot != i64::MIN)
            .map(|e| {
                let mut counts = vec![0u64; routes.len()];
                for &(r, n) in &e.counts {
                    if let Some(&i) = index.get(r as usize)
                        && i != usize::MAX
                    {
                        counts[i] += u64::from(n);
                    }
                }
                SlotCounts {
                    start_ms: e.slot * self.slot_ms,
                    counts,
                }
            })
            .collect();
        slots.sort_by_key(|s| s.start_ms);
        TrackerSnapshot {
            measures: self.measures.clone(),
            slot_ms: self.slot_ms,
            routes,
            slots,
        }
    }
}

/// A route's aggregates in a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSnapshot {
    /// The route (`_other` for the overflow bucket).
    pub route: String,
    /// When the route was first seen (unix ms).
    pub first_seen_ms: Option<i64>,
    /// Requests ended on this route.
    pub count: u64,
    /// Per-measure delta statistics.
    pub measures: Vec<MeasureSummary>,
}

/// Request counts in one time slot, aligned with `TrackerSnapshot::routes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotCounts {
    /// Start of the slot (unix ms).
    pub start_ms: i64,
    /// Requests per route in this slot, in the order of `TrackerSnapshot::routes`.
    pub counts: Vec<u64>,
}

/// A merged copy of a tracker's state: the input of attribution and the per-route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerSnapshot {
    /// Measure names, in the order of each route's `measures`.
    pub measures: Vec<String>,
    /// Slot width (ms).
    pub slot_ms: i64,
    /// Routes that ended at least one request.
    pub routes: Vec<RouteSnapshot>,
    /// Slots the ring holds, oldest first.
    pub slots: Vec<SlotCounts>,
}

//! The live-heap profile: which allocation sites hold the bytes that grew.
//!
//! Every language feeds the same structure, one of two ways:
//! - a whole in-use profile that replaces the previous one ([`HeapProfile::replace`]): what
//!   Go's `runtime.MemProfile` and V8's sampling heap profiler give;
//! - single sampled allocations and the frees of sampled blocks
//!   ([`HeapProfile::record_alloc`], [`HeapProfile::record_free`]): what an allocator hook
//!   gives (Python), sampled by [`PoissonSampler`].
//!
//! Both are unsampled here, as pprof does ([`unsample`]). Frames and stacks are interned with
//! caps (overflow to one bucket); the in-use bytes per stack are snapshotted periodically into
//! a thinned ring, so that once the detector dates the growth start (in hindsight) the
//! snapshot before it is still there; the difference to now names the sites that grew.

mod intern;
mod live;
mod pprof;
mod snapshots;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use intern::{Caps, OVERFLOW, Tables};
pub use live::{BlockFilter, PoissonSampler, unsample};
pub use snapshots::Weight;
use snapshots::{Ring, Snapshot};

/// How the live-heap profile is set up (`profile` in the monitor's options).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileConfig {
    /// Whether the bindings feed the profile (their feeders start only when it is on).
    pub enabled: bool,
    /// Distinct stacks kept; more go to one overflow bucket.
    pub max_stacks: usize,
    /// Distinct frames kept.
    pub max_frames: usize,
    /// Frames kept per stack (the leaf end).
    pub max_depth: usize,
    /// Bytes of function and file names kept.
    pub max_string_bytes: usize,
    /// Sampled blocks tracked at once by the per-allocation feed.
    pub max_live_blocks: usize,
    /// Mean bytes between samples of the per-allocation feed (and the Node feeder's
    /// sampling interval).
    pub sample_bytes: u64,
    /// Period of the snapshots kept to find the one at the growth start.
    pub snapshot_every_ms: i64,
    /// Snapshots kept (thinned when full, so they span the whole run).
    pub snapshots: usize,
    /// Growing sites shown in a report.
    pub top_sites: usize,
    /// Stacks of the growth kept in a report (for its flame graph).
    pub top_stacks: usize,
    /// A directory to write pprof files into when the alert fires.
    pub pprof_dir: Option<String>,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            enabled: true,
            max_stacks: 4096,
            max_frames: 8192,
            max_depth: 48,
            max_string_bytes: 768 * 1024,
            max_live_blocks: 16_384,
            sample_bytes: 512 * 1024,
            snapshot_every_ms: 300_000,
            snapshots: 16,
            top_sites: 10,
            top_stacks: 64,
            pprof_dir: None,
        }
    }
}

impl ProfileConfig {
    /// Checks every option.
    pub fn validate(&self) -> Result<(), InputError> {
        let check = |ok: bool, name: &'static str, why: &str| {
            if ok {
                Ok(())
            } else {
                Err(InputError::invalid_option(name, why.to_string()))
            }
        };
        check(
            (16..=65_536).contains(&self.max_stacks),
            "profile.max_stacks",
            "must be between 16 and 65536",
        )?;
        check(
            (16..=131_072).contains(&self.max_frames),
            "profile.max_frames",
            "must be between 16 and 131072",
        )?;
        check(
            (1..=256).contains(&self.max_depth),
            "profile.max_depth",
            "must be between 1 and 256",
        )?;
        check(
            (1024..=16 << 20).contains(&self.max_string_bytes),
            "profile.max_string_bytes",
            "must be between 1 KiB and 16 MiB",
        )?;
        check(
            (16..=1 << 20).contains(&self.max_live_blocks),
            "profile.max_live_blocks",
            "must be between 16 and 1048576",
        )?;
        check(
            self.sample_bytes >= 1,
            "profile.sample_bytes",
            "must be at least 1",
        )?;
        check(
            self.snapshot_every_ms >= 1,
            "profile.snapshot_every_ms",
            "must be positive",
        )?;
        check(
            (2..=256).contains(&self.snapshots),
            "profile.snapshots",
            "must be between 2 and 256",
        )?;
        check(
            (1..=1000).contains(&self.top_sites) && (1..=10_000).contains(&self.top_stacks),
            "profile.top_sites",
            "top_sites must be 1..1000 and top_stacks 1..10000",
        )
    }
}

/// One frame of a fed stack, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Function name.
    pub function: &'a str,
    /// File (or script URL).
    pub file: &'a str,
    /// Line number (0 when unknown).
    pub line: u32,
}

/// One stack of a whole in-use profile.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSample<'a> {
    /// Indices into the profile's frame list, leaf (the allocating frame) first.
    pub frames: &'a [u32],
    /// Sampled objects in use.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Where a report's profile difference starts.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthBasis {
    /// The snapshot at or before the detector's growth start.
    GrowthStart,
    /// No growth start (yet): the oldest snapshot kept.
    FirstSnapshot,
}

/// What the shares of [`GrowingSite`] are shares of.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareOf {
    /// The growth of the post-GC floor since growth began.
    Floor,
    /// The profile's own growth (when the floor did not grow or is unknown).
    Profile,
}

/// An allocation site whose in-use bytes grew.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowingSite {
    /// The allocating function (the leaf-most frame that is not the runtime's own).
    pub function: String,
    /// Its file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// Growth of the site's in-use bytes (estimated from samples).
    pub bytes: f64,
    /// Growth of its in-use objects.
    pub objects: f64,
    /// `bytes` as a share of the growth named by `share_of`.
    pub share: f64,
    /// The route whose requests allocated most of the growth, when samples were tagged.
    pub route: Option<String>,
}

/// One stack of the growth, for flame graphs.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowingStack {
    /// Frames as `function (file:line)`, root first.
    pub frames: Vec<String>,
    /// Growth of its in-use bytes.
    pub bytes: f64,
}

/// The difference of two snapshots: the allocation sites whose in-use bytes grew.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileGrowth {
    /// The earlier snapshot's time (unix ms).
    pub from_ms: i64,
    /// The later one's.
    pub to_ms: i64,
    /// How `from_ms` was chosen.
    pub basis: GrowthBasis,
    /// Net growth of the profile's in-use bytes.
    pub growth_bytes: f64,
    /// Net growth from the same start to the alert's firing, when it fired after it.
    pub alert_growth_bytes: Option<f64>,
    /// In-use bytes the profile estimates at `to_ms`.
    pub inuse_bytes: f64,
    /// What `share` divides by.
    pub share_of: ShareOf,
    /// The growing sites, most bytes first (at most `top_sites`).
    pub sites: Vec<GrowingSite>,
    /// The growing stacks, most bytes first (at most `top_stacks`).
    pub stacks: Vec<GrowingStack>,
    /// Stacks that did not fit the tables and were counted in `(other stacks)`.
    pub overflowed: u64,
}

/// Counters of the profile's state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProfileStats {
    /// Distinct stacks interned (the overflow bucket included).
    pub stacks: usize,
    /// Distinct frames interned.
    pub frames: usize,
    /// Snapshots in the ring.
    pub snapshots: usize,
    /// Sampled blocks tracked now (per-allocation feed).
    pub live_blocks: usize,
    /// Samples dropped because the block table was full.
    pub dropped_samples: u64,
    /// Stacks sent to the overflow bucket.
    pub overflowed: u64,
    /// Bytes the profile holds on the heap.
    pub heap_bytes: usize,
}

/// Which pprof file to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PprofKind {
    /// The live heap now.
    Inuse,
    /// Its growth since the snapshot at the growth start (negative values where it shrank).
    Growth,
}

/// A feed of the profile, fixed by its first use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    Whole { rate: u64 },
    Allocations,
}

#[derive(Debug, Clone, Copy)]
struct Block {
    stack: u32,
    weight: Weight,
}

struct State {
    tables: Tables,
    inuse: Vec<Weight>,
    ring: Ring,
    alert: Option<Snapshot>,
    feed: Option<Feed>,
    blocks: HashMap<u64, Block>,
    dropped: u64,
    last_ts_ms: Option<i64>,
}

/// The live-heap profile of one process. `Send + Sync`; see the module docs.
pub struct HeapProfile {
    config: ProfileConfig,
    sampler: PoissonSampler,
    filter: BlockFilter,
    state: Mutex<State>,
}

impl std::fmt::Debug for HeapProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapProfile")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn bad(what: &'static str, why: String) -> InputError {
    InputError::invalid_option(what, why)
}

/// Runtime-internal frames are skipped when naming a stack's site: Go's allocator
/// (`runtime.*`), Node's own modules (`node:*`) and V8's pseudo-frames (`(root)`).
fn is_internal(function: &str, file: &str) -> bool {
    function.starts_with("runtime.")
        || function.starts_with('(')
        || file.starts_with("node:")
        || file.starts_with("internal/")
}

/// Frames of installed packages and standard libraries rather than the service's own code:
/// npm packages (`node_modules`), Python packages (`site-packages`, `dist-packages`) and its
/// standard library (`lib/python3.x`), Go's module cache (`pkg/mod`) and vendored modules, and
/// Go's standard library (a package path without a dot whose file lies under
/// `src/<package path>/`).
fn is_dependency(function: &str, file: &str) -> bool {
    let mut dirs = file.split(['/', '\\']).peekable();
    while let Some(dir) = dirs.next() {
        let next = dirs.peek().copied().unwrap_or("");
        if matches!(
            dir,
            "node_modules" | "site-packages" | "dist-packages" | "vendor"
        ) || (dir == "pkg" && next == "mod")
            || (dir.eq_ignore_ascii_case("lib") && next.starts_with("python"))
        {
            return true;
        }
    }
    // A Go function is `package/path.Name`; the standard library's paths have no dot in their
    // first element (`encoding/json`), a module's do (`github.com/...`).
    let package = match function.rfind('/') {
        Some(slash) => function[slash..]
            .find('.')
            .map(|dot| &function[..slash + dot]),
        None => function.find('.').map(|dot| &function[..dot]),
    };
    package.is_some_and(|package| {
        !package.split('/').next().unwrap_or("").contains('.')
            && file.split("/src/").skip(1).any(|path| {
                path.strip_prefix(package)
                    .is_some_and(|p| p.starts_with('/'))
            })
    })
}

/// Orders growing sites most bytes first, except that a site in the service's own code that
/// grew at least a tenth as much as the largest comes before every dependency's site. As error
/// trackers name an "in app" frame, the line to fix is the service's own: a dependency's site
/// that outgrew it is mostly the same allocations seen from the caller (V8 attributes an
/// inlined function's allocations to the function it was inlined into, e.g. a router's
/// `handle`) or a library doing the service's bidding.
fn rank_sites(sites: &mut [GrowingSite]) {
    sites.sort_by(|a, b| b.bytes.total_cmp(&a.bytes));
    let largest = sites.first().map_or(0.0, |s| s.bytes);
    // Stable: each group keeps the order by bytes.
    sites.sort_by_cached_key(|s| s.bytes < largest / 10.0 || is_dependency(&s.function, &s.file));
}

impl HeapProfile {
    /// An empty profile.
    pub fn new(config: ProfileConfig) -> Result<HeapProfile, InputError> {
        config.validate()?;
        let caps = Caps {
            stacks: config.max_stacks,
            frames: config.max_frames,
            depth: config.max_depth,
            string_bytes: config.max_string_bytes,
        };
        // Any varying seed does (std::process::id is not on every target).
        let seed = (&config as *const ProfileConfig as u64) ^ 0x9E37_79B9_7F4A_7C15;
        Ok(HeapProfile {
            sampler: PoissonSampler::new(config.sample_bytes, seed),
            filter: BlockFilter::default(),
            state: Mutex::new(State {
                tables: Tables::new(caps),
                inuse: vec![Weight::default()],
                ring: Ring::new(config.snapshots, config.snapshot_every_ms),
                alert: None,
                feed: None,
                blocks: HashMap::new(),
                dropped: 0,
                last_ts_ms: None,
            }),
            config,
        })
    }

    /// The options it runs with.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is left consistent between statements, so a panic elsewhere that
        // poisoned the lock leaves nothing half-done to fear.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The profile's lock, for the fork handler: an allocator hook, the sampler's snapshots or
    /// a report may hold it while another thread forks.
    #[cfg(feature = "collect")]
    pub(crate) fn fork_guard(&self) -> crate::fork::Guard<'_> {
        Box::new(self.state())
    }

    fn claim(st: &mut State, feed: Feed) -> Result<(), InputError> {
        match st.feed {
            Some(Feed::Allocations) if feed != Feed::Allocations => Err(bad(
                "profile",
                "fed by sampled allocations already; a whole profile cannot replace them".into(),
            )),
            Some(Feed::Whole { .. }) if feed == Feed::Allocations => Err(bad(
                "profile",
                "fed whole profiles already; single allocations cannot be added".into(),
            )),
            _ => {
                st.feed = Some(feed);
                Ok(())
            }
        }
    }

    /// Replaces the in-use profile with a whole new one taken at `ts_ms`: `frames` is this
    /// profile's frame list and each sample's `frames` indexes it, leaf first. `rate` is the
    /// mean bytes between samples (Go's `MemProfileRate`, V8's sampling interval); the values
    /// are unsampled here. A rate of 0 or 1 means the values are exact.
    pub fn replace(
        &self,
        ts_ms: i64,
        frames: &[FrameRef<'_>],
        samples: &[StackSample<'_>],
        rate: u64,
    ) -> Result<(), InputError> {
        if let Some(s) = samples
            .iter()
            .find(|s| s.frames.iter().any(|&f| f as usize >= frames.len()))
        {
            return Err(bad(
                "profile.samples",
                format!(
                    "a stack refers to frame {} of {}",
                    s.frames.iter().max().copied().unwrap_or(0),
                    frames.len()
                ),
            ));
        }
        let mut st = self.state();
        Self::claim(&mut st, Feed::Whole { rate })?;
        let st = &mut *st;
        let mut ids: Vec<Option<u32>> = vec![None; frames.len()];
        let mut stack = Vec::with_capacity(self.config.max_depth);
        st.inuse.iter_mut().for_each(|w| *w = Weight::default());
        for s in samples.iter().filter(|s| s.objects > 0 || s.bytes > 0) {
            stack.clear();
            let mut whole = true;
            for &f in s.frames.iter().take(self.config.max_depth) {
                let id = match ids[f as usize] {
                    Some(id) => Some(id),
                    None => {
                        let fr = frames[f as usize];
                        let id = st.tables.intern_frame(fr.function, fr.file, fr.line);
                        ids[f as usize] = id;
                        id
                    }
                };
                match id {
                    Some(id) => stack.push(id),
                    None => whole = false,
                }
            }
            let id = if whole {
                st.tables.intern_stack(&stack, None)
            } else {
                st.tables.overflowed += 1;
                OVERFLOW
            };
            let w = unsample(s.objects as f64, s.bytes as f64, rate as f64);
            add(&mut st.inuse, id, w, 1.0);
        }
        Self::tick_locked(st, ts_ms);
        Ok(())
    }

    /// Declares that single allocations feed this profile from now on (an allocator hook was
    /// installed), so that snapshots start now, empty if nothing was sampled yet: the one at
    /// the growth start must exist even if the first sample comes later. An error when whole
    /// profiles feed it.
    pub fn begin_allocation_feed(&self) -> Result<(), InputError> {
        Self::claim(&mut self.state(), Feed::Allocations)
    }

    /// The sampler that decides which allocations the per-allocation feed records.
    pub fn sampler(&self) -> &PoissonSampler {
        &self.sampler
    }

    /// Records a sampled allocation of `size` bytes at `addr` with its stack (leaf first) and
    /// the route of the request that made it. Weighted by the sampler's rate. Returns whether
    /// it was recorded (false when the block table is full or the feed is whole profiles).
    pub fn record_alloc(
        &self,
        addr: u64,
        size: u64,
        frames: &[FrameRef<'_>],
        route: Option<&str>,
    ) -> bool {
        let mut st = self.state();
        if Self::claim(&mut st, Feed::Allocations).is_err() {
            return false;
        }
        let st = &mut *st;
        if let Some(old) = st.blocks.remove(&addr) {
            // A free we did not see (another allocator domain reused the address).
            self.filter.remove(addr);
            add(&mut st.inuse, old.stack, old.weight, -1.0);
        }
        if st.blocks.len() >= self.config.max_live_blocks || !self.filter.insert(addr) {
            st.dropped += 1;
            return false;
        }
        let mut ids = Vec::with_capacity(frames.len().min(self.config.max_depth));
        let mut whole = true;
        for f in frames.iter().take(self.config.max_depth) {
            match st.tables.intern_frame(f.function, f.file, f.line) {
                Some(id) => ids.push(id),
                None => whole = false,
            }
        }
        let stack = if whole && !ids.is_empty() {
            st.tables.intern_stack(&ids, route)
        } else {
            st.tables.overflowed += 1;
            OVERFLOW
        };
        let weight = unsample(1.0, size as f64, self.sampler.rate() as f64);
        add(&mut st.inuse, stack, weight, 1.0);
        st.blocks.insert(addr, Block { stack, weight });
        true
    }

    /// Whether a freed `addr` may be a sampled block (lock-free; call
    /// [`HeapProfile::record_free`] only when it says so).
    #[inline]
    pub fn may_be_sampled(&self, addr: u64) -> bool {
        self.filter.may_contain(addr)
    }

    /// Records the free of the block at `addr`; whether it was a sampled one.
    pub fn record_free(&self, addr: u64) -> bool {
        if !self.filter.may_contain(addr) {
            return false;
        }
        let mut st = self.state();
        let Some(b) = st.blocks.remove(&addr) else {
            return false;
        };
        self.filter.remove(addr);
        add(&mut st.inuse, b.stack, b.weight, -1.0);
        true
    }

    /// Takes the periodic snapshot if one is due at `ts_ms` (the monitor calls this on
    /// every sample; whole-profile feeds call it themselves).
    pub fn tick(&self, ts_ms: i64) {
        Self::tick_locked(&mut self.state(), ts_ms);
    }

    fn tick_locked(st: &mut State, ts_ms: i64) {
        st.last_ts_ms = Some(st.last_ts_ms.map_or(ts_ms, |t| t.max(ts_ms)));
        if st.feed.is_some() && st.ring.due(ts_ms) {
            st.ring.push(Snapshot::of(ts_ms, &st.inuse));
        }
    }

    /// Keeps a snapshot of the profile at the alert's firing.
    pub fn mark_alert(&self, ts_ms: i64) {
        let mut st = self.state();
        if st.feed.is_some() {
            st.alert = Some(Snapshot::of(ts_ms, &st.inuse));
        }
    }

    /// When the last alert fired, if the profile was fed by then.
    pub fn alert_ms(&self) -> Option<i64> {
        self.state().alert.as_ref().map(|s| s.ts_ms)
    }

    /// The sites that grew since the snapshot at or before `growth_start_ms` (or the oldest
    /// kept, when there is none), up to now. `floor_growth` is what shares divide by when
    /// positive. `None` until the profile has been fed and snapshotted.
    pub fn growth(
        &self,
        growth_start_ms: Option<i64>,
        floor_growth: Option<f64>,
    ) -> Option<ProfileGrowth> {
        let st = self.state();
        let (base, basis) = match growth_start_ms {
            Some(gs) => (st.ring.at_or_before(gs)?, GrowthBasis::GrowthStart),
            None => (st.ring.oldest()?, GrowthBasis::FirstSnapshot),
        };
        let to_ms = st.last_ts_ms.unwrap_or(base.ts_ms).max(base.ts_ms);
        let now = Snapshot::of(to_ms, &st.inuse);
        let diff = now.minus(base);
        let mut g = self.summarize(
            &st.tables,
            &diff,
            base.ts_ms,
            to_ms,
            basis,
            floor_growth,
            &now,
        );
        g.alert_growth_bytes = st
            .alert
            .as_ref()
            .filter(|a| a.ts_ms >= base.ts_ms)
            .map(|a| a.minus(base).iter().map(|(_, w)| w.bytes).sum());
        Some(g)
    }

    #[allow(clippy::too_many_arguments)]
    fn summarize(
        &self,
        tables: &Tables,
        diff: &[(u32, Weight)],
        from_ms: i64,
        to_ms: i64,
        basis: GrowthBasis,
        floor_growth: Option<f64>,
        now: &Snapshot,
    ) -> ProfileGrowth {
        let growth_bytes: f64 = diff.iter().map(|(_, w)| w.bytes).sum();
        let positive: f64 = diff.iter().map(|(_, w)| w.bytes.max(0.0)).sum();
        let (share_of, denominator) = match floor_growth {
            Some(g) if g > 0.0 => (ShareOf::Floor, g),
            _ => (ShareOf::Profile, positive),
        };
        // Site = the leaf-most frame that is not the runtime's own; per site, the growth and
        // the route that holds most of it.
        let mut sites: HashMap<u32, (Weight, HashMap<Option<&str>, f64>)> = HashMap::new();
        for &(stack, w) in diff {
            let frames = tables.stack(stack);
            let site = frames
                .iter()
                .copied()
                .find(|&f| {
                    let r = tables.frame(f);
                    !is_internal(tables.string(r.function), tables.string(r.file))
                })
                .unwrap_or(frames[0]);
            let e = sites.entry(site).or_default();
            e.0.bytes += w.bytes;
            e.0.objects += w.objects;
            *e.1.entry(tables.route(stack)).or_default() += w.bytes;
        }
        let mut sites: Vec<GrowingSite> = sites
            .into_iter()
            // At least a byte: differences of scaled samples leave float residue (1e-10 B).
            .filter(|(_, (w, _))| w.bytes >= 1.0)
            .map(|(frame, (w, routes))| {
                let f = tables.frame(frame);
                let route = routes
                    .into_iter()
                    .filter(|(r, b)| r.is_some() && *b > 0.0)
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .and_then(|(r, _)| r.map(str::to_owned));
                GrowingSite {
                    function: tables.string(f.function).to_owned(),
                    file: tables.string(f.file).to_owned(),
                    line: f.line,
                    bytes: w.bytes,
                    objects: w.objects,
                    share: if denominator > 0.0 {
                        w.bytes / denominator
                    } else {
                        0.0
                    },
                    route,
                }
            })
            .collect();
        rank_sites(&mut sites);
        sites.truncate(self.config.top_sites);
        let mut growing: Vec<&(u32, Weight)> =
            diff.iter().filter(|(_, w)| w.bytes >= 1.0).collect();
        growing.sort_by(|a, b| b.1.bytes.total_cmp(&a.1.bytes));
        let stacks = growing
            .into_iter()
            .take(self.config.top_stacks)
            .map(|&(stack, w)| GrowingStack {
                frames: tables
                    .stack(stack)
                    .iter()
                    .rev()
                    .map(|&f| {
                        let r = tables.frame(f);
                        let (func, file) = (tables.string(r.function), tables.string(r.file));
                        if file.is_empty() {
                            func.to_owned()
                        } else {
                            format!("{func} ({file}:{})", r.line)
                        }
                    })
                    .collect(),
                bytes: w.bytes,
            })
            .collect();
        ProfileGrowth {
            from_ms,
            to_ms,
            basis,
            growth_bytes,
            alert_growth_bytes: None,
            inuse_bytes: now.entries.iter().map(|e| f64::from(e.bytes)).sum(),
            share_of,
            sites,
            stacks,
            overflowed: tables.overflowed,
        }
    }

    /// The profile as a pprof `profile.proto` (uncompressed): the live heap now, or its growth
    /// since the snapshot at or before `growth_start_ms` (the oldest kept when `None`).
    /// `None` when there is nothing to export yet.
    pub fn pprof(&self, kind: PprofKind, growth_start_ms: Option<i64>) -> Option<Vec<u8>> {
        let st = self.state();
        let feed = st.feed?;
        let to_ms = st.last_ts_ms?;
        let period = match feed {
            Feed::Whole { rate } => rate,
            Feed::Allocations => self.sampler.rate(),
        };
        let (values, from_ms) = match kind {
            PprofKind::Inuse => {
                let v: Vec<(u32, Weight)> = st
                    .inuse
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i as u32, *w))
                    .collect();
                (v, to_ms)
            }
            PprofKind::Growth => {
                let base = match growth_start_ms {
                    Some(gs) => st.ring.at_or_before(gs),
                    None => st.ring.oldest(),
                }?;
                (Snapshot::of(to_ms, &st.inuse).minus(base), base.ts_ms)
            }
        };
        let prefix = match kind {
            PprofKind::Inuse => "inuse",
            PprofKind::Growth => "growth",
        };
        Some(pprof::encode(
            &st.tables,
            &values,
            &pprof::Meta {
                prefix,
                time_ms: from_ms,
                duration_ms: to_ms - from_ms,
                period,
                comment: format!("leaksense {prefix} profile"),
            },
        ))
    }

    /// Counters of the profile's state, with its heap footprint.
    pub fn stats(&self) -> ProfileStats {
        let st = self.state();
        let heap_bytes = std::mem::size_of::<HeapProfile>()
            + st.tables.heap_bytes()
            + st.inuse.capacity() * std::mem::size_of::<Weight>()
            + st.ring.heap_bytes()
            + st.alert.as_ref().map_or(0, Snapshot::heap_bytes)
            + st.blocks.capacity() * (std::mem::size_of::<(u64, Block)>() + 1)
            + self.filter.heap_bytes();
        ProfileStats {
            stacks: st.tables.stack_count(),
            frames: st.tables.frame_count(),
            snapshots: st.ring.len(),
            live_blocks: st.blocks.len(),
            dropped_samples: st.dropped,
            overflowed: st.tables.overflowed,
            heap_bytes,
        }
    }
}

/// Adds `sign * w` to stack `id`'s in-use weight, growing the table to cover it.
fn add(inuse: &mut Vec<Weight>, id: u32, w: Weight, sign: f64) {
    let i = id as usize;
    if inuse.len() <= i {
        inuse.resize(i + 1, Weight::default());
    }
    inuse[i].bytes = (inuse[i].bytes + sign * w.bytes).max(0.0);
    inuse[i].objects = (inuse[i].objects + sign * w.objects).max(0.0);
}

#[cfg(test)]
mod tests;

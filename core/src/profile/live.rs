//! The per-allocation feed: Poisson sampling by bytes, the unsampling weights, and a filter
//! that answers "was this freed block sampled?" without a lock.
//!
//! These run inside an allocator hook (Python's `PyMem_SetAllocator`) on every allocation and
//! every free, so they are hand-written atomics rather than a library RNG or a locked map.

use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering::Relaxed};

use super::snapshots::Weight;

/// The unsampling of pprof (`scaleHeapSample` in Go's `runtime/pprof`): `count` sampled
/// objects of `bytes` in all, drawn with probability `1 - exp(-size / rate)` for an object of
/// `size` bytes, stand for `count / (1 - exp(-avg / rate))` objects, `avg` their mean size.
/// A `rate` of 0 or 1 means every allocation was recorded: nothing to scale.
pub fn unsample(count: f64, bytes: f64, rate: f64) -> Weight {
    if count <= 0.0 || bytes <= 0.0 {
        return Weight::default();
    }
    if rate <= 1.0 {
        return Weight {
            bytes,
            objects: count,
        };
    }
    let scale = 1.0 / (1.0 - (-(bytes / count) / rate).exp());
    Weight {
        bytes: bytes * scale,
        objects: count * scale,
    }
}

/// Poisson sampling by bytes: an allocation is sampled when the byte countdown crosses zero,
/// and the countdown restarts at an exponential draw of mean `rate`, so each byte is sampled
/// with the same probability and an object of `size` bytes with `1 - exp(-size / rate)`.
#[derive(Debug)]
pub struct PoissonSampler {
    rate: u64,
    countdown: AtomicI64,
    rng: AtomicU64,
}

impl PoissonSampler {
    /// A sampler of mean `rate` bytes between samples (at least 1).
    pub fn new(rate: u64, seed: u64) -> PoissonSampler {
        let s = PoissonSampler {
            rate: rate.max(1),
            countdown: AtomicI64::new(0),
            rng: AtomicU64::new(seed | 1),
        };
        s.countdown.store(s.next_interval(), Relaxed);
        s
    }

    /// The mean number of bytes between samples.
    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Counts `size` bytes down; whether this allocation is sampled. A plain load and store,
    /// not a locked read-modify-write: this runs on every allocation, and Python's allocator
    /// hooks run under the GIL. Concurrent callers elsewhere may lose a few counts or sample
    /// twice at one crossing, which only nudges the sampling rate.
    #[inline]
    pub fn sample(&self, size: usize) -> bool {
        let size = size as i64;
        let left = self.countdown.load(Relaxed);
        if left > size {
            self.countdown.store(left - size, Relaxed);
            return false;
        }
        self.countdown.store(self.next_interval(), Relaxed);
        true
    }

    fn next_interval(&self) -> i64 {
        // xorshift64*: the low bits are good enough for a uniform in (0, 1].
        let mut x = self.rng.load(Relaxed);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.store(x, Relaxed);
        let u = ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        ((-u.ln()) * self.rate as f64).ceil() as i64
    }
}

/// Slots of the free filter: 64 KiB of counters.
const FILTER_SLOTS: usize = 1 << 16;

/// A counting filter of sampled block addresses: a free whose address hashes to an empty slot
/// was certainly not sampled (one relaxed load); a non-empty slot sends the caller to the
/// locked table. With a few thousand live samples, about one free in twenty takes the lock.
#[derive(Debug)]
pub struct BlockFilter {
    slots: Box<[AtomicU8]>,
}

impl Default for BlockFilter {
    fn default() -> Self {
        BlockFilter {
            slots: (0..FILTER_SLOTS).map(|_| AtomicU8::new(0)).collect(),
        }
    }
}

impl BlockFilter {
    fn slot(&self, addr: u64) -> &AtomicU8 {
        // Blocks are at least 8-aligned; Fibonacci hashing spreads the rest.
        let h = (addr >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48;
        &self.slots[h as usize % FILTER_SLOTS]
    }

    /// Whether `addr` may be a sampled block.
    #[inline]
    pub fn may_contain(&self, addr: u64) -> bool {
        self.slot(addr).load(Relaxed) != 0
    }

    /// Adds `addr`; false when its slot is saturated (the caller then does not record it).
    pub fn insert(&self, addr: u64) -> bool {
        self.slot(addr)
            .try_update(Relaxed, Relaxed, |c| c.checked_add(1))
            .is_ok()
    }

    pub fn remove(&self, addr: u64) {
        let _ = self
            .slot(addr)
            .try_update(Relaxed, Relaxed, |c| c.checked_sub(1));
    }

    pub fn heap_bytes(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsampling_matches_pprof() {
        // Go's scaleHeapSample: one 512 KiB object at rate 512 KiB is scaled by 1/(1-e^-1).
        let w = unsample(1.0, 524_288.0, 524_288.0);
        let scale = 1.0 / (1.0 - (-1.0f64).exp());
        assert!((w.objects - scale).abs() < 1e-12);
        assert!((w.bytes - 524_288.0 * scale).abs() < 1e-6);
        // Small objects: about rate / size objects per sample.
        let w = unsample(1.0, 64.0, 524_288.0);
        assert!((w.bytes - 524_288.0).abs() / 524_288.0 < 1e-3, "{w:?}");
        assert_eq!(
            unsample(3.0, 30.0, 1.0),
            Weight {
                bytes: 30.0,
                objects: 3.0
            }
        );
        assert_eq!(unsample(0.0, 30.0, 512.0), Weight::default());
    }

    #[test]
    fn poisson_sampling_estimates_the_bytes_allocated() {
        let s = PoissonSampler::new(4096, 7);
        let (mut est, mut truth) = (0.0, 0.0);
        for i in 0..200_000u64 {
            let size = 16 + (i % 97) as usize * 8;
            truth += size as f64;
            if s.sample(size) {
                est += unsample(1.0, size as f64, 4096.0).bytes;
            }
        }
        let err = (est - truth).abs() / truth;
        assert!(err < 0.05, "estimate {est} vs {truth}");
    }

    #[test]
    fn the_filter_never_misses_an_inserted_address() {
        let f = BlockFilter::default();
        let addrs: Vec<u64> = (0..5000u64).map(|i| 0x7f00_0000_0000 + i * 4096).collect();
        for &a in &addrs {
            assert!(f.insert(a));
        }
        assert!(addrs.iter().all(|&a| f.may_contain(a)));
        for &a in &addrs {
            f.remove(a);
        }
        assert!(addrs.iter().all(|&a| !f.may_contain(a)));
        // Saturation is refused, not wrapped.
        for _ in 0..255 {
            assert!(f.insert(8));
        }
        assert!(!f.insert(8));
    }
}

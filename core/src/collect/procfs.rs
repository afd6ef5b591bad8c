//! Linux procfs readers. `/proc/self/statm` is kept open and read with `pread` into a stack
//! buffer: one syscall and no allocation per sample, about 30x cheaper than a sysinfo refresh.
//! The peak comes from `getrusage` (`ru_maxrss`), one syscall with nothing to parse, where
//! `/proc/self/status` made the kernel format some fifty lines (~4 µs) to give one.

use std::ffi::CStr;
use std::os::unix::fs::FileExt;

use super::{MemoryProbe, ProcessMemory};
use crate::error::CollectError;
use crate::fork::self_files::SelfFile;

const STATM: &str = "/proc/self/statm";
const STATUS: &str = "/proc/self/status";
const STATM_C: &CStr = c"/proc/self/statm";

/// Reads RSS and virtual size from a kept-open `/proc/self/statm`. The files are
/// [`SelfFile`]s: a forked child re-opens them for itself, or it would read its parent.
pub struct StatmProbe {
    statm: SelfFile,
    page_size: u64,
}

impl StatmProbe {
    /// Opens `/proc/self/statm` and reads the page size once.
    pub fn open() -> Result<Self, CollectError> {
        let statm = SelfFile::open(STATM_C).map_err(|e| CollectError::io(STATM, e))?;
        // SAFETY: sysconf has no preconditions; it returns -1 on error, handled below.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page_size = if page > 0 { page as u64 } else { 4096 };
        Ok(StatmProbe { statm, page_size })
    }
}

/// Parses the first two fields of statm (size and resident, in pages).
fn parse_statm(buf: &[u8]) -> Option<(u64, u64)> {
    let mut fields = buf
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|f| !f.is_empty());
    let size = parse_u64(fields.next()?)?;
    let resident = parse_u64(fields.next()?)?;
    Some((size, resident))
}

/// Parses ASCII decimal digits without allocating.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if d.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// Finds `key` (e.g. `b"VmHWM:"`) in a `/proc/*/status` or `/proc/meminfo` text and returns its
/// value in bytes (the files give kB).
pub(crate) fn parse_kb_field(text: &[u8], key: &[u8]) -> Option<u64> {
    let line = text.split(|&b| b == b'\n').find(|l| l.starts_with(key))?;
    let rest = line[key.len()..].trim_ascii_start();
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    parse_u64(&rest[..end])?.checked_mul(1024)
}

impl StatmProbe {
    /// RSS and virtual size, through `&self`: one `pread` into a stack buffer, so a shared
    /// probe can serve concurrent readers (the per-request RSS measure).
    pub fn read(&self) -> Result<ProcessMemory, CollectError> {
        let mut buf = [0u8; 128];
        let n = self
            .statm
            .read_at(&mut buf, 0)
            .map_err(|e| CollectError::io(STATM, e))?;
        let (size, resident) = parse_statm(&buf[..n]).ok_or_else(|| {
            CollectError::parse(STATM, String::from_utf8_lossy(&buf[..n]).into_owned())
        })?;
        Ok(ProcessMemory {
            rss_bytes: resident * self.page_size,
            virtual_bytes: size * self.page_size,
        })
    }
}

impl MemoryProbe for StatmProbe {
    fn process_memory(&mut self) -> Result<ProcessMemory, CollectError> {
        self.read()
    }

    fn peak_rss(&mut self) -> Result<u64, CollectError> {
        peak_rss()
    }

    fn name(&self) -> &'static str {
        "statm"
    }
}

/// Peak RSS of the process (`ru_maxrss` of `getrusage(RUSAGE_SELF)`, kB on Linux): the same
/// high-water mark as `VmHWM` in `/proc/self/status`, except that it keeps the peak of the
/// image before `execve` too (a process exec'd from a fork of a large one starts with that
/// one's peak).
pub fn peak_rss() -> Result<u64, CollectError> {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage; RUSAGE_SELF needs nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Err(CollectError::io(
            "getrusage",
            std::io::Error::last_os_error(),
        ));
    }
    u64::try_from(usage.ru_maxrss)
        .ok()
        .and_then(|kb| kb.checked_mul(1024))
        .ok_or_else(|| CollectError::parse("getrusage", format!("ru_maxrss {}", usage.ru_maxrss)))
}

const FD_DIR: &str = "/proc/self/fd";

/// The number of file descriptors this process has open. Since Linux 6.2 a `stat` of
/// `/proc/self/fd` gives it as the directory's size (one syscall, no allocation: std builds the
/// path on the stack); older kernels give 0 there, and the entries are then counted (a
/// directory read, O(descriptors)), without the one the read itself opens.
pub fn open_fds() -> Result<u64, CollectError> {
    let size = std::fs::metadata(FD_DIR)
        .map_err(|e| CollectError::io(FD_DIR, e))?
        .len();
    if size > 0 {
        return Ok(size);
    }
    count_fd_entries()
}

/// [`open_fds`] by listing `/proc/self/fd` (what kernels before 6.2 need).
pub fn count_fd_entries() -> Result<u64, CollectError> {
    let mut n = 0u64;
    for entry in std::fs::read_dir(FD_DIR).map_err(|e| CollectError::io(FD_DIR, e))? {
        entry.map_err(|e| CollectError::io(FD_DIR, e))?;
        n += 1;
    }
    // The listing holds one descriptor of its own while it reads.
    Ok(n.saturating_sub(1))
}

/// The soft limit on open file descriptors (`RLIMIT_NOFILE`), when there is one.
// rlim_t is u64 on most Linux targets, not all.
#[allow(clippy::unnecessary_cast)]
pub fn fd_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid pointer to a local.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    (ok && lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur > 0).then_some(lim.rlim_cur as u64)
}

/// Host total memory from `/proc/meminfo`.
pub fn mem_total() -> Option<u64> {
    let text = std::fs::read("/proc/meminfo").ok()?;
    parse_kb_field(&text, b"MemTotal:")
}

/// Reads `/proc/self/status` whole (open, read, parse): the slow way, kept for the benchmark.
pub fn read_status_rss() -> Result<u64, CollectError> {
    let text = std::fs::read(STATUS).map_err(|e| CollectError::io(STATUS, e))?;
    parse_kb_field(&text, b"VmRSS:").ok_or_else(|| CollectError::parse(STATUS, "no VmRSS line"))
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    #[test]
    fn statm_parsing_handles_good_and_bad_text() {
        assert_eq!(parse_statm(b"1000 250 30 1 0 400 0\n"), Some((1000, 250)));
        assert_eq!(parse_statm(b"1000"), None);
        assert_eq!(parse_statm(b""), None);
        assert_eq!(parse_statm(b"12x 4"), None);
        assert_eq!(parse_statm(b"99999999999999999999999 1"), None);
    }

    #[test]
    fn kb_fields_parse_to_bytes() {
        let text = b"Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t1024 kB\n";
        assert_eq!(parse_kb_field(text, b"VmHWM:"), Some(2048 * 1024));
        assert_eq!(parse_kb_field(text, b"VmRSS:"), Some(1024 * 1024));
        assert_eq!(parse_kb_field(text, b"VmSwap:"), None);
        assert_eq!(parse_kb_field(b"VmRSS:\t kB\n", b"VmRSS:"), None);
    }

    #[test]
    fn rss_agrees_with_status_vmrss_within_a_few_pages() {
        let mut probe = StatmProbe::open().unwrap();
        // Touch memory first so both reads see a settled process.
        let v = vec![1u8; 8 << 20];
        std::hint::black_box(&v);
        for _ in 0..5 {
            let fast = probe.process_memory().unwrap().rss_bytes;
            let slow = read_status_rss().unwrap();
            let diff = fast.abs_diff(slow);
            if diff <= 16 * probe.page_size {
                // ru_maxrss is VmHWM, except that it also keeps the peak of the process image
                // before `execve` (the forked parent's pages): never lower, give or take the
                // kernel's per-CPU RSS counters, which both read approximately.
                let hwm = status_peak_kb() * 1024;
                let slack = 16 * probe.page_size;
                assert!(probe.peak_rss().unwrap() + slack >= hwm.max(slow.min(fast)));
                return;
            }
        }
        panic!("statm RSS and VmRSS disagree by more than 16 pages in 5 tries");
    }

    // VmHWM from /proc/self/status, in kB: what the peak was read from before getrusage.
    fn status_peak_kb() -> u64 {
        let text = std::fs::read(STATUS).unwrap();
        parse_kb_field(&text, b"VmHWM:").unwrap() / 1024
    }

    #[test]
    fn open_descriptors_are_counted_either_way() {
        // Both counts see a descriptor opened between them; the directory read's own is not
        // counted. Another test thread may open or close files meanwhile, so retry a few times.
        for _ in 0..20 {
            let before = open_fds().unwrap();
            let listed = count_fd_entries().unwrap();
            let file = File::open(STATM).unwrap();
            let with_file = open_fds().unwrap();
            let listed_with_file = count_fd_entries().unwrap();
            drop(file);
            let after = open_fds().unwrap();
            if before == listed
                && with_file == before + 1
                && listed_with_file == listed + 1
                && after == before
            {
                return;
            }
        }
        panic!("the descriptor counts never agreed in 20 tries");
    }

    #[test]
    fn the_descriptor_limit_is_read() {
        let limit = fd_limit().expect("RLIMIT_NOFILE is finite here");
        assert!(limit >= open_fds().unwrap());
    }

    #[test]
    fn host_memory_is_known() {
        assert!(mem_total().unwrap() > 64 << 20);
    }
}

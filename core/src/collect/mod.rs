//! Memory collection: process memory, container (cgroup) limits and the host's total memory.
//!
//! The fast path on Linux is one `pread` of a kept-open `/proc/self/statm` into a stack buffer,
//! allocating nothing per sample. Elsewhere the sysinfo crate is the fallback. Nothing here
//! panics: a missing source gives a [`CollectError`] or degrades (no cgroup means no container
//! limit, and collection carries on).

pub mod cgroup;
#[cfg(target_os = "linux")]
pub mod procfs;
pub mod sysinfo_probe;

pub use cgroup::{Cgroup, CgroupFiles, ContainerMemory};

use crate::error::CollectError;

/// Process memory figures, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ProcessMemory {
    /// Resident set size.
    pub rss_bytes: u64,
    /// Virtual memory size.
    pub virtual_bytes: u64,
}

/// A source of process memory figures. Implementations keep whatever they need open so that
/// each call is as cheap as the platform allows.
pub trait MemoryProbe: Send {
    /// Current RSS and virtual size.
    fn process_memory(&mut self) -> Result<ProcessMemory, CollectError>;
    /// Peak RSS since the process started (high-water mark).
    fn peak_rss(&mut self) -> Result<u64, CollectError>;
    /// A short name for logs and benchmarks (`"statm"`, `"sysinfo"`).
    fn name(&self) -> &'static str;
}

/// The cheapest probe for this platform: procfs on Linux, sysinfo elsewhere.
pub fn default_probe() -> Result<Box<dyn MemoryProbe>, CollectError> {
    #[cfg(target_os = "linux")]
    {
        match procfs::StatmProbe::open() {
            Ok(p) => return Ok(Box::new(p)),
            // A sandbox without /proc still has sysinfo's view (or a clear error from it).
            Err(CollectError::Io { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Box::new(sysinfo_probe::SysinfoProbe::new()?))
}

/// Where the effective memory limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// The cgroup's memory.max / memory.limit_in_bytes.
    Container,
    /// A limit the runtime reports (GOMEMLIMIT, V8 heap limit), passed in by a binding.
    Runtime,
    /// The host's total memory: no tighter limit applies.
    Host,
}

/// The memory limits that apply to this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Limits {
    pub container: Option<u64>,
    pub runtime: Option<u64>,
    pub host: Option<u64>,
}

impl Limits {
    /// The smallest limit that applies, and where it comes from.
    pub fn effective(&self) -> Option<(u64, LimitSource)> {
        [
            (self.container, LimitSource::Container),
            (self.runtime, LimitSource::Runtime),
            (self.host, LimitSource::Host),
        ]
        .into_iter()
        .filter_map(|(v, src)| v.map(|v| (v, src)))
        .min_by_key(|&(v, _)| v)
    }
}

/// The host's total physical memory, if it can be read.
pub fn host_total_memory() -> Option<u64> {
    #[cfg(target_os = "linux")]
    if let Some(total) = procfs::mem_total() {
        return Some(total);
    }
    sysinfo_probe::host_total_memory()
}

/// Everything collected in one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Snapshot {
    pub process: ProcessMemory,
    /// Peak RSS since the process started (`ru_maxrss`, VmHWM); `None` when the platform does
    /// not say.
    pub peak_rss: Option<u64>,
    pub container: ContainerMemory,
    pub limits: Limits,
}

/// Opens the cgroup's memory files once, to be kept for the collector's life.
fn with_files(cgroup: Cgroup) -> (Cgroup, CgroupFiles) {
    let files = CgroupFiles::open(&cgroup);
    (cgroup, files)
}

/// Process, container and host collection behind one object.
pub struct Collector {
    probe: Box<dyn MemoryProbe>,
    cgroup: Option<(Cgroup, CgroupFiles)>,
    host_total: Option<u64>,
    runtime_limit: Option<u64>,
    /// The container limit as the last full read found it (`snapshot`, `limits`).
    container_limit: Option<u64>,
}

impl Collector {
    /// Opens the fastest process probe and discovers the cgroup (absent cgroups are not errors).
    pub fn new() -> Result<Self, CollectError> {
        Ok(Collector::with_parts(
            default_probe()?,
            Cgroup::discover(),
            host_total_memory(),
        ))
    }

    /// A collector over an explicit probe and cgroup (tests, and hosts with unusual mounts).
    pub fn with_parts(
        probe: Box<dyn MemoryProbe>,
        cgroup: Option<Cgroup>,
        host_total: Option<u64>,
    ) -> Self {
        let cgroup = cgroup.map(with_files);
        let container_limit = cgroup.as_ref().and_then(|(_, files)| files.read().limit);
        Collector {
            probe,
            cgroup,
            host_total,
            runtime_limit: None,
            container_limit,
        }
    }

    /// Records a limit the runtime reports (GOMEMLIMIT, the V8 heap limit); `None` clears it.
    pub fn set_runtime_limit(&mut self, limit: Option<u64>) {
        self.runtime_limit = limit;
    }

    /// The probe's current RSS and virtual size (the hot path).
    pub fn process_memory(&mut self) -> Result<ProcessMemory, CollectError> {
        self.probe.process_memory()
    }

    /// Peak RSS.
    pub fn peak_rss(&mut self) -> Result<u64, CollectError> {
        self.probe.peak_rss()
    }

    /// The cgroup this process is in, if any.
    pub fn cgroup(&self) -> Option<&Cgroup> {
        self.cgroup.as_ref().map(|(cgroup, _)| cgroup)
    }

    /// Container figures, from the kept-open cgroup files; empty when there is no cgroup or
    /// its files cannot be read.
    pub fn container(&self) -> ContainerMemory {
        self.cgroup
            .as_ref()
            .map(|(_, files)| files.read())
            .unwrap_or_default()
    }

    /// Every limit that applies.
    pub fn limits(&self) -> Limits {
        Limits {
            container: self.container().limit,
            runtime: self.runtime_limit,
            host: self.host_total,
        }
    }

    /// Process memory, peak RSS, container figures and limits in one pass: one read of each
    /// source (a statm `pread`, `getrusage`, one `pread` per cgroup file), nothing allocated.
    pub fn snapshot(&mut self) -> Result<Snapshot, CollectError> {
        let process = self.process_memory()?;
        let peak_rss = self.peak_rss().ok();
        let container = self.container();
        self.container_limit = container.limit;
        let limits = Limits {
            container: container.limit,
            runtime: self.runtime_limit,
            host: self.host_total,
        };
        Ok(Snapshot {
            process,
            peak_rss,
            container,
            limits,
        })
    }

    /// [`Collector::snapshot`] without the container's limit files (one per level of the
    /// cgroup hierarchy, and they change rarely): the limit is the one the last `snapshot`
    /// read (the monitor's sampler thread takes one every interval). One read of each other
    /// source: what a metrics scrape and a binding's `sample()` need.
    pub fn scrape(&mut self) -> Result<Snapshot, CollectError> {
        let process = self.process_memory()?;
        let peak_rss = self.peak_rss().ok();
        let container = ContainerMemory {
            limit: self.container_limit,
            ..self
                .cgroup
                .as_ref()
                .map(|(_, files)| files.read_usage())
                .unwrap_or_default()
        };
        Ok(Snapshot {
            process,
            peak_rss,
            container,
            limits: Limits {
                container: container.limit,
                runtime: self.runtime_limit,
                host: self.host_total,
            },
        })
    }

    /// The name of the process probe in use.
    pub fn probe_name(&self) -> &'static str {
        self.probe.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_limit_is_the_smallest_that_applies() {
        let l = Limits {
            container: Some(512),
            runtime: Some(1024),
            host: Some(4096),
        };
        assert_eq!(l.effective(), Some((512, LimitSource::Container)));
        let l = Limits {
            container: None,
            runtime: Some(1024),
            host: Some(4096),
        };
        assert_eq!(l.effective(), Some((1024, LimitSource::Runtime)));
        let l = Limits {
            container: None,
            runtime: None,
            host: Some(4096),
        };
        assert_eq!(l.effective(), Some((4096, LimitSource::Host)));
        assert_eq!(Limits::default().effective(), None);
    }

    #[test]
    fn collector_reads_this_process() {
        let mut c = Collector::new().unwrap();
        let m = c.process_memory().unwrap();
        assert!(m.rss_bytes > 0 && m.virtual_bytes >= m.rss_bytes);
        assert!(c.peak_rss().unwrap() >= m.rss_bytes / 2);
        let s = c.snapshot().unwrap();
        assert!(
            s.limits.effective().is_some(),
            "host memory is always known on Linux"
        );
        assert!(s.peak_rss.is_some_and(|p| p >= s.process.rss_bytes / 2));
        let quick = c.scrape().unwrap();
        assert_eq!(
            quick.container.limit, s.container.limit,
            "the limit of the last snapshot"
        );
        assert_eq!(quick.limits, s.limits);
        c.set_runtime_limit(Some(1));
        assert_eq!(c.limits().effective(), Some((1, LimitSource::Runtime)));
    }
}

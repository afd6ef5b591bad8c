//! The portable fallback probe, built on sysinfo. It refreshes only this process's memory
//! (`ProcessRefreshKind::nothing().with_memory()`), which still costs a few microseconds.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use super::{MemoryProbe, ProcessMemory};
use crate::error::CollectError;

/// Process memory through sysinfo.
pub struct SysinfoProbe {
    system: System,
    pid: Pid,
    peak: u64,
}

fn sysinfo_error(e: sysinfo::Error) -> CollectError {
    match e {
        sysinfo::Error::Unsupported => CollectError::Unsupported {
            what: "sysinfo process memory",
        },
        sysinfo::Error::Io(source) => CollectError::io("sysinfo", source),
        other => CollectError::parse("sysinfo", other.to_string()),
    }
}

impl SysinfoProbe {
    /// A probe for the current process.
    pub fn new() -> Result<Self, CollectError> {
        let system = System::new().map_err(sysinfo_error)?;
        let pid = sysinfo::get_current_pid().map_err(sysinfo_error)?;
        Ok(SysinfoProbe {
            system,
            pid,
            peak: 0,
        })
    }
}

impl MemoryProbe for SysinfoProbe {
    fn process_memory(&mut self) -> Result<ProcessMemory, CollectError> {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            false,
            ProcessRefreshKind::nothing().with_memory(),
        );
        let p = self
            .system
            .process(self.pid)
            .ok_or(CollectError::Unsupported {
                what: "sysinfo view of the current process",
            })?;
        let m = ProcessMemory {
            rss_bytes: p.memory(),
            virtual_bytes: p.virtual_memory(),
        };
        // sysinfo has no high-water mark; track the largest RSS seen.
        self.peak = self.peak.max(m.rss_bytes);
        Ok(m)
    }

    fn peak_rss(&mut self) -> Result<u64, CollectError> {
        self.process_memory()?;
        Ok(self.peak)
    }

    fn name(&self) -> &'static str {
        "sysinfo"
    }
}

/// Host total memory through sysinfo.
pub fn host_total_memory() -> Option<u64> {
    let mut s = System::new().ok()?;
    s.refresh_memory();
    Some(s.total_memory()).filter(|&t| t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysinfo_probe_reads_this_process() {
        let mut p = SysinfoProbe::new().unwrap();
        let m = p.process_memory().unwrap();
        assert!(m.rss_bytes > 0);
        assert!(p.peak_rss().unwrap() >= m.rss_bytes);
        assert_eq!(p.name(), "sysinfo");
        assert!(host_total_memory().unwrap() > 0);
    }
}

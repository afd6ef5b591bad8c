//! Container memory from cgroups, v1 and v2.
//!
//! The cgroup is found through `/proc/self/cgroup`. A limit of "max", or an absurdly large value
//! (cgroup v1 reports about 2^63 for "no limit"), means unlimited. A nested cgroup inherits its
//! ancestors' limits, so the limit is the smallest one from the leaf up to the mount root.

use std::fs;
use std::path::{Path, PathBuf};

/// Values at or above this are "no limit" (v1 uses PAGE_COUNTER_MAX * page size, about 2^63).
const UNLIMITED_AT: u64 = 1 << 60;

/// The cgroup hierarchy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CgroupVersion {
    V1,
    V2,
}

/// The memory cgroup of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    pub version: CgroupVersion,
    /// The cgroup's own directory.
    pub dir: PathBuf,
    /// The mount root of the hierarchy; ancestors up to it are checked for tighter limits.
    pub root: PathBuf,
}

/// Container memory figures; a field is `None` when the source lacks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct ContainerMemory {
    /// The tightest limit from the cgroup and its ancestors; `None` when unlimited.
    pub limit: Option<u64>,
    /// memory.current (v2) or memory.usage_in_bytes (v1).
    pub usage: Option<u64>,
    /// memory.events `oom` (v2).
    pub oom: Option<u64>,
    /// memory.events `oom_kill` (v2).
    pub oom_kill: Option<u64>,
}

impl Cgroup {
    /// The cgroup of the current process, or `None` outside any memory cgroup.
    pub fn discover() -> Option<Cgroup> {
        Cgroup::discover_in(Path::new("/proc/self/cgroup"), Path::new("/sys/fs/cgroup"))
    }

    /// Discovery against explicit files: `proc_cgroup` is a `/proc/<pid>/cgroup` file and
    /// `mount` the cgroup filesystem root (`/sys/fs/cgroup`).
    pub fn discover_in(proc_cgroup: &Path, mount: &Path) -> Option<Cgroup> {
        let text = fs::read_to_string(proc_cgroup).ok()?;
        let mut v2_path = None;
        let mut v1_path = None;
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(id), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if id == "0" && controllers.is_empty() {
                v2_path = Some(path);
            } else if controllers.split(',').any(|c| c == "memory") {
                v1_path = Some(path);
            }
        }
        // A v1 memory controller wins on hybrid hosts: it is the one enforcing limits there.
        let (version, root, rel) = match (v1_path, v2_path) {
            (Some(p), _) => (CgroupVersion::V1, mount.join("memory"), p),
            (None, Some(p)) => (CgroupVersion::V2, mount.to_path_buf(), p),
            (None, None) => return None,
        };
        let limit_file = match version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        let leaf = root.join(rel.trim_start_matches('/'));
        // Inside a container without a cgroup namespace the host path does not exist in our
        // mount; the container's own cgroup is then mounted at the root.
        let dir = if leaf.join(limit_file).exists() || leaf.join("memory.current").exists() {
            leaf
        } else if root.join(limit_file).exists() || root.join("memory.current").exists() {
            root.clone()
        } else {
            return None;
        };
        Some(Cgroup { version, dir, root })
    }

    /// Reads limit, usage and OOM counts. Unreadable files give `None` fields, never an error.
    pub fn read(&self) -> ContainerMemory {
        let (limit_file, usage_file) = match self.version {
            CgroupVersion::V1 => ("memory.limit_in_bytes", "memory.usage_in_bytes"),
            CgroupVersion::V2 => ("memory.max", "memory.current"),
        };
        let mut limit: Option<u64> = None;
        let mut dir = Some(self.dir.as_path());
        while let Some(d) = dir {
            if let Some(l) = read_limit(&d.join(limit_file)) {
                limit = Some(limit.map_or(l, |cur| cur.min(l)));
            }
            if d == self.root {
                break;
            }
            dir = d.parent().filter(|p| p.starts_with(&self.root));
        }
        let usage = read_u64(&self.dir.join(usage_file));
        let events = fs::read_to_string(self.dir.join("memory.events")).unwrap_or_default();
        ContainerMemory {
            limit,
            usage,
            oom: event(&events, "oom"),
            oom_kill: event(&events, "oom_kill"),
        }
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A limit file's value, or `None` for "max", absurd values and unreadable files.
fn read_limit(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse::<u64>().ok().filter(|&v| v < UNLIMITED_AT)
}

fn event(events: &str, key: &str) -> Option<u64> {
    events.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

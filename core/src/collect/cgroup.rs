//! Container memory from cgroups, v1 and v2.
//!
//! The cgroup is found through `/proc/self/cgroup`. A limit of "max", or an absurdly large value
//! (cgroup v1 reports about 2^63 for "no limit"), means unlimited. A nested cgroup inherits its
//! ancestors' limits, so the limit is the smallest one from the leaf up to the mount root.

use std::fs::{self, File};
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContainerMemory {
    /// The tightest limit from the cgroup and its ancestors; `None` when unlimited.
    pub limit: Option<u64>,
    /// memory.current (v2) or memory.usage_in_bytes (v1).
    pub usage: Option<u64>,
    /// memory.events `oom` (v2).
    pub oom: Option<u64>,
    /// memory.events `oom_kill` (v2), memory.oom_control `oom_kill` (v1, Linux 4.13+).
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

    /// Reads limit, usage and OOM counts once (opens and closes the files). Unreadable files
    /// give `None` fields, never an error. A collector keeps [`CgroupFiles`] open instead.
    pub fn read(&self) -> ContainerMemory {
        CgroupFiles::open(self).read()
    }

    /// The limit files from the cgroup's own directory up to the mount root.
    fn limit_paths(&self) -> Vec<PathBuf> {
        let limit_file = match self.version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        let mut paths = Vec::new();
        let mut dir = Some(self.dir.as_path());
        while let Some(d) = dir {
            paths.push(d.join(limit_file));
            if d == self.root {
                break;
            }
            dir = d.parent().filter(|p| p.starts_with(&self.root));
        }
        paths
    }
}

/// A cgroup's memory files kept open and read with `pread` at offset 0 into a stack buffer,
/// like statm: a sample costs one syscall per file and allocates nothing, where opening each
/// file every time cost several µs per file (the kernel regenerates a cgroup file's text on
/// every read from offset 0). A file that cannot be opened (an ancestor without a limit file,
/// v1 without OOM counts) is left out and its field reads `None`.
#[derive(Debug)]
pub struct CgroupFiles {
    /// Limit files, leaf first; the tightest limit applies.
    limits: Vec<File>,
    usage: Option<File>,
    /// `memory.events` (v2) or `memory.oom_control` (v1, whose `oom_kill` line is Linux 4.13+).
    events: Option<File>,
    version: CgroupVersion,
}

impl CgroupFiles {
    /// Opens every memory file of `cgroup` that exists.
    pub fn open(cgroup: &Cgroup) -> CgroupFiles {
        let (usage_file, events_file) = match cgroup.version {
            CgroupVersion::V1 => ("memory.usage_in_bytes", "memory.oom_control"),
            CgroupVersion::V2 => ("memory.current", "memory.events"),
        };
        let open = |p: &Path| File::open(p).ok();
        CgroupFiles {
            limits: cgroup
                .limit_paths()
                .iter()
                .filter_map(|p| open(p))
                .collect(),
            usage: open(&cgroup.dir.join(usage_file)),
            events: open(&cgroup.dir.join(events_file)),
            version: cgroup.version,
        }
    }

    /// Current limit, usage and OOM counts; a file that fails to read gives `None`.
    pub fn read(&self) -> ContainerMemory {
        let mut buf = [0u8; 512];
        let limit = self
            .limits
            .iter()
            .filter_map(|f| parse_limit(read_at_start(f, &mut buf)?))
            .min();
        ContainerMemory {
            limit,
            ..self.read_usage()
        }
    }

    /// Usage and OOM counts only (`limit` is `None`): what a metrics scrape exports, without
    /// the limit files (one per level of the hierarchy), which change rarely.
    pub fn read_usage(&self) -> ContainerMemory {
        let mut buf = [0u8; 512];
        let usage = self
            .usage
            .as_ref()
            .and_then(|f| parse_u64(read_at_start(f, &mut buf)?));
        let events = self
            .events
            .as_ref()
            .and_then(|f| read_at_start(f, &mut buf));
        let event = |key: &str| events.and_then(|text| event(text, key));
        ContainerMemory {
            limit: None,
            usage,
            // v1's oom_control has `under_oom` (a state, not a count) and no `oom` counter.
            oom: match self.version {
                CgroupVersion::V1 => None,
                CgroupVersion::V2 => event("oom"),
            },
            oom_kill: event("oom_kill"),
        }
    }
}

/// The file's text from offset 0, or `None` when it cannot be read or is not UTF-8. Memory
/// files are short (`memory.events` is about 80 bytes), so one read into `buf` holds them.
fn read_at_start<'b>(file: &File, buf: &'b mut [u8]) -> Option<&'b str> {
    #[cfg(unix)]
    let n = std::os::unix::fs::FileExt::read_at(file, buf, 0).ok()?;
    // Cgroups are Linux-only; elsewhere this only keeps the module compiling.
    #[cfg(not(unix))]
    let n = {
        use std::io::{Read, Seek};
        let mut f = file;
        f.seek(std::io::SeekFrom::Start(0)).ok()?;
        f.read(buf).ok()?
    };
    std::str::from_utf8(&buf[..n]).ok()
}

fn parse_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// A limit file's value, or `None` for "max" and absurd values.
fn parse_limit(text: &str) -> Option<u64> {
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

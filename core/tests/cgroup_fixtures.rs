//! cgroup discovery and parsing against fixture trees for v1, v2, unlimited, nested and
//! namespaced layouts.

use std::path::PathBuf;

use leaksense_core::collect::cgroup::{Cgroup, CgroupFiles, CgroupVersion, ContainerMemory};

fn fixture(name: &str) -> Option<Cgroup> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cgroup")
        .join(name);
    Cgroup::discover_in(&base.join("proc_cgroup"), &base.join("sys"))
}

#[test]
fn v2_limit_usage_and_oom_events() {
    let cg = fixture("v2").expect("v2 cgroup");
    assert_eq!(cg.version, CgroupVersion::V2);
    assert!(cg.dir.ends_with("kubepods/pod1"));
    assert_eq!(
        cg.read(),
        ContainerMemory {
            limit: Some(536_870_912),
            usage: Some(104_857_600),
            oom: Some(3),
            oom_kill: Some(2)
        }
    );
}

#[test]
fn read_usage_skips_only_the_limit_files() {
    for name in ["v2", "v2-nested", "v1"] {
        let Some(cg) = fixture(name) else { continue };
        let files = CgroupFiles::open(&cg);
        assert_eq!(
            files.read_usage(),
            ContainerMemory {
                limit: None,
                ..files.read()
            },
            "{name}"
        );
    }
    assert!(fixture("v2").is_some());
}

#[test]
fn v2_max_means_unlimited() {
    let m = fixture("v2-unlimited").unwrap().read();
    assert_eq!(m.limit, None);
    assert_eq!(m.usage, Some(2_048_000));
    assert_eq!((m.oom, m.oom_kill), (None, None));
}

#[test]
fn v2_nested_takes_the_tightest_ancestor_limit() {
    let cg = fixture("v2-nested").unwrap();
    assert!(cg.dir.ends_with("svc.service/worker"));
    let m = cg.read();
    assert_eq!(m.limit, Some(268_435_456));
    assert_eq!(m.usage, Some(700_000));
}

#[test]
fn v2_namespaced_cgroup_falls_back_to_the_mount_root() {
    let cg = fixture("v2-namespace").unwrap();
    assert_eq!(cg.dir, cg.root);
    assert_eq!(cg.read().limit, Some(1_073_741_824));
}

#[test]
fn v1_memory_controller_wins_on_hybrid_hosts() {
    let cg = fixture("v1").unwrap();
    assert_eq!(cg.version, CgroupVersion::V1);
    let m = cg.read();
    assert_eq!(m.limit, Some(2_147_483_648));
    assert_eq!(m.usage, Some(123_456_789));
    // v1 counts OOM kills in memory.oom_control; it has no `oom` counter (under_oom is a state).
    assert_eq!((m.oom, m.oom_kill), (None, Some(4)));
}

#[test]
fn v1_absurd_limit_means_unlimited() {
    let m = fixture("v1-unlimited").unwrap().read();
    assert_eq!(m.limit, None);
    assert_eq!(m.usage, Some(42));
}

#[test]
fn no_memory_cgroup_or_garbage_degrades_to_none() {
    assert_eq!(fixture("none"), None);
    assert_eq!(fixture("garbage"), None);
    assert_eq!(fixture("does-not-exist"), None);
}

#[test]
fn kept_open_files_read_current_values_and_degrade_when_removed() {
    let tmp = std::env::temp_dir().join(format!("leaksense-cgroup-{}", std::process::id()));
    let dir = tmp.join("sys/app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(tmp.join("proc_cgroup"), "0::/app\n").unwrap();
    std::fs::write(tmp.join("sys/memory.max"), "max\n").unwrap();
    std::fs::write(dir.join("memory.max"), "1000000\n").unwrap();
    std::fs::write(dir.join("memory.current"), "1000\n").unwrap();
    let cg = Cgroup::discover_in(&tmp.join("proc_cgroup"), &tmp.join("sys")).unwrap();
    let files = CgroupFiles::open(&cg);
    assert_eq!(
        (files.read().limit, files.read().usage),
        (Some(1_000_000), Some(1000))
    );
    // The kernel rewrites a cgroup file's text on every read; rewriting in place stands in.
    std::fs::write(dir.join("memory.current"), "2500\n").unwrap();
    std::fs::write(dir.join("memory.max"), "max\n").unwrap();
    std::fs::write(tmp.join("sys/memory.max"), "500000\n").unwrap();
    let m = files.read();
    assert_eq!(
        (m.limit, m.usage, m.oom_kill),
        (Some(500_000), Some(2500), None)
    );
    std::fs::write(dir.join("memory.current"), "garbage\n").unwrap();
    assert_eq!(files.read().usage, None);
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn this_machine_discovery_never_panics() {
    if let Some(cg) = Cgroup::discover() {
        let m = cg.read();
        assert_eq!(CgroupFiles::open(&cg).read().limit, m.limit);
        if let (Some(limit), Some(usage)) = (m.limit, m.usage) {
            assert!(limit > 0 && usage > 0);
        }
    }
}

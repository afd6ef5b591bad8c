//! A pprof file written by the core opens in `go tool pprof` (Go is installed on every machine
//! of the project; the test fails, not skips, without it).

use std::process::Command;

use leaksense_core::profile::{FrameRef, HeapProfile, PprofKind, ProfileConfig, StackSample};

fn feed(p: &HeapProfile, ts: i64, leaked: u64) {
    let frames = [
        FrameRef {
            function: "main.retain",
            file: "/srv/app/cache.go",
            line: 31,
        },
        FrameRef {
            function: "main.serve",
            file: "/srv/app/main.go",
            line: 12,
        },
        FrameRef {
            function: "main.scratch",
            file: "/srv/app/main.go",
            line: 40,
        },
    ];
    let samples = [
        StackSample {
            frames: &[0, 1],
            objects: leaked / 4096,
            bytes: leaked,
        },
        StackSample {
            frames: &[2, 1],
            objects: 10,
            bytes: 40960,
        },
    ];
    p.replace(ts, &frames, &samples, 524_288).unwrap();
}

fn top(path: &std::path::Path, index: &str) -> String {
    let out = Command::new("go")
        .args(["tool", "pprof", "-top", &format!("-sample_index={index}")])
        .arg(path)
        .output()
        .expect("go is installed (scripts/setup.sh)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "go tool pprof failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn go_tool_pprof_reads_both_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    feed(&p, 0, 4096);
    feed(&p, 300_000, 64 << 20);
    let inuse = dir.path().join("inuse.pb");
    std::fs::write(&inuse, p.pprof(PprofKind::Inuse, None).unwrap()).unwrap();
    let out = top(&inuse, "inuse_space");
    let first = out
        .lines()
        .find(|l| l.contains("main."))
        .unwrap_or_else(|| panic!("no function in:\n{out}"));
    assert!(first.contains("main.retain"), "{out}");
    assert!(out.contains("Type: inuse_space"), "{out}");
    let growth = dir.path().join("growth.pb");
    std::fs::write(&growth, p.pprof(PprofKind::Growth, Some(0)).unwrap()).unwrap();
    let out = top(&growth, "growth_space");
    assert!(out.contains("main.retain"), "{out}");
    assert!(
        !out.contains("main.scratch"),
        "unchanged sites have no growth:\n{out}"
    );
}

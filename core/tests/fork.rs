//! Fork safety of the core (issue #18): a child forked while other threads are inside the
//! tracker, `report()` and the sampler must not inherit a held lock, must read its own memory,
//! and `start`/`stop` from many threads must never leave a monitor that says it runs but does
//! not sample. Every child is waited for with a watchdog and killed by PID if it hangs, so a
//! regression fails the test instead of hanging it.

#![cfg(target_os = "linux")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use leaksense_core::monitor::Monitor;

/// Long enough for any healthy child on a loaded machine; only a deadlocked one takes it.
/// `LEAKSENSE_FORK_WATCHDOG_SECS` shortens it to count deadlocks quickly on a build that has
/// them (RELIABILITY.md's "before" figures).
fn watchdog() -> Duration {
    let secs = std::env::var("LEAKSENSE_FORK_WATCHDOG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Exit codes a child reports its checks with.
const OK: i32 = 0;
const HUNG: i32 = -1;

/// Forks; the child runs `child` and exits with its code without unwinding or running the
/// parent's destructors. Returns the child's exit code, or `HUNG` after killing it.
fn fork_and_wait(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only runs `child` (leaksense calls and allocation, which glibc makes
    // fork-safe) and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(99);
        // SAFETY: ends the child at once, as a forked child of a threaded process must.
        unsafe { libc::_exit(code) };
    }
    let deadline = Instant::now() + watchdog();
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our own child; WNOHANG never blocks.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                100 + libc::WTERMSIG(status)
            };
        }
        if Instant::now() > deadline {
            // SAFETY: SIGKILL to our own unreaped child, then reap it.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return HUNG;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits (bounded by the watchdog) until `cond` holds.
fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + watchdog();
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// What a child checks: every lock is free (report, requests, a new route, sampling) and the
/// sampler, stopped by the fork, starts again and samples.
fn child_checks(m: &Monitor, i: usize) -> i32 {
    if m.report().is_err() {
        return 1;
    }
    let Ok(token) = m.begin_request(&format!("/child-{i}"), &[]) else {
        return 2;
    };
    if m.end_request(token, &[]).is_err() {
        return 3;
    }
    if m.is_running() {
        return 4; // its thread did not survive the fork
    }
    let before = m.analysis().map(|a| a.samples).unwrap_or(0);
    if m.start().is_err() || !eventually(|| m.analysis().is_ok_and(|a| a.samples > before)) {
        return 5;
    }
    m.stop();
    OK
}

#[test]
fn children_forked_from_a_busy_threaded_parent_never_inherit_a_held_lock() {
    let m = Arc::new(Monitor::from_json(r#"{"interval_ms": 1, "max_routes": 5000}"#).unwrap());
    m.start().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    // Request threads, some of them admitting new routes (the route table's insert path).
    for t in 0..4 {
        let (m, done, requests) = (m.clone(), done.clone(), requests.clone());
        threads.push(std::thread::spawn(move || {
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) {
                let route = if i.is_multiple_of(16) {
                    format!("/new-{t}-{i}")
                } else {
                    format!("/r{}", i % 50)
                };
                let token = m.begin_request(&route, &[]).unwrap();
                m.end_request(token, &[]).unwrap();
                requests.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    // Readers: report() merges every shard and the ring.
    for _ in 0..2 {
        let (m, done) = (m.clone(), done.clone());
        threads.push(std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                m.report().unwrap();
            }
        }));
    }
    assert!(eventually(|| requests.load(Ordering::Relaxed) > 10_000));
    let results: Vec<i32> = (0..40)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(3));
            fork_and_wait(|| child_checks(&m, i))
        })
        .collect();
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    // The parent carries on: its sampler still runs and every lock is free.
    assert!(m.is_running());
    m.report().unwrap();
    assert_eq!(
        results,
        vec![OK; 40],
        "per fork: {results:?} (-1 = deadlocked)"
    );
}

fn statm_rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

#[test]
fn a_forked_child_reads_its_own_memory_not_its_parents() {
    // rss_per_request: the per-request reader is a second kept-open statm to check.
    let m = Monitor::from_json(r#"{"interval_ms": 60000, "rss_per_request": true}"#).unwrap();
    let parent_rss = m.sample(None).unwrap().process.rss_bytes;
    let code = fork_and_wait(|| {
        let token = m.begin_request("/x", &[]).unwrap();
        // 256 MiB touched in the child only.
        let big = vec![1u8; 256 << 20];
        std::hint::black_box(&big);
        let seen = m.sample(None).map(|s| s.process.rss_bytes).unwrap_or(0);
        let own = statm_rss_bytes();
        // The kept-open statm must read this process: within 64 MiB of a fresh read, and the
        // 256 MiB above the parent's figure.
        let close = seen.abs_diff(own) < (64 << 20);
        let grown = seen > parent_rss + (200 << 20);
        // The per-request RSS reader is a kept-open statm too: the request saw the 256 MiB.
        let rss_delta = m.end_request(token, &[]).unwrap().rss_delta;
        let per_request = rss_delta.is_some_and(|d| d > (200 << 20) as f64);
        i32::from(!close) + 2 * i32::from(!grown) + 4 * i32::from(!per_request)
    });
    assert_eq!(
        code, OK,
        "bits: 1 not its own statm, 2 no growth seen, 4 per-request RSS"
    );
}

#[test]
fn start_and_stop_racing_never_leave_a_silent_sampler() {
    let m = Arc::new(Monitor::from_json(r#"{"interval_ms": 1}"#).unwrap());
    let barrier = Arc::new(std::sync::Barrier::new(3));
    let mut silent = 0;
    for _ in 0..500 {
        m.start().unwrap();
        let racers: Vec<_> = [false, true]
            .into_iter()
            .map(|start| {
                let (m, barrier) = (m.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    if start {
                        m.start().unwrap();
                    } else {
                        m.stop();
                    }
                })
            })
            .collect();
        barrier.wait();
        for r in racers {
            r.join().unwrap();
        }
        // Whichever won, a start now must give a sampler that samples.
        m.start().unwrap();
        let before = m.analysis().unwrap().samples;
        if !eventually(|| m.analysis().unwrap().samples > before) {
            silent += 1;
            m.stop();
        }
    }
    m.stop();
    assert!(!m.is_running());
    assert_eq!(silent, 0, "rounds where the monitor ran but never sampled");
}

#[test]
fn children_never_inherit_a_held_live_heap_profile_lock() {
    use leaksense_core::profile::FrameRef;
    // The profile's lock is taken by an allocator hook (Python's) on sampled allocations and
    // frees, by the sampler's snapshots and by report(); a child that inherits it held
    // deadlocks in its next sampled allocation, that is, almost at once.
    let m = Arc::new(
        Monitor::from_json(r#"{"interval_ms": 1, "profile": {"enabled": true}}"#).unwrap(),
    );
    let profile = m.profile().expect("the profile is on").clone();
    profile.begin_allocation_feed().unwrap();
    m.start().unwrap();
    let frames = |t: usize| {
        [FrameRef {
            function: "alloc",
            file: "app.py",
            line: t as u32,
        }]
    };
    let done = Arc::new(AtomicBool::new(false));
    let fed = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    // Feeders, as the hook does: sampled blocks recorded, then freed.
    for t in 0..3usize {
        let (profile, done, fed) = (profile.clone(), done.clone(), fed.clone());
        threads.push(std::thread::spawn(move || {
            let mut addr = (t as u64 + 1) << 40;
            while !done.load(Ordering::Relaxed) {
                addr += 64;
                profile.record_alloc(addr, 4096, &frames(t), Some("/r"));
                profile.record_free(addr - 64 * 32);
                fed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // A reader: report() attaches the profile's growth.
    {
        let (m, done) = (m.clone(), done.clone());
        threads.push(std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                m.report().unwrap();
            }
        }));
    }
    assert!(eventually(|| fed.load(Ordering::Relaxed) > 10_000));
    let results: Vec<i32> = (0..40)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(3));
            fork_and_wait(|| {
                let ok = profile.record_alloc(1 << 50, 4096, &frames(9), None)
                    && profile.record_free(1 << 50)
                    && m.report().is_ok()
                    && profile.stats().stacks > 0;
                if ok { child_checks(&m, i) } else { 10 }
            })
        })
        .collect();
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        results,
        vec![OK; 40],
        "per fork: {results:?} (-1 = deadlocked)"
    );
}

#[test]
fn a_monitor_dropped_during_a_fork_does_not_hang_the_parent() {
    // The fork handler keeps each monitor alive while it holds its locks; one whose owner
    // dropped it meanwhile is dropped by the handler, which must have released every lock its
    // drop takes (the kept-open file registry) by then.
    let done = Arc::new(AtomicBool::new(false));
    let churn: Vec<_> = (0..4)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    drop(Monitor::from_json(r#"{"interval_ms": 60000}"#).unwrap());
                }
            })
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let results: Vec<i32> = (0..1000).map(|_| fork_and_wait(|| OK)).collect();
        let _ = tx.send(results);
    });
    let results = rx.recv_timeout(watchdog());
    done.store(true, Ordering::Relaxed);
    // On a hang the churn thread is blocked behind the stuck fork: fail without joining it.
    let results = results.expect("a fork hung in the parent while a monitor was dropped");
    for c in churn {
        c.join().unwrap();
    }
    assert_eq!(results, vec![OK; 1000]);
}

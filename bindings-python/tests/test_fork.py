"""Fork safety and start/stop races (issue #18). Forks come from a parent whose threads are inside
the core (requests, report(), the sampler), as in gunicorn, Celery and multiprocessing; every
child is waited for with a watchdog and killed by PID if it hangs, so a deadlock fails the test."""

import os
import signal
import threading
import time

import pytest

import leaksense

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")

# Long enough for any healthy child on a loaded machine; only a deadlocked one takes it.
# LEAKSENSE_FORK_WATCHDOG_SECS shortens it to count deadlocks quickly on a build that has them.
WATCHDOG = float(os.environ.get("LEAKSENSE_FORK_WATCHDOG_SECS", "60"))
HUNG = -1


def eventually(cond, limit=WATCHDOG):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.001)
    return False


def fork_and_wait(child):
    """Forks; the child runs `child()` and leaves with its exit code. Returns that code, or
    HUNG after killing the child by its PID."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = child()
        finally:
            os._exit(code)
    deadline = time.monotonic() + WATCHDOG
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return HUNG
        time.sleep(0.002)


def sampling(m):
    before = m.analysis()["samples"]
    return eventually(lambda: m.analysis()["samples"] > before)


def child_checks(m, i):
    """Every lock is free in the child, and the sampler (running in the parent) runs here."""
    m.report()
    with leaksense.track_request(f"/child-{i}", monitor=m):
        pass
    if not m.running:
        return 4
    return 0 if sampling(m) else 5


def busy(m, stop, requests):
    """Threads inside the core while the main thread forks: requests (some admitting new
    routes), and report() merging every shard."""

    def serve(t):
        i = 0
        while not stop.is_set():
            route = f"/new-{t}-{i}" if i % 16 == 0 else f"/r{i % 50}"
            with leaksense.track_request(route, monitor=m):
                pass
            requests[t] += 1
            i += 1

    def read():
        while not stop.is_set():
            m.report()

    threads = [threading.Thread(target=serve, args=(t,)) for t in range(4)]
    # report() releases the GIL while it merges the shards: these hold core locks at fork time.
    threads += [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    return threads


def test_children_forked_while_threads_are_inside_the_core_never_deadlock():
    m = leaksense.Monitor(interval_ms=1, max_routes=5000)
    m.on_leak(lambda r: None)  # a poller thread too
    m.start()
    stop, requests = threading.Event(), [0] * 4
    threads = busy(m, stop, requests)
    try:
        assert eventually(lambda: sum(requests) > 5000)
        results = []
        for i in range(60):
            time.sleep(0.003)
            results.append(fork_and_wait(lambda: child_checks(m, i)))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert results == [0] * 60, f"per fork (-1 = deadlocked): {results}"
    # The parent carries on.
    assert m.running and sampling(m)
    m.report()
    m.close()


def test_start_and_stop_from_several_threads_never_raise_or_go_silent():
    m = leaksense.Monitor(interval_ms=1)
    m.on_leak(lambda r: None)  # start/stop also start and join the poller thread
    errors = []
    barrier = threading.Barrier(4)

    def flip(t):
        barrier.wait()
        try:
            for i in range(2500):
                m.start() if (i + t) % 2 == 0 else m.stop()
        except BaseException as e:  # reported below; a thread cannot fail the test itself
            errors.append(e)

    threads = [threading.Thread(target=flip, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    m.start()
    assert m.running and sampling(m), "running but not sampling"
    m.close()
    assert not m.running


def test_forks_racing_start_and_stop_leave_every_child_consistent(capfd):
    m = leaksense.Monitor(interval_ms=1)
    m.on_leak(lambda r: None)
    m.start()
    stop = threading.Event()
    errors = []

    def flip(t):
        i = 0
        try:
            while not stop.is_set():
                m.start() if (i + t) % 2 == 0 else m.stop()
                i += 1
        except BaseException as e:
            errors.append(e)

    def consistent():
        # Whatever the child inherited, what it says must match what it does.
        if m.running and not sampling(m):
            return 6
        m.start()
        return 0 if m.running and sampling(m) else 7

    threads = [threading.Thread(target=flip, args=(t,)) for t in range(3)]
    for t in threads:
        t.start()
    try:
        results = [fork_and_wait(consistent) for _ in range(30)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert results == [0] * 30, f"per fork (-1 = deadlocked): {results}"
    err = capfd.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err
    m.close()


def test_children_forked_while_the_heap_profile_is_fed_never_deadlock():
    # The live-heap profile's lock is taken by the allocation hook (under the GIL) and, without
    # the GIL, by the sampler's snapshots and by report(): a child that inherited it held would
    # hang in its first sampled allocation, that is, at once.
    m = leaksense.Monitor(
        interval_ms=1,
        profile={"enabled": True, "snapshot_every_ms": 1, "sample_bytes": 4096},
    )
    m.start()
    # Thousands of distinct allocation sites kept alive: report() (which runs without the GIL)
    # then holds the profile's lock long enough for a fork to find it held.
    sites = [
        eval(compile("lambda: bytearray(1000)", f"site{i}.py", "eval")) for i in range(3000)
    ]
    kept = [site() for site in sites for _ in range(8)]
    stop, allocated = threading.Event(), [0]

    def alloc():
        while not stop.is_set():
            junk = [bytearray(1000) for _ in range(100)]
            del junk
            allocated[0] += 1

    def read():
        while not stop.is_set():
            m.report()

    def child(i):
        # About 5,000 sampled allocations, each taking the profile's lock.
        junk = [bytearray(1000) for _ in range(20_000)]
        del junk
        return child_checks(m, i)  # report() takes the profile's lock too

    threads = [threading.Thread(target=alloc) for _ in range(2)]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        assert eventually(lambda: allocated[0] > 200)
        results = []
        for i in range(60):
            time.sleep(0.003)
            results.append(fork_and_wait(lambda: child(i)))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert results == [0] * 60, f"per fork (-1 = deadlocked): {results}"
    assert m.report().sites
    del kept
    m.close()

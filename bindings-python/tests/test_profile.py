"""The live-heap profile fed by the sampled allocation hook (PyMem_SetAllocator on the MEM and
OBJ domains): the retaining line is the top growing site, routes tag samples, frees are seen,
the pending exception survives, tracemalloc can stack on top, and every error is typed."""

import gc
import os
import subprocess
import sys
import threading
import tracemalloc

import pytest

import leaksense
from leaksense import _native

PROFILED = {"profile": {"enabled": True, "snapshot_every_ms": 1, "sample_bytes": 4096}}

kept: list = []


def retain_for_test(n):
    for i in range(n):
        kept.append(bytearray(1000))  # the leak


def transient(n):
    for _ in range(n):
        x = bytearray(1000)
        del x


def leak_line():
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if line.rstrip().endswith("# the leak"))


@pytest.fixture
def monitor():
    m = leaksense.Monitor(**PROFILED)
    m.start()
    yield m
    m.close()
    kept.clear()
    assert not _native.heap_profile_running()


def test_the_top_growing_site_is_the_retaining_line(monitor, tmp_path):
    assert _native.heap_profile_running()
    monitor.sample()
    retain_for_test(20_000)
    transient(20_000)
    monitor.sample()
    sites = monitor.report().sites
    assert sites, monitor.report().text
    top = sites[0]
    assert (top["function"], top["line"]) == ("retain_for_test", leak_line()), sites
    assert top["file"].endswith("test_profile.py")
    # 20,000 blocks of about 1 KB, estimated from ~5,000 samples.
    assert 15e6 < top["bytes"] < 30e6, top
    assert all(s["function"] != "transient" for s in sites), sites
    stats = monitor.profile_stats()
    assert stats["live_blocks"] > 1000 and stats["heap_bytes"] < 5_000_000, stats
    monitor.write_pprof(tmp_path / "growth.pb", "growth")
    assert (tmp_path / "growth.pb").stat().st_size > 0
    with pytest.raises(leaksense.InvalidOptionError):
        monitor.write_pprof(tmp_path / "x.pb", "heap")
    with pytest.raises(leaksense.IoError):
        monitor.write_pprof("/no/such/dir/x.pb")


def test_samples_in_a_tracked_request_carry_its_route(monitor):
    monitor.sample()
    with leaksense.track_request("/cache", monitor=monitor):
        leaksense.set_route("/cache")
        retain_for_test(10_000)
    monitor.sample()
    top = monitor.report().sites[0]
    assert top["function"] == "retain_for_test" and top["route"] == "/cache", top


def test_the_pending_exception_survives_sampled_allocations(monitor):
    try:
        raise KeyError("kept")
    except KeyError:
        retain_for_test(5_000)
        assert sys.exc_info()[0] is KeyError
        assert str(sys.exc_info()[1]) == "'kept'"


def test_threads_allocate_under_the_hook(monitor):
    def work():
        retain_for_test(2_000)
        transient(2_000)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kept) == 8_000


def test_tracemalloc_stacks_on_top_and_survives_our_stop():
    m = leaksense.Monitor(**PROFILED)
    m.start()
    tracemalloc.start()
    try:
        m.close()
        assert not _native.heap_profile_running()
        data = [bytearray(100) for _ in range(100)]
        snap = tracemalloc.take_snapshot()
        assert any(s.traceback[0].filename == __file__ for s in snap.statistics("lineno")[:50])
        del data
    finally:
        tracemalloc.stop()
    # Our hook, left below tracemalloc's, only forwards now.
    retain_for_test(1_000)
    kept.clear()


def test_off_by_default_and_refusing_when_off():
    m = leaksense.Monitor()
    assert m.config["profile"]["enabled"] is False
    m.start()
    assert not _native.heap_profile_running()
    assert m.profile_stats() is None
    with pytest.raises(leaksense.InvalidOptionError):
        m._native.heap_profile_start()
    with pytest.raises(leaksense.InvalidOptionError):
        m.write_pprof("/tmp/x.pb")
    assert m.report().sites == []
    m.close()
    with pytest.raises(leaksense.InvalidOptionError):
        leaksense.Monitor(profile={"max_stacks": 1})
    with pytest.raises(leaksense.ClosedError):
        m._native.heap_profile_start()


def test_closing_an_older_monitor_keeps_the_hook_of_the_newer_one():
    a = leaksense.Monitor(**PROFILED)
    b = leaksense.Monitor(**PROFILED)
    a.start()
    b.start()
    a.close()
    assert _native.heap_profile_running(), "b still owns the hook"
    b.sample()
    retain_for_test(5_000)
    b.sample()
    assert b.report().sites[0]["function"] == "retain_for_test"
    b.close()
    kept.clear()
    assert not _native.heap_profile_running()


class _Finalized:
    """Garbage in a cycle whose finalizer writes into `shared`."""

    def __init__(self, shared, i):
        self.me, self.shared, self.i = self, shared, i

    def __del__(self):
        for j in range(8):
            self.shared[("del", self.i, j)] = [self.i]
        for j in range(8):
            self.shared.pop(("del", self.i - 3, j), None)


def _put(d, k, v):
    d[k] = v  # a fresh frame, whose first sampled allocation (the dict's resize) makes its frame object


def _collect_inside_sampled_allocations():
    threshold = gc.get_threshold()
    m = leaksense.Monitor(profile={"enabled": True, "sample_bytes": 1})
    m.start()
    try:
        gc.set_threshold(1)
        shared: dict = {}
        for i in range(20_000):
            _Finalized(shared, i)
            _put(shared, i, str(i))
            if i % 100 == 99:
                for k in range(i - 99, i + 1):
                    del shared[k]
        gc.collect()
        assert all(k[0] == "del" for k in shared), "the dict lost its integrity"
        assert all(shared[k] == [k[1]] for k in shared)
    finally:
        gc.set_threshold(*threshold)
        m.close()
    assert gc.isenabled()


def test_no_collection_runs_inside_an_allocation_the_hook_samples():
    # On 3.11, capturing a stack allocates frame objects, and such an allocation can run the
    # cyclic collector synchronously, that is inside the allocation being sampled (here a
    # dict's resize). Finalizers mutating that very dict then corrupt it: before the hook
    # suspended the collector during a capture, this aborted the interpreter. In a child
    # process, so that a crash fails this test and not the whole run.
    here = os.path.dirname(os.path.abspath(__file__))
    code = "import test_profile; test_profile._collect_inside_sampled_allocations()"
    done = subprocess.run([sys.executable, "-c", code], cwd=here, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

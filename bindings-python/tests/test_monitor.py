"""leaksense.Monitor over the core monitor: options, lifecycle, errors, events, fork."""

import math
import os
import threading
import time

import pytest

import leaksense

# Time compressed so a minute of fed samples is enough for the detector.
FAST = {
    "detector": {"bucket_secs": 1, "warmup_secs": 5, "min_growth_secs": 5, "for_secs": 2},
}


def wait_for(cond, what, limit=20.0):
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize(
    "options",
    [
        {"bogus": 1},
        {"interval_ms": 0},
        {"interval_ms": "fast"},
        {"runtime": "ruby"},
        {"runtime": "node"},
        {"naming": "old"},
        {"detector": {"for_secs": -1}},
        {"detector": {"nope": 1}},
        {"attribution": {"top_k": 0}},
        {"memory_limit": float("nan")},
        {"measures": ["no_such_measure"]},
        {"measures": ["allocated_blocks", "allocated_blocks"]},
        {"detector": object()},
    ],
)
def test_bad_options_raise_invalid_option(options):
    with pytest.raises(leaksense.InvalidOptionError) as e:
        leaksense.Monitor(**options)
    assert e.value.code == "invalid_option"
    assert isinstance(e.value, ValueError)


def test_options_reach_the_core_over_the_python_preset():
    m = leaksense.Monitor(interval_ms=250, measures=["allocated_blocks"], naming="legacy")
    assert m.config["runtime"] == "python"
    assert m.config["heap"] is False
    assert m.config["interval_ms"] == 250
    assert m.config["naming"] == "legacy"
    assert m.measures[0] == "allocated_blocks"
    m.close()


def test_start_stop_close_are_idempotent_and_the_sampler_samples():
    m = leaksense.Monitor(interval_ms=10)
    assert not m.running
    m.start()
    m.start()
    assert m.running
    wait_for(lambda: m.analysis()["samples"] >= 3, "three samples")
    m.stop()
    m.stop()
    assert not m.running
    n = m.analysis()["samples"]
    time.sleep(0.05)
    assert m.analysis()["samples"] == n, "no sampling after stop"
    m.start()
    assert m.running
    m.close()
    m.close()
    assert m.closed and not m.running


def test_context_manager_starts_and_closes():
    with leaksense.Monitor(interval_ms=10) as m:
        assert m.running
    assert m.closed


def test_every_method_of_a_closed_monitor_raises_closed():
    m = leaksense.Monitor()
    token = m.begin_request("/a")
    m.close()
    calls = [
        m.start,
        m.sample,
        m.analysis,
        m.poll,
        m.report,
        lambda: m.replay([]),
        lambda: m.watched,
        lambda: m.observe_baseline(1.0, 1.0),
        lambda: m.set_runtime_limit(None),
        lambda: m.begin_request("/a"),
        lambda: m.end_request(token),
        lambda: m.end_request(token, route="/b"),
        lambda: m._native.route_id("/a"),
        lambda: m._native.record(0, 0.0, 1.0),
        lambda: m._native.record_all(0, [0.0], [1.0], float("nan")),
        m._native.memory,
    ]
    for call in calls:
        with pytest.raises(leaksense.ClosedError) as e:
            call()
        assert e.value.code == "closed"
        assert not isinstance(e.value, ValueError)


def test_sample_and_baseline_errors_are_typed():
    m = leaksense.Monitor()
    snap = m.sample(1000.0)
    assert snap["process"]["rss_bytes"] > 0
    with pytest.raises(leaksense.OutOfOrderError):
        m.sample(999.0)
    with pytest.raises(leaksense.NonFiniteValueError):
        m.sample(float("nan"))
    with pytest.raises(leaksense.NonFiniteValueError):
        m.observe_baseline(2000.0, float("inf"))
    assert m.watched == "rss", "a rejected value switches nothing"
    m.observe_baseline(2000.0, 5e7)
    assert m.watched == "runtime_baseline"
    with pytest.raises(leaksense.OutOfOrderError):
        m.observe_baseline(1999.0, 5e7)
    with pytest.raises(TypeError):
        m.observe_baseline("now", 5e7)  # type: ignore[arg-type]
    m.close()


def test_runtime_limit():
    m = leaksense.Monitor()
    for bad in (0, -1):
        with pytest.raises(leaksense.InvalidOptionError):
            m.set_runtime_limit(bad)
    m.set_runtime_limit(1 << 30)
    assert m.analysis()["limit"] == float(1 << 30)
    m.close()


def test_request_errors_are_typed():
    m = leaksense.Monitor(measures=["allocated_blocks"])
    rid = m._native.route_id("/a")
    with pytest.raises(leaksense.InvalidOptionError):
        m._native.record_all(rid, [], [1.0], float("nan"))  # wrong number of measures
    with pytest.raises(leaksense.NonFiniteValueError):
        m._native.record_all(rid, [float("nan")], [1.0], float("nan"))
    with pytest.raises(leaksense.InvalidOptionError):
        m._native.record_all(rid + 1, [0.0], [1.0], float("nan"))  # not a route id
    with pytest.raises(TypeError):
        m.end_request("not a token")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        m._native.record_all(-1, [0.0], [1.0], float("nan"))
    assert m.report().to_dict()["routes"] == [], "nothing was counted"
    m.close()


def test_one_measure_records_with_plain_floats():
    m = leaksense.Monitor()  # the defaults: gc_count, no per-request RSS
    assert m.config["measures"] == ["gc_count"] and not m.config["rss_per_request"]
    rid = m._native.route_id("/a")
    assert m._native.route_id("/a") == rid
    assert m._native.record(rid, 10.0, 13.0) == 3.0
    with pytest.raises(leaksense.NonFiniteValueError):
        m._native.record(rid, float("inf"), 0.0)
    with pytest.raises(leaksense.InvalidOptionError):
        m._native.record(rid + 1, 0.0, 0.0)
    two = leaksense.Monitor(measures=["gc_count", "allocated_blocks"])
    with pytest.raises(leaksense.InvalidOptionError):
        two._native.record(two._native.route_id("/a"), 0.0, 1.0)  # two measures expected
    assert [r["requests"] for r in m.report().to_dict()["routes"]] == [1]
    m.close()
    two.close()


def test_rss_per_request_is_opt_in_and_reads_the_start_from_the_core():
    m = leaksense.Monitor(rss_per_request=True)
    assert m.measures == ["gc_count", "rss"]
    t = m.begin_request("/a")
    assert t.rss_start > 0
    deltas, rss = m.end_request(t)
    assert len(deltas) == 1 and rss is not None
    off = leaksense.Monitor()
    assert math.isnan(off._native.request_rss()), "no RSS read without the option"
    assert off.begin_request("/a").rss_start != off.begin_request("/a").rss_start  # NaN
    m.close()
    off.close()


def test_route_ids_are_cached_up_to_the_cap():
    m = leaksense.Monitor(max_routes=3)
    for i in range(10):
        m.end_request(m.begin_request(f"/r{i}"))
    assert len(m._route_ids) == 3
    rows = {r["route"]: r["requests"] for r in m.report().to_dict()["routes"]}
    assert rows["_other"] == 7 and len(rows) == 4
    m.close()


def test_report_is_typed_and_has_the_route_table():
    m = leaksense.Monitor(measures=["allocated_blocks"])
    for _ in range(3):
        t = m.begin_request("/orders")
        m.end_request(t)
    report = m.report()
    assert isinstance(report, leaksense.Report)
    assert report.verdict == "insufficient"
    assert report.suspects == []
    d = report.to_dict()
    assert d["schema_version"] >= 1
    rows = {r["route"]: r for r in d["routes"]}
    assert rows["/orders"]["requests"] == 3
    assert [x["measure"] for x in rows["/orders"]["measures"]] == ["allocated_blocks"]
    assert "/orders" in str(report)
    m.close()


def feed_leak(m, start, seconds, rate=2e6):
    """Feeds a floor that is flat for 10 s then grows `rate` bytes per second."""
    for i in range(seconds * 5):
        t = start + i * 0.2
        grow = max(0.0, t - start - 10.0) * rate
        m.observe_baseline(t, 5e7 + grow + (i % 3) * 1e4)


def test_events_are_polled_delivered_and_drained():
    m = leaksense.Monitor(**FAST)
    got = []
    m.on("leak", got.append)
    feed_leak(m, 1_700_000_000.0, 60)
    events = m.poll()
    assert [e.kind for e in events][:1] == ["leak"], events
    assert got == events[:1]
    assert got[0].report.verdict == "leak" and got[0].measure == "memory"
    assert got[0].to_dict()["report"]["state"] == "firing"
    assert "LEAK" in got[0].report.text
    assert m.poll() == []
    assert m.report().verdict == "leak"
    with pytest.raises(leaksense.InvalidOptionError):
        m.on("alert", print)
    m.close()


def test_on_leak_callback_runs_once_the_alert_fires():
    m = leaksense.Monitor(interval_ms=20, **FAST)
    got = []
    fired = threading.Event()

    @m.on_leak
    def _(event):
        got.append(event)
        fired.set()

    m.start()
    feed_leak(m, 1_700_000_000.0, 60)
    assert fired.wait(20), "on_leak never called"
    assert got[0].kind == "leak" and got[0].report.verdict == "leak"
    m.close()


def test_a_failing_callback_does_not_stop_the_poller(capfd):
    m = leaksense.Monitor(interval_ms=20, **FAST)
    fired = threading.Event()
    m.on("leak", lambda e: 1 / 0)
    m.on("leak", lambda e: fired.set())
    m.start()
    feed_leak(m, 1_700_000_000.0, 60)
    wait_for(lambda: "event listener failed" in capfd.readouterr().err, "error message")
    m.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_sampler_runs_again_in_a_forked_child_and_in_the_parent():
    m = leaksense.Monitor(interval_ms=10)
    m.start()
    wait_for(lambda: m.analysis()["samples"] >= 2, "parent samples")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report whether the sampler samples here, then leave at once
        ok = b"0"
        try:
            before = m.analysis()["samples"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and m.analysis()["samples"] < before + 3:
                time.sleep(0.01)
            ok = b"1" if m.running and m.analysis()["samples"] >= before + 3 else b"0"
        finally:
            os.write(w, ok)
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1", "the child's sampler did not sample"
    os.close(r)
    os.waitpid(pid, 0)
    assert m.running
    n = m.analysis()["samples"]
    wait_for(lambda: m.analysis()["samples"] > n, "parent samples after fork")
    m.close()


def test_instrument_starts_a_default_monitor():
    m = leaksense.instrument(interval_ms=50, metrics=False)
    try:
        assert m.running
        assert leaksense.default_monitor() is m
    finally:
        m.close()
        leaksense.set_default_monitor(None)


def test_the_interpreter_exits_cleanly_with_a_running_monitor():
    import subprocess
    import sys

    code = (
        "import leaksense\n"
        "m = leaksense.instrument(interval_ms=5, metrics=False)\n"
        "m.on('leak', print)\n"
        "import time; time.sleep(0.1)\n"
        "assert m.running\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""

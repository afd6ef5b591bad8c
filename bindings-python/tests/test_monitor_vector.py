"""The shared monitor vector: replayed through leaksense.Monitor, the listeners get exactly the
events the core's own test expects (kind, time, measure, report and its text), in order."""

import json
import pathlib

import pytest

import leaksense

VECTOR = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors" / "monitor.json"


def test_the_monitor_vector_gives_the_same_events():
    doc = json.loads(VECTOR.read_text())
    m = leaksense.Monitor(**doc["options"])
    got = []
    for kind in leaksense.EVENT_KINDS:
        m.on(kind, got.append)
    for step in doc["steps"]:
        m.replay([step])
        m.poll()
    m.close()
    assert [e.kind for e in got] == ["leak", "suspects", "resolved"]
    assert [e.to_dict() for e in got] == doc["events"]
    assert got[1].report.suspects[0]["route"] == "/leak"


@pytest.mark.parametrize(
    "steps, error",
    [
        ([{"ts_ms": 1, "bogus": 1}], leaksense.InvalidOptionError),
        ([{"ts_ms": 1, "baseline": float("nan")}], leaksense.InvalidOptionError),
        ([{"ts_ms": 2, "baseline": 1.0}, {"ts_ms": 1, "baseline": 1.0}], leaksense.OutOfOrderError),
        ([object()], leaksense.InvalidOptionError),
    ],
)
def test_replay_errors_are_typed(steps, error):
    m = leaksense.Monitor()
    with pytest.raises(error):
        m.replay(steps)
    m.close()

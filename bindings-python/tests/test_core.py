"""Errors, catalog, pure functions, vectors and stubs of the leaksense native module."""

import json
import math
import pathlib
import subprocess
import sys

import pytest

import leaksense

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors"


def test_every_core_code_has_a_class_with_that_code():
    codes = leaksense.error_codes()
    assert len(codes) == 9
    for code in codes:
        cls = leaksense.BY_CODE[code]
        assert issubclass(cls, leaksense.LeakSenseError)
        assert cls.code == code


def test_input_errors_are_value_errors():
    assert issubclass(leaksense.NonFiniteValueError, ValueError)
    assert issubclass(leaksense.OutOfOrderError, ValueError)
    assert not issubclass(leaksense.IoError, ValueError)


def test_nan_raises_typed_error():
    with pytest.raises(leaksense.NonFiniteValueError) as e:
        leaksense.deriv([1.0, 2.0], [1.0, float("nan")])
    assert e.value.code == "non_finite_value"


def test_out_of_order_raises_typed_error():
    with pytest.raises(leaksense.OutOfOrderError) as e:
        leaksense.deriv([2.0, 1.0], [1.0, 2.0])
    assert e.value.code == "out_of_order"


def test_wrong_type_raises_type_error():
    with pytest.raises(TypeError):
        leaksense.deriv("ab", [1.0, 2.0])  # type: ignore[arg-type]


def test_format_amount_is_the_cores_formatter():
    assert leaksense.format_amount(53_657.6) == "52.4 KiB"
    assert leaksense.format_amount(1.0, "{file_descriptor}") == "1 file descriptor"
    assert leaksense.format_amount(5776.0, "{file_descriptor}") == "5776 file descriptors"
    assert leaksense.format_amount(0.5, "{thread}") == "0.5 threads"
    for bad in ("", " ", "a\nb", "x" * 65):
        with pytest.raises(leaksense.InvalidOptionError):
            leaksense.format_amount(1.0, bad)


def test_deriv_and_predict_linear():
    assert leaksense.deriv([0.0, 10.0, 20.0], [0.0, 100.0, 200.0]) == pytest.approx(10.0)
    assert leaksense.deriv([0.0], [1.0]) is None
    v = leaksense.predict_linear([0.0, 10.0], [0.0, 100.0], 10.0, 60.0)
    assert v == pytest.approx(700.0)
    with pytest.raises(leaksense.LeakSenseError):
        leaksense.find_growth_inflection([], [], 3, 2.0)


def test_catalog_python_has_gc_metrics_in_both_namings():
    semconv = {m["key"]: m for m in leaksense.catalog("python", "semconv")}
    legacy = {m["key"]: m for m in leaksense.catalog(runtime="python", naming="legacy")}
    assert "cpython.gc.collections" in semconv
    assert semconv.keys() == legacy.keys()
    assert all(m["unit"] is not None for m in semconv.values())
    with pytest.raises(leaksense.InvalidOptionError):
        leaksense.catalog("cobol")


def _num(x):
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(x, x) if isinstance(x, str) else x


def _args(a):
    # `options` goes to the core as it is (JSON has no NaN).
    return {
        k: v if k == "options" else ([_num(x) for x in v] if isinstance(v, list) else _num(v))
        for k, v in a.items()
    }


OPS = {
    "deriv": lambda a: leaksense.deriv(a["timestamps"], a["values"]),
    "predict_linear": lambda a: leaksense.predict_linear(
        a["timestamps"], a["values"], a["eval_time"], a["horizon"]
    ),
    "find_growth_inflection": lambda a: leaksense.find_growth_inflection(
        a["timestamps"], a["values"], a["window"], a["ratio"]
    ),
    "analyze": lambda a: leaksense.analyze(
        a["timestamps"],
        a["values"],
        **a.get("options", {k: a[k] for k in ("kind", "limit") if k in a}),
    ),
}


def _check_analysis(got, exp, name):
    for key in ("verdict", "state"):
        if key in exp:
            assert got[key] == exp[key], name
    if "growth_start" in exp:
        lo, hi = exp["growth_start"]
        assert got["growth_start_ms"] is not None and lo <= got["growth_start_ms"] / 1000 <= hi, name
    if "rate_per_sec" in exp:
        lo, hi = exp["rate_per_sec"]
        assert got["rate_per_sec"] is not None and lo <= got["rate_per_sec"] <= hi, name
    if "growth_stop" in exp:
        lo, hi = exp["growth_stop"]
        assert got["growth_stop_ms"] is not None and lo <= got["growth_stop_ms"] / 1000 <= hi, name
    firing = [e["ts_ms"] / 1000 for e in got["events"] if e["to"] == "firing"]
    if "fired" in exp:
        assert bool(firing) == exp["fired"], name
    if "fired_by" in exp:
        assert firing and firing[0] <= exp["fired_by"], name


def test_vectors_present():
    assert FUNCTION_VECTORS, f"no vectors in {VECTORS}"


# monitor.json drives a Monitor (test_monitor_vector.py); the others are function cases.
FUNCTION_VECTORS = sorted(p for p in VECTORS.glob("*.json") if p.name != "monitor.json")


@pytest.mark.parametrize("path", FUNCTION_VECTORS, ids=lambda p: p.name)
def test_vectors(path):
    cases = json.loads(path.read_text())["cases"]
    assert cases
    for case in cases:
        op, exp, name = case["op"], case["expect"], case["name"]
        if op not in OPS:
            pytest.fail(f"{path.name}:{name}: unknown op {op!r}")
        args = _args(case["args"])
        if "error" in exp:
            with pytest.raises(leaksense.LeakSenseError) as e:
                OPS[op](args)
            assert e.value.code == exp["error"], name
            continue
        got = OPS[op](args)
        if op == "analyze":
            _check_analysis(got, exp, name)
            continue
        want = exp.get("value", exp.get("timestamp"))
        if want is None:
            assert got is None, name
        else:
            assert got == pytest.approx(_num(want), rel=1e-9, abs=1e-9, nan_ok=True), name


def test_stubtest():
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "leaksense._native"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_bench_and_demo_type_check_strictly():
    root = pathlib.Path(__file__).resolve().parents[1]
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "python/leaksense", "bench",
         "../examples/python-leak"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert r.returncode == 0, r.stdout + r.stderr

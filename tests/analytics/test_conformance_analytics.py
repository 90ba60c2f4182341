"""Replay every record of the analytics conformance corpus against nanobook.

Format and comparison rules: SCHEMA-analytics.md (copied beside the data as
``tests/data/analytics/SCHEMA-analytics.md``).  Floats must match bit for
bit (NaN equals NaN, ``0.0`` differs from ``-0.0``); ints and floats are
kept apart; lists must be lists; dict key order matters.  Records flagged
``approximate`` (portfolio optimizers) compare against ``exact_expect``, the
true optimum, within 1e-6 absolute per weight.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import nanobook

DATA = Path(__file__).resolve().parents[1] / "data" / "analytics" / "analytics.jsonl"
APPROX_TOL = 1e-6

# Functions owned by the portfolio area (nanobook/portfolio).  Their records
# are expected to fail only while those functions are missing.
PORTFOLIO_FNS = {
    "py_compute_metrics", "drawdown_series", "py_drawdown_series", "rolling_max_drawdown",
    "py_rolling_max_drawdown", "py_rolling_sharpe", "py_rolling_volatility", "tear_sheet",
    "py_tear_sheet", "decompose_backtest", "py_decompose_backtest",
}

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode(v):
    """JSON value -> Python call argument (tuples, ndarrays, non-finite floats)."""
    if isinstance(v, str):
        return _NONFINITE.get(v, v)
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "$tuple" in v:
            return tuple(decode(x) for x in v["$tuple"])
        if "$ndarray" in v:
            return np.array(decode(v["$ndarray"]), dtype=v.get("dtype", "float64"))
        return {k: decode(x) for k, x in v.items()}
    return v


def _metrics_dict(m):
    keys = ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown",
            "calmar", "num_periods", "winning_periods", "losing_periods", "cvar_95",
            "win_rate", "profit_factor", "payoff_ratio", "kelly"]
    out = {"$type": "Metrics"}
    for k in keys:
        out[k] = getattr(m, k)
    return out


def mismatch(expect, got, path="$"):
    """Return a description of the first difference, or None when equal."""
    if isinstance(expect, dict) and expect.get("$type") == "Metrics":
        if got is None or isinstance(got, (dict, list, float, int, str)):
            return f"{path}: expected Metrics, got {type(got).__name__}"
        got = _metrics_dict(got)
    if isinstance(expect, str) and expect in _NONFINITE:
        exp = _NONFINITE[expect]
        if not isinstance(got, float):
            return f"{path}: expected float {expect}, got {got!r}"
        if math.isnan(exp):
            return None if math.isnan(got) else f"{path}: expected NaN, got {got!r}"
        return None if got == exp else f"{path}: expected {expect}, got {got!r}"
    if isinstance(expect, bool) or expect is None or isinstance(expect, str):
        if type(got) is not type(expect) or got != expect:
            return f"{path}: expected {expect!r}, got {got!r}"
        return None
    if isinstance(expect, int):
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)) or int(got) != expect:
            return f"{path}: expected int {expect!r}, got {got!r}"
        return None
    if isinstance(expect, float):
        if not isinstance(got, (float, np.floating)):
            return f"{path}: expected float {expect!r}, got {type(got).__name__} {got!r}"
        g = float(got)
        if math.isnan(expect):
            return None if math.isnan(g) else f"{path}: expected NaN, got {g!r}"
        if g != expect or math.copysign(1.0, g) != math.copysign(1.0, expect):
            return f"{path}: expected {expect!r}, got {g!r}"
        return None
    if isinstance(expect, list):
        if not isinstance(got, (list, tuple)):
            return f"{path}: expected list, got {type(got).__name__}"
        if len(got) != len(expect):
            return f"{path}: expected length {len(expect)}, got {len(got)}"
        for i, (e, g) in enumerate(zip(expect, got)):
            m = mismatch(e, g, f"{path}[{i}]")
            if m:
                return m
        return None
    if isinstance(expect, dict):
        if not isinstance(got, dict):
            return f"{path}: expected dict, got {type(got).__name__}"
        if list(got.keys()) != list(expect.keys()):
            return f"{path}: expected keys {list(expect)}, got {list(got)}"
        for k in expect:
            m = mismatch(expect[k], got[k], f"{path}.{k}")
            if m:
                return m
        return None
    return f"{path}: unsupported expectation {expect!r}"


def approx_mismatch(expect, got, tol=APPROX_TOL):
    if not isinstance(got, dict):
        return f"expected dict, got {type(got).__name__}"
    if list(got) != list(expect):
        return f"expected symbols {list(expect)}, got {list(got)}"
    for k, e in expect.items():
        if not isinstance(got[k], (float, np.floating)) or abs(float(got[k]) - e) > tol:
            return f"{k}: expected {e!r} within {tol}, got {got[k]!r}"
    return None


def check_record(rec):
    """Run one record; return None on pass or a failure description."""
    fn = getattr(nanobook, rec["fn"])
    args = decode(rec["args"])
    kwargs = decode(rec["kwargs"])
    try:
        got = fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - the corpus records exception types
        if "err" in rec:
            if [type(exc).__name__, str(exc)] == rec["err"]:
                return None
            return f"raised {type(exc).__name__}: {exc}; expected {rec['err']}"
        return f"raised {type(exc).__name__}: {exc}"
    if "err" in rec:
        return f"returned {got!r:.200}; expected {rec['err']}"
    if rec.get("approximate"):
        return approx_mismatch(rec["exact_expect"], got)
    return mismatch(rec["expect"], got)


def load_records():
    with DATA.open() as fh:
        return [json.loads(line) for line in fh if line.strip()]


RECORDS = load_records()


def _param(rec):
    marks = []
    if rec["fn"] in PORTFOLIO_FNS and not hasattr(nanobook, rec["fn"]):
        marks.append(pytest.mark.xfail(reason="portfolio area", strict=True))
    return pytest.param(rec, id=f"{rec['id']}-{rec['fn']}", marks=marks)


@pytest.mark.parametrize("rec", [_param(r) for r in RECORDS])
def test_record(rec):
    problem = check_record(rec)
    assert problem is None, f"{rec['id']} {rec['fn']} {rec['tags']}: {problem}"


def test_corpus_covers_every_analytics_name():
    """Every function the corpus names is exported by nanobook."""
    missing = sorted({r["fn"] for r in RECORDS if r["fn"] not in PORTFOLIO_FNS} - set(dir(nanobook)))
    assert missing == []

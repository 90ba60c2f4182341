"""GARCH on the published DEM/GBP benchmark, plus stats/CV behaviour the
corpus does not pin down (numpy input, errors)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import nanobook
from nanobook.analytics import garch_forecast

DATA = Path(__file__).resolve().parents[1] / "data" / "analytics"


@pytest.fixture(scope="module")
def markpound():
    return np.loadtxt(DATA / "MarkPound.csv", delimiter=",", skiprows=1, usecols=1)


def _sig(x, digits=4):
    return float(f"{x:.{digits - 1}e}")


def test_garch_markpound_benchmark(markpound):
    """GARCH(1,1), normal, constant mean, h0 = mean squared residual: the
    McCullough-Renfro / FCP benchmark to 4 significant digits, Hessian SEs too."""
    exp = json.loads((DATA / "garch_markpound_expected.json").read_text())
    bench = exp["benchmark_garch11_normal_constant_mean"]
    res = garch_forecast(markpound, p=1, q=1, mean="constant", dist="normal", horizon=3)
    got = [res.params[k] for k in ("mu", "omega", "alpha[1]", "beta[1]")]
    want = [bench[k] for k in ("mu", "omega", "alpha1", "beta1")]
    assert [_sig(g) for g in got] == [_sig(w) for w in want]
    se = [res.std_errors[k] for k in ("mu", "omega", "alpha[1]", "beta[1]")]
    assert [_sig(g, 3) for g in se] == [_sig(w, 3) for w in bench["se_hessian"]]
    assert res.converged and len(res.volatility) == 3
    assert res.volatility == pytest.approx([math.sqrt(v) for v in res.variance])
    # one-step forecast from the fitted recursion
    mu, om, a, b = got
    e = markpound - mu
    h = np.mean(e * e)
    for x in e:
        h = om + a * x * x + b * h
    assert res.variance[0] == pytest.approx(h, rel=1e-6)


def test_garch_other_models_run(markpound):
    res = garch_forecast(markpound[:600].tolist(), dist="t", mean="zero", backcast="exponential")
    assert "nu" in res.params and res.params["alpha[1]"] + res.params["beta[1]"] < 1


@pytest.mark.parametrize("kwargs,match", [
    ({"p": 0}, "p must be at least 1"),
    ({"horizon": 0}, "horizon must be at least 1"),
    ({"mean": "arma"}, "mean must be one of"),
    ({"dist": "cauchy"}, "dist must be one of"),
    ({"backcast": "zero"}, "backcast must be one of"),
])
def test_garch_argument_errors(markpound, kwargs, match):
    with pytest.raises(ValueError, match=match):
        garch_forecast(markpound, **kwargs)


def test_garch_rejects_bad_data():
    with pytest.raises(ValueError, match="finite, got nan at index 2"):
        garch_forecast([0.1, 0.2, float("nan")] + [0.1] * 30)
    with pytest.raises(ValueError, match="at least 11 observations"):
        garch_forecast([0.1, -0.2, 0.3])


def test_garch_ewma_forecast_numpy_equals_list():
    r = np.random.default_rng(3).normal(0, 0.01, 100)
    assert nanobook.garch_ewma_forecast(r, 2, 2, "constant") == \
        nanobook.garch_ewma_forecast(r.tolist(), 2, 2, "constant")


def test_realized_vol_unknown_method_is_checked_first():
    with pytest.raises(ValueError, match="unknown realized_vol method: Parkinson"):
        nanobook.realized_vol([], [], [], [], "Parkinson")


def test_walkforward_numpy_and_params_echo():
    r = np.random.default_rng(1).normal(0.0005, 0.01, 100)
    a = nanobook.walkforward(r, params=np.array([1, 2]), n_windows=4)
    b = nanobook.walkforward(r.tolist(), params=[1, 2], n_windows=4)
    assert len(a) == 4 and [w["params"] for w in a] == [[1.0, 2.0]] * 4
    assert [w["test_metrics"].sharpe for w in a] == [w["test_metrics"].sharpe for w in b]


def test_time_series_split_layout():
    splits = nanobook.time_series_split(10, 3)
    assert splits == [(list(range(4)), [4, 5]), (list(range(6)), [6, 7]),
                      (list(range(8)), [8, 9])]
    with pytest.raises(OverflowError):
        nanobook.time_series_split(-1)


def test_spearman_and_quintile_accept_numpy():
    x = np.arange(20.0)
    y = x ** 2
    assert nanobook.spearman(x, y) == (1.0, 0.0)
    assert nanobook.quintile_spread(x, y) == nanobook.py_quintile_spread(x.tolist(), y.tolist())

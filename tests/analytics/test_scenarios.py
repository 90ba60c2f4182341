"""Monte-Carlo scenarios beyond the recorded corpus: dispatch, corrections,
validation, helpers."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

import nanobook
from nanobook.analytics import scenarios as S


def test_generator_seed_uses_python_path_with_correct_bear_share():
    rng = np.random.default_rng(3)
    res = nanobook.monte_carlo_stock_valuation("X", 10.0, n_paths=200, seed=rng, bear_price=70.0)
    assert isinstance(res.terminal_prices, list) and res.summary["n_paths"] == 200
    assert res.summary["pct_below_bear"] == 100.0  # every path is below 70
    par = nanobook.monte_carlo_stock_valuation_parity("X", 10.0, n_paths=200, seed=3,
                                                      bear_price=70.0)
    assert par.terminal_prices == res.terminal_prices
    assert par.summary["pct_below_bear"] == 1.0  # the reference oracle's formula, kept


def test_random_random_path_and_zero_paths():
    res = nanobook.monte_carlo_stock_valuation("X", 20.0, n_paths=50, seed=random.Random(1),
                                               version="simple")
    res2 = nanobook.monte_carlo_stock_valuation("X", 20.0, n_paths=50, seed=random.Random(1),
                                                version="simple")
    assert res.terminal_prices == res2.terminal_prices and res.method == "Simple GBM"
    with pytest.raises(ValueError, match="Invalid price/horizon"):
        nanobook.monte_carlo_stock_valuation("X", 20.0, n_paths=0, seed=random.Random(1))
    native = nanobook.monte_carlo_stock_valuation("X", 20.0, n_paths=0, seed=1)
    assert native.summary["median_price"] == 0.0 and native.summary["pct_below_bear"] == 100.0
    assert native.summary["implied_median_annual_return"] == -1.0


@pytest.mark.parametrize("kw,match", [
    ({"current_price": -1.0}, "current_price must be positive and finite, got -1"),
    ({"n_paths": -2}, "n_paths must be >= 0, got -2"),
    ({"horizon": 0.0}, "horizon must be positive and finite, got 0"),
    ({"annual_vol": float("nan")}, "annual_vol must be non-negative and finite, got NaN"),
    ({"gp_growth_sd": float("inf")}, "gp normal: BadVariance"),
])
def test_native_validation(kw, match):
    args = {"current_price": 10.0, "n_paths": 3, "seed": 1}
    args.update(kw)
    price = args.pop("current_price")
    with pytest.raises(ValueError, match=match):
        nanobook.monte_carlo_stock_valuation_native("X", price, **args)


def test_seed_range_and_types():
    with pytest.raises(OverflowError):
        nanobook.monte_carlo_stock_valuation("X", 10.0, n_paths=1, seed=1 << 63)
    with pytest.raises(TypeError, match="seed"):
        nanobook.monte_carlo_stock_valuation("X", 10.0, n_paths=1, seed="abc")
    a = nanobook.monte_carlo_stock_valuation("X", 10.0, n_paths=5, seed=None)
    assert len(a.terminal_prices) == 5


def test_result_methods():
    res = nanobook.monte_carlo_stock_valuation("XYZ", 100.0, n_paths=101, seed=7)
    prices = sorted(res.terminal_prices.tolist())
    assert res.quantile(0.5) == prices[50] and res.quantile(2.0) == prices[-1]
    assert res.prob_above(prices[49]) == pytest.approx(51 / 101)
    assert res.as_log_returns()[0] == pytest.approx(math.log(res.terminal_prices[0] / 100.0))
    paths = res.to_price_paths(4)
    assert len(paths) == 101 and paths[0][0] == pytest.approx(100.0)
    assert paths[0][-1] == pytest.approx(res.terminal_prices[0])
    assert res.to_price_paths(3, method="terminal_only")[1] == [100.0, 100.0,
                                                                res.terminal_prices[1]]
    with pytest.raises(ValueError, match="n_periods must be >= 1"):
        res.to_price_paths(0)
    assert repr(res).startswith("MonteCarloResult(ticker='XYZ', method='Advanced Multi-Driver', "
                                "n_paths=101, median_price=")
    assert res.to_summary_dict() == res.summary and res.to_summary_dict() is not res.summary


def test_helpers():
    cal = nanobook.calibrate_from_fundamentals("X", current_price=5.0, hist_vol=0.0, gp_growth=0.2)
    assert cal["annual_vol"] == 0.35 and cal["gp_growth_mean"] == 0.2 and cal["multiple_sd"] == 3.0
    assert nanobook.compute_annualized_vol([0.01]) == 0.30
    r = [0.01, -0.02, float("nan"), 0.03]
    assert nanobook.compute_annualized_vol(np.array(r)) == pytest.approx(
        np.std([0.01, -0.02, 0.03], ddof=1) * math.sqrt(252))
    assert nanobook.summarize_distribution([], 1.0) == {
        "median": 0.0, "mean": 0.0, "p05": 0.0, "p95": 0.0, "prob_above_current": 0.0}
    d = nanobook.summarize_distribution([1.0, 2.0, 3.0, 4.0], 2.0)
    assert d["median"] == 2.5 and d["prob_above_10pct"] == 0.5
    assert nanobook.terminal_prices_to_log_return_paths([-1.0], 5.0, 2) == [[5.0, 5.0]]
    assert S.ValuationParams().multiple_mean == 22.0

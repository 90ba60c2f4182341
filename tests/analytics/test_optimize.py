"""Optimizers against published golden results and their own guarantees.

Golden data (tests/data/analytics, see PROVENANCE.md):
* PyPortfolioOpt's test prices: min-volatility and max-Sharpe performance
  tuples and the single-linkage HRP weights;
* Riskfolio-Lib's test prices: min-risk weights for MV, CVaR and CDaR, the
  max-Sharpe MV weights and the MV risk-parity weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nanobook
from nanobook.analytics import Constraints, OptimizationError, optimize_portfolio

pd = pytest.importorskip("pandas")

DATA = Path(__file__).resolve().parents[1] / "data" / "analytics"
RF_ASSETS = sorted(["JCI", "TGT", "CMCSA", "CPB", "MO", "AMZN", "APA", "MMC", "JPM", "ZION"])


@pytest.fixture(scope="module")
def riskfolio_returns():
    prices = pd.read_csv(DATA / "riskfolio_stock_prices.csv", index_col=0)
    return prices[RF_ASSETS].pct_change().dropna().iloc[-200:]


@pytest.fixture(scope="module")
def pypfopt_inputs():
    prices = pd.read_csv(DATA / "pypfopt_stock_prices.csv", index_col="date", parse_dates=True)
    rets = prices.pct_change(fill_method=None).dropna(how="all")
    mu = (1 + rets).prod() ** (252 / rets.count()) - 1  # mean_historical_return
    cov = rets.cov() * 252  # sample_cov
    return rets, mu, cov


def _golden(name, column):
    return pd.read_csv(DATA / f"riskfolio_{name}.csv", index_col=0)[column]


def _vec(weights, order):
    return np.array([weights[s] for s in order])


@pytest.mark.parametrize("objective,golden,column", [
    ("min_variance", "Classic_MinRisk", "MV"),
    ("min_cvar", "Classic_MinRisk", "CVaR"),
    ("min_cdar", "Classic_MinRisk", "CDaR"),
    ("max_sharpe", "Classic_Sharpe", "MV"),
])
def test_riskfolio_goldens(riskfolio_returns, objective, golden, column):
    w = optimize_portfolio(riskfolio_returns, objective=objective, alpha=0.95, ridge=0.0)
    exp = _golden(golden, column)
    np.testing.assert_allclose(_vec(w, RF_ASSETS), exp.loc[RF_ASSETS].to_numpy(), atol=1e-6)


def test_riskfolio_risk_parity_is_exact_erc(riskfolio_returns):
    """Riskfolio's RP golden is itself only ERC to ~4e-6; ours is ERC to 1e-15
    and within 5e-6 of the golden."""
    w = _vec(optimize_portfolio(riskfolio_returns, objective="risk_parity", ridge=0.0), RF_ASSETS)
    c = np.cov(riskfolio_returns.to_numpy(), rowvar=False)
    rc = w * (c @ w)
    np.testing.assert_allclose(rc / rc.sum(), 0.1, atol=1e-12)
    np.testing.assert_allclose(w, _golden("Classic_RP", "MV").loc[RF_ASSETS].to_numpy(), atol=5e-6)


def _performance(w, mu, cov, rf=0.02):
    ret = float(w @ mu)
    vol = float(np.sqrt(w @ cov @ w))
    return ret, vol, (ret - rf) / vol


@pytest.mark.parametrize("objective,key", [
    ("min_variance", "min_volatility_performance_rf0.02"),
    ("max_sharpe", "max_sharpe_rf0.02_performance"),
])
def test_pypfopt_performance(pypfopt_inputs, objective, key):
    _, mu, cov = pypfopt_inputs
    syms = list(mu.index)
    w = optimize_portfolio(None, syms, objective=objective, expected_returns=mu.to_numpy(),
                           covariance=cov.to_numpy(), risk_free=0.02)
    got = _performance(_vec(w, syms), mu.to_numpy(), cov.to_numpy())
    exp = json.loads((DATA / "pypfopt_expected.json").read_text())[key]
    np.testing.assert_allclose(got, exp, rtol=1e-9, atol=1e-9)


def test_pypfopt_hrp(pypfopt_inputs):
    rets, _, _ = pypfopt_inputs
    syms = list(rets.columns)
    w = nanobook.optimize_hrp(None, syms, covariance=rets.cov().to_numpy(),
                              correlation=rets.corr().to_numpy())
    exp = pd.read_csv(DATA / "pypfopt_weights_hrp.csv", index_col=0).iloc[:, 0]
    for sym, v in exp.items():
        assert w[sym] == pytest.approx(v, abs=1e-9)


# ---------------------------------------------------------------------------
# reference-compatible functions: shapes and edge rules
# ---------------------------------------------------------------------------

REF_FNS = ["optimize_min_variance", "optimize_max_sharpe", "optimize_risk_parity",
           "inverse_cvar_weights", "inverse_cdar_weights", "optimize_hrp"]


@pytest.mark.parametrize("fn", REF_FNS)
def test_numpy_and_list_inputs_agree(fn):
    rng = np.random.default_rng(0)
    m = rng.normal(0.001, 0.02, (60, 4))
    f = getattr(nanobook, fn)
    a = f(m, ["A", "B", "C", "D"])
    b = f(m.tolist(), ("A", "B", "C", "D"))
    assert list(a) == ["A", "B", "C", "D"]
    assert a == pytest.approx(b, abs=1e-12)
    assert sum(a.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(v >= 0 for v in a.values())


@pytest.mark.parametrize("fn", REF_FNS)
def test_bad_symbol_types_raise(fn):
    with pytest.raises(TypeError, match="symbols"):
        getattr(nanobook, fn)([[0.1, 0.2], [0.0, 0.1]], "AB")


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

matrices = st.integers(min_value=0, max_value=10_000).map(
    lambda seed: np.random.default_rng(seed).normal(0.0005, 0.02, (40, 4))
    @ np.random.default_rng(seed + 1).uniform(0.2, 1.0, (4, 4)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrices)
def test_min_variance_never_above_equal_weight(m):
    syms = ["A", "B", "C", "D"]
    w = _vec(nanobook.optimize_min_variance(m, syms), syms)
    c = np.cov(m, rowvar=False)
    c += 1e-6 * np.trace(c) / 4 * np.eye(4)
    eq = np.full(4, 0.25)
    assert w @ c @ w <= eq @ c @ eq * (1 + 1e-12)
    assert np.all(w >= 0) and abs(w.sum() - 1) < 1e-12


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matrices, st.floats(-0.3, 0.0), st.floats(0.3, 0.6), st.floats(1.0, 1.6),
       st.sampled_from(["min_variance", "min_cvar", "min_cdar"]))
def test_constraints_hold(m, lo, hi, lev, objective):
    syms = ["A", "B", "C", "D"]
    cons = Constraints(min_weight=lo, max_weight=hi, leverage=lev)
    w = _vec(optimize_portfolio(m, syms, objective=objective, constraints=cons), syms)
    tol = 1e-7
    assert abs(w.sum() - 1.0) < tol
    assert np.all(w >= lo - tol) and np.all(w <= hi + tol)
    assert np.abs(w).sum() <= lev + tol


def test_turnover_and_targets():
    rng = np.random.default_rng(5)
    m = rng.normal(0.001, 0.02, (80, 5))
    syms = list("ABCDE")
    cur = {"A": 0.6, "B": 0.4}
    w = _vec(optimize_portfolio(m, syms, constraints=Constraints(current_weights=cur,
                                                                 max_turnover=0.2)), syms)
    assert np.abs(w - np.array([0.6, 0.4, 0, 0, 0])).sum() <= 0.2 + 1e-7
    # a large turnover penalty keeps the current weights
    w = _vec(optimize_portfolio(m, syms, constraints=Constraints(current_weights=cur,
                                                                 turnover_penalty=10.0)), syms)
    np.testing.assert_allclose(w, [0.6, 0.4, 0, 0, 0], atol=1e-6)
    mu = m.mean(axis=0)
    target = float(np.sort(mu)[-2])
    w = _vec(optimize_portfolio(m, syms, constraints=Constraints(target_return=target)), syms)
    assert w @ mu >= target - 1e-9
    c = np.cov(m, rowvar=False)
    vol_cap = 0.9 * float(np.sqrt(np.diag(c)).min())
    w = _vec(optimize_portfolio(m, syms, objective="min_cvar",
                                constraints=Constraints(target_volatility=vol_cap)), syms)
    c_r = c + 1e-6 * np.trace(c) / 5 * np.eye(5)
    assert np.sqrt(w @ c_r @ w) <= vol_cap * (1 + 1e-6)


def test_long_short_max_sharpe_respects_bounds():
    rng = np.random.default_rng(9)
    m = rng.normal(0.0, 0.02, (100, 4)) + np.array([0.002, -0.001, 0.001, 0.0])
    w = _vec(optimize_portfolio(m, list("ABCD"), objective="max_sharpe",
                                constraints=Constraints(min_weight=-0.5, max_weight=1.0,
                                                        leverage=2.0)), list("ABCD"))
    assert abs(w.sum() - 1) < 1e-7 and np.all(w >= -0.5 - 1e-7) and np.abs(w).sum() <= 2 + 1e-7
    assert w[1] < 0  # the losing asset is shorted


def test_infeasible_and_bad_arguments():
    m = np.random.default_rng(1).normal(0, 0.01, (30, 3))
    with pytest.raises(OptimizationError):
        optimize_portfolio(m, list("ABC"), constraints=Constraints(max_weight=0.2))
    with pytest.raises(ValueError, match="objective"):
        optimize_portfolio(m, list("ABC"), objective="max_return")
    with pytest.raises(ValueError, match="current_weights"):
        Constraints(max_turnover=0.1)
    with pytest.raises(ValueError, match="min_weight"):
        optimize_portfolio(m, list("ABC"), constraints=Constraints(min_weight=[0, 0]))
    with pytest.raises(ValueError, match="alpha"):
        optimize_portfolio(m, list("ABC"), objective="min_cvar", alpha=1.5)


# ---------------------------------------------------------------------------
# pandas-native calls (issue 12 §3): DataFrame in, Series out; NaN/inf raise
# ---------------------------------------------------------------------------

def _frame(seed=3, t=80, cols=("AAPL", "MSFT", "XOM", "JPM")):
    rng = np.random.default_rng(seed)
    m = rng.normal(0.0005, 0.02, (t, len(cols))) @ rng.uniform(0.2, 1.0, (len(cols), len(cols)))
    return pd.DataFrame(m, columns=list(cols),
                        index=pd.bdate_range("2024-01-01", periods=t))


@pytest.mark.parametrize("fn", REF_FNS)
def test_dataframe_in_series_out(fn):
    df = _frame()
    f = getattr(nanobook, fn)
    s = f(df)  # symbols come from the columns
    assert isinstance(s, pd.Series) and s.name == "weight" and s.dtype == np.float64
    assert list(s.index) == list(df.columns)
    d = f(df.to_numpy(), list(df.columns))  # the reference's call keeps its dict
    assert isinstance(d, dict)
    assert s.to_dict() == pytest.approx(d, abs=1e-12)
    # explicit symbols with a frame label the Series with them
    s2 = f(df, ["a", "b", "c", "d"])
    assert list(s2.index) == ["a", "b", "c", "d"] and s2.to_numpy() == pytest.approx(s.to_numpy())


def test_optimize_portfolio_dataframe_in_series_out():
    df = _frame()
    s = optimize_portfolio(df, objective="min_cvar")
    assert isinstance(s, pd.Series) and list(s.index) == list(df.columns)
    assert s.sum() == pytest.approx(1.0, abs=1e-7)
    assert isinstance(optimize_portfolio(df.to_numpy(), list(df.columns)), dict)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fn", REF_FNS + ["optimize_portfolio"])
def test_non_finite_input_raises_naming_the_parameter_and_cell(fn, bad):
    df = _frame()
    df.iloc[5, 2] = bad
    f = getattr(nanobook, fn)
    before = df.copy()
    with pytest.raises(ValueError, match=r"returns_matrix must be finite.*row 5, column 'XOM'"):
        f(df)
    with pytest.raises(ValueError, match=r"returns_matrix must be finite.*row 5, column 2"):
        f(df.to_numpy(), list(df.columns))
    pd.testing.assert_frame_equal(df, before)  # the input is untouched
    if fn != "optimize_portfolio":  # the reference's py_* call keeps its {} for NaN
        assert getattr(nanobook, "py_" + fn)(df.to_numpy(), list(df.columns)) == {}


@pytest.mark.parametrize("fn", REF_FNS)
def test_symbol_count_mismatch_raises_but_reference_call_gives_empty(fn):
    m = _frame().to_numpy()
    with pytest.raises(ValueError, match="symbols has 3 non-blank names but returns_matrix has 4"):
        getattr(nanobook, fn)(m, ["A", "B", "C"])
    assert getattr(nanobook, "py_" + fn)(m, ["A", "B", "C"]) == {}
    with pytest.raises(TypeError, match="symbols is required"):
        getattr(nanobook, fn)(m)


@pytest.mark.parametrize("fn", ["optimize_max_sharpe", "optimize_portfolio"])
def test_non_finite_risk_free_raises(fn):
    with pytest.raises(ValueError, match="risk_free must be finite"):
        getattr(nanobook, fn)(_frame(), risk_free=np.nan)


def test_hrp_through_optimize_portfolio_equals_optimize_hrp():
    df = _frame(t=120, cols=tuple("ABCDEF"))
    a = optimize_portfolio(df, objective="hrp")
    b = nanobook.optimize_hrp(df)
    assert a.to_numpy() == pytest.approx(b.to_numpy(), abs=1e-15)
    c = optimize_portfolio(df, objective="hrp", linkage="ward")
    assert c.to_numpy() == pytest.approx(nanobook.optimize_hrp(df, linkage="ward").to_numpy(),
                                         abs=1e-15)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(0.0, 0.15), st.floats(0.2, 1.0))
def test_hrp_box_constraints_hold(seed, lo, hi):
    df = _frame(seed=seed, t=60, cols=tuple("ABCDEF"))
    w = optimize_portfolio(df, objective="hrp",
                           constraints=Constraints(min_weight=lo, max_weight=hi)).to_numpy()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(w >= lo - 1e-12) and np.all(w <= hi + 1e-12)


def test_hrp_bounds_at_and_beyond_the_feasible_edge():
    df = _frame(cols=tuple("ABCD"))
    # at the edge: max_weight 0.25 on 4 names forces equal weights exactly
    w = optimize_portfolio(df, objective="hrp", constraints=Constraints(max_weight=0.25))
    assert w.to_numpy() == pytest.approx([0.25] * 4, abs=1e-15)
    # just inside: the bound binds but leaves room
    w = optimize_portfolio(df, objective="hrp", constraints=Constraints(max_weight=0.26))
    assert np.all(w.to_numpy() <= 0.26 + 1e-15) and w.sum() == pytest.approx(1.0)
    # just beyond: infeasible
    with pytest.raises(OptimizationError, match="bounds are infeasible"):
        optimize_portfolio(df, objective="hrp", constraints=Constraints(max_weight=0.2499))
    with pytest.raises(OptimizationError, match="bounds are infeasible"):
        optimize_portfolio(df, objective="hrp", constraints=Constraints(min_weight=0.2501))
    # a per-symbol bound by name
    w = optimize_portfolio(df, objective="hrp", constraints=Constraints(max_weight={"A": 0.05}))
    assert w["A"] <= 0.05 + 1e-15
    with pytest.raises(ValueError, match="hrp supports only box bounds"):
        optimize_portfolio(df, objective="hrp", constraints=Constraints(min_weight=-0.1))


@pytest.mark.parametrize("call,match", [
    (lambda df: nanobook.optimize_hrp(df, ridge=float("nan")), "ridge must be a finite number >= 0"),
    (lambda df: nanobook.optimize_hrp(df, ridge=-1e-6), "ridge must be a finite number >= 0"),
    (lambda df: optimize_portfolio(df, ridge=float("inf")), "ridge must be a finite number >= 0"),
    (lambda df: nanobook.optimize_hrp(None, list(df.columns), covariance=np.full((4, 4), np.nan)),
     "covariance must be a finite 4 x 4 matrix"),
    (lambda df: optimize_portfolio(df, covariance=np.full((4, 4), np.inf)), "covariance must be a finite"),
    (lambda df: optimize_portfolio(df, objective="max_sharpe", expected_returns=[0.1, np.nan, 0, 0]),
     "expected_returns must be finite"),
    (lambda df: optimize_portfolio(df, objective="risk_parity", budgets=[1, 1, np.nan, 1]), "budgets must be"),
    (lambda df: optimize_portfolio(df, objective="min_cvar", alpha=float("nan")), "alpha must be in"),
    (lambda df: nanobook.inverse_cvar_weights(df, alpha=float("nan")), "alpha must be a number"),
])
def test_every_numeric_parameter_rejects_nan_and_inf_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call(_frame())

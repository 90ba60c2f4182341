"""The float execution conventions against their peers' recorded equity curves,
and the rules that make them agree (buy order, ties, costs from cash)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import warnings

from nanobook.portfolio import CostModel, SkippedTargetsWarning, backtest_weights

pd = pytest.importorskip("pandas")

DATA = Path(__file__).resolve().parents[1] / "data" / "portfolio" / "peer_conventions.json"


def _recorded():
    d = json.loads(DATA.read_text())
    idx = pd.to_datetime(d["dates"])
    W = pd.DataFrame(np.array(d["weights"], dtype=np.float64), index=idx, columns=d["symbols"])
    P = pd.DataFrame(d["prices"], index=idx, columns=d["symbols"])
    return d, W, P


@pytest.mark.parametrize("run", range(4))
def test_float_conventions_reproduce_recorded_peer_equity(run):
    # cvxportfolio and vectorbt computed these curves on the same weights and
    # prices (benches/peers/check_conventions.py --record). Both work in
    # float64 with a different operation order, so agreement is to rounding:
    # 1e-12 relative is ~1000 ulps after 120 compounding periods.
    d, W, P = _recorded()
    rec = d["runs"][run]
    r = backtest_weights(W, P, d["initial_cash"], CostModel(rec["commission_bps"], rec["slippage_bps"]),
                         convention=rec["convention"])
    ours = np.asarray(r["equity_curve"][1:], dtype=np.float64) / 100.0
    theirs = np.asarray(rec["equity"])
    assert len(theirs) >= len(ours) - 2  # cvxportfolio stops one period early (it needs the next return)
    np.testing.assert_allclose(ours[: len(theirs)], theirs, rtol=1e-12, atol=0)
    # the recorded case exercises the interesting paths: costs, holds, trimmed buys
    assert np.isnan(W.to_numpy()).all(axis=1).any()


def _one_period(weights, convention, bps, cash=1000.0):
    cols = list(weights)
    W = pd.DataFrame([weights], columns=cols)
    P = pd.DataFrame([[1.0] * len(cols)], columns=cols)
    r = backtest_weights(W, P, cash, CostModel(bps), convention=convention)
    return r.holdings.iloc[0] * r["equity_curve"][1] / 100.0, r["final_cash"] / 100.0


def test_cash_limited_buys_smallest_order_value_first():
    # 10% commission: 0.4 of B (cost 440) fits, then A gets what is left:
    # 560 / 1.1 of value. Column order would have bought A first instead.
    value, cash = _one_period({"A": 0.6, "B": 0.4}, "cash_limited", 1000.0)
    assert value["B"] == pytest.approx(400.0, rel=1e-12)
    assert value["A"] == pytest.approx(560.0 / 1.1, rel=1e-12)
    assert cash == pytest.approx(0.0, abs=1e-9)


def test_cash_limited_equal_orders_go_in_column_order():
    # equal order values stay exact ties (w * E, not (w * E / p) * p): the
    # first column gets its full order, the second the remainder
    value, _ = _one_period({"B": 0.5, "A": 0.5}, "cash_limited", 1000.0)
    assert value["B"] == pytest.approx(500.0, rel=1e-12)
    assert value["A"] == pytest.approx((1000.0 - 550.0) / 1.1, rel=1e-12)


def test_fractional_reaches_targets_and_pays_costs_from_cash():
    value, cash = _one_period({"A": 0.6, "B": 0.4}, "fractional", 1000.0)
    assert value["A"] == pytest.approx(600.0, rel=1e-12)
    assert value["B"] == pytest.approx(400.0, rel=1e-12)
    assert cash == pytest.approx(-100.0, rel=1e-12)


# ----------------------------------------------------------------------------- kernel == numpy oracle

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

from nanobook.portfolio.conventions import run_float_oracle  # noqa: E402
from nanobook.portfolio.engine import kernel_available  # noqa: E402
from nanobook.portfolio.frames import frames_to_layout  # noqa: E402


@st.composite
def float_case(draw):
    T = draw(st.integers(1, 15))
    N = draw(st.integers(1, 6))
    w = draw(arrays(np.float64, (T, N), elements=st.one_of(st.floats(-0.6, 1.0), st.just(np.nan))))
    hold_rows = draw(arrays(np.bool_, T))
    w[hold_rows] = np.nan
    steps = draw(arrays(np.float64, (T, N), elements=st.floats(0.8, 1.25)))
    # prices as given: not rounded to the cent
    p = np.cumprod(steps, axis=0) * draw(st.floats(1.0, 500.0))
    gaps = draw(arrays(np.bool_, (T, N)))  # missing prices: holes, late listings, delistings
    p[gaps] = np.nan
    return w, p


@pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(float_case(), st.sampled_from(["fractional", "cash_limited"]), st.sampled_from([0.0, 10.0, 300.0]),
       st.sampled_from([0.0, 15.0]), st.sampled_from([0, 250]), st.sampled_from(["SignalBarClose", "NextBarOpen"]))
def test_float_kernel_equals_numpy_oracle(case, convention, bps, slip, minc, policy):
    # missing_prices="hold" (the default): held positions without a price are
    # kept at their last price; both list the same skipped targets
    w, p = case
    cols = [f"S{j}" for j in range(w.shape[1])]
    cm = CostModel(bps, slip, minc)
    w0, p0 = w.copy(), p.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedTargetsWarning)
        r = backtest_weights(w, p, 10_000.0, cm, policy, symbols=cols, convention=convention)
    call = frames_to_layout(w, p, 10_000.0, cm, policy, symbols=cols, convention=convention)
    raw, dense = run_float_oracle(call.layout, call.cash, cm, convention, call.hold)
    np.testing.assert_allclose(r["equity_curve"], raw["equity_curve"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(r["final_cash"], raw["final_cash"], rtol=1e-9, atol=1e-6)
    assert r["skipped_rebalances"] == raw["skipped_rebalances"]
    for a, b in zip(r._dense.skips, dense.skips):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(w, w0)  # inputs untouched
    np.testing.assert_array_equal(p, p0)


# ----------------------------------------------------------------------------- dense input without copies

def _panel(T=60, N=7, seed=5):
    rng = np.random.default_rng(seed)
    c = np.round(50.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (T, N)), axis=0)), 2)
    o = np.round(c * (1 + rng.normal(0, 0.003, (T, N))), 2)
    h = np.round(np.maximum(o, c) * 1.01, 2)
    lo = np.round(np.minimum(o, c) * 0.99, 2)
    w = rng.random((T, N))
    w[rng.random((T, N)) < 0.2] = np.nan
    w /= np.nansum(w, axis=1, keepdims=True) * 1.05
    w[rng.random(T) < 0.3] = np.nan
    return w, o, h, lo, c


@pytest.mark.parametrize("policy", ["SignalBarClose", "NextBarOpen", "NextBarTypical"])
@pytest.mark.parametrize("convention", ["integer", "fractional", "cash_limited"])
def test_strided_and_fortran_inputs_equal_c_ordered(policy, convention):
    w, o, h, lo, c = _panel()
    syms = [f"S{j}" for j in range(w.shape[1])]
    base = backtest_weights(w, {"open": o, "high": h, "low": lo, "close": c}, 50_000.0, CostModel(10, 5),
                            policy, symbols=syms, convention=convention)
    F = {k: np.asfortranarray(v) for k, v in (("open", o), ("high", h), ("low", lo), ("close", c))}
    r_f = backtest_weights(np.asfortranarray(w), F, 50_000.0, CostModel(10, 5), policy, symbols=syms,
                           convention=convention)
    big = np.full((w.shape[0], 2 * w.shape[1]), 0.123)  # every other column: a strided view
    big[:, ::2] = w
    bigc = {k: np.repeat(v, 2, axis=1) for k, v in (("open", o), ("high", h), ("low", lo), ("close", c))}
    r_s = backtest_weights(big[:, ::2], {k: v[:, ::2] for k, v in bigc.items()}, 50_000.0, CostModel(10, 5),
                           policy, symbols=syms, convention=convention)
    for r in (r_f, r_s):
        assert r["equity_curve"] == base["equity_curve"]
        assert r["final_cash"] == base["final_cash"]
        np.testing.assert_array_equal(r.holdings.to_numpy(), base.holdings.to_numpy())


@pytest.mark.parametrize("policy", ["NextBarOpen", "NextBarTypical"])
def test_frames_next_bar_policies_equal_list_input(policy):
    from _portfolio_corpus import same

    from nanobook.portfolio import BarPrices
    from nanobook.portfolio._listengine import backtest_lists
    from nanobook.portfolio.frames import to_cents

    w, o, h, lo, c = _panel(T=40, N=5, seed=9)
    w[np.isnan(w).all(axis=1)] = 0.1  # lists cannot say "hold"
    syms = [f"S{j}" for j in range(w.shape[1])]
    r = backtest_weights(w, {"open": o, "high": h, "low": lo, "close": c}, 50_000.0, CostModel(10, 5), policy,
                         symbols=syms)
    oc, hc, lc, cc = (to_cents(x) for x in (o, h, lo, c))
    ws = [[(s, float(x)) for s, x in zip(syms, row) if not np.isnan(x)] for row in w]
    ps = [[(s, BarPrices(int(oc[t, j]), int(hc[t, j]), int(lc[t, j]), int(cc[t, j]))) for j, s in enumerate(syms)]
          for t in range(len(c))]
    ref = backtest_lists(ws, ps, 5_000_000, CostModel(10, 5), policy)
    assert same(r.to_dict(), ref.to_dict())


def test_dense_call_does_not_copy_its_inputs():
    import tracemalloc

    pd = pytest.importorskip("pandas")
    T, N = 400, 300
    rng = np.random.default_rng(2)
    W = pd.DataFrame(rng.random((T, N)) / N, columns=[f"S{j:03d}" for j in range(N)])
    P = pd.DataFrame(np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.01, (T, N)), axis=0)), 2), columns=W.columns)
    backtest_weights(W.iloc[:5], P.iloc[:5], 1e6, CostModel(10))  # imports and first-call caches
    tracemalloc.start()
    r = backtest_weights(W, P, 1e6, CostModel(10))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    one = T * N * 8
    # the result's float64 holdings (one panel) plus small masks; a copy of the
    # weights or the prices (C order, int64 cents) would add a whole panel
    assert peak < 1.6 * one, peak / one
    assert len(r["equity_curve"]) == T + 1


def test_empty_schedule_and_unpriced_holding_on_dense_input():
    w = np.array([[0.5], [np.nan]])
    c = np.array([[10.0], [np.nan]])
    with pytest.raises(ValueError, match=r"unpriced holding A at period 1 \(close\): missing_prices='raise'"):
        backtest_weights(w, c, 1000.0, CostModel.zero(), symbols=["A"], missing_prices="raise")
    r = backtest_weights(w, c, 1000.0, CostModel.zero(), symbols=["A"])  # the default: hold at the last price
    assert r["equity_curve"] == [100_000, 100_000, 100_000]
    r = backtest_weights(np.zeros((0, 2)), np.zeros((0, 2)), 1000.0, CostModel.zero(), symbols=["A", "B"],
                         stop_cfg={"fixed_stop_pct": 0.1})
    assert r["equity_curve"] == [100_000] and r["returns"] == []

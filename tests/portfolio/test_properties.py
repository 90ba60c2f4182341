"""Hypothesis properties of the simulator (issue 3) and engine equivalence."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanobook.portfolio import BarPrices, CostModel, FillPolicy, Portfolio, backtest_weights
from nanobook.portfolio._arith import mul_div_trunc
from nanobook.portfolio._listengine import backtest_lists


class _Row(list):
    """A period's list of a subclass type: the vectorised conversion declines it,
    so the call takes the validating, general conversion."""
from nanobook.portfolio.engine import kernel_available

from _portfolio_corpus import same as _same

SYMS = ["AA", "BB", "CC", "DD", "EE"]
SETTINGS = settings(max_examples=int(__import__("os").environ.get("NB_HYP", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenario(draw, shorts=True, max_sum=None, min_targets=0):
    T = draw(st.integers(1, 12))
    n = draw(st.integers(1, len(SYMS)))
    syms = SYMS[:n]
    start = draw(st.lists(st.integers(50, 50_000), min_size=n, max_size=n))
    prices = []
    cur = list(start)
    for _ in range(T):
        cur = [max(1, int(p * draw(st.floats(0.8, 1.25)))) for p in cur]
        prices.append(list(cur))
    lo = -1.0 if shorts else 0.0
    weights = []
    for _ in range(T):
        k = draw(st.integers(min_targets, n))
        chosen = draw(st.permutations(syms))[:k]
        ws = [draw(st.floats(lo, 1.0)) for _ in chosen]
        if max_sum is not None:
            s = sum(abs(w) for w in ws)
            if s > max_sum:
                ws = [w * max_sum / s for w in ws]
        weights.append(list(zip(chosen, ws)))
    cash = draw(st.sampled_from([100_000, 1_000_000, 12_345_678, 1_000_000_000]))
    return syms, weights, prices, cash


def lists_of(syms, weights, prices):
    ws = [[(s, float(w)) for s, w in row] for row in weights]
    ps = [[(s, BarPrices(p, p, p, p)) for s, p in zip(syms, row)] for row in prices]
    return ws, ps


def run(syms, weights, prices, cash, cost=None, **kw):
    ws, ps = lists_of(syms, weights, prices)
    return backtest_weights(ws, ps, cash, cost or CostModel.zero(), FillPolicy.SignalBarClose, **kw)


@SETTINGS
@given(scenario(), st.sampled_from([0.0, 5.0, 30.0]), st.sampled_from([0, 100]), st.sampled_from([0.0, 7.0]))
def test_equity_is_cash_plus_holdings_every_period(sc, bps, minc, slip):
    syms, weights, prices, cash = sc
    pf = Portfolio(cash, CostModel(bps, slip, minc))
    for wrow, prow in zip(weights, prices):
        pm = list(zip(syms, prow))
        pf.rebalance_simple([(s, float(w)) for s, w in wrow], pm)
        pf.record_return(pm)
        value = sum(mul_div_trunc(p.quantity_micro, dict(pm)[s]) for s, p in pf.positions().items())
        assert pf.equity_curve()[-1] == pf.cash + value == pf.total_equity(pm)


@SETTINGS
@given(scenario())
def test_zero_costs_and_constant_prices_give_zero_returns(sc):
    syms, weights, prices, cash = sc
    const = [list(prices[0]) for _ in prices]
    r = run(syms, weights, const, cash)
    assert all(x == 0.0 for x in r["returns"])
    assert r["equity_curve"] == [cash] * (len(prices) + 1)


@SETTINGS
@given(scenario(), st.sampled_from([0.0, 10.0]))
def test_all_zero_weights_keep_equity_constant(sc, bps):
    syms, weights, prices, cash = sc
    zero = [[(s, 0.0) for s, _ in row] for row in weights]
    r = run(syms, zero, prices, cash, CostModel(bps))
    assert r["equity_curve"] == [cash] * (len(prices) + 1)
    assert r["final_cash"] == cash


@SETTINGS
@given(scenario(shorts=False), st.floats(0.0, 50.0), st.floats(0.0, 50.0))
def test_higher_costs_never_raise_final_equity(sc, a, b):
    # Constant prices: with moving prices a smaller (cost-trimmed) position can
    # simply lose less, so the property is about costs, not luck.
    syms, weights, prices, cash = sc
    const = [list(prices[0]) for _ in prices]
    lo, hi = sorted((a, b))
    r_lo = run(syms, weights, const, cash, CostModel(lo))
    r_hi = run(syms, weights, const, cash, CostModel(hi))
    assert r_hi["equity_curve"][-1] <= r_lo["equity_curve"][-1]


@SETTINGS
@given(scenario(shorts=True, max_sum=1.0), st.sampled_from([0.0, 10.0, 50.0]), st.sampled_from([0, 500]),
       st.sampled_from([0.0, 10.0]))
def test_cash_never_negative_in_default_convention(sc, bps, minc, slip):
    syms, weights, prices, cash = sc
    pf = Portfolio(cash, CostModel(bps, slip, minc))
    for wrow, prow in zip(weights, prices):
        pm = list(zip(syms, prow))
        pf.rebalance_simple([(s, float(w)) for s, w in wrow], pm)
        assert pf.cash >= 0
        pf.record_return(pm)
    r = run(syms, weights, prices, cash, CostModel(bps, slip, minc))
    assert r["final_cash"] >= 0


@pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")
@SETTINGS
@given(
    scenario(),
    st.sampled_from([0.0, 10.0, 80.0]),
    st.sampled_from([0, 300]),
    st.sampled_from([0.0, 9.0]),
    st.sampled_from([{}, {"quantity_step": 1}, {"quantity_step": 250_000}, {"min_order_value": 50_000},
                     {"max_order_value": 200_000}, {"no_trade_band_bps": 75.0},
                     {"max_trades_per_rebalance": 2}, {"max_trades_per_rebalance": 0}]),
    st.sampled_from(["SignalBarClose", "NextBarOpen", "NextBarTypical"]),
)
def test_dense_engine_equals_list_engine(sc, bps, minc, slip, opts, policy):
    syms, weights, prices, cash = sc
    ws, _ = lists_of(syms, weights, prices)
    ps = [[(s, BarPrices(p, p + p // 50, max(0, p - p // 40), p)) for s, p in zip(syms, row)] for row in prices]
    cm = CostModel(bps, slip, minc)
    pol = getattr(FillPolicy, policy)
    a = backtest_lists(ws, ps, cash, cm, pol, **opts)
    b = backtest_weights(ws, ps, cash, cm, pol, **opts)
    c = backtest_weights([_Row(r) for r in ws], ps, cash, cm, pol, **opts)  # the general list conversion
    assert _same(a.to_dict(), b.to_dict())
    assert _same(a.to_dict(), c.to_dict())


@SETTINGS
@given(scenario(min_targets=1), st.sampled_from([0.0, 10.0]))
def test_pandas_and_list_inputs_give_identical_results(sc, bps):
    pd = pytest.importorskip("pandas")
    syms, weights, prices, cash = sc
    # the list form processes targets in listed order; the frame in column order
    order = list(syms)
    weights = [sorted(row, key=lambda t: order.index(t[0])) for row in weights]
    r_list = run(syms, weights, prices, cash, CostModel(bps))
    W = pd.DataFrame([{s: w for s, w in row} for row in weights], columns=syms, dtype=float)
    P = pd.DataFrame(np.array(prices, dtype=np.float64) / 100.0, columns=syms)
    r_df = backtest_weights(W, P, cash / 100.0, CostModel(bps))
    assert _same(r_list.to_dict(), r_df.to_dict())
    r_np = backtest_weights(W.to_numpy(), P.to_numpy(), cash / 100.0, bps, symbols=syms)
    assert _same(r_list.to_dict(), r_np.to_dict())


@pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")
@SETTINGS
@given(scenario(), st.sampled_from([0.0, 25.0]), st.sampled_from(["SignalBarClose", "NextBarOpen", "NextBarTypical"]),
       st.data())
def test_fixed_universe_bulk_conversion_equals_list_engine(sc, bps, policy, data):
    # every period lists every symbol in the same order: the whole-schedule conversion path
    syms, _, prices, cash = sc
    weights = [[(s, data.draw(st.floats(-0.5, 1.0))) for s in syms] for _ in prices]
    ps = [[(s, BarPrices(p, p + p // 50, max(0, p - p // 40), p)) for s, p in zip(syms, row)] for row in prices]
    pol = getattr(FillPolicy, policy)
    a = backtest_lists(weights, ps, cash, CostModel(bps), pol)
    b = backtest_weights(weights, ps, cash, CostModel(bps), pol)
    assert _same(a.to_dict(), b.to_dict())
    closes = [[(s, p) for s, p in zip(syms, row)] for row in prices]  # seed style: int closes
    c = backtest_lists(weights, closes, cash, bps)
    d = backtest_weights(weights, closes, cash, bps)
    assert _same(c.to_dict(), d.to_dict())


@pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")
@SETTINGS
@given(
    scenario(),
    st.sampled_from([0.0, 10.0]),
    st.sampled_from([0, 300]),
    st.sampled_from([0.0, 9.0]),
    st.sampled_from([
        {"fixed_stop_pct": 0.05}, {"trailing_stop_pct": 0.08}, {"atr_multiple": 1.5, "atr_period": 3},
        {"fixed_stop_pct": 0.1, "trailing_stop_pct": 0.05, "atr_multiple": 2.0, "atr_period": 2},
        {"atr_multiple": 0.5, "atr_period": 1}, {"atr_multiple": 1.0, "atr_period": 40},
        {"fixed_stop_pct": 0.0, "trailing_stop_pct": 0.0},
    ]),
    st.sampled_from(["SignalBarClose", "NextBarOpen", "NextBarTypical"]),
    st.sampled_from([{}, {"quantity_step": 250_000}, {"max_trades_per_rebalance": 1}]),
)
def test_dense_engine_equals_list_engine_with_stops(sc, bps, minc, slip, stop_cfg, policy, opts):
    syms, weights, prices, cash = sc
    ws, _ = lists_of(syms, weights, prices)
    ps = [[(s, BarPrices(p, p + p // 50, max(0, p - p // 40), p)) for s, p in zip(syms, row)] for row in prices]
    cm = CostModel(bps, slip, minc)
    pol = getattr(FillPolicy, policy)
    a = backtest_lists(ws, ps, cash, cm, pol, 252.0, 0.0, stop_cfg, **opts)
    b = backtest_weights(ws, ps, cash, cm, pol, 252.0, 0.0, stop_cfg, **opts)
    c = backtest_weights([_Row(r) for r in ws], ps, cash, cm, pol, 252.0, 0.0, stop_cfg, **opts)
    assert _same(a.to_dict(), b.to_dict())
    assert _same(a.to_dict(), c.to_dict())


@pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")
@SETTINGS
@given(scenario(min_targets=1), st.sampled_from([{"trailing_stop_pct": 0.05}, {"atr_multiple": 1.0, "atr_period": 2}]),
       st.sampled_from(["SignalBarClose", "NextBarOpen"]))
def test_pandas_stops_equal_list_engine(sc, stop_cfg, policy):
    pd = pytest.importorskip("pandas")
    syms, weights, prices, cash = sc
    order = list(syms)
    weights = [sorted(row, key=lambda t: order.index(t[0])) for row in weights]
    ws, ps = lists_of(syms, weights, prices)
    pol = getattr(FillPolicy, policy)
    r_list = backtest_lists(ws, ps, cash, CostModel(10.0), pol, 252.0, 0.0, stop_cfg)
    W = pd.DataFrame([{s: w for s, w in row} for row in weights], columns=syms, dtype=float)
    P = pd.DataFrame(np.array(prices, dtype=np.float64) / 100.0, columns=syms)
    r_df = backtest_weights(W, P, cash / 100.0, CostModel(10.0), pol, 252.0, 0.0, stop_cfg)
    assert _same(r_list.to_dict(), r_df.to_dict())

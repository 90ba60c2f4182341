"""Bad input raises clear errors; call styles; Portfolio API; result object."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from _portfolio_corpus import same

from nanobook.portfolio import (
    BarPrices,
    CostModel,
    FillPolicy,
    Portfolio,
    backtest_weights,
    compute_metrics,
    py_backtest_weights,
)

B = BarPrices


def bars(*closes):
    return [[(s, B(c, c, c, c)) for s, c in row] for row in closes]


W2 = [[("A", 0.5)], [("A", 0.5)]]
P2 = bars([("A", 1000)], [("A", 1100)])


@pytest.mark.parametrize(
    "weights, prices, cash, msg",
    [
        (W2, P2[:1], 10_000, "price_schedule length (1) must match weight_schedule length (2)"),
        (W2, P2, 0, "initial_cash must be positive, got 0"),
        (W2, P2, -5, "initial_cash must be positive, got -5"),
        ([[("A", math.nan)], [("A", 0.5)]], P2, 10_000, "weight_schedule[0]: weight for A must be finite, got NaN"),
        ([[("A", 0.5)], [("A", -math.inf)]], P2, 10_000, "weight_schedule[1]: weight for A must be finite, got -inf"),
        (W2, [[("A", B(1, 2, -1, 1))], [("A", B(1, 1, 1, 1))]], 10_000,
         "price_schedule[0]: bar for A has a negative price (open=1, high=2, low=-1, close=1)"),
        (W2, [[("A", B(1, 1, 1, 1))], [("A", B(5, 4, 6, 5))]], 10_000,
         "price_schedule[1]: bar for A has high < low (high=4, low=6)"),
    ],
)
def test_invalid_lists_raise_naming_period_and_symbol(weights, prices, cash, msg):
    with pytest.raises(ValueError) as ei:
        backtest_weights(weights, prices, cash, CostModel.zero(), FillPolicy.SignalBarClose)
    assert str(ei.value) == msg


def test_missing_price_for_held_symbol_is_a_clear_error():
    w = [[("A", 0.5)], [("A", 0.5)]]
    p = bars([("A", 1000)], [("B", 1000)])
    with pytest.raises(ValueError, match=r"unpriced holding A at period 1 \(fill\)"):
        backtest_weights(w, p, 100_000, CostModel.zero(), FillPolicy.SignalBarClose)


def test_weighted_symbol_without_price_is_ignored():
    r = backtest_weights([[("A", 0.5), ("ZZ", 0.3)]], bars([("A", 1000)]), 100_000)
    assert [s for s, _ in r["holdings"][0]] == ["A"]


def test_seed_call_style_cost_bps_and_int_closes():
    w = [[("A", 0.5)], [("A", 0.5)], [("A", 0.5)]]
    closes = [[("A", 1000)], [("A", 1100)], [("A", 1050)]]
    seed = backtest_weights(w, closes, 1_000_000, 10.0, 12.0, 0.0, None)
    ref = backtest_weights(w, [[(s, B(c, c, c, c)) for s, c in row] for row in closes], 1_000_000,
                           CostModel(10.0), FillPolicy.SignalBarClose, 12.0)
    assert same(seed.to_dict(), ref.to_dict())
    assert same(py_backtest_weights(w, closes, 1_000_000, cost_bps=10.0, periods_per_year=12.0).to_dict(), seed.to_dict())
    assert seed["metrics"] == compute_metrics(seed["returns"], 12.0, 0.0)


def test_fill_policy_strings_and_type_errors():
    r1 = backtest_weights(W2, P2, 100_000, CostModel.zero(), "next_bar_open")
    r2 = backtest_weights(W2, P2, 100_000, CostModel.zero(), FillPolicy.NextBarOpen)
    assert same(r1.to_dict(), r2.to_dict())
    assert r1["skipped_rebalances"] == [1]
    with pytest.raises(ValueError, match="fill_policy"):
        backtest_weights(W2, P2, 100_000, CostModel.zero(), "tomorrow")
    with pytest.raises(TypeError, match="tuples"):
        backtest_weights([[["A", 0.5]]], P2[:1], 100_000)
    with pytest.raises(TypeError, match="float"):
        backtest_weights(W2, [[("A", 10.5)], [("A", 11.0)]], 100_000)
    with pytest.raises(ValueError, match="exceeds 8 bytes"):
        backtest_weights([[("TOOLONGSYM", 0.5)]], bars([("A", 1)]), 100_000)


def test_option_validation_precedes_input_checks():
    with pytest.raises(ValueError, match="quantity_step must be positive, got 0"):
        backtest_weights(W2, P2[:1], 0, CostModel.zero(), FillPolicy.SignalBarClose, quantity_step=0)
    with pytest.raises(ValueError, match="no_trade_band_bps must be finite and non-negative, got NaN"):
        backtest_weights(W2, P2, 1000, no_trade_band_bps=math.nan)
    with pytest.raises(ValueError, match="fixed_stop_pct"):
        backtest_weights(W2, P2, 1000, CostModel.zero(), FillPolicy.SignalBarClose, 252.0, 0.0, {"fixed_stop_pct": 1.5})
    with pytest.raises(TypeError, match="unexpected keyword"):
        backtest_weights(W2, P2, 1000, bogus=1)


# ----------------------------------------------------------------------------- dense input

def frames():
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=4, freq="D")
    W = pd.DataFrame({"A": [0.5, np.nan, 0.2, 0.2], "B": [0.3, np.nan, np.nan, 0.4]}, index=idx)
    P = pd.DataFrame({"A": [10.0, 11.0, 12.0, 11.5], "B": [20.0, 19.0, 21.0, 22.0]}, index=idx)
    return pd, W, P


def test_all_nan_row_holds_and_nan_closes():
    pd, W, P = frames()
    r = backtest_weights(W, P, 10_000.0, CostModel.zero())
    h = r.holdings
    # period 1 is all NaN: nothing traded, so share counts are unchanged
    assert r["holdings"][1] and [s for s, _ in r["holdings"][1]] == ["A", "B"]
    # period 2: B has NaN (not a target) in an active row -> closed
    assert [s for s, _ in r["holdings"][2]] == ["A"]
    assert list(h.columns) == ["A", "B"] and h.index.equals(W.index)
    assert r.equity.iloc[-1] == r["equity_curve"][-1] / 100.0
    assert r.returns.tolist() == r["returns"]


def test_dense_bad_input():
    pd, W, P = frames()
    with pytest.raises(ValueError, match=r"weight_schedule\[2\]: weight for A must be finite, got inf"):
        backtest_weights(W.assign(A=[0.5, np.nan, np.inf, 0.2]), P, 10_000.0)
    with pytest.raises(ValueError, match=r"price_schedule\[1\]: bar for B has a negative price"):
        backtest_weights(W, P.assign(B=[20.0, -1.0, 21.0, 22.0]), 10_000.0)
    with pytest.raises(ValueError, match=r"weights index has 1 of 4 dates that are not in the prices index "
                                         r"\(first: 2024-01-04\).*searchsorted"):
        backtest_weights(W, P.iloc[:3], 10_000.0)
    with pytest.raises(ValueError, match=r"price_schedule length \(3\) must match weight_schedule length \(4\)"):
        backtest_weights(W.to_numpy(), P.iloc[:3].to_numpy(), 10_000.0)
    with pytest.raises(ValueError, match="initial_cash must be positive"):
        backtest_weights(W, P, 0.0)
    with pytest.raises(ValueError, match="convention must be one of"):
        backtest_weights(W, P, 10_000.0, convention="magic")
    with pytest.raises(ValueError, match=r"unpriced holding A at 2024-01-03 \(period 2, fill\)"):
        backtest_weights(W, P.assign(A=[10.0, 11.0, np.nan, 11.5]), 10_000.0, missing_prices="raise")
    ohlc = {"open": P, "high": P * 0.9, "low": P, "close": P}
    with pytest.raises(ValueError, match="high < low"):
        backtest_weights(W, ohlc, 10_000.0)


def test_dense_ohlc_next_bar_open_matches_lists():
    pd, W, P = frames()
    O = P * 0.99
    ohlc = {"open": O, "high": P * 1.01, "low": O * 0.99, "close": P}
    r = backtest_weights(W.fillna(0.1), ohlc, 10_000.0, CostModel(5), FillPolicy.NextBarOpen)
    from nanobook.portfolio.frames import to_cents

    oc, hc, lc, cc = (to_cents(x.to_numpy()) for x in (O, P * 1.01, O * 0.99, P))
    syms = list(P.columns)
    ws = [[(s, float(v)) for s, v in zip(syms, row)] for row in W.fillna(0.1).to_numpy()]
    ps = [[(s, B(int(oc[t, j]), int(hc[t, j]), int(lc[t, j]), int(cc[t, j]))) for j, s in enumerate(syms)]
          for t in range(len(P))]
    ref = backtest_weights(ws, ps, 1_000_000, CostModel(5), FillPolicy.NextBarOpen)
    assert same(r.to_dict(), ref.to_dict())


@pytest.mark.parametrize("convention", ["fractional", "cash_limited"])
def test_float_conventions_basic_invariants(convention):
    pd, W, P = frames()
    const = pd.DataFrame({"A": [10.0] * 4, "B": [20.0] * 4}, index=P.index)
    r = backtest_weights(W, const, 10_000.0, CostModel.zero(), convention=convention)
    assert all(abs(x) < 1e-12 for x in r["returns"])
    r2 = backtest_weights(W, const, 10_000.0, CostModel(20), convention=convention)
    assert r2["equity_curve"][-1] < r["equity_curve"][-1]
    full = pd.DataFrame({"A": [0.7] * 4, "B": [0.6] * 4}, index=P.index)
    r3 = backtest_weights(full, P, 10_000.0, CostModel(10), convention=convention)
    if convention == "cash_limited":
        assert r3["final_cash"] >= -1e-6
    else:
        assert r3["final_cash"] < 0  # fractional reaches every target, borrowing if asked to


def test_fractional_convention_hits_targets_exactly_without_costs():
    pd, W, P = frames()
    full = W.fillna(0.25)
    r = backtest_weights(full, P, 10_000.0, CostModel.zero(), convention="fractional")
    # weights drift only with the prices between fill (close) and valuation (same close)
    np.testing.assert_allclose(r.holdings.to_numpy(), full.to_numpy(), rtol=1e-12)


# ----------------------------------------------------------------------------- Portfolio API

def test_portfolio_roundtrip_json_and_snapshot(tmp_path):
    pf = Portfolio(10_000_000, CostModel(10, 5, 100), quantity_step=1000)
    prices = [("A", 12345), ("B", 777)]
    pf.rebalance_simple([("A", 0.5), ("B", -0.3)], prices)
    pf.record_return(prices)
    path = tmp_path / "pf.json"
    pf.save_json(path)
    d = json.loads(path.read_text())
    assert [p[0] for p in d["positions"]] == ["A", "B"]
    q = Portfolio.load_json(path)
    assert q.snapshot(prices) == pf.snapshot(prices)
    assert q.returns() == pf.returns() and q.equity_curve() == pf.equity_curve()
    assert q.quantity_step == 1000
    snap = pf.snapshot(prices)
    assert snap["num_positions"] == 2 and list(snap["weights"]) == ["A", "B"]
    assert pf.current_weights(prices) == list(snap["weights"].items())


def test_portfolio_validation_and_load_errors(tmp_path):
    with pytest.raises(ValueError, match="quantity_step must be positive, got 0"):
        Portfolio(100, quantity_step=0)
    with pytest.raises(ValueError, match="min_order_value must be non-negative, got -1"):
        Portfolio(100, min_order_value=-1)
    with pytest.raises(ValueError, match="no_trade_band_bps must be finite and non-negative, got -1"):
        Portfolio(100, no_trade_band_bps=-1.0)
    pf = Portfolio(100)
    with pytest.raises(ValueError, match="got 0"):
        pf.set_quantity_step_fraction(1e-7)
    assert pf.quantity_step == 1_000_000  # unchanged after the failed set
    with pytest.raises(OSError):
        Portfolio.load_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(OSError, match="cash"):
        Portfolio.load_json(tmp_path / "bad.json")


def test_cost_model_rounding_half_away_and_minimum():
    cm = CostModel(25.0, 0.0, 3)
    assert cm.compute_cost(200) == 3          # 0.5 -> rounds to 1, min 3
    assert CostModel(25.0).compute_cost(200) == 1   # 0.5 rounds away from zero
    assert CostModel(25.0).compute_cost(-600) == 2  # |notional|; 1.5 -> 2
    assert repr(CostModel(10, 5, 100)) == "CostModel(commission_bps=10, slippage_bps=5, min_commission=100)"


def test_short_sale_cash_truncates_toward_zero():
    # truncation toward zero: cash delta of a short sale -90090090 * 333 / 1e6 is -29999, not -30000
    pf = Portfolio(1_000_000, quantity_step=1)
    pf._execute_fill("X", -90_090_090, 333)
    assert pf.cash == 1_000_000 + 29_999


def test_result_is_the_reference_dict():
    r = backtest_weights(W2, P2, 100_000)
    assert list(r) == ["returns", "equity_curve", "final_cash", "metrics", "skipped_rebalances",
                       "holdings", "symbol_returns", "stop_events"]
    assert isinstance(r, dict) and dict(r)["holdings"] == r["holdings"]
    assert math.isnan(r["symbol_returns"][0][0][1]) and r["symbol_returns"][1] == [("A", 0.1)]

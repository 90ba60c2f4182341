"""Pins of the portfolio's named interfaces (issue 16): the kernel takes one
parameter object and returns named fields, the layout and result records
take keywords, no function takes more than ten positional parameters,
Portfolio and backtest_weights check their shared options with the same
rules, and the report reads the engine's recorded costs exactly when asked."""
from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest

import nanobook.portfolio as portfolio
from nanobook.portfolio import BarPrices, CostModel, FillPolicy, Portfolio, backtest_weights
from nanobook.portfolio.engine import integer_rules, kernel_available
from nanobook.portfolio.frames import frames_to_layout
from nanobook.portfolio.report import report_data

pytestmark = pytest.mark.skipif(not kernel_available(), reason="compiled kernel not built")


def _frames(n=60, seed=3):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-01", periods=n)
    prices = pd.DataFrame({"A": 40.0 * np.cumprod(1 + rng.normal(0, 0.02, n)),
                           "B": 25.0 * np.cumprod(1 + rng.normal(0, 0.02, n))}, index=idx).round(2)
    w = pd.DataFrame(np.nan, index=idx, columns=["A", "B"])
    w.iloc[::5] = [[0.6, 0.3], [0.2, 0.7]] * (len(w.iloc[::5]) // 2) + [[0.6, 0.3]] * (len(w.iloc[::5]) % 2)
    return w, prices


def test_the_kernel_takes_one_parameter_object_and_returns_named_fields():
    from nanobook.portfolio import _kernel

    w, prices = _frames()
    cm = CostModel(10.0, 5.0, 100)
    stop = {"trailing_stop_pct": 0.05}
    res = backtest_weights(w, prices, 50_000.0, cm, FillPolicy.SignalBarClose, 252.0, 0.0, stop)
    call = frames_to_layout(w, prices, 50_000.0, cm, FillPolicy.SignalBarClose, 252.0, 0.0, stop)
    rules = integer_rules(call.cash, cm, call.opts, call.stop, call.hold)
    assert (rules.initial_cash, rules.commission_bps, rules.slippage_bps, rules.min_commission) == \
        (5_000_000, 10.0, 5.0, 100)
    assert rules.stop_trailing == 0.05 and rules.quantity_step == 1_000_000 and rules.max_trades == -1
    run = _kernel.run_dense(call.layout, rules)
    assert isinstance(run, _kernel.KernelRun)
    assert run.equity.tolist() == res["equity_curve"]
    assert run.returns.tolist() == res["returns"]
    assert run.final_cash == res["final_cash"]
    assert run.error is None and run.overflow_period == -1
    assert [(e[0], ["A", "B"][e[1]]) for e in run.stop_events] == \
        [(e["period_index"], e["symbol"]) for e in res["stop_events"]]
    assert len(run.stop_events) > 0  # the trailing stop fires on this path
    np.testing.assert_array_equal(run.costs / 100.0, res.costs.to_numpy())
    with pytest.raises(TypeError):
        _kernel.IntegerRules(5_000_000)  # keyword-only
    with pytest.raises(TypeError):
        _kernel.FloatRules(5_000_000.0)


def test_the_float_kernel_reports_through_the_same_record():
    from nanobook.portfolio import _kernel

    w, prices = _frames()
    res = backtest_weights(w, prices, 50_000.0, CostModel(10.0), convention="cash_limited")
    call = frames_to_layout(w, prices, 50_000.0, CostModel(10.0), convention="cash_limited")
    run = _kernel.run_float(call.layout, _kernel.FloatRules(initial_cash=call.cash, commission_bps=10.0,
                                                            cash_limited=True, hold_unpriced=call.hold))
    assert run.equity.tolist() == res["equity_curve"] and run.final_cash == res["final_cash"]
    assert run.stop_events == [] and run.overflow_period == -1 and run.error is None


def test_layout_and_dense_records_take_keywords_only():
    from nanobook.portfolio._layout import DenseInputs
    from nanobook.portfolio.result import DenseData

    z = np.zeros((1, 1))
    with pytest.raises(TypeError):
        DenseInputs(["A"], z, z, z, z, z, z, z)  # type: ignore[misc]
    with pytest.raises(TypeError):
        DenseData(["A"], z, z)  # type: ignore[misc]
    d = DenseData(symbols=["A"], close=np.array([[100]], dtype=np.int64), holdings=np.array([[0.5]]))
    assert d.holdings_lists() == [[("A", 0.5)]]


def _functions():
    for m in pkgutil.iter_modules(portfolio.__path__):
        mod = importlib.import_module(f"nanobook.portfolio.{m.name}")
        for name, obj in vars(mod).items():
            if getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for mn, mo in vars(obj).items():
                    f = mo.__func__ if isinstance(mo, (staticmethod, classmethod)) else mo
                    if inspect.isfunction(f):
                        yield f"{mod.__name__}.{name}.{mn}", f


def test_no_portfolio_function_takes_more_than_ten_positional_parameters():
    found = dict(_functions())
    assert "nanobook.portfolio.backtest.backtest_weights" in found and len(found) > 100
    too_many = {}
    for name, f in found.items():
        ps = inspect.signature(f).parameters.values()
        n = sum(1 for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                and p.name not in ("self", "cls"))
        if n > 10:
            too_many[name] = n
    assert too_many == {}


W = [[("A", 0.5)], [("A", 0.5)]]
P = [[("A", BarPrices(100, 100, 100, 100))], [("A", BarPrices(90, 90, 90, 90))]]


def _outcome(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("option", ["quantity_step", "min_order_value", "max_order_value", "no_trade_band_bps",
                                    "max_trades_per_rebalance"])
@pytest.mark.parametrize("value", [0, -1, 1, 1.5, "x", None, math.nan, -math.inf, True])
def test_portfolio_and_backtest_check_a_shared_option_with_one_rule(option, value):
    pf = _outcome(lambda: Portfolio(10_000, **{option: value}))
    bt = _outcome(lambda: backtest_weights(W, P, 10_000, **{option: value}))
    assert pf == bt
    if option == "quantity_step" and value in (0, -1):
        assert pf == ("ValueError", f"quantity_step must be positive, got {value}")
    if option == "max_trades_per_rebalance" and value == -1:
        assert pf == ("OverflowError", "can't convert negative int to unsigned")
    if value == "x":
        assert pf is not None and pf[0] == "TypeError" and option in pf[1]


def test_report_reads_the_recorded_costs_exactly_when_asked():
    # constant prices: every cent of equity lost is a commission the engine recorded
    idx = pd.bdate_range("2024-01-01", periods=40)
    prices = pd.DataFrame({"A": 50.0, "B": 20.0}, index=idx)
    w = pd.DataFrame(np.nan, index=idx, columns=["A", "B"])
    w.iloc[::7] = [0.5, 0.3]
    w.iloc[3::7] = [0.2, 0.6]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = backtest_weights(w, prices, 100_000.0, CostModel(25.0, 0.0, 150))
    d = report_data(res, costs=res.costs)
    assert d["cost_source"] == "recorded"
    paid_cents = res["equity_curve"][0] - res["equity_curve"][-1]
    assert paid_cents > 0
    assert round(d["costs"].sum() * 100.0) == paid_cents  # exact to the cent, minimum commission included
    np.testing.assert_array_equal(d["costs"].to_numpy(), res.costs.to_numpy())
    # unasked, the report keeps its documented default (no recorded figure used)
    assert report_data(res)["costs"] is None


def test_the_record_buffers_grow_past_their_first_block_and_match_the_oracle():
    # > 256 stop events and > 256 skipped targets: the shared growable buffer
    # (nanobook/_buffer.pxd) reallocates while the loop runs without the GIL
    from nanobook.portfolio._listengine import backtest_lists

    rng = np.random.default_rng(11)
    T, syms = 300, [f"S{j}" for j in range(8)]
    px = np.round(1000 * np.cumprod(1 + rng.normal(0, 0.03, (T, len(syms))), axis=0)).astype(int)
    weights = [[(s, 0.1) for s in syms] + [("ZZ", 0.1)] for _ in range(T)]  # ZZ is never priced
    prices = [[(s, BarPrices(*(int(p),) * 4)) for s, p in zip(syms, row)] for row in px]
    args = (weights, prices, 10_000_000, CostModel(5.0), FillPolicy.SignalBarClose, 252.0, 0.0,
            {"trailing_stop_pct": 0.02})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest_weights(*args)
        ref = backtest_lists(*args)
    assert len(res["stop_events"]) > 256
    assert res["stop_events"] == ref["stop_events"] and res["equity_curve"] == ref["equity_curve"]
    sk = res.skipped_targets
    assert len(sk) == T and set(sk["symbol"]) == {"ZZ"} and sk["period"].tolist() == list(range(T))


@pytest.mark.parametrize("name", ["quantity_step", "min_order_value", "max_order_value",
                                  "max_traded_value_per_month", "max_trades_per_rebalance",
                                  "max_trades_per_day", "max_trades_per_month"])
def test_integer_options_at_and_past_the_signed_64_bit_limit(name):
    """At 2**63 - 1 an option runs; at 2**63 it is an OverflowError that names it
    (it was C's bare 'Python int too large to convert to C long')."""
    import nanobook as nb

    w = np.full((3, 2), 0.5)
    p = np.full((3, 2), 100.0)
    # flat prices: the equity stays at the initial cash (in cents) whatever is traded
    assert nb.backtest_weights(w, p, 1_000_000, **{name: 2**63 - 1})["equity_curve"][-1] == 100_000_000
    with pytest.raises(OverflowError, match=rf"^{name} out of the signed 64-bit range, got {2**63}$"):
        nb.backtest_weights(w, p, 1_000_000, **{name: 2**63})


def test_ordinals_past_the_signed_64_bit_limit_name_the_option():
    import nanobook as nb

    w = np.full((3, 2), 0.5)
    p = np.full((3, 2), 100.0)
    with pytest.raises(OverflowError, match=r"^period_day_ordinal out of the signed 64-bit range"):
        nb.backtest_weights(w, p, 1_000_000, period_day_ordinal=[0, 1, 2**63],
                            max_trades_per_day=5)

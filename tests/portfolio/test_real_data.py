"""Real data does not abort a backtest (issue 12 section 1) and bad input gets a
clear error with the inputs untouched (issue 11 section 2).

* missing prices (holes, a late lister) under the default policy, with every
  target that could not be executed reported, and equity equal to an
  independent pandas computation of the same policy;
* weights on a subset of the price dates (monthly on daily);
* prices used as given by the float conventions; the integer convention says
  when it rounds;
* a bad-input matrix for list and pandas input.
"""
from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

from nanobook.portfolio import BarPrices, CostModel, SkippedTargetsWarning, backtest_weights, load_sp100

pd = pytest.importorskip("pandas")


# ----------------------------------------------------------------------------- the "done when" case

def _holey_csv(tmp_path, seed=7):
    """Daily closes of the bundled panel written to a CSV with 1 % random holes
    and one ticker (the last column) listing half-way; read back as a user would."""
    close = load_sp100("close").iloc[:500]
    rng = np.random.default_rng(seed)
    holes = rng.random(close.shape) < 0.01
    holey = close.mask(holes)
    late = holey.columns[-1]
    holey.iloc[: len(holey) // 2, holey.columns.get_loc(late)] = np.nan
    path = tmp_path / "closes.csv"
    holey.to_csv(path)
    prices = pd.read_csv(path, index_col=0, parse_dates=True)
    return prices, late


def _monthly_equal_weights(prices):
    month_ends = prices.groupby(prices.index.to_period("M")).tail(1).index
    return pd.DataFrame(1.0 / prices.shape[1], index=month_ends, columns=prices.columns)


def _pandas_hold_policy(prices, weights, cash):
    """An independent computation of the default policy (``missing_prices="hold"``)
    with fractional shares and no costs: at each rebalance date every priced
    symbol goes to ``w * E / p``; an unpriced one is not traded (a holding stays,
    valued at its last price). Equity = cash + holdings at the last known prices."""
    last = prices.ffill()
    h = pd.Series(0.0, index=prices.columns)
    out = []
    for date in prices.index:
        if date in weights.index:
            px = prices.loc[date]
            E = cash + (h * last.loc[date]).sum()
            w = weights.loc[date]
            priced = px.notna() & (px > 0)
            new = h.copy()
            new[priced] = (w[priced].fillna(0.0) * E / px[priced])
            cash -= ((new - h)[priced] * px[priced]).sum()
            h = new
        out.append(cash + (h * last.loc[date]).sum())
    return pd.Series(out, index=prices.index)


def test_holey_csv_with_a_late_lister_runs_and_reports_what_was_skipped(tmp_path):
    prices, late = _holey_csv(tmp_path)
    weights = _monthly_equal_weights(prices)  # monthly weights on daily prices: no manual alignment
    with pytest.warns(SkippedTargetsWarning, match=r"(\d+) targets could not be executed") as rec:
        res = backtest_weights(weights, prices.round(2), 1_000_000.0, CostModel(10))
    skipped = res.skipped_targets
    assert len(rec) == 1 and f" {len(skipped)} targets" in str(rec[0].message)
    assert list(skipped.columns) == ["date", "period", "symbol", "weight", "reason"]
    # the late lister: one "no price" target per month-end before its first price
    first = prices[late].first_valid_index()
    before = weights.index[weights.index < first]
    mine = skipped[skipped.symbol == late]
    assert list(mine.date[mine.date < first]) == list(before)
    assert (mine.reason[mine.date < first] == "no price").all()
    assert np.allclose(mine.weight, 1.0 / prices.shape[1])
    # every skipped target is a month-end with no price for that symbol
    for _, row in skipped.iterrows():
        assert row.date in weights.index and math.isnan(prices.at[row.date, row.symbol])
        assert prices.index[row.period] == row.date
    # and every month-end hole on a target is listed
    holes = prices.loc[weights.index].isna().sum().sum()
    assert len(skipped) == holes
    assert res.equity.index.equals(prices.index) and res.equity.notna().all()


def test_holey_csv_equity_equals_an_independent_pandas_computation(tmp_path):
    prices, _ = _holey_csv(tmp_path)
    weights = _monthly_equal_weights(prices)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedTargetsWarning)
        res = backtest_weights(weights, prices, 1_000_000.0, CostModel.zero(), convention="fractional")
    expected = _pandas_hold_policy(prices, weights, 1_000_000.0)
    np.testing.assert_allclose(res.equity.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=0)
    assert res.final_cash == pytest.approx(res["final_cash"] / 100.0)


# ----------------------------------------------------------------------------- mixed frequency

def _daily(n=70, cols=("A", "B", "C"), seed=3):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2024-01-01", periods=n)
    px = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, len(cols))), axis=0)), 2)
    return pd.DataFrame(px, index=idx, columns=list(cols))


def test_monthly_weights_on_daily_prices_hold_in_between():
    prices = _daily()
    weights = _monthly_equal_weights(prices)
    res = backtest_weights(weights, prices, 100_000.0, CostModel(10))
    # the same as laying the weights on the daily index by hand (all-NaN rows hold)
    aligned = weights.reindex(prices.index)
    ref = backtest_weights(aligned, prices, 100_000.0, CostModel(10))
    assert res["equity_curve"] == ref["equity_curve"]
    assert res.equity.index.equals(prices.index)
    # share counts change only at the weight dates
    units = res.holdings.mul(res.equity, axis=0).div(prices).round(6)
    changed = units.diff().abs().sum(axis=1) > 1e-6
    assert set(prices.index[changed.to_numpy()]) <= set(weights.index)


def test_weights_off_the_price_dates_say_how_to_align():
    prices = _daily()
    # calendar month-ends: 2024-03-31 is a Sunday
    weights = pd.DataFrame(0.3, index=pd.date_range("2024-01-31", periods=3, freq="ME"), columns=prices.columns)
    with pytest.raises(ValueError, match=r"1 of 3 dates that are not in the prices index \(first: 2024-03-31\)"
                                         r".*searchsorted"):
        backtest_weights(weights, prices, 100_000.0)
    snapped = weights.copy()
    snapped.index = prices.index[prices.index.searchsorted(weights.index, side="right") - 1]
    assert backtest_weights(snapped, prices, 100_000.0)["equity_curve"][-1] > 0  # the hint works as written


# ----------------------------------------------------------------------------- missing prices

def test_hold_keeps_an_unpriced_position_at_its_last_price_and_raise_names_date_and_symbol():
    idx = pd.bdate_range("2024-03-01", periods=4)
    P = pd.DataFrame({"A": [10.0, np.nan, 12.0, 12.0], "B": [20.0, 20.0, 20.0, 21.0]}, index=idx)
    W = pd.DataFrame({"A": [0.5, 0.2, 0.2, 0.2], "B": [0.5, 0.5, 0.5, 0.5]}, index=idx)
    with pytest.warns(SkippedTargetsWarning, match="1 targets"):
        res = backtest_weights(W, P, 10_000.0, CostModel.zero())
    # day 2: A has no price: not traded (still 500 shares), valued at 10
    assert res["equity_curve"][2] == 1_000_000
    assert res.holdings.loc[idx[1], "A"] == pytest.approx(0.5)
    st = res.skipped_targets
    assert st.to_dict("records") == [{"date": idx[1], "period": 1, "symbol": "A", "weight": 0.2,
                                      "reason": "no price, position held at its last price"}]
    with pytest.raises(ValueError, match=r"unpriced holding A at 2024-03-04 \(period 1, fill\)"):
        backtest_weights(W, P, 10_000.0, CostModel.zero(), missing_prices="raise")
    for conv in ("fractional", "cash_limited"):
        with pytest.raises(ValueError, match=r"unpriced holding A at 2024-03-04"):
            backtest_weights(W, P, 10_000.0, convention=conv, missing_prices="raise")


def test_list_input_keeps_the_reference_rule_for_missing_prices():
    w = [[("A", 0.5)], [("A", 0.5)]]
    p = [[("A", BarPrices(1000, 1000, 1000, 1000))], [("B", BarPrices(10, 10, 10, 10))]]
    with pytest.raises(ValueError, match=r"^unpriced holding A at period 1 \(fill\)$"):
        backtest_weights(w, p, 100_000)
    with pytest.raises(ValueError, match="missing_prices 'hold' needs DataFrame or numpy input"):
        backtest_weights(w, p, 100_000, missing_prices="hold")
    # a target without a price is not traded (as the reference), and now it is reported
    with pytest.warns(SkippedTargetsWarning, match="1 targets"):
        r = backtest_weights([[("A", 0.5), ("ZZ", 0.3)]], [[("A", BarPrices(1000, 1000, 1000, 1000))]], 100_000)
    assert r.skipped_targets[["period", "symbol", "weight", "reason"]].to_dict("records") == [
        {"period": 0, "symbol": "ZZ", "weight": 0.3, "reason": "no price"}]


# ----------------------------------------------------------------------------- prices as given, units

def test_float_conventions_use_prices_as_given_and_integer_says_it_rounds():
    idx = pd.bdate_range("2024-01-01", periods=3)
    P = pd.DataFrame({"NVDA": [3.4055, 3.4055 * 1.01, 3.4055 * 1.01 * 0.98]}, index=idx)
    W = pd.DataFrame({"NVDA": [1.0, np.nan, np.nan]}, index=idx)
    for conv in ("fractional", "cash_limited"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no rounding, so no warning
            r = backtest_weights(W, P, 10_000.0, CostModel.zero(), convention=conv)
        np.testing.assert_allclose(r.returns.to_numpy()[1:], [0.01, -0.02], rtol=1e-12)
    with pytest.warns(UserWarning, match=r"3 prices are not whole cents and were rounded \(largest change 0\.1"):
        r = backtest_weights(W, P, 10_000.0, CostModel.zero())
    assert r.returns.iloc[1] != pytest.approx(0.01, rel=1e-6)  # whole shares at 3.41 and 3.44
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backtest_weights(W, P.round(2), 10_000.0, CostModel.zero())  # whole cents: silent


def test_views_are_in_currency_and_the_dict_keeps_its_units():
    idx = pd.bdate_range("2024-01-01", periods=3)
    P = pd.DataFrame({"A": [10.0, 11.0, 12.0]}, index=idx)
    W = pd.DataFrame({"A": [0.5, 0.5, 0.5]}, index=idx)
    r = backtest_weights(W, P, 10_000.0)
    assert r["equity_curve"][0] == 1_000_000 and isinstance(r["final_cash"], int)  # cents, as the reference
    assert r.final_cash == r["final_cash"] / 100.0 and r.initial_cash == 10_000.0
    assert r.equity.iloc[-1] == r["equity_curve"][-1] / 100.0
    assert f"final_cash={r.final_cash:.2f}" in repr(r) and f"final_equity={r.equity.iloc[-1]:.2f}" in repr(r)
    assert r.gross_exposure.iloc[0] == pytest.approx(0.5) and r.net_exposure.equals(r.holdings.sum(axis=1).rename(
        "net_exposure"))


@pytest.mark.parametrize("convention", ["integer", "fractional", "cash_limited"])
def test_traded_value_costs_and_turnover(convention):
    idx = pd.bdate_range("2024-01-01", periods=3)
    P = pd.DataFrame({"A": [100.0, 100.0, 110.0]}, index=idx)
    W = pd.DataFrame({"A": [0.5, np.nan, 0.0]}, index=idx)
    r = backtest_weights(W, P, 10_000.0, CostModel(10), convention=convention)
    # day 1: buy 50 shares = 5000.00 (cost 5.00); day 2: hold; day 3: sell all at 110
    np.testing.assert_allclose(r.traded_value.to_numpy(), [5000.0, 0.0, 5500.0], rtol=1e-12)
    np.testing.assert_allclose(r.costs.to_numpy(), r.traded_value.to_numpy() * 0.001, rtol=1e-9, atol=0.005)
    np.testing.assert_allclose(r.turnover.to_numpy(), r.traded_value.to_numpy() / np.array(r["equity_curve"][:-1])
                               * 100.0, rtol=1e-12)
    assert r.traded_value.index.equals(idx) and r.costs.name == "costs"


# ----------------------------------------------------------------------------- bad-input matrix

B = BarPrices
WL = [[("A", 0.5)], [("A", 0.5)]]
PL = [[("A", B(1000, 1000, 1000, 1000))], [("A", B(1010, 1010, 1010, 1010))]]


def _frames():
    idx = pd.bdate_range("2024-01-01", periods=3)
    W = pd.DataFrame({"A": [0.5, 0.5, 0.5], "B": [0.2, 0.2, 0.2]}, index=idx)
    P = pd.DataFrame({"A": [100.0, 101.0, 102.0], "B": [50.0, 50.0, 51.0]}, index=idx)
    return W, P


def _pandas_case(change):
    W, P = _frames()
    kw = {}
    return change(W, P, kw) or (W, P, kw)


LIST_CASES = [
    # (weights, prices, cash, kwargs, exception, words the message must contain)
    (WL, PL, 2**60, {}, ValueError, ["initial_cash", str(2**60), "9223372036854"]),
    (WL, PL, 2**64, {}, ValueError, ["initial_cash", str(2**64), "9223372036854"]),
    (WL, [[("A", B(2**64, 2**64, 2**64, 2**64))], PL[1]], 10_000, {}, ValueError,
     ["price_schedule[0]", "A", str(2**64), "9223372036854"]),
    (WL, [[("A", B(2**62, 2**62, 2**62, 2**62))], PL[1]], 10_000, {}, ValueError, ["price_schedule[0]", str(2**62)]),
    (WL, [[("A", 2**63)], [("A", 1010)]], 10_000, {}, ValueError, ["price_schedule[0]", str(2**63)]),
    ([[("A", 0.5), ("A", 0.2)], [("A", 0.5)]], PL, 10_000, {}, ValueError, ["weight_schedule[0]", "A", "twice"]),
    (WL, [PL[0] + PL[0], PL[1]], 10_000, {}, ValueError, ["price_schedule[0]", "A", "twice"]),
    ([[("A", "0.5")], [("A", 0.5)]], PL, 10_000, {}, TypeError, ["weight_schedule[0]", "A", "str"]),
    ([[("A", 1000.0)], [("A", 0.5)]], [[("A", B(100, 100, 100, 100))], [("A", B(101, 101, 101, 101))]],
     9_000_000_000_000, {}, ValueError, ["initial_cash", "range"]),
    (WL, PL, 10_000, {"missing_prices": "hold"}, ValueError, ["missing_prices", "hold"]),
    (WL, PL, 10_000, {"convention": "fractional"}, ValueError, ["convention", "fractional"]),
    (WL, PL, 10.5, {}, TypeError, ["initial_cash", "10.5"]),
]


@pytest.mark.parametrize("case", LIST_CASES, ids=[f"list-{i}" for i in range(len(LIST_CASES))])
def test_bad_list_input(case):
    w, p, cash, kw, exc, words = case
    w0, p0 = copy.deepcopy(w), copy.deepcopy(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedTargetsWarning)
        with pytest.raises(exc) as ei:
            backtest_weights(w, p, cash, CostModel(10), **kw)
    for word in words:
        assert word in str(ei.value), (word, str(ei.value))
    assert w == w0 and p == p0


def _set(frame, col, values):
    frame[col] = values


PANDAS_CASES = [
    # (change(W, P, kw) -> None or (W, P, kw), exception, words)
    (lambda W, P, kw: _set(P, "A", [100.0, np.inf, 101.0]), ValueError, ["price_schedule[1]", "A", "inf", "2024-01-02"]),
    (lambda W, P, kw: _set(P, "A", [100.0, 1e300, 101.0]), ValueError, ["price_schedule[1]", "A", "1e+300", "limit"]),
    (lambda W, P, kw: _set(P, "A", [100.0, 9.3e16, 101.0]), ValueError, ["price_schedule[1]", "A", "9.3e+16"]),
    (lambda W, P, kw: _set(P, "B", [50.0, -1.0, 51.0]), ValueError, ["price_schedule[1]", "B", "negative", "-1.0"]),
    (lambda W, P, kw: _set(W, "A", [0.5, -np.inf, 0.5]), ValueError, ["weight_schedule[1]", "A", "-inf"]),
    (lambda W, P, kw: _set(W, "A", ["0.5", "0.5", "0.5"]), TypeError, ["weights column 'A'", "must hold numbers, got dtype"]),
    (lambda W, P, kw: _set(P, "A", ["1", "2", "3"]), TypeError, ["prices column 'A'", "must hold numbers, got dtype"]),
    (lambda W, P, kw: _set(W, "ZZ", [0.1, 0.1, 0.1]), ValueError, ["weights column 'ZZ'", "no price column"]),
    (lambda W, P, kw: (W.set_axis([W.index[0], W.index[0], W.index[2]]), P.set_axis([W.index[0], W.index[0],
                                                                                   W.index[2]]), kw),
     ValueError, ["duplicated dates", "2024-01-01"]),
    (lambda W, P, kw: (W.iloc[::-1], P.iloc[::-1], kw), ValueError, ["increasing", "2024-01-02", "sort_index"]),
    (lambda W, P, kw: (W, P.iloc[::-1], kw), ValueError, ["prices index must be increasing"]),
    (lambda W, P, kw: kw.update(missing_prices="ffill"), ValueError, ["missing_prices", "'ffill'"]),
    (lambda W, P, kw: kw.update(convention="magic"), ValueError, ["convention", "'magic'"]),
    (lambda W, P, kw: kw.update(convention="fractional", quantity_step=1), ValueError,
     ["quantity_step", "convention='integer'", "'fractional'"]),
    (lambda W, P, kw: kw.update(cash=math.nan), ValueError, ["initial_cash", "NaN"]),
    (lambda W, P, kw: kw.update(cash=math.inf), ValueError, ["initial_cash", "inf"]),
    (lambda W, P, kw: kw.update(cash=1e20), ValueError, ["initial_cash", "1e+20", "92233720368.54"]),
    (lambda W, P, kw: kw.update(cash=0.001), ValueError, ["initial_cash", "0.001", "cent"]),
    (lambda W, P, kw: kw.update(cash="1000"), TypeError, ["initial_cash", "str"]),
    (lambda W, P, kw: kw.update(symbols=["X", "Y"]), ValueError, ["symbols=", "DataFrames"]),
    (lambda W, P, kw: (W.to_numpy(), P.to_numpy(), dict(symbols=["A"])), ValueError,
     ["symbols must name every column", "2 columns", "given 1"]),
]


@pytest.mark.parametrize("case", PANDAS_CASES, ids=[f"pandas-{i}" for i in range(len(PANDAS_CASES))])
def test_bad_pandas_input(case):
    change, exc, words = case
    W, P, kw = _pandas_case(change)
    cash = kw.pop("cash", 10_000.0)
    W0, P0 = copy.deepcopy(W), copy.deepcopy(P)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as ei:
            backtest_weights(W, P, cash, CostModel(10), **kw)
    for word in words:
        assert word in str(ei.value), (word, str(ei.value))
    for a, b in ((W, W0), (P, P0)):
        if hasattr(a, "index"):
            assert a.equals(b) and a.index.equals(b.index) and list(a.columns) == list(b.columns)
        else:
            assert np.array_equal(a, b, equal_nan=True)


def test_issue_11_repros():
    idx = pd.bdate_range("2024-01-01", periods=3)
    with pytest.raises(ValueError, match=r"price for A must be finite \(NaN = no price\), got inf"):
        backtest_weights(pd.DataFrame({"A": [0.5] * 3}, idx), pd.DataFrame({"A": [100.0, np.inf, 101.0]}, idx), 1e6)
    # 2**60 cents with a 50 % weight and a +1 % move: an error, not a wrong return
    with pytest.raises(ValueError, match="initial_cash must be at most 9223372036854 cents"):
        backtest_weights(WL, PL, 2**60)
    # at the limit the arithmetic is exact: the +1 % move is +0.5 % on the book
    r = backtest_weights(WL, PL, 9_223_372_036_854)
    assert r["returns"][1] == pytest.approx(0.005, rel=1e-6)
    with pytest.raises(ValueError, match="initial_cash must be at most 9223372036854 cents"):
        backtest_weights(WL, PL, 9_223_372_036_855)


def test_growth_beyond_the_exact_range_is_an_error_not_a_clamped_number():
    # leverage 1000 on the largest cash: quantities leave int64 in the first period
    with pytest.raises(ValueError, match=r"leaves the exact int64 range at period 0"):
        backtest_weights([[("A", 1000.0)]], [[("A", B(100, 100, 100, 100))]], 9_000_000_000_000)
    idx = pd.bdate_range("2024-01-01", periods=1)
    with pytest.raises(ValueError, match=r"leaves the exact int64 range at 2024-01-01"):
        backtest_weights(pd.DataFrame({"A": [1000.0]}, idx), pd.DataFrame({"A": [1.0]}, idx), 90_000_000_000.0)


# ----------------------------------------------------------------------------- the hold policy of the integer kernel

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["SignalBarClose", "NextBarOpen"]),
       st.sampled_from([0.0, 10.0]), st.sampled_from(["integer", "fractional", "cash_limited"]))
def test_holes_on_days_without_trading_are_valued_at_the_last_price(seed, policy, bps, convention):
    # On days that do not rebalance (all-NaN weight rows) a hole changes nothing
    # but the valuation, so "hold" must equal the same run on forward-filled
    # prices, period by period, to the cent (integer) or to rounding (float).
    rng = np.random.default_rng(seed)
    T, N = int(rng.integers(3, 40)), int(rng.integers(1, 6))
    px = np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.03, (T, N)), axis=0)), 2)
    w = rng.random((T, N)) / N
    w[rng.random((T, N)) < 0.2] = np.nan
    hold_rows = rng.random(T) < 0.5
    hold_rows[0] = False
    w[hold_rows] = np.nan
    holey = px.copy()
    holes = (rng.random((T, N)) < 0.3) & hold_rows[:, None]
    if policy == "NextBarOpen":  # the fill of period t is row t + 1: keep the rows after trading days whole
        holes[1:] &= hold_rows[1:, None] & hold_rows[:-1, None]
    holey[holes] = np.nan
    filled = pd.DataFrame(holey).ffill().to_numpy()
    syms = [f"S{j}" for j in range(N)]
    a = backtest_weights(w, holey, 10_000.0, CostModel(bps), policy, symbols=syms, convention=convention)
    b = backtest_weights(w, filled, 10_000.0, CostModel(bps), policy, symbols=syms, convention=convention)
    if convention == "integer":
        assert a["equity_curve"] == b["equity_curve"] and a["final_cash"] == b["final_cash"]
    else:
        np.testing.assert_allclose(a["equity_curve"], b["equity_curve"], rtol=1e-12)
    np.testing.assert_allclose(a.holdings.to_numpy(), b.holdings.to_numpy(), rtol=1e-12)
    assert len(a.skipped_targets) == 0


def test_documented_limits_at_just_below_and_just_above():
    limit = 9_223_372_036_854  # AMOUNT_LIMIT = 2**63 // 10**6 cents
    w1 = [[("A", 0.5)]]
    # list initial_cash
    assert backtest_weights(w1, [[("A", 100)]], limit)["equity_curve"][0] == limit
    assert backtest_weights(w1, [[("A", 100)]], limit - 1)["equity_curve"][0] == limit - 1
    with pytest.raises(ValueError, match=f"initial_cash must be at most {limit} cents .*, got {limit + 1}"):
        backtest_weights(w1, [[("A", 100)]], limit + 1)
    # list prices
    for px in (limit - 1, limit):
        assert backtest_weights(w1, [[("A", B(px, px, px, px))]], 10_000)["equity_curve"][0] == 10_000
    with pytest.raises(ValueError, match=f"price of {limit + 1} cents, beyond the exact range"):
        backtest_weights(w1, [[("A", B(limit + 1, limit + 1, limit + 1, limit + 1))]], 10_000)
    # pandas: the same limits in currency units
    idx = pd.bdate_range("2024-01-01", periods=1)
    W = pd.DataFrame({"A": [0.5]}, index=idx)
    top = limit / 100.0
    assert backtest_weights(W, pd.DataFrame({"A": [top]}, index=idx), 10_000.0)["equity_curve"][0] == 1_000_000
    assert backtest_weights(W, pd.DataFrame({"A": [np.nextafter(top, 0)]}, index=idx), 10_000.0)
    with pytest.raises(ValueError, match="above the limit 92233720368.54"):
        backtest_weights(W, pd.DataFrame({"A": [np.nextafter(top, np.inf)]}, index=idx), 10_000.0)
    P = pd.DataFrame({"A": [10.0]}, index=idx)
    assert backtest_weights(W, P, top)["equity_curve"][0] == limit
    with pytest.raises(ValueError, match="initial_cash must be at most 92233720368.54"):
        backtest_weights(W, P, np.nextafter(top, np.inf) + 0.01)
    # the smallest cash: half a cent rounds to one cent, less is zero
    assert backtest_weights(W, P, 0.005)["equity_curve"][0] == 1
    with pytest.raises(ValueError, match="initial_cash must be at least one cent, got 0.004"):
        backtest_weights(W, P, 0.004)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["SignalBarClose", "NextBarOpen"]),
       st.sampled_from([(0.0, 0.0, 0), (10.0, 5.0, 0), (25.0, 0.0, 300)]),
       st.sampled_from([{}, {"quantity_step": 1}, {"max_trades_per_rebalance": 1}, {"no_trade_band_bps": 50.0}]))
def test_integer_hold_policy_equals_the_list_oracle(seed, policy, costs, opts):
    # the compiled kernel's missing_prices="hold" against the oracle's
    # transcription of the same rule (_listengine, hold=True), holes anywhere
    from _portfolio_corpus import same

    from nanobook.portfolio._listengine import backtest_lists

    rng = np.random.default_rng(seed)
    T, N = int(rng.integers(2, 30)), int(rng.integers(1, 6))
    cents = np.round(5000 * np.exp(np.cumsum(rng.normal(0, 0.05, (T, N)), axis=0))).astype(np.int64)
    holes = rng.random((T, N)) < float(rng.choice([0.05, 0.2, 0.5]))
    w = rng.random((T, N)) * 1.2 / N
    w[rng.random((T, N)) < 0.25] = np.nan
    empty = np.isnan(w).all(axis=1)
    w[empty, 0] = 0.3  # lists cannot say "hold": every row has a target
    syms = [f"S{j}" for j in range(N)]
    prices = np.where(holes, np.nan, cents / 100.0)
    cm = CostModel(*costs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedTargetsWarning)
        got = backtest_weights(w, prices, 100_000.0, cm, policy, symbols=syms, **opts)
        ws = [[(s, float(x)) for s, x in zip(syms, row) if not np.isnan(x)] for row in w]
        ps = [[(s, B(int(c), int(c), int(c), int(c))) for s, c, h in zip(syms, crow, hrow) if not h]
              for crow, hrow in zip(cents, holes)]
        ref = backtest_lists(ws, ps, 10_000_000, cm, policy, _hold=True, **opts)
    assert same(got.to_dict(), ref.to_dict())

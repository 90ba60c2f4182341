"""The tear sheet (issue 12 section 2): its numbers, its panels, its HTML, and quantstats.

``quantstats_reference.json`` holds quantstats 0.0.86's figures on the demo's
daily returns (recorded by ``benches/quantstats_compare.py --record`` in its
own virtualenv; provenance and conventions inside the file).  Ours must agree
to 1e-12 relative wherever both compute the same quantity under the same
convention; the conventions that differ are checked as stated.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")

from nanobook import CostModel, backtest_weights  # noqa: E402
from nanobook.portfolio import metrics as M  # noqa: E402
from nanobook.portfolio.report import report_data, report_metrics, save_report, tear_sheet_figure  # noqa: E402

REF = Path(__file__).resolve().parents[1] / "data" / "portfolio" / "quantstats_reference.json"
REL = 1e-12
REFERENCE_KEYS = ["total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
                  "num_periods", "winning_periods", "losing_periods", "cvar_95", "win_rate",
                  "profit_factor", "payoff_ratio", "kelly"]


@pytest.fixture(scope="module")
def qs_ref():
    d = json.loads(REF.read_text())
    idx = pd.DatetimeIndex(d["input"]["dates"])
    r = pd.Series(d["input"]["strategy"], index=idx)
    b = pd.Series(d["input"]["benchmark"], index=idx)
    return r, b, d["quantstats"]


# ----------------------------------------------------------------------------- quantstats


def test_scalar_metrics_agree_with_quantstats(qs_ref):
    r, b, q = qs_ref
    m = report_metrics(r, benchmark=b, periods_per_year=252)
    s = q["scalars"]
    same = {"total_return": "comp", "cagr": "cagr", "volatility": "volatility", "sharpe": "sharpe",
            "sortino": "sortino", "calmar": "calmar", "profit_factor": "profit_factor",
            "payoff_ratio": "payoff_ratio", "win_rate_active": "win_rate", "best_period": "best",
            "worst_period": "worst", "alpha": "alpha", "beta": "beta"}
    for ours, theirs in same.items():
        assert m[ours] == pytest.approx(s[theirs], rel=REL), ours
    # stated conventions: drawdown sign, information ratio per period, exposure rounded up
    assert m["max_drawdown"] == pytest.approx(-s["max_drawdown"], rel=REL)
    assert m["information_ratio"] / math.sqrt(252) == pytest.approx(s["information_ratio"], rel=REL)
    assert math.ceil(m["exposure"] * 100) / 100 == s["exposure"]
    # the Kelly fraction differs on purpose: ours is the reference's (win rate over all periods)
    win_all = m["winning_periods"] / m["num_periods"]
    assert m["kelly"] == pytest.approx(win_all - (1 - win_all) / m["payoff_ratio"], rel=REL)
    w = s["win_rate"]
    assert s["kelly_criterion"] == pytest.approx(w - (1 - w) / s["payoff_ratio"], rel=REL)


def test_calendar_and_yearly_returns_agree_with_quantstats(qs_ref):
    r, _, q = qs_ref
    cal = M.calendar_returns(r)
    qm = q["monthly_returns"]
    assert [int(y) for y in cal.index] == qm["years"]
    assert qm["columns"][-1] == "EOY" and list(cal.columns)[-1] == "Year"
    ours = cal.to_numpy(dtype=float)
    theirs = np.array(qm["values"], dtype=float)
    have = ~np.isnan(ours)
    np.testing.assert_allclose(ours[have], theirs[have], rtol=REL, atol=1e-15)
    # months outside the series: NaN in ours, 0 in quantstats (and only after its last date)
    assert np.all(theirs[~have] == 0.0)
    assert [(int(cal.index[i]), j + 1) for i, j in np.argwhere(~have)] == \
        [(2026, m) for m in range(6, 13)]
    np.testing.assert_allclose(M.yearly_returns(r).to_numpy(), theirs[:, -1], rtol=REL)


def test_worst_drawdowns_agree_with_quantstats(qs_ref):
    r, _, q = qs_ref
    dd = M.drawdown_table(r, 5)
    assert len(dd) == 5
    for (_, row), theirs in zip(dd.iterrows(), q["drawdowns"]):
        assert row["start"].strftime("%Y-%m-%d") == theirs["start"]
        assert row["trough"].strftime("%Y-%m-%d") == theirs["valley"]
        assert row["end"].strftime("%Y-%m-%d") == theirs["end"]
        assert row["days"] == theirs["days"]
        assert -row["depth"] * 100 == pytest.approx(theirs["max_drawdown_pct"], rel=REL)


def test_rolling_statistics_agree_with_quantstats(qs_ref):
    r, _, q = qs_ref
    pos = q["rolling"]["positions"]
    vol = np.array(M.rolling_volatility(r.to_numpy(), 63, 252))[pos]
    sh = np.array(M.rolling_sharpe(r.to_numpy(), 63, 252))[pos]
    np.testing.assert_allclose(vol, q["rolling"]["volatility"], rtol=1e-9, atol=1e-14)
    theirs = np.array(q["rolling"]["sharpe"], dtype=float)
    flat = np.isnan(theirs)  # zero-variance windows: 0 in ours (the reference's rule)
    assert np.all(sh[flat] == 0.0) and flat.sum() == 5
    np.testing.assert_allclose(sh[~flat], theirs[~flat], rtol=1e-9)


# ----------------------------------------------------------------------------- our own numbers


def _two_asset(n=90, seed=0, cost=CostModel(0.0), constant=False, every=21):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2023-11-01", periods=n)
    if constant:
        prices = pd.DataFrame({"A": 50.0, "B": 20.0}, index=idx)
    else:
        prices = pd.DataFrame(
            {"A": 50.0 * np.cumprod(1 + rng.normal(0.0005, 0.02, n)),
             "B": 20.0 * np.cumprod(1 + rng.normal(0.0002, 0.015, n))}, index=idx).round(2)
    w = pd.DataFrame(np.nan, index=idx, columns=["A", "B"])
    for k, t in enumerate(range(0, n, every)):
        w.iloc[t] = [0.5, 0.3] if k % 2 == 0 else [0.2, 0.6]
    return backtest_weights(w, prices, 100_000.0, cost), prices, w


def test_reference_keys_first_and_unchanged_then_the_new_ones():
    res, _, _ = _two_asset()
    m = report_metrics(res)
    assert list(m)[:15] == REFERENCE_KEYS
    assert {k: m[k] for k in REFERENCE_KEYS} == res.metrics.to_dict()
    assert m["start"] == res.returns.index[0] and m["end"] == res.returns.index[-1]
    assert m["initial_equity"] == 100_000.0 and m["final_equity"] == res.equity.iloc[-1]


def test_turnover_trades_and_costs_match_the_engine():
    # constant prices: every cent of equity lost is a cost, so the estimate is checkable
    res, _, w = _two_asset(constant=True, cost=CostModel(25.0))
    d = report_data(res, cost_bps=25.0)
    paid = 100_000.0 - res.equity.iloc[-1]
    assert paid > 0
    fills = int((d["traded"].to_numpy() > 0).sum())
    assert d["costs"].sum() == pytest.approx(paid, abs=0.01 * fills)  # cents rounding of each fill
    active = d["costs"].to_numpy() > 0
    paid_t = -np.diff(np.concatenate([[100_000.0], res.equity.to_numpy()]))
    np.testing.assert_allclose(d["costs"].to_numpy()[active], paid_t[active], atol=0.0101)
    rebalance = w.notna().all(axis=1).to_numpy()
    to = d["turnover"].to_numpy()
    assert np.all(to[~rebalance] == 0.0)  # held periods trade nothing, exactly
    assert to[0] == pytest.approx(80_000.0 / res.equity.iloc[0], rel=1e-12)  # cash into 50 % + 30 %
    # 0.5 -> 0.2 and 0.3 -> 0.6: the shares traded, valued at the price, over equity
    q = res.holdings.mul(res.equity, axis=0) / pd.Series({"A": 50.0, "B": 20.0})
    moved = ((q.iloc[21] - q.iloc[20]).abs() * pd.Series({"A": 50.0, "B": 20.0})).sum()
    assert to[21] == pytest.approx(moved / res.equity.iloc[21], rel=1e-12)
    assert to[21] == pytest.approx(0.6, rel=2e-3)
    m = report_metrics(res, cost_bps=25.0)
    assert m["num_trades"] == 2 * rebalance.sum()
    assert m["turnover"] == pytest.approx(to.mean() / 2 * 252)
    assert m["costs"] == pytest.approx(d["costs"].sum())
    # the result's cost model is used when cost_bps is not given
    res.cost_model = CostModel(20.0, 5.0)
    assert report_data(res)["cost_source"] == "estimated: 25 bps of traded value"
    del res.cost_model
    assert report_data(res)["costs"] is None


def test_exposure_counts_and_active_win_rate():
    res, _, _ = _two_asset(n=60)
    d = report_data(res)
    ex = d["exposure"]
    h = res.holdings
    np.testing.assert_array_equal(ex["gross"].to_numpy(), h.abs().sum(axis=1).to_numpy())
    np.testing.assert_array_equal(ex["long"].to_numpy(), (h > 0).sum(axis=1).to_numpy())
    assert (ex["short"] == 0).all()
    m = d["metrics"]
    active = (ex["gross"] > 0) | (ex["gross"].shift(1, fill_value=0.0) > 0)
    r = res.returns
    assert m["win_rate_active"] == (r[active] > 0).sum() / active.sum()
    assert m["exposure"] == active.mean()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-0.2, 0.2, allow_nan=False), min_size=2, max_size=400),
       st.integers(0, 3))
def test_calendar_and_drawdown_properties(rets, start_offset):
    idx = pd.bdate_range(pd.Timestamp("2021-12-28") + pd.Timedelta(days=start_offset), periods=len(rets))
    r = pd.Series(rets, index=idx)
    total = float(np.prod(1 + np.array(rets)) - 1)
    yearly = M.yearly_returns(r)
    assert float(np.prod(1 + yearly.to_numpy()) - 1) == pytest.approx(total, rel=1e-9, abs=1e-12)
    cal = M.calendar_returns(r)
    months = cal.iloc[:, :12].to_numpy()
    assert float(np.prod(1 + months[~np.isnan(months)]) - 1) == pytest.approx(total, rel=1e-9, abs=1e-12)
    m = M.compute_metrics(rets)
    uw = M.underwater(r)
    assert -uw.min() == pytest.approx(m.max_drawdown, rel=1e-12, abs=1e-15)
    dd = M.drawdown_table(r, 3)
    if m.max_drawdown > 0:
        assert dd["depth"].iloc[0] == pytest.approx(m.max_drawdown, rel=1e-12)
        assert list(dd["depth"]) == sorted(dd["depth"], reverse=True)
        for _, row in dd.iterrows():
            assert row["start"] <= row["trough"] <= row["end"]
            assert pd.isna(row["recovery"]) or row["end"] < row["recovery"]
    else:
        assert dd.empty


def test_drawdown_table_boundaries():
    idx = pd.bdate_range("2024-01-01", periods=6)
    # equity 1 -> 2 (peak) -> 1 -> 0.5 (trough) -> 1 -> 2 (exactly back at the peak: recovery)
    # -> 1 (under water again until the end); every value exact in binary
    r = pd.Series([1.0, -0.5, -0.5, 1.0, 1.0, -0.5], index=idx)
    dd = M.drawdown_table(r, 10)
    assert list(dd["depth"]) == [0.75, 0.5]
    first = dd.sort_values("start").iloc[0]
    assert first["peak"] == idx[0] and first["start"] == idx[1] and first["trough"] == idx[2]
    assert first["end"] == idx[3] and first["recovery"] == idx[4] and first["periods"] == 3
    assert first["days"] == 3
    last = dd.sort_values("start").iloc[-1]
    assert last["start"] == idx[5] and pd.isna(last["recovery"]) and last["periods"] == 1
    # a fall in the very first period peaks at the initial capital
    d0 = M.drawdown_table(pd.Series([-0.1, 0.2], index=idx[:2]))
    assert d0["peak"].isna().all() and d0["start"].iloc[0] == idx[0]


def test_benchmark_statistics():
    rng = np.random.default_rng(5)
    idx = pd.bdate_range("2024-01-01", periods=300)
    b = pd.Series(rng.normal(0.0003, 0.01, 300), index=idx)
    r = 2 * b + 0.0001
    st_ = M.benchmark_stats(r, b, 252)
    assert st_["beta"] == pytest.approx(2.0, rel=1e-12)
    assert st_["alpha"] == pytest.approx(0.0001 * 252, rel=1e-9)
    assert st_["correlation"] == pytest.approx(1.0, rel=1e-12)
    active = r - b
    assert st_["tracking_error"] == pytest.approx(active.std() * math.sqrt(252), rel=1e-12)
    assert st_["information_ratio"] == pytest.approx(active.mean() / active.std() * math.sqrt(252), rel=1e-12)
    with pytest.raises(ValueError, match="benchmark returns are constant"):
        M.benchmark_stats(r, pd.Series(0.001, index=idx), 252)
    with pytest.raises(ValueError, match="shares 1 period"):
        M.benchmark_stats(r, b.iloc[:1], 252)
    with pytest.raises(ValueError, match="benchmark must not contain inf"):
        M.benchmark_stats(r, b.replace(b.iloc[3], np.inf), 252)


def test_benchmark_by_symbol_or_series():
    res, prices, _ = _two_asset()
    by_sym = report_metrics(res, benchmark="A")
    series = prices["A"].pct_change(fill_method=None)
    by_series = report_metrics(res, benchmark=series)
    for k in ("alpha", "beta", "tracking_error", "information_ratio"):
        assert by_sym[k] == pytest.approx(by_series[k], rel=1e-12)
    with pytest.raises(ValueError, match="benchmark 'SPY' is not a symbol of the backtest"):
        report_data(res, benchmark="SPY")
    other = pd.Series(0.01, index=pd.bdate_range("1990-01-01", periods=10))
    with pytest.raises(ValueError, match="benchmark shares 0 period"):
        report_data(res, benchmark=other)
    with pytest.raises(TypeError, match="benchmark must be a symbol"):
        report_data(res, benchmark=[0.01] * 90)


@pytest.mark.parametrize("kw,match", [
    ({"cost_bps": -1.0}, "cost_bps must be finite and >= 0, got -1.0"),
    ({"cost_bps": float("nan")}, "cost_bps must be finite"),
    ({"rolling_window": 1}, "rolling_window must be an int >= 2, got 1"),
    ({"periods_per_year": 0}, "periods_per_year must be finite and > 0, got 0"),
    ({"costs": [np.inf] * 90}, "costs must be finite"),
])
def test_bad_arguments_raise_and_write_nothing(tmp_path, kw, match):
    res, _, _ = _two_asset()
    folder = tmp_path / "out"
    with pytest.raises(ValueError, match=match):
        save_report(res, folder, "x", **kw)
    assert not folder.exists()


def test_rolling_window_boundary():
    res, _, _ = _two_asset(n=40)
    d = report_data(res, rolling_window=2)  # the smallest window
    assert d["rolling_volatility"].isna().sum() == 1
    d = report_data(res, rolling_window=40)  # as long as the series: one value
    assert d["rolling_sharpe"].notna().sum() == 1
    d = report_data(res, rolling_window=41)  # longer: none
    assert d["rolling_sharpe"].isna().all()


# ----------------------------------------------------------------------------- figure and HTML


def test_figure_has_every_panel():
    pytest.importorskip("matplotlib")
    res, _, _ = _two_asset()
    fig = tear_sheet_figure(res, rolling_window=20, title="Two assets", benchmark="A", cost_bps=10)
    titles = " | ".join(ax.get_title(loc="left") for ax in fig.axes)
    for part in ("Equity", "Underwater curve", "Rolling volatility (20", "Rolling Sharpe (20",
                 "Monthly returns", "Yearly returns", "exposure", "Number of positions",
                 "Turnover and cumulative costs"):
        assert part in titles, part
    assert "Two assets" in fig._suptitle.get_text()
    equity_ax = fig.axes[0]
    assert [ln.get_label() for ln in equity_ax.get_lines()] == ["strategy", "benchmark: A"]
    assert equity_ax.get_lines()[0].get_ydata()[-1] == pytest.approx(res.equity.iloc[-1])


def test_html_is_formatted_titled_and_self_contained(tmp_path):
    pytest.importorskip("matplotlib")
    res, _, _ = _two_asset(cost=CostModel(5.0))
    res["skipped_rebalances"] = [3, 7]
    paths = res.save_report(tmp_path, "two", rolling_window=20, title="Two <assets>", benchmark="B",
                            cost_bps=5)
    page = Path(paths["html"]).read_text()
    idx = res.returns.index
    assert "2 rebalance(s) could not be executed" in page
    assert idx[3].strftime("%Y-%m-%d") in page and idx[7].strftime("%Y-%m-%d") in page
    assert "<title>Two &lt;assets&gt;</title>" in page and "<h1>Two &lt;assets&gt;</h1>" in page
    m = res.metrics
    assert f"{m.total_return * 100:,.2f} %" in page  # a percentage, not 0.1234...
    assert repr(m.total_return) not in page
    assert "2023-11-01" in page and "$100,000.00" in page  # dates and currency
    assert "Worst drawdowns" in page and "Monthly and yearly returns" in page
    assert "Against the benchmark: B" in page and "Beta" in page
    assert page.count("<img") == 1 and 'src="data:image/png;base64,' in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert Path(paths["png"]).stat().st_size > 50_000


def test_targets_not_executed_are_listed(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    res, _, _ = _two_asset(n=30)
    idx = res.returns.index
    skipped = pd.DataFrame({"date": [idx[2], idx[5], idx[5]], "period": [2, 5, 5],
                            "symbol": ["B", "B", "A"], "weight": [0.3, 0.25, 0.0],
                            "reason": ["no price", "no price", "no price, position held at its last price"]})
    monkeypatch.setattr(type(res), "skipped_targets", property(lambda self: skipped), raising=False)
    page = Path(save_report(res, tmp_path, "t", rolling_window=5)["html"]).read_text()
    assert "Targets not executed" in page and "3 target(s) could not be executed" in page
    assert "by symbol: B (2), A (1)" in page
    assert idx[5].strftime("%Y-%m-%d") in page and "25.00 %" in page
    assert "position held at its last price" in page


def test_report_of_a_list_backtest_without_dates(tmp_path):
    pytest.importorskip("matplotlib")
    prices = [[("A", 100 + i), ("B", 50 + (i % 3))] for i in range(30)]
    weights = [[("A", 0.5), ("B", 0.4)]] * 30
    res = backtest_weights(weights, prices, 1_000_000)
    d = report_data(res, rolling_window=5)
    assert d["calendar"] is None
    assert list(d["metrics"])[:15] == REFERENCE_KEYS
    assert d["metrics"]["start"] == 0 and d["metrics"]["end"] == 29
    paths = save_report(res, tmp_path, "lists", rolling_window=5)  # no title: the name
    page = Path(paths["html"]).read_text()
    assert "Monthly and yearly returns" not in page and "Metrics" in page
    assert "<title>lists</title>" in page and "<h1>lists</h1>" in page
    # the reference's plain dict gives the same table
    plain = report_metrics(dict(res.items()))
    assert plain.keys() == d["metrics"].keys()
    assert all(plain[k] == v or (v != v and plain[k] != plain[k]) for k, v in d["metrics"].items())


def test_a_result_without_periods_is_refused(tmp_path):
    empty = backtest_weights(pd.DataFrame({"A": []}, dtype=float), pd.DataFrame({"A": []}, dtype=float),
                             1000.0)
    with pytest.raises(ValueError, match="result has no periods"):
        save_report(empty, tmp_path / "none", "x")
    assert not (tmp_path / "none").exists()



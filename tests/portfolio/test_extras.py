"""rebalance_lob, run_backtest, sweep_equal_weight, report and the demo.

Expected numbers marked "reference" were produced by nanobook 0.19.2 on the
same calls (run once by hand; the reference is not imported by tests)."""
from __future__ import annotations

import pytest

import nanobook
from nanobook.portfolio import (
    CostModel,
    Portfolio,
    backtest_weights,
    run_backtest,
    sweep_equal_weight,
)


def _book():
    m = nanobook.MultiExchange()
    m.submit_limit("A", "sell", 10100, 50, "gtc")
    m.submit_limit("A", "buy", 9900, 50, "gtc")
    m.submit_limit("B", "sell", 2000, 1000, "gtc")
    m.submit_limit("B", "buy", 1990, 1000, "gtc")
    return m


@pytest.mark.skipif(not hasattr(nanobook, "MultiExchange"), reason="engine not built")
def test_rebalance_lob_matches_reference():
    m = _book()
    pf = Portfolio(1_000_000, CostModel(10))
    pf.rebalance_lob([("A", 0.3), ("B", 0.2)], m)
    assert pf.cash == 496497  # reference
    assert {s: (p.quantity_whole, p.avg_entry_price) for s, p in pf.positions().items()} == {
        "A": (30, 10100), "B": (100, 2000)}
    pf.rebalance_lob([("B", 0.1)], m)  # A is closed into the bid, B halved
    assert pf.cash == 892600  # reference
    pos = pf.positions()
    assert (pos["A"].quantity_whole, pos["A"].realized_pnl) == (0, -6000)
    assert (pos["B"].quantity_whole, pos["B"].realized_pnl) == (50, -500)
    assert pf.returns() == []  # rebalance_lob records nothing


def test_run_backtest_and_sweep_match_reference():
    ps = [[("A", 100 + i), ("B", 200 - i)] for i in range(12)]
    r = run_backtest(lambda i, p, pf: [("A", 0.5), ("B", 0.3)], [dict(b) for b in ps], 100000, CostModel(10))
    assert r.portfolio.equity_curve() == [100000, 99920, 100270, 100616, 100958, 101296, 101628, 101956,
                                          102280, 102600, 102915, 103227, 103535]  # reference
    assert r.metrics.sharpe == 39.109929568917764  # reference
    m = sweep_equal_weight(2, ps, 100000)
    assert len(m) == 2 and m[0] == m[1] and repr(m[0]) == (
        "Metrics(total_return=2.46%, sharpe=10.57, max_drawdown=0.00%, win_rate=91.7%)")  # reference
    assert sweep_equal_weight(3, [], 100) == [None, None, None]


def test_run_backtest_strategy_errors_propagate():
    def bad(i, prices, pf):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_backtest(bad, [{"A": 100}], 1000)
    with pytest.raises(TypeError, match="bar 0"):
        run_backtest(lambda i, p, pf: None, [{"A": 100}], 1000)
    seen = []

    def spy(i, prices, pf):
        seen.append((i, prices, pf.cash))
        pf._cash = -1  # a detached copy: the run is unaffected
        return {"A": 0.5}

    r = run_backtest(spy, [{"A": 100}, {"A": 110}], 1000)
    assert seen[0] == (0, {"A": 100}, 1000) and r.portfolio.cash == 500


def test_report_and_result_views(tmp_path):
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    idx = pd.bdate_range("2024-01-01", periods=80)
    P = pd.DataFrame({"A": [10.0 + (i % 7) for i in range(80)], "B": [20.0 - (i % 5) for i in range(80)]}, index=idx)
    W = pd.DataFrame({"A": 0.6, "B": 0.3}, index=idx)
    r = backtest_weights(W, P, 10_000.0, CostModel(5))
    paths = r.save_report(tmp_path, "ts", rolling_window=20)
    assert (tmp_path / "ts.png").stat().st_size > 10_000
    html = (tmp_path / "ts.html").read_text()
    assert "sharpe" in html and "data:image/png;base64," in html
    assert paths == {"png": str(tmp_path / "ts.png"), "html": str(tmp_path / "ts.html")}
    ax = r.plot()
    assert ax.get_lines()
    tr = r.trades
    assert list(tr.columns) == ["symbol", "entry_index", "exit_index", "entry_weight", "exit_weight"]
    assert set(tr["symbol"]) == {"A", "B"}
    ts = r.tear_sheet(rolling_window=20)
    assert ts["trade_analytics"]["open_trade_count"] == 2


def test_demo_runs_on_bundled_data(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from nanobook.portfolio.demo import main

    assert main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sharpe" in out and "max_drawdown" in out
    assert (tmp_path / "momentum_tear_sheet.png").exists() and (tmp_path / "momentum_tear_sheet.html").exists()


def test_bundled_panel_is_complete():
    pytest.importorskip("pandas")
    from nanobook.portfolio import load_sp100

    close = load_sp100("close")
    assert close.shape == (1849, 20) and not close.isna().any().any()
    assert str(close.index[0].date()) == "2019-01-02" and str(close.index[-1].date()) == "2026-05-11"
    with pytest.raises(ValueError, match="field must be one of"):
        load_sp100("adj_close")

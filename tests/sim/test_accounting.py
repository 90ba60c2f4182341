"""Fees, cash, position and equity identities."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nanobook.feeds import synthetic_order_flow
from nanobook.sim import MarketMaker, Sim, from_synthetic

from .helpers import DEPTH, TRADE, Scripted, stream


class MakerTaker(MarketMaker):
    """Quotes, and every second crosses the spread with 3 lots (alternating)."""


    def on_timer(self, sim):
        self.k = getattr(self, "k", 0) + 1
        (sim.market_buy if self.k % 2 else sim.market_sell)(3)


@pytest.fixture(scope="module")
def run():
    md = from_synthetic(synthetic_order_flow(20_000, seed=11), mode="l2")
    sim = Sim(md, entry_latency=3_000_000, response_latency=2_000_000, maker_fee_bps=-0.5,
              taker_fee_bps=3.0, order_fee=0.01, multiplier=0.01, max_position=60,
              record_interval=100_000_000, queue_model="power")
    strat = MakerTaker(1, 10, 50, skew=0.05, timer_interval=1_000_000_000)
    return sim, sim.run(strat)


def test_position_cash_and_fees_balance_against_the_fill_log(run):
    sim, res = run
    f, o = res.fills, res.orders
    assert len(f) > 20 and 0 < f["maker"].sum() < len(f)
    sgn = np.where(f["side"] == 0, 1, -1)
    assert res.position == int((sgn * f["qty"]).sum())
    arrived = int((o["arrive_ts"] >= 0).sum())
    fees = f["fee"].sum() + 0.01 * arrived
    assert res.fees == pytest.approx(fees, rel=1e-12, abs=1e-9)
    cash = -(sgn * f["price"] * f["qty"]).sum() * 0.01 - fees
    assert res.cash == pytest.approx(cash, rel=1e-12, abs=1e-9)
    notional = f["price"] * f["qty"] * 0.01
    bps = np.where(f["maker"] == 1, -0.5, 3.0)
    assert np.allclose(f["fee"], notional * bps * 1e-4)
    assert (f["fee"][f["maker"] == 1] < 0).all()           # rebates
    # per-order fees and notional in the order history add up too
    assert o["fee"].sum() == pytest.approx(fees)
    assert o["notional"].sum() == pytest.approx(notional.sum())


def test_equity_is_cash_plus_inventory_at_mid(run):
    _, res = run
    r = res.records
    assert len(r) > 10
    assert np.allclose(r["equity"], r["cash"] + r["position"] * r["mid"] * 0.01)
    assert res.pnl == pytest.approx(res.cash + res.position * res.final_mid * 0.01)
    # the running position in the fill log matches the records
    assert (np.abs(r["position"]) <= 60).all()


def test_local_view_catches_up_with_the_exchange(run):
    sim, res = run
    assert sim.position == res.position
    assert sim.cash == pytest.approx(res.cash)
    assert sim.fees == pytest.approx(res.fees)


def test_summary_metrics(run):
    _, res = run
    s = res.summary(horizons=(10**6, 10**9))
    f = res.fills
    assert s["n_fills"] == len(f) and s["filled_qty"] == f["qty"].sum()
    assert s["max_inventory"] == np.abs(f["position"]).max() <= 60
    assert 0 < s["fill_ratio"] <= 1 and 0 < s["order_fill_ratio"] <= 1
    assert s["turnover"] == pytest.approx((f["price"] * f["qty"]).sum() * 0.01)
    assert math.isfinite(s["sharpe"]) and math.isfinite(s["markout_1s"])
    assert s["adverse_1ms"] == -s["markout_1ms"]
    assert s["pnl"] == pytest.approx(res.pnl)


def test_markout_by_hand():
    # we buy 5 @100 at t=20; the mid is 100.5 then moves to 102.5 at t=100
    rows = [(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 101, 10), (20, TRADE, 1, 100, 15),
            (100, DEPTH, 1, 101, 0), (100, DEPTH, 0, 102, 1), (100, DEPTH, 1, 103, 1),
            (200, DEPTH, 1, 104, 1)]
    res = Sim(stream(rows), record_interval=0, entry_latency=1).run(Scripted([(None, 0, 100, 5, {})]))
    m = res.summary(horizons=(10, 100))
    assert m["markout_10ns"] == 0.5 and m["markout_100ns"] == 2.5
    assert m["markout_100"] == 2.5 and m["adverse_10"] == -0.5      # the former names still read
    assert "markout_100" not in m.keys() and "markout_7" not in m
    assert math.isnan(res.summary(horizons=(500,))["markout_500ns"])   # past the data


def test_taker_order_walks_visible_depth_and_pays_taker_fee():
    rows = [(0, DEPTH, 0, 99, 10), (0, DEPTH, 1, 101, 3), (0, DEPTH, 1, 102, 4), (50, DEPTH, 0, 99, 9)]
    strat = Scripted([(None, 0, 102, 10, {}), (None, 1, 0, 2, {"market": True}),
                      (None, 0, 101, 1, {"post_only": True})])
    res = Sim(stream(rows), record_interval=0, taker_fee_bps=10, entry_latency=1).run(strat)
    f = res.fills
    assert list(zip(f["order_id"], f["price"], f["qty"], f["maker"])) == [
        (1, 101, 3, 0), (1, 102, 4, 0), (2, 99, 2, 0)]
    assert res.orders["status"].tolist() == [3, 2, 4]   # rest cancelled, filled, post-only rejected
    assert f["fee"][0] == pytest.approx(101 * 3 * 10e-4)


def test_one_sided_book_has_no_mid_and_no_equity():
    rows = [(0, DEPTH, 0, 100, 5), (10, TRADE, 1, 100, 9)]

    class Buy(Scripted):
        pass

    res = Sim(stream(rows)).run(Buy([(None, 0, 100, 3, {})]))
    assert res.position == 3 and res.cash == -300
    assert math.isnan(res.records["mid"][-1]) and math.isnan(res.records["equity"][-1])
    assert math.isnan(res.pnl)


def test_the_run_ends_when_the_data_ends():
    """A strategy that answers every report with a new order: after the last
    market event new orders are refused, so the run ends."""
    class PingPong(Scripted):
        def on_order(self, sim, ev):
            if ev.kind == "ack":
                sim.cancel(ev.order_id)
            else:
                sim.buy(90, 1)

    rows = [(0, DEPTH, 0, 100, 5), (0, DEPTH, 1, 101, 5), (10**6, TRADE, 0, 101, 1)]
    res = Sim(stream(rows), entry_latency=1000, response_latency=1000).run(PingPong([(None, 0, 90, 1, {})]))
    assert 200 < len(res.orders) < 300                 # one cycle per 4 us over 1 ms
    assert (res.orders["local_status"] == 3).sum() >= len(res.orders) - 1

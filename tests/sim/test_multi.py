"""Several instruments on one clock: independent books give the results of
separate runs, events interleave in time order, an order sent from one
instrument's hook to another leaves at the current time, one timer."""
from __future__ import annotations

import numpy as np
import pytest

from nanobook.sim import MultiSim, Sim, Strategy, TouchQuoter

from .helpers import DEPTH, TRADE, stream

A = [(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 102, 10), (50, TRADE, 1, 100, 30), (120, DEPTH, 0, 101, 5),
     (200, TRADE, 1, 101, 20), (300, DEPTH, 1, 103, 4)]
B = [(5, DEPTH, 0, 500, 10), (5, DEPTH, 1, 505, 10), (60, TRADE, 0, 505, 30), (130, DEPTH, 1, 504, 3),
     (210, TRADE, 0, 504, 9), (305, DEPTH, 0, 501, 2)]


def sims(**kw):
    return {"A": Sim(stream(A), entry_latency=3, response_latency=2, record_interval=50, **kw),
            "B": Sim(stream(B), entry_latency=3, response_latency=2, record_interval=50, **kw)}


class Touch(Strategy):
    """TouchQuoter on every instrument from one timer."""
    timer_interval = 20

    def __init__(self, only=None):
        self.only = only
        self.q = {}

    def on_timer(self, multi):
        for sym in multi.symbols:
            if self.only is None or sym in self.only:
                q = self.q.setdefault(sym, TouchQuoter(1, timer_interval=20))
                q.on_timer(multi[sym])


def test_each_instrument_gives_the_result_of_its_own_run():
    res = MultiSim(sims()).run(Touch())
    for sym, md in (("A", A), ("B", B)):
        alone = Sim(stream(md), entry_latency=3, response_latency=2, record_interval=50)
        # the same timer grid: start both runs at the common start
        alone._start = 0
        q = TouchQuoter(1, timer_interval=20)
        r = alone.run(q)
        assert np.array_equal(res[sym].fills, r.fills), sym
        assert np.array_equal(res[sym].records, r.records), sym          # the final record too
        assert np.array_equal(res[sym].orders[["price", "side", "submit_ts", "arrive_ts", "status"]],
                              r.orders[["price", "side", "submit_ts", "arrive_ts", "status"]]), sym
    assert len(res["A"].fills) and len(res["B"].fills)
    assert res.pnl == pytest.approx(res["A"].pnl + res["B"].pnl)
    s = res.summary()
    assert s["n_fills"] == len(res["A"].fills) + len(res["B"].fills) and "A.pnl" in s and "B.markout_1ms" in s
    df = res.records_frame()
    assert list(df.columns) == ["A", "B", "total"]
    assert df["total"].iloc[-1] == pytest.approx(res.pnl)
    assert "MultiSimResult(2 instruments" in repr(res)


class CrossBook(Strategy):
    """On every book change of A, log the time and both books; buy B at its bid once."""

    def __init__(self):
        self.seen = []
        self.sent = None

    def on_book(self, sim):
        other = sim.multi["B" if sim.symbol == "A" else "A"]
        self.seen.append((sim.now, sim.symbol, sim.bbo()[0], other.bbo()[0]))
        if sim.symbol == "A" and self.sent is None and other.best_bid:
            self.sent = (sim.now, other.buy(other.best_bid, 1))


def test_events_interleave_in_time_order_and_cross_orders_leave_now():
    strat = CrossBook()
    res = MultiSim(sims()).run(strat)
    times = [t for t, *_ in strat.seen]
    assert times == sorted(times)
    assert [s for _, s, *_ in strat.seen][:2] == ["A", "B"]        # A's book at 0, B's at 5
    t_sent, oid = strat.sent
    o = res["B"].orders[oid - 1]
    assert o["submit_ts"] == t_sent and o["arrive_ts"] == t_sent + 3


def test_one_timer_for_all():
    calls = []

    class T(Strategy):
        timer_interval = 100

        def on_timer(self, multi):
            calls.append((multi.now, multi.symbol))
    MultiSim(sims()).run(T())
    assert calls == [(100, None), (200, None), (300, None)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="non-empty dict"):
        MultiSim({})
    with pytest.raises(TypeError, match=r"instruments\['A'\] must be a Sim"):
        MultiSim({"A": 3})
    s = Sim(stream(A))
    with pytest.raises(ValueError, match="its own Sim"):
        MultiSim({"A": s, "B": s})
    with pytest.raises(KeyError, match="unknown symbol 'C'"):
        MultiSim(sims())["C"]


def test_progress_reports_each_instrument():
    seen = []
    res = MultiSim(sims()).run(Touch(), progress=lambda sym, sim: seen.append((sym, sim._core.n_exch_done)),
                               progress_every=2)
    assert ("A", 2) in seen and ("B", 2) in seen
    assert seen[-2:] == [("A", 6), ("B", 6)]            # once each at the end, all rows done
    assert len(res["A"].fills) > 0

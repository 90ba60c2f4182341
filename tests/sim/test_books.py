"""The book layouts — a price ladder over the stream's whole price range,
sorted arrays, and a ladder over a window with the prices outside it in
sorted arrays (streams whose prices span more than 2**24 units) — give the
same runs: a differential property over random L2 streams and strategies."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from nanobook.sim import Sim, Strategy

from .helpers import DEPTH, TRADE, stream


class Random(Strategy):
    """Quotes, modifies, takes and cancels from a seeded script on each book change."""
    timer_interval = 7

    def __init__(self, script):
        self.script = list(script)
        self.depths = []

    def on_timer(self, sim):
        if not self.script:
            return
        op, a, b = self.script.pop(0)
        bid, _, ask, _ = sim.bbo()
        if op == 0 and bid:
            sim.buy(max(1, bid - a), b)
        elif op == 1 and ask:
            sim.sell(ask + a, b)
        elif op == 2:
            sim.market_buy(7 * b) if a % 2 else sim.market_sell(7 * b)        # sweeps several levels
        elif op == 3 and sim.open_orders():
            oid = sim.open_orders()[a % len(sim.open_orders())]
            sim.modify(oid, qty=b)
        elif op == 4 and sim.open_orders():
            sim.cancel(sim.open_orders()[0])
        elif op == 5 and ask:
            sim.buy(ask + a, b, fok=True)

    def on_book(self, sim):
        self.depths.append(sim.depth(5).tolist())


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1), st.integers(90, 110), st.integers(0, 30)),
                     min_size=5, max_size=80),
       script=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(1, 9)), max_size=20),
       far=st.booleans())
def test_ladder_and_sorted_books_give_the_same_run(rows, script, far):
    md_rows = [(0, DEPTH, 0, 100, 20), (0, DEPTH, 1, 101, 20)]
    t = 0
    for kind, side, px, q in rows:
        t += 2
        if kind == 2:
            md_rows.append((t, TRADE, side, px, max(q, 1)))
        elif (side == 0 and px <= 100) or (side == 1 and px >= 101):
            md_rows.append((t, DEPTH, side, px, q))
    if far:                                   # a deep level far away, as real snapshots have
        md_rows.append((t + 1, DEPTH, 1, 100_000, 5))
    md = stream(md_rows)
    out = []
    for window in ("all", None, (97, 103), (100, 100), (60, 100), (80, 95), (105, 200)):
        sim = Sim(md, entry_latency=1, response_latency=1, record_interval=5)
        assert sim._ladder is not None
        if window != "all":
            sim._ladder = window          # None: sorted arrays only; else a ladder with an overflow
        strat = Random(script)
        out.append((sim.run(strat), strat.depths))
    a, da = out[0]
    for b, db in out[1:]:
        _same(a, b)
        assert da == db


def _same(a, b):
    for name in ("fills", "orders", "records", "bbo", "responses"):
        x, y = getattr(a, name), getattr(b, name)
        assert len(x) == len(y), name
        for f in x.dtype.names:
            assert np.array_equal(x[f], y[f], equal_nan=x[f].dtype.kind == "f"), (name, f)


def test_a_sweep_crosses_from_the_overflow_into_the_ladder_in_price_order():
    # bids 100 and 99 lie outside a ladder over [80, 96], 95 inside: a market sell of 50
    # takes 100, 99, then 95, and the book reads the same whatever the layout
    from .helpers import Scripted
    rows = [(0, DEPTH, 0, 100, 20), (0, DEPTH, 0, 99, 20), (0, DEPTH, 0, 95, 20), (0, DEPTH, 0, 97, 0),
            (0, DEPTH, 1, 101, 20), (0, DEPTH, 1, 150, 5), (50, DEPTH, 1, 102, 1)]
    for window in ("all", (80, 96), (96, 140), None):
        sim = Sim(stream(rows), entry_latency=1, record_interval=0)
        if window != "all":
            sim._ladder = window
        res = sim.run(Scripted([(None, 1, 0, 50, {"market": True}), (None, 0, 0, 22, {"market": True})]))
        assert res.fills["price"].tolist() == [100, 99, 95, 101, 150], window
        assert res.fills["qty"].tolist() == [20, 20, 10, 20, 2], window

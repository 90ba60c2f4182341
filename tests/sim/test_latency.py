"""Latency: orders reach the book only after the entry latency, reports reach
the strategy after the response latency, channels are FIFO, seeds repeat."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nanobook.sim import (ConstantLatency, LogNormalLatency, MarketMaker, SeriesLatency, Sim,
                          from_synthetic)
from nanobook.feeds import synthetic_order_flow

from .helpers import DEPTH, TRADE, Scripted, stream

BOOK = [(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 101, 10)]


def test_no_fill_before_entry_latency_and_reports_after_response_latency():
    # a sell at 101 joins behind 10; buyers lift 50 at t=500 (too early) and t=1500
    rows = BOOK + [(500, TRADE, 0, 101, 50), (1500, TRADE, 0, 101, 50)]
    strat = Scripted([(None, 1, 101, 5, {})])
    res = Sim(stream(rows), entry_latency=1000, response_latency=300, record_interval=0).run(strat)
    assert res.orders["arrive_ts"][0] == 1000
    assert res.fills["exch_ts"].tolist() == [1500]
    assert res.fills["local_ts"].tolist() == [1800]
    assert strat.fills[0][0] == 1800 and strat.fills[0][1].qty == 5
    assert [(t, e.kind) for t, e in strat.events] == [(1300, "ack")]


def test_cancel_races_a_fill():
    # the cancel is sent at t=1000 but reaches the book at 2000, after the fill at 1500
    rows = BOOK + [(1500, TRADE, 0, 101, 50), (3000, TRADE, 0, 101, 1)]
    strat = Scripted([(None, 1, 101, 5, {})], timer_interval=1000, cancels=[(1000, 0)])
    res = Sim(stream(rows), entry_latency=1000, response_latency=300, record_interval=0).run(strat)
    assert res.fills["qty"].sum() == 5
    assert [e.kind for _, e in strat.events] == ["ack", "cancel_rejected"]
    assert res.orders["status"][0] == 2           # filled


@settings(max_examples=100)
@given(entry=st.integers(0, 5000), resp=st.integers(0, 5000),
       trades=st.lists(st.integers(1, 10_000), min_size=1, max_size=20))
def test_latency_ordering_property(entry, resp, trades):
    rows = BOOK + [(t, TRADE, 0, 101, 7) for t in sorted(trades)]
    strat = Scripted([(None, 1, 101, 20, {}), (None, 0, 100, 20, {})])
    res = Sim(stream(rows), entry_latency=entry, response_latency=resp, record_interval=0).run(strat)
    o = res.orders
    assert (o["arrive_ts"] == o["submit_ts"] + entry).all()
    assert (o["ack_ts"] == o["arrive_ts"] + resp).all()
    f = res.fills
    assert (f["exch_ts"] >= entry).all()
    assert (f["local_ts"] == f["exch_ts"] + resp).all()
    # nothing can fill from a trade printed before the order arrived
    early = sum(7 for t in trades if t < entry)
    assert f["qty"].sum() <= max(0, 7 * len(trades) - early - 10)


def test_random_latency_is_seeded_and_fifo():
    md = from_synthetic(synthetic_order_flow(3000, seed=3))
    kw = dict(response_latency=LogNormalLatency(2_000_000, 1.0, seed=9), record_interval=0)

    def go(seed):
        sim = Sim(md, entry_latency=LogNormalLatency(5_000_000, 1.0, seed=seed), **kw)
        return sim.run(MarketMaker(1, 5, 50, skew=0.05))

    a, b, c = go(1), go(1), go(2)
    assert a.orders.tobytes() == b.orders.tobytes() and a.fills.tobytes() == b.fills.tobytes()
    assert a.orders.tobytes() != c.orders.tobytes()
    o = a.orders
    lat = o["arrive_ts"][o["arrive_ts"] >= 0] - o["submit_ts"][o["arrive_ts"] >= 0]
    assert (lat >= 0).all() and len(np.unique(lat)) > 10
    # FIFO order entry: arrivals in send order
    arr = o["arrive_ts"][o["arrive_ts"] >= 0]
    assert (np.diff(arr) >= 0).all()
    r = a.responses
    assert (np.diff(r["t"]) >= 0).all()


def test_series_latency_interpolates():
    lat = SeriesLatency([0, 1000], [100, 300])
    rows = BOOK + [(5000, TRADE, 0, 101, 1)]
    strat = Scripted([(None, 1, 105, 1, {}), (500, 1, 106, 1, {})], timer_interval=500)
    res = Sim(stream(rows), entry_latency=lat, record_interval=0).run(strat)
    assert (res.orders["arrive_ts"] - res.orders["submit_ts"]).tolist() == [100, 200]


def test_feed_latency_delays_the_strategy_view():
    rows = BOOK + [(1000, DEPTH, 1, 101, 0), (1000, DEPTH, 1, 102, 5)]
    seen = []

    class Watch(Scripted):
        def on_book(self, sim):
            seen.append((sim.now, sim.best_ask))

    Sim(stream(rows), feed_latency=ConstantLatency(250), record_interval=0).run(Watch([]))
    assert (1250, 102) in seen and all(t >= 250 for t, _ in seen)


def test_feed_latency_on_a_split_stream_is_refused():
    from nanobook.sim import StreamError, order_events
    md = stream(BOOK + [(10, TRADE, 0, 101, 1), (5, TRADE, 0, 101, 1)])
    md["local_ts"][2] = 20
    split = order_events(md)
    with pytest.raises(StreamError, match="feed_latency needs a stream whose rows are both EXCH and LOCAL"):
        Sim(split, feed_latency=100)


def test_on_trade_and_every_book_update_hooks():
    from .helpers import ADD, EXEC
    rows = BOOK + [(10, DEPTH, 0, 99, 4), (20, TRADE, 1, 100, 2), (30, ADD, 1, 103, 5, 0),
                   (40, EXEC, 1, 103, 5, 0), (40, DEPTH, 1, 104, 1)]
    trades, books = [], []

    class Hooks(Scripted):
        every_book_update = True

        def on_trade(self, sim, trade):
            trades.append(trade)

        def on_book(self, sim):
            books.append(sim.now)

    Sim(stream(rows), feed_latency=7, record_interval=0).run(Hooks([]))
    assert [(t.local_ts, t.exch_ts, t.side, t.price, t.qty) for t in trades] == [
        (27, 20, 1, 100, 2), (47, 40, 0, 103, 5)]     # EXEC: aggressor = the other side
    assert books == [7, 17, 37, 47]                   # once per local timestamp

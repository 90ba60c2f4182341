"""Issue 11, §3 for the simulator: every documented queue and latency rule of
docs/sim.md pinned at, just below and just above its boundary.  Each
comparison, flipped, makes this file fail: tests/sim/mutation_check.py."""
from __future__ import annotations

import pytest

from nanobook.sim import PowerProb, RiskAverse, Sim, Strategy

from .helpers import DEPTH, TRADE, Scripted, stream

BOOK = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 50)]


def run(rows, orders, **kw):
    strat = Scripted(orders)
    res = Sim(stream(rows), record_interval=0, **kw).run(strat)
    return res, strat


# ------------------------------------------------------------------ entry latency


@pytest.mark.parametrize("t,fills", [(99, 0), (100, 0), (101, 10)])
def test_no_fill_before_arrival_and_market_data_first_at_the_same_nanosecond(t, fills):
    # buy 10 @100 sent at 0 arrives at 100; a sell of 70 prints at t (60 ahead once we are there)
    rows = BOOK + [(t, TRADE, 1, 100, 70), (500, DEPTH, 1, 106, 1)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=100)
    assert int(res.fills["qty"].sum()) == fills


# ------------------------------------------------------------------ response latency


class Watch(Strategy):
    """Sends a crossing buy at start and samples sim.position on a timer."""
    timer_interval = 1

    def __init__(self):
        self.pos = {}

    def on_start(self, sim):
        sim.buy(105, 1)

    def on_timer(self, sim):
        self.pos[sim.now] = sim.position


@pytest.mark.parametrize("dt,known", [(-1, 0), (0, 1), (1, 1)])
def test_the_strategy_learns_a_fill_exactly_after_the_response_latency(dt, known):
    # arrives at 10 and takes the ask at 10; the report reaches the strategy at 10 + 7 = 17
    rows = BOOK + [(40, DEPTH, 1, 106, 1)]
    strat = Watch()
    res = Sim(stream(rows), entry_latency=10, response_latency=7, record_interval=0).run(strat)
    assert res.fills["exch_ts"].tolist() == [10] and res.fills["local_ts"].tolist() == [17]
    assert strat.pos[17 + dt] == known          # the report comes before the timer of its nanosecond


# ------------------------------------------------------------------ queue rule 1 (trade at our price)


@pytest.mark.parametrize("q,fill", [(59, 0), (60, 0), (61, 1), (75, 10)])
def test_trade_at_our_price_fills_only_beyond_the_queue(q, fill):
    rows = BOOK + [(10, TRADE, 1, 100, q)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5)
    assert int(res.fills["qty"].sum()) == fill


# ------------------------------------------------------------------ rule 2 (trade through)


@pytest.mark.parametrize("px,fill", [(99, 10), (100, 0), (101, 0)])
def test_print_through_our_price_fills_everything(px, fill):
    rows = BOOK + [(10, TRADE, 1, px, 1)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5)
    assert int(res.fills["qty"].sum()) == fill


# ------------------------------------------------------------------ rule 3 (crossing quote)


@pytest.mark.parametrize("px,fill", [(99, 4), (100, 4), (101, 0)])
def test_new_liquidity_at_or_through_our_price_trades_with_us(px, fill):
    rows = BOOK + [(10, DEPTH, 1, px, 4)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5)
    assert int(res.fills["qty"].sum()) == fill


# ------------------------------------------------------------------ ahead <- min(ahead, Q_new)


@pytest.mark.parametrize("new,ahead", [(59, 59), (60, 60), (61, 60)])
def test_queue_position_is_clipped_to_the_level(new, ahead):
    rows = BOOK + [(10, DEPTH, 0, 100, new)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=RiskAverse())
    assert res.orders["ahead"][0] == ahead


@pytest.mark.parametrize("traded,ahead", [(19, 40), (20, 40), (21, 39)])
def test_depth_decrease_is_netted_against_the_trades_at_that_price(traded, ahead):
    # level 60 -> 40 after a print of `traded` at our price (ahead 60 - traded): only
    # d = 20 - traded is a cancel.  19: d = 1, mostly in front of us (41 of 60), one lot
    # taken -> 40; 20: d = 0 -> 40; 21: d < 0, nothing -> 39
    rows = BOOK + [(10, TRADE, 1, 100, traded), (10, DEPTH, 0, 100, 40)]
    res, _ = run(rows, [(None, 0, 100, 10, {})], entry_latency=5, queue_model=PowerProb(1))
    assert res.orders["ahead"][0] == ahead


# ------------------------------------------------------------------ a cancel races a fill


@pytest.mark.parametrize("t,filled", [(109, True), (110, True), (111, False)])
def test_cancel_arriving_with_a_print_of_the_same_nanosecond_loses(t, filled):
    # the order sent at 0 arrives at 100, its cancel sent at 10 at 110; a print of 70 at t
    rows = BOOK + [(t, TRADE, 1, 100, 70), (500, DEPTH, 1, 106, 1)]
    strat = Scripted([(None, 0, 100, 10, {})], timer_interval=10, cancels=[(10, 0)])
    res = Sim(stream(rows), entry_latency=100, record_interval=0).run(strat)
    assert res.orders["arrive_ts"][0] == 100          # the cancel sent at 10 arrives at 110
    assert (int(res.fills["qty"].sum()) == 10) == filled
    assert res.orders["status"][0] == (2 if filled else 3)


# ------------------------------------------------------------------ timer vs events of its nanosecond


@pytest.mark.parametrize("t,seen", [(99, 101), (100, 101), (101, 100)])
def test_timer_runs_after_the_events_of_its_nanosecond(t, seen):
    # the local best bid moves 100 -> 101 at t; the timer at 100 sees it when t <= 100
    rows = BOOK + [(t, DEPTH, 0, 101, 5)]
    bids = []

    class T(Strategy):
        timer_interval = 100

        def on_timer(self, sim):
            if sim.now == 100:
                bids.append(sim.best_bid)
    Sim(stream(rows + [(300, DEPTH, 1, 106, 1)]), record_interval=0).run(T())
    assert bids == [seen]


# ------------------------------------------------------------------ Sim(max_position)


@pytest.mark.parametrize("qty,accepted", [(4, True), (5, True), (6, False)])
def test_max_position_refuses_only_beyond_the_limit(qty, accepted):
    got = []

    class S(Strategy):
        def on_start(self, sim):
            got.append(sim.buy(100, qty))
    Sim(stream(BOOK), max_position=5, record_interval=0).run(S())
    assert (got[0] is not None) == accepted

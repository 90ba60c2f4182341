"""Venue rules (tick, lot, min notional, whole-lot queue fills) and order
types (FOK, IOC, GTX, modify with its queue rule, cancel-replace latency),
each documented comparison pinned at, just below and just above its limit."""
from __future__ import annotations

import pytest

from nanobook.sim import Sim, Strategy

from .helpers import DEPTH, TRADE, Scripted, stream

BOOK = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 50)]


def run(rows, orders, **kw):
    strat = Scripted(orders)
    res = Sim(stream(rows), record_interval=0, **kw).run(strat)
    return res, strat


class Once(Strategy):
    """Calls ``fn(sim)`` once at start and ``later(sim)`` at each timer tick."""

    def __init__(self, fn, later=None, timer_interval=None):
        self.fn, self.later, self.timer_interval = fn, later, timer_interval
        self.out, self.events = [], []

    def on_start(self, sim):
        self.out.append(self.fn(sim))

    def on_timer(self, sim):
        if self.later is not None:
            r = self.later(sim)
            if r is not None:
                self.out.append(r)

    def on_order(self, sim, ev):
        self.events.append((sim.now, ev))


# ------------------------------------------------------------------ grid


@pytest.mark.parametrize("price,ok", [(100, True), (99, False), (101, False), (110, True)])
def test_off_tick_prices_are_rejected_with_the_value(price, ok):
    sim = Sim(stream(BOOK), tick_size=10, record_interval=0)

    def send(s):
        return s.buy(price, 1)
    if ok:
        assert sim.run(Once(send)).orders["price"].tolist() == [price]
    else:
        with pytest.raises(ValueError, match=f"price {price} is not a multiple of tick_size 10"):
            sim.run(Once(send))


@pytest.mark.parametrize("qty,ok", [(5, True), (4, False), (6, False), (10, True)])
def test_off_lot_quantities_are_rejected_with_the_value(qty, ok):
    sim = Sim(stream(BOOK), lot_size=5, record_interval=0)

    def send(s):
        return s.sell(105, qty)
    if ok:
        assert sim.run(Once(send)).orders["qty"].tolist() == [qty]
    else:
        with pytest.raises(ValueError, match=f"qty {qty} is not a multiple of lot_size 5"):
            sim.run(Once(send))


@pytest.mark.parametrize("qty,ok", [(10, True), (9, False), (11, True)])
def test_min_notional_at_below_above(qty, ok):
    # price 100 x qty x 0.5 against a minimum of 500: qty 10 is exactly at it (allowed)
    sim = Sim(stream(BOOK), multiplier=0.5, min_notional=500, record_interval=0)

    def send(s):
        return s.buy(100, qty)
    if ok:
        assert len(sim.run(Once(send)).orders) == 1
    else:
        with pytest.raises(ValueError, match="below min_notional 500"):
            sim.run(Once(send))


@pytest.mark.parametrize("bad", [dict(tick_size=0), dict(lot_size=-1), dict(min_notional=-1.0),
                                 dict(min_notional=float("nan")), dict(fill_rounding="up"),
                                 dict(tick_size=2.0)])
def test_bad_venue_parameters_name_themselves(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        Sim(stream(BOOK), **bad)


# ------------------------------------------------------------------ whole-lot queue fills


@pytest.mark.parametrize("excess,nearest,floor", [
    (5, 10, 0),      # exactly half a lot: rounds up to one lot (nearest), none (floor)
    (4, 0, 0),       # just below half
    (6, 10, 0),      # just above half
    (10, 10, 10),    # one lot
    (14, 10, 10),
    (15, 20, 10),
])
def test_trade_beyond_the_queue_fills_whole_lots(excess, nearest, floor):
    # buy 20 @100 behind 60; a sell of 60 + excess prints at 100
    rows = BOOK + [(10, TRADE, 1, 100, 60 + excess)]
    for mode, want in (("nearest", nearest), ("floor", floor)):
        res, _ = run(rows, [(None, 0, 100, 20, {})], entry_latency=5, lot_size=10, fill_rounding=mode)
        assert int(res.fills["qty"].sum()) == want, mode
        assert int(res.orders["leaves"][0]) == 20 - want
        assert res.fills["qty"].tolist() == ([want] if want else [])


def test_the_fraction_of_a_lot_is_not_carried_to_the_next_trade():
    # 64 printed (4 past the queue: no fill), then 4 more: still no fill (not 8 carried)
    rows = BOOK + [(10, TRADE, 1, 100, 64), (20, TRADE, 1, 100, 4)]
    res, _ = run(rows, [(None, 0, 100, 20, {})], entry_latency=5, lot_size=10)
    assert len(res.fills) == 0
    # ... and a whole lot more fills one lot
    rows = BOOK + [(10, TRADE, 1, 100, 64), (20, TRADE, 1, 100, 10)]
    res, _ = run(rows, [(None, 0, 100, 20, {})], entry_latency=5, lot_size=10)
    assert res.fills["qty"].tolist() == [10]


def test_taker_takes_whole_lots_of_a_level():
    # ask level of 55 on a lot-10 venue: a market buy of 60 takes 50 there, 10 at the next level
    rows = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 55), (0, DEPTH, 1, 106, 30)]
    res, _ = run(rows, [(None, 0, 0, 60, {"market": True})], entry_latency=5, lot_size=10)
    assert res.fills["price"].tolist() == [105, 106] and res.fills["qty"].tolist() == [50, 10]


# ------------------------------------------------------------------ FOK / IOC / GTX


@pytest.mark.parametrize("qty,filled", [(50, 50), (49, 49), (51, 0)])
def test_fok_fills_whole_or_not_at_all(qty, filled):
    # 50 visible at the ask: exactly available fills, one more is cancelled whole
    res, strat = run(BOOK, [(None, 0, 105, qty, {"fok": True})], entry_latency=5)
    assert int(res.fills["qty"].sum()) == filled
    assert res.orders["status"][0] == (2 if filled else 3)
    if not filled:
        assert res.orders["leaves"][0] == qty


def test_fok_counts_levels_up_to_its_limit_only():
    rows = BOOK + [(0, DEPTH, 1, 106, 30)]
    res, _ = run(rows, [(None, 0, 105, 60, {"fok": True})], entry_latency=5)
    assert len(res.fills) == 0                       # 50 up to 105 < 60
    res, _ = run(rows, [(None, 0, 106, 60, {"fok": True})], entry_latency=5)
    assert res.fills["qty"].tolist() == [50, 10]


def test_fok_that_does_not_cross_is_cancelled():
    res, _ = run(BOOK, [(None, 0, 101, 1, {"fok": True})], entry_latency=5)
    assert len(res.fills) == 0 and res.orders["status"][0] == 3


def test_ioc_keeps_what_fills():
    res, _ = run(BOOK, [(None, 0, 105, 70, {"ioc": True})], entry_latency=5)
    assert res.fills["qty"].tolist() == [50] and res.orders["leaves"][0] == 20 and res.orders["status"][0] == 3


@pytest.mark.parametrize("price,rejected", [(104, False), (105, True), (106, True)])
def test_gtx_is_post_only(price, rejected):
    res, strat = run(BOOK, [(None, 0, price, 1, {"gtx": True})], entry_latency=5)
    assert (res.orders["status"][0] == 4) == rejected
    assert len(res.fills) == 0


def test_contradictory_flags_are_refused():
    for kw in ({"gtx": True, "ioc": True}, {"fok": True, "ioc": True}, {"post_only": True, "fok": True}):
        with pytest.raises(ValueError):
            run(BOOK, [(None, 0, 100, 1, kw)])
    with pytest.raises(TypeError, match="fok must be a bool"):
        run(BOOK, [(None, 0, 100, 1, {"fok": 1})])


# ------------------------------------------------------------------ modify


def modify_run(rows, new_price, new_qty, *, entry=5, response=0, **kw):
    state = {}

    def first(sim):
        state["id"] = sim.buy(100, 10)

    def later(sim):
        if "sent" not in state and sim.now >= 20:
            state["sent"] = sim.now
            return sim.modify(state["id"], price=new_price, qty=new_qty)

    strat = Once(first, later, timer_interval=20)
    res = Sim(stream(rows), entry_latency=entry, response_latency=response, record_interval=0,
              **kw).run(strat)
    return res, strat


def test_modify_down_in_quantity_keeps_the_queue_place():
    # join behind 60 at t=5; +40 join behind us at 10; modify 10 -> 5 sent at 20
    rows = BOOK + [(10, DEPTH, 0, 100, 100), (40, TRADE, 1, 100, 62)]
    res, strat = modify_run(rows, None, 5)
    assert strat.out[-1] is True
    assert res.fills["qty"].tolist() == [2]              # still 60 ahead: 62 - 60
    assert res.orders["n_modifies"][0] == 1 and res.orders["qty"][0] == 5


@pytest.mark.parametrize("new_qty", [10, 11])
def test_modify_same_quantity_keeps_larger_loses(new_qty):
    rows = BOOK + [(10, DEPTH, 0, 100, 100), (40, TRADE, 1, 100, 62)]
    res, _ = modify_run(rows, None, new_qty)
    if new_qty == 10:                                   # unchanged: keeps its place
        assert res.fills["qty"].tolist() == [2]
    else:                                               # larger: back of 100, the 62 does not reach us
        assert len(res.fills) == 0 and res.orders["ahead"][0] == 100 - 62


def test_modify_price_loses_priority_and_joins_the_new_level():
    rows = BOOK + [(0, DEPTH, 0, 99, 30), (40, TRADE, 1, 99, 35)]
    res, _ = modify_run(rows, 99, None)
    assert res.orders["price"][0] == 99 and res.orders["ahead0"][0] == 30
    assert res.fills["price"].tolist() == [99] and res.fills["qty"].tolist() == [5]


def test_modify_reaches_the_book_after_the_entry_latency():
    # modify sent at 20 with entry latency 15 arrives at 35; a print at 34 still sees the old price
    rows = BOOK + [(0, DEPTH, 0, 99, 0), (34, TRADE, 1, 100, 70), (36, TRADE, 1, 100, 70)]
    res, strat = modify_run(rows, 99, None, entry=15, response=7)
    assert res.fills["exch_ts"].tolist() == [34] and res.fills["price"].tolist() == [100]
    # the modify came after the order was filled: refused, reported after the response latency
    kinds = [(t, e.kind) for t, e in strat.events]
    assert (35 + 7, "modify_rejected") in kinds


def test_modify_boundary_of_arrival_time():
    # arrival at exactly 35: market data of the same nanosecond is applied first
    rows = BOOK + [(0, DEPTH, 0, 99, 0), (35, TRADE, 1, 100, 70)]
    res, _ = modify_run(rows, 99, None, entry=15)
    assert res.fills["exch_ts"].tolist() == [35] and res.fills["price"].tolist() == [100]
    rows = BOOK + [(0, DEPTH, 0, 99, 0), (36, TRADE, 1, 100, 70)]
    res, _ = modify_run(rows, 99, None, entry=15)
    assert len(res.fills) == 0 and res.orders["price"][0] == 99


def test_post_only_modify_that_would_cross_is_refused_and_the_order_stands():
    state = {}

    def first(sim):
        state["id"] = sim.buy(100, 10, post_only=True)

    def later(sim):
        if "sent" not in state:
            state["sent"] = True
            return sim.modify(state["id"], price=105)

    strat = Once(first, later, timer_interval=20)
    res = Sim(stream(BOOK + [(100, TRADE, 1, 100, 1)]), entry_latency=5, record_interval=0).run(strat)
    assert [e.kind for _, e in strat.events][-1] == "modify_rejected"
    assert res.orders["price"][0] == 100 and res.orders["status"][0] == 1


def test_modify_validates_like_an_order():
    def first(sim):
        oid = sim.buy(100, 10)
        with pytest.raises(ValueError, match="tick_size"):
            sim.modify(oid, price=101)
        with pytest.raises(ValueError, match="lot_size"):
            sim.modify(oid, qty=7)
        with pytest.raises(ValueError, match="neither"):
            sim.modify(oid)
        return oid
    Sim(stream(BOOK), tick_size=2, lot_size=5, record_interval=0).run(Once(first))


# ------------------------------------------------------------------ property: whole lots everywhere

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(lot=st.integers(1, 7), rounding=st.sampled_from(["nearest", "floor"]),
       events=st.lists(st.tuples(st.integers(0, 3), st.integers(97, 108), st.integers(0, 40)), min_size=1,
                       max_size=40),
       orders=st.lists(st.tuples(st.integers(0, 1), st.integers(98, 107), st.integers(1, 4),
                                 st.sampled_from(["gtc", "ioc", "fok", "market"])), min_size=1, max_size=6))
def test_every_fill_is_whole_lots_and_quantities_add_up(lot, rounding, events, orders):
    rows = [(0, DEPTH, 0, 100, 30), (0, DEPTH, 1, 104, 30)]
    t = 0
    for kind, px, q in events:
        t += 3
        if kind == 0:
            rows.append((t, TRADE, 1, px, max(q, 1)))
        elif kind == 1:
            rows.append((t, TRADE, 0, px, max(q, 1)))
        elif kind == 2 and px <= 101:
            rows.append((t, DEPTH, 0, px, q))
        elif kind == 3 and px >= 102:
            rows.append((t, DEPTH, 1, px, q))
    send = [(None, side, 0 if tif == "market" else px, n * lot,
             {"market": True} if tif == "market" else ({tif: True} if tif != "gtc" else {}))
            for side, px, n, tif in orders]
    res, _ = run(rows, send, entry_latency=1, lot_size=lot, fill_rounding=rounding)
    f, o = res.fills, res.orders
    assert (f["qty"] % lot == 0).all() and (f["qty"] > 0).all()
    assert ((o["qty"] - o["leaves"]) % lot == 0).all()
    for i, row in enumerate(o):
        assert int(f["qty"][f["order_id"] == row["order_id"]].sum()) == row["qty"] - row["leaves"]
    fok = o[(o["flags"] & 8) != 0]
    assert ((fok["leaves"] == 0) | (fok["leaves"] == fok["qty"])).all()      # FOK: all or nothing

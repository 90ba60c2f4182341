"""The feed books (``L2Book``, ``OrderBook``) on the shared price ladder
(``nanobook/_ladder.pxd``: key = sign * price, +1 bids, best level last):
random operations mirrored onto a plain-dict reference book, with every
query compared after every operation."""
from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings, strategies as st

from nanobook.feeds import L2Book, OrderBook

PRICES = st.integers(1, 8)           # a small range, so levels collide, come and go
SIDES = st.integers(0, 1)


def ref_levels(book: list[dict], depth: int) -> np.ndarray:
    """(4, depth) best first: bid px, bid qty, ask px, ask qty (0-padded)."""
    out = np.zeros((4, depth), np.int64)
    for s in (0, 1):
        px = sorted(book[s], reverse=(s == 0))[:depth]
        for j, p in enumerate(px):
            out[2 * s, j] = p
            out[2 * s + 1, j] = book[s][p][0]
    return out


def check(b, ref: list[dict]) -> None:
    for depth in (0, 1, 3, 10):
        assert b.levels(depth).tolist() == ref_levels(ref, depth).tolist()
    for s in (0, 1):
        for p in range(0, 10):
            assert b.get(s, p) == (ref[s][p][0] if p in ref[s] else 0)


l2_ops = st.lists(st.one_of(
    st.tuples(st.just("set"), SIDES, PRICES, st.one_of(st.just(0), st.integers(-3, 30)), st.integers(0, 5)),
    st.tuples(st.just("add"), SIDES, PRICES, st.one_of(st.just(0), st.integers(-30, 30)), st.just(0)),
    st.tuples(st.just("truncate"), st.just(0), st.integers(0, 6), st.just(0), st.just(0)),
    st.tuples(st.just("clear"), st.just(0), st.just(0), st.just(0), st.just(0)),
), max_size=60)


@settings(max_examples=150, deadline=None)
@given(ops=l2_ops)
# the boundaries: a level set to exactly 0 or below goes; a delta to exactly 0
# removes it; truncate to exactly the number of levels, one fewer, and 0
@example(ops=[("set", 0, 5, 10, 1), ("set", 0, 5, 0, 0), ("set", 1, 6, 3, 1), ("set", 1, 6, -1, 0)])
@example(ops=[("add", 0, 5, 10, 0), ("add", 0, 5, -10, 0), ("add", 1, 6, 4, 0), ("add", 1, 6, -5, 0)])
@example(ops=[("set", 0, 1, 1, 0), ("set", 0, 2, 2, 0), ("set", 1, 3, 3, 0), ("truncate", 0, 2, 0, 0),
              ("truncate", 0, 1, 0, 0), ("truncate", 0, 0, 0, 0)])
def test_l2book_is_a_dict_of_levels(ops):
    b = L2Book()
    ref: list[dict] = [{}, {}]          # price -> [qty, count]
    for op, side, price, qty, count in ops:
        lv = ref[side]
        if op == "set":
            b.set(side, price, qty, count)
            if qty <= 0:
                lv.pop(price, None)
            else:
                lv[price] = [qty, count]
        elif op == "add":
            got = b.add(side, price, qty)
            if price in lv:
                lv[price][0] += qty
                if lv[price][0] <= 0:
                    del lv[price]
            elif qty > 0:
                lv[price] = [qty, 0]
            assert got == (lv[price][0] if price in lv else 0)
        elif op == "truncate":
            b.truncate(price)
            for s in (0, 1):
                keep = sorted(ref[s], reverse=(s == 0))[:price]
                ref[s] = {p: ref[s][p] for p in keep}
        else:
            b.clear()
            ref = [{}, {}]
        check(b, ref)
        assert b.n_levels() == (len(ref[0]), len(ref[1]))
        bp = max(ref[0], default=0)
        ap = min(ref[1], default=0)
        assert b.bbo() == (bp, ref[0][bp][0] if bp else 0, ap, ref[1][ap][0] if ap else 0)


ob_ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(1, 12), SIDES, PRICES, st.integers(1, 20)),
    st.tuples(st.just("reduce"), st.integers(1, 12), st.just(0), st.just(0), st.integers(-1, 25)),
    st.tuples(st.just("level"), st.just(0), SIDES, PRICES, st.integers(1, 20)),
), max_size=60)


@settings(max_examples=150, deadline=None)
@given(ops=ob_ops)
# the boundaries: reducing by exactly the open quantity, by one less, by more, and -1 (all)
@example(ops=[("add", 1, 0, 5, 10), ("reduce", 1, 0, 0, 9), ("reduce", 1, 0, 0, 1), ("add", 2, 1, 6, 3),
              ("reduce", 2, 0, 0, 4), ("add", 3, 1, 6, 3), ("level", 0, 1, 6, 2), ("reduce", 3, 0, 0, -1)])
def test_orderbook_levels_are_the_sums_of_its_orders(ops):
    b = OrderBook()
    ref: list[dict] = [{}, {}]          # price -> [qty, count]; a level goes when either reaches 0
    orders: dict[int, list] = {}        # ref -> [side, price, qty]

    def level_add(side, price, dq, dc):
        lv = ref[side]
        if price in lv:
            lv[price][0] += dq
            lv[price][1] += dc
            if lv[price][0] <= 0 or lv[price][1] <= 0:
                del lv[price]
        elif dq > 0:
            lv[price] = [dq, dc]

    for op, oid, side, price, qty in ops:
        if op == "add":
            added = b.add(oid, side, price, qty)
            assert added == (oid not in orders)
            if added:
                orders[oid] = [side, price, qty]
                level_add(side, price, qty, 1)
        elif op == "reduce":
            got = b.reduce(oid, qty)
            if oid not in orders:
                assert got == 0
            else:
                o = orders[oid]
                take = o[2] if qty < 0 or qty > o[2] else qty
                assert got == take
                o[2] -= take
                if o[2] <= 0:
                    level_add(o[0], o[1], -take, -1)
                    del orders[oid]
                else:
                    level_add(o[0], o[1], -take, 0)
        else:
            b.add_level(side, price, qty)
            level_add(side, price, qty, 1)
        check(b, ref)
        assert len(b) == len(orders)
        for r in range(1, 13):
            assert b.order(r) == (tuple(orders[r]) if r in orders else None)

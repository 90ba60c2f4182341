"""Synthetic order flow: determinism, validity against an order-level replay, a moving mid."""
import numpy as np
import pytest

from nanobook.feeds import OrderBook
from nanobook.feeds.synthetic import synthetic_order_flow


def replay(ev):
    """Replay onto the Cython order-level book; market orders consume FIFO at the touch."""
    book = OrderBook()
    fifo = {0: {}, 1: {}}
    for e in ev.tolist():
        _, kind, side, price, qty, oid, mid = e
        if kind == 0:
            assert book.add(oid, side, price, qty)
            fifo[side].setdefault(price, []).append(oid)
        elif kind == 1:
            assert book.order(oid) == (side, price, qty)  # cancels name live orders, full size
            assert book.reduce(oid, -1) == qty
            fifo[side][price].remove(oid)
        else:
            opp = 1 - side
            left = qty
            while left:
                lv = book.levels(1)
                px = int(lv[2, 0] if opp == 1 else lv[0, 0])
                oid0 = fifo[opp][px][0]
                took = book.reduce(oid0, left)
                left -= took
                if book.order(oid0) is None:
                    fifo[opp][px].pop(0)
        lv = book.levels(1)
        if lv[1, 0] and lv[3, 0]:
            assert lv[0, 0] < lv[2, 0], "book crossed"
            assert mid == (lv[0, 0] + lv[2, 0]) / 2
    return book


def test_same_seed_same_stream_and_different_seed_differs():
    a = synthetic_order_flow(2000, seed=7)
    b = synthetic_order_flow(2000, seed=7)
    c = synthetic_order_flow(2000, seed=8)
    assert a.tobytes() == b.tobytes()  # bit-identical (NaN mids included)
    assert a.tobytes() != c.tobytes()


def test_stream_is_valid_and_realistic():
    ev = synthetic_order_flow(5000, seed=1)
    replay(ev)
    kinds = np.bincount(ev["kind"], minlength=3)
    assert (kinds > 0).all()
    assert (np.diff(ev["time"][20:]) > 0).all() and (ev["time"][:20] == 0).all()
    assert (ev["qty"] > 0).all()
    mid = ev["mid"][~np.isnan(ev["mid"])]
    assert mid.max() - mid.min() >= 3  # the mid moves
    # limit orders are denser near the touch (power-law placement)
    adds = ev[ev["kind"] == 0]
    assert len(adds) > 1000


def test_fair_price_drives_the_mid():
    calm = synthetic_order_flow(4000, seed=3, mid_volatility=0.0)
    wild = synthetic_order_flow(4000, seed=3, mid_volatility=3.0)
    assert np.nanstd(np.diff(wild["mid"][::50])) > np.nanstd(np.diff(calm["mid"][::50]))


@pytest.mark.parametrize("kw,msg", [
    ({"n_events": 0}, "n_events must be a positive int"),
    ({"n_events": 10, "cancel_rate": -1.0}, "cancel_rate must be a positive finite number"),
    ({"n_events": 10, "levels": 0}, "levels must be a positive int"),
    ({"n_events": 10, "initial_mid": 5}, "initial_mid must be an int"),
])
def test_bad_parameters(kw, msg):
    n = kw.pop("n_events")
    with pytest.raises(ValueError, match=msg):
        synthetic_order_flow(n, **kw)

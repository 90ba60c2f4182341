"""Bad input to the new parts of the simulator gets a clear error naming the
parameter and value, and leaves the simulation as it was; the uniform
jitter latency stays in its bounds and repeats with its seed."""
from __future__ import annotations

import numpy as np
import pytest

from nanobook.sim import (EachInstrument, MultiSim, Sim, Strategy, TouchQuoter, UniformLatency,
                          UnknownOrderError, from_binance)

from .helpers import DEPTH, TRADE, stream

BOOK = [(0, DEPTH, 0, 100, 60), (0, DEPTH, 1, 105, 50), (1000, TRADE, 1, 100, 1)]


@pytest.mark.parametrize("args,needle", [((-1, 5), "low must be an int >= 0"), ((5, 4), "high must be >= low"),
                                         ((1.5, 4), "low must be an int"), ((1, 4, -1), "seed must be")])
def test_uniform_latency_rejects_bad_bounds(args, needle):
    with pytest.raises(ValueError, match=needle):
        UniformLatency(*args)


def test_uniform_latency_stays_in_bounds_and_repeats():
    rows = BOOK + [(t, DEPTH, 1, 105, 50 + t % 7) for t in range(2000, 200_000, 1000)]

    class Many(Strategy):
        timer_interval = 1000

        def on_timer(self, sim):
            sim.buy(90, 1)
    runs = [Sim(stream(rows), entry_latency=UniformLatency(100, 300, seed=7), record_interval=0).run(Many())
            for _ in range(2)]
    d = runs[0].orders["arrive_ts"] - runs[0].orders["submit_ts"]
    assert d.min() >= 100 and d.max() <= 300 and len(set(d.tolist())) > 20
    assert np.array_equal(runs[0].orders, runs[1].orders)
    other = Sim(stream(rows), entry_latency=UniformLatency(100, 300, seed=8), record_interval=0).run(Many())
    assert not np.array_equal(other.orders["arrive_ts"], runs[0].orders["arrive_ts"])


def test_rejected_orders_leave_nothing_behind():
    seen = {}

    class Bad(Strategy):
        def on_start(self, sim):
            for kw in ({"price": 101}, {"qty": 7}):
                with pytest.raises(ValueError):
                    sim.buy(kw.get("price", 100), kw.get("qty", 5))
            seen["orders"] = sim._core.n_orders
            oid = sim.buy(100, 5)
            with pytest.raises(UnknownOrderError, match="order_id 99 was never issued"):
                sim.modify(99, price=100)
            with pytest.raises(ValueError, match="tick_size 2"):
                sim.modify(oid, price=99)
            seen["after"] = sim.order(oid)
    res = Sim(stream(BOOK), tick_size=2, lot_size=5, record_interval=0).run(Bad())
    assert seen["orders"] == 0
    assert seen["after"]["price"] == 100 and seen["after"]["qty"] == 5
    assert len(res.orders) == 1 and res.orders["n_modifies"][0] == 0


@pytest.mark.parametrize("kw,needle", [({"qty": 0}, "qty must be an int >= 1"),
                                       ({"qty": 1, "timer_interval": 0}, "timer_interval must be an int >= 1"),
                                       ({"qty": 1, "max_position": -1}, "max_position must be")])
def test_touch_quoter_validates(kw, needle):
    with pytest.raises(ValueError, match=needle):
        TouchQuoter(**kw)


def test_bad_kill_switch_type_and_convention():
    with pytest.raises(TypeError, match="kill_switch must be"):
        Sim(stream(BOOK), kill_switch=[("max_position", 1)])
    with pytest.raises(ValueError, match="convention must be 'binance' or 'hftbacktest', got 'hbt'"):
        from_binance("unused.gz", convention="hbt")


def test_each_instrument_validates():
    with pytest.raises(ValueError, match="non-empty dict"):
        EachInstrument({})
    with pytest.raises(TypeError, match=r"strategies\['A'\] must be a Strategy"):
        EachInstrument({"A": 1})
    with pytest.raises(TypeError, match="strategy must be a Strategy"):
        MultiSim({"A": Sim(stream(BOOK))}).run(lambda sim: [])


# ------------------------------------------------------------------ the 2**53 bound (at, above)

MAX = 2**53


@pytest.mark.parametrize("kw", ["record_interval", "timer_interval", "max_position", "tick_size", "lot_size",
                                "entry_latency", "response_latency"])
def test_integer_parameters_stop_at_2_53(kw):
    Sim(stream(BOOK), **{kw: MAX})                                    # at the bound
    with pytest.raises(ValueError, match=kw):
        Sim(stream(BOOK), **{kw: MAX + 1})                            # just above: no wrap in the core
    with pytest.raises(ValueError, match=kw):
        Sim(stream(BOOK), **{kw: 2**64})


def test_random_latency_models_are_bounded_by_their_worst_draw():
    Sim(stream(BOOK), entry_latency=UniformLatency(0, MAX))
    with pytest.raises(ValueError, match=r"entry_latency UniformLatency\(0, 9007199254740993"):
        Sim(stream(BOOK), entry_latency=UniformLatency(0, MAX + 1))
    from nanobook.sim import LogNormalLatency
    with pytest.raises(ValueError, match="response_latency LogNormalLatency"):
        Sim(stream(BOOK), response_latency=LogNormalLatency(10**9, 5.0))   # e**42.9 times a second


@pytest.mark.parametrize("price,qty,ok", [(MAX, 1, True), (MAX + 1, 1, False), (100, MAX, True),
                                          (100, MAX + 1, False)])
def test_order_price_and_quantity_stop_at_2_53(price, qty, ok):
    got = []

    class S(Strategy):
        def on_start(self, sim):
            try:
                got.append(sim.buy(price, qty))
            except ValueError as exc:
                got.append(str(exc))
    Sim(stream(BOOK), record_interval=0).run(S())
    assert isinstance(got[0], int) == ok
    if not ok:
        assert "2**53" in got[0]


def test_a_stream_changed_after_validation_never_reads_out_of_bounds():
    md = stream(BOOK + [(2000, DEPTH, 1, 104, 3)])
    sim = Sim(md, record_interval=0)        # validated here; the core reads the rows in place
    md["side"][2] = 7                       # the caller scribbles on it afterwards
    md["price"][3] = -5
    res = sim.run(Strategy())               # garbage in, but no crash: a bad side is skipped
    assert len(res.bbo) >= 1
    with pytest.raises(ValueError, match="md\\['side'\\] must be 0"):
        Sim(md)                             # a new Sim validates again

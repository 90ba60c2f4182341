"""Bad input: clear errors naming the parameter and the value."""
from __future__ import annotations

import math

import numpy as np
import pytest

import nanobook.sim as S
from nanobook.sim import LogNormalLatency, SeriesLatency, Sim, StreamError, UnknownOrderError

from .helpers import DEPTH, TRADE, Scripted, stream

ROWS = [(0, DEPTH, 0, 100, 10), (0, DEPTH, 1, 101, 10), (10, TRADE, 0, 101, 1)]


@pytest.mark.parametrize("kw, match", [
    ({"entry_latency": -1}, r"entry_latency must be >= 0 nanoseconds, got -1"),
    ({"response_latency": -5}, r"response_latency must be >= 0 nanoseconds, got -5"),
    ({"feed_latency": -2}, r"feed_latency must be >= 0 nanoseconds, got -2"),
    ({"entry_latency": 1.5}, r"entry_latency must be an int \(ns\) or a latency model, got 1.5"),
    ({"maker_fee_bps": math.nan}, r"maker_fee_bps must be a finite number, got nan"),
    ({"taker_fee_bps": math.inf}, r"taker_fee_bps must be a finite number, got inf"),
    ({"order_fee": "1"}, r"order_fee must be a finite number, got '1'"),
    ({"multiplier": 0}, r"multiplier must be > 0, got 0"),
    ({"max_position": -1}, r"max_position must be an int in \[0, 2\*\*53\], got -1"),
    ({"record_interval": -1}, r"record_interval must be an int in \[0, 2\*\*53\], got -1"),
    ({"timer_interval": 0}, r"timer_interval must be an int in \[1, 2\*\*53\], got 0"),
    ({"queue_model": "fifo"}, r"queue_model must be .* got 'fifo'"),
])
def test_bad_parameters(kw, match):
    exc = TypeError if "1.5" in match else ValueError
    with pytest.raises(exc, match=match):
        Sim(stream(ROWS), **kw)


@pytest.mark.parametrize("make, match", [
    (lambda: SeriesLatency([0, 10], [5, -1]), r"values must be >= 0, got -1 at index 1"),
    (lambda: SeriesLatency([0, 0], [5, 1]), r"ts must be strictly increasing, got 0 then 0 at index 1"),
    (lambda: SeriesLatency([0.0, np.nan], [5, 1]), r"ts must be finite, got nan at index 1"),
    (lambda: LogNormalLatency(0), r"median must be an int > 0 \(nanoseconds\), got 0"),
    (lambda: LogNormalLatency(10, sigma=math.nan), r"sigma must be a finite number >= 0, got nan"),
    (lambda: LogNormalLatency(10, seed=-1), r"seed must be an int in \[0, 2\*\*64\), got -1"),
    (lambda: S.PowerProb(0), r"n must be a finite number > 0, got 0"),
    (lambda: S.MarketMaker(-1, 1, 1), r"half_spread must be a finite number >= 0, got -1"),
    (lambda: S.MarketMaker(1, 0, 1), r"qty must be an int >= 1, got 0"),
])
def test_bad_models(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unsorted_timestamps_name_rows_and_values():
    md = stream(ROWS + [(5, TRADE, 0, 101, 1)])
    with pytest.raises(StreamError, match=r"md\['exch_ts'\] must be non-decreasing over EXCH rows, "
                                          r"got 10 at row 2 then 5 at row 3"):
        Sim(md)
    fixed = S.order_events(md)
    Sim(fixed)      # reordered stream is accepted
    assert sorted(fixed["exch_ts"][fixed["flags"] & 1 > 0]) == list(fixed["exch_ts"][fixed["flags"] & 1 > 0])


@pytest.mark.parametrize("field, value, match", [
    ("kind", 9, r"md\['kind'\] must be 1..5 \(DEPTH..EXEC\), got 9 at row 1"),
    ("side", 2, r"md\['side'\] must be 0 \(buy/bid\) or 1 \(sell/ask\), got 2 at row 1"),
    ("qty", -3, r"md\['qty'\] must be > 0 \(>= 0 for DEPTH\), got -3 at row 1 \(DEPTH\)"),
    ("price", 0, r"md\['price'\] must be > 0, got 0 at row 1"),
    ("flags", 0, r"md\['flags'\] must include EXCH and/or LOCAL \(1..7\), got 0 at row 1"),
    ("local_ts", -1, r"md\['local_ts'\] must be >= exch_ts, got local_ts -1 < exch_ts 0 at row 1"),
])
def test_bad_rows(field, value, match):
    md = stream(ROWS)
    md[field][1] = value
    with pytest.raises(StreamError, match=match):
        Sim(md)


def test_wrong_dtype():
    with pytest.raises(StreamError, match=r"md must be a numpy array of nanobook.sim.MD_DTYPE, got float64"):
        Sim(np.zeros(3))
    with pytest.raises(StreamError, match=r"got list"):
        Sim([1, 2])


class Probe(Scripted):
    def __init__(self, action):
        super().__init__([])
        self.action = action
        self.error = None

    def on_start(self, sim):
        try:
            self.action(sim)
        except Exception as exc:       # recorded and checked below
            self.error = exc


@pytest.mark.parametrize("action, exc, match", [
    (lambda s: s.cancel(7), UnknownOrderError, r"order_id 7 was never issued by this simulation"),
    (lambda s: s.cancel(0), UnknownOrderError, r"order_id 0 was never issued"),
    (lambda s: s.order(3), UnknownOrderError, r"order_id 3 was never issued"),
    (lambda s: s.buy(0, 1), ValueError, r"price must be a positive int \(ticks\) <= 2\*\*53, got 0"),
    (lambda s: s.buy(100.5, 1), ValueError, r"price must be a positive int \(ticks\) <= 2\*\*53, got 100.5"),
    (lambda s: s.sell(100, -2), ValueError, r"qty must be a positive int <= 2\*\*53, got -2"),
    (lambda s: s.submit(2, 100, 1), ValueError, r"side must be 0 \(buy\) or 1 \(sell\), got 2"),
    (lambda s: s.depth(0), ValueError, r"n must be an int in \[1, 1000000\], got 0"),
])
def test_bad_commands_leave_state_unchanged(action, exc, match):
    p = Probe(action)
    sim = Sim(stream(ROWS))
    res = sim.run(p)
    assert isinstance(p.error, exc)
    assert p.error is not None and __import__("re").search(match, str(p.error))
    assert len(res.orders) == 0 and len(res.fills) == 0


def test_cancel_of_done_order_is_a_value_not_an_error():
    seen = []

    class S2(Scripted):
        def on_fill(self, sim, fill):
            seen.append(sim.cancel(fill.order_id))

    Sim(stream(ROWS), record_interval=0).run(S2([(None, 0, 101, 1, {})]))
    assert seen == [False]


def test_strategy_and_step_validation():
    with pytest.raises(TypeError, match=r"strategy must be a Strategy or a step\(sim\) callable, got 3"):
        Sim(stream(ROWS)).run(3)
    with pytest.raises(ValueError, match=r"unknown action \('jump',\)"):
        Sim(stream(ROWS)).run(lambda sim: [("jump",)])
    with pytest.raises(RuntimeError, match=r"not running"):
        Sim(stream(ROWS)).position

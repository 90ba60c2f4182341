"""The exchange part of the conformance corpus v2: every operation's outputs equal.

Each scenario replays its recorded calls on a fresh ``Exchange`` and compares
the flattened result, the book state after the call, the order / stop
snapshots, and at the end the trades, every order and stop by id, the full
book, the event log and a replay of it.  Format: shared/conformance/SCHEMA.md.
"""
import gzip
import json
import math
from pathlib import Path

import pytest

import nanobook

CORPUS = Path(__file__).parent.parent / "data" / "engine" / "exchange.jsonl.gz"


def _load():
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


SCENARIOS = _load()


def _num(x):
    """Floats as the corpus writes them (non-finite as strings)."""
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
    return x


def trade(t):
    return [t.trade_id, t.price, t.quantity, t.aggressor_side, t.aggressor_order_id,
            t.passive_order_id, t.timestamp]


def order(o):
    if o is None:
        return None
    return [o.id, o.side, o.price, o.original_quantity, o.remaining_quantity,
            o.filled_quantity, o.status, o.time_in_force, o.timestamp]


def stop(s):
    if s is None:
        return None
    return [s["id"], s["side"], s["stop_price"], s["limit_price"], s["quantity"],
            s["status"], s["timestamp"]]


def levels(lv):
    return [[x.price, x.quantity, x.order_count] for x in lv]


def state(ex, n):
    snap = ex.depth(n)
    return [ex.best_bid(), ex.best_ask(), ex.spread(), ex.last_trade_price(),
            ex.pending_stop_count(), levels(snap.bids), levels(snap.asks),
            _num(snap.imbalance()), _num(snap.weighted_mid()), _num(snap.mid_price())]


def flatten(op, r):
    if op in ("submit_limit", "submit_market"):
        return [r.order_id, r.status, r.filled_quantity, r.resting_quantity,
                r.cancelled_quantity, [trade(t) for t in r.trades]]
    if op == "cancel":
        return [r.success, r.cancelled_quantity, r.error]
    if op == "modify":
        return [r.success, r.old_order_id, r.new_order_id, r.cancelled_quantity, r.error,
                [trade(t) for t in r.trades]]
    if op.startswith("submit_"):
        return [r.order_id, r.status]
    if op == "clear_order_history":
        return [r]
    return r


def book(snap):
    return {"bids": levels(snap.bids), "asks": levels(snap.asks)}


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_scenario(sc):
    ex = nanobook.Exchange()
    n = sc["depth_levels"]
    for i, rec in enumerate(sc["ops"]):
        op, args = rec["op"], rec["a"]
        where = f"{sc['id']} op {i} {op}{tuple(args)}"
        if "err" in rec:
            cls, msg = rec["err"]
            with pytest.raises(getattr(__builtins__, cls, None) or eval(cls)) as info:
                getattr(ex, op)(*args)
            assert str(info.value) == msg, where
            assert state(ex, n) == rec["s"], where
            if "o" in rec:
                assert order(ex.get_order(args[0])) == rec["o"], where
            continue
        r = getattr(ex, op)(*args)
        assert flatten(op, r) == rec["r"], where
        assert state(ex, n) == rec["s"], where
        if "o" in rec:
            oid = args[0] if op in ("cancel", "modify") else r.order_id
            assert order(ex.get_order(oid)) == rec["o"], where
        if "no" in rec:
            assert order(ex.get_order(r.new_order_id)) == rec["no"], where
        if "so" in rec:
            sid = args[0] if op == "cancel" else r.order_id
            assert stop(ex.get_stop_order(sid)) == rec["so"], where
        ex._check()

    fin = sc["final"]
    assert [trade(t) for t in ex.trades()] == fin["trades"]
    max_id = fin["max_id"]
    orders = {o[0]: o for o in fin["orders"]}
    stops = {s[0]: s for s in fin["stop_orders"]}
    for i in range(1, max_id + 2):
        assert order(ex.get_order(i)) == orders.get(i), f"order {i}"
        assert stop(ex.get_stop_order(i)) == stops.get(i), f"stop {i}"
    assert book(ex.full_book()) == fin["full_book"]
    assert [json.loads(e.__getstate__()) for e in ex.events()] == fin["events"]

    rp = fin["replay"]
    again = nanobook.Exchange.replay(ex.events())
    again._check()
    assert again.best_bid() == rp["bid"]
    assert again.best_ask() == rp["ask"]
    assert again.last_trade_price() == rp["last"]
    assert again.pending_stop_count() == rp["stops"]
    assert len(again.trades()) == rp["trade_count"]
    live = [trade(t) for t in ex.trades()]
    replayed = [trade(t) for t in again.trades()]
    assert (live == replayed) == rp["trades_equal_live"]
    if not rp["trades_equal_live"]:
        assert replayed == rp["trades"]
    assert book(again.full_book()) == rp["full_book"]

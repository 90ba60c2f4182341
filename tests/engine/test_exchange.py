"""Unit tests of the order book's rules: time in force, stops, trailing
stops, modify, compact, history purges, the corrections to the reference,
and the batch path."""
import numpy as np
import pytest

import nanobook
from nanobook import dtypes as d


def book(ex):
    snap = ex.full_book()
    return ([(x.price, x.quantity, x.order_count) for x in snap.bids],
            [(x.price, x.quantity, x.order_count) for x in snap.asks])


# -- time in force -------------------------------------------------------------

def test_gtc_rests_and_matches_in_price_time_priority():
    ex = nanobook.Exchange()
    a = ex.submit_limit("sell", 101, 5).order_id
    b = ex.submit_limit("sell", 100, 5).order_id
    c = ex.submit_limit("sell", 100, 5).order_id
    r = ex.submit_limit("buy", 101, 12)
    assert [(t.passive_order_id, t.price, t.quantity) for t in r.trades] == \
        [(b, 100, 5), (c, 100, 5), (a, 101, 2)]
    assert r.status == "Filled" and r.filled_quantity == 12
    assert book(ex) == ([], [(101, 3, 1)])
    assert ex.get_order(a).status == "partiallyfilled"
    assert ex.last_trade_price() == 101


def test_aggressor_gets_price_improvement_and_remainder_rests():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 3)
    r = ex.submit_limit("buy", 105, 10)
    assert r.status == "PartiallyFilled"
    assert (r.filled_quantity, r.resting_quantity, r.cancelled_quantity) == (3, 7, 0)
    assert r.trades[0].price == 100
    assert book(ex) == ([(105, 7, 1)], [])


def test_ioc_remainder_is_cancelled_and_stays_cancelled():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 3)
    r = ex.submit_limit("buy", 100, 10, "ioc")
    assert (r.status, r.filled_quantity, r.resting_quantity, r.cancelled_quantity) == \
        ("PartiallyFilled", 3, 0, 7)
    o = ex.get_order(r.order_id)
    assert (o.status, o.filled_quantity, o.remaining_quantity) == ("cancelled", 3, 7)
    assert ex.cancel(r.order_id).error == "OrderNotActive"
    assert ex.modify(r.order_id, 100, 1).error == "OrderNotActive"
    assert book(ex) == ([], [])


def test_fok_fills_completely_or_is_rejected_unstored():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 3)
    ex.submit_limit("sell", 101, 3)
    r = ex.submit_limit("buy", 101, 7, "fok")
    assert (r.status, r.filled_quantity, r.cancelled_quantity, r.trades) == ("Cancelled", 0, 7, [])
    assert ex.get_order(r.order_id) is None          # rejected FOKs are not stored
    assert book(ex) == ([], [(100, 3, 1), (101, 3, 1)])
    r2 = ex.submit_limit("buy", 101, 6, "fok")
    assert r2.order_id == r.order_id + 1              # the rejection consumed an id
    assert r2.status == "Filled" and book(ex) == ([], [])


def test_market_order_with_no_liquidity_is_cancelled():
    ex = nanobook.Exchange()
    r = ex.submit_market("buy", 5)
    assert (r.status, r.cancelled_quantity) == ("Cancelled", 5)
    o = ex.get_order(r.order_id)
    assert (o.price, o.time_in_force, o.status) == (2**63 - 1, "ioc", "cancelled")


# -- cancel, modify, compact: the corrected queue ----------------------------------

def test_cancel_behind_a_fill_removes_exactly_that_order():
    # the reference's minimal reproduction of its stale-position defect
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 1000, 10)
    two = ex.submit_limit("sell", 1000, 10).order_id
    ex.submit_limit("buy", 1000, 10)
    assert ex.cancel(two).cancelled_quantity == 10
    assert book(ex) == ([], [])
    r = ex.submit_limit("buy", 1000, 10)
    assert r.trades == [] and r.status == "New"
    ex._check()


def test_cancel_after_compact_and_purge():
    ex = nanobook.Exchange()
    ids = [ex.submit_limit("buy", 100, 1 + i).order_id for i in range(5)]
    ex.cancel(ids[1])
    ex.cancel(ids[3])
    ex.compact()
    assert book(ex) == ([(100, 1 + 3 + 5, 3)], [])
    assert ex.clear_order_history() == 2
    assert ex.get_order(ids[1]) is None
    assert ex.cancel(ids[4]).cancelled_quantity == 5
    r = ex.submit_limit("sell", 100, 10)
    assert [t.passive_order_id for t in r.trades] == [ids[0], ids[2]]
    ex._check()


def test_modify_loses_priority_and_gets_a_new_id():
    ex = nanobook.Exchange()
    a = ex.submit_limit("buy", 100, 5).order_id
    b = ex.submit_limit("buy", 100, 5).order_id
    m = ex.modify(a, 100, 4)
    assert m.success and m.new_order_id == b + 1 and m.cancelled_quantity == 5
    assert ex.get_order(a).status == "cancelled"
    r = ex.submit_limit("sell", 100, 5)
    assert [t.passive_order_id for t in r.trades] == [b]


def test_modify_trades_set_last_price_and_trigger_stops():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 105, 5)
    ex.submit_limit("sell", 110, 5)
    bid = ex.submit_limit("buy", 100, 5).order_id
    stop = ex.submit_stop_market("buy", 105, 2).order_id
    m = ex.modify(bid, 105, 5)
    assert [t.price for t in m.trades] == [105]
    assert ex.last_trade_price() == 110            # the stop fired and bought at 110
    assert ex.get_stop_order(stop)["status"] == "triggered"
    again = nanobook.Exchange.replay(ex.events())
    assert book(again) == book(ex) and again.last_trade_price() == 110


def test_cancel_unknown_and_finished_orders_are_values_and_events():
    ex = nanobook.Exchange()
    assert ex.cancel(42).error == "OrderNotFound"
    oid = ex.submit_limit("buy", 100, 1).order_id
    ex.submit_limit("sell", 100, 1)
    assert ex.cancel(oid).error == "OrderNotActive"
    assert [e.kind for e in ex.events()] == ["cancel", "submit_limit", "submit_limit", "cancel"]


# -- stops ---------------------------------------------------------------------

def test_stop_market_triggers_on_last_trade_price():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 1)
    ex.submit_limit("sell", 102, 5)
    s = ex.submit_stop_market("buy", 100, 3)
    assert s.status == "Pending" and ex.pending_stop_count() == 1
    ex.submit_limit("buy", 100, 1)                 # prints 100: the stop fires
    assert ex.get_stop_order(s.order_id)["status"] == "triggered"
    spawned = ex.trades()[-1]
    assert (spawned.price, spawned.quantity, spawned.aggressor_order_id) == (102, 3, s.order_id + 2)
    assert ex.get_order(s.order_id) is None        # a stop id is never a regular order


def test_stop_triggers_at_submission_when_already_through():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 1)
    ex.submit_limit("buy", 100, 1)
    s = ex.submit_stop_limit("sell", 101, 99, 2, "ioc")
    assert s.status == "Triggered"
    spawned = ex.get_order(s.order_id + 1)
    assert (spawned.price, spawned.time_in_force, spawned.status) == (99, "ioc", "cancelled")


def test_stop_cascade_uses_the_last_print_of_each_round():
    ex = nanobook.Exchange()
    for p in (100, 101, 102, 103):
        ex.submit_limit("sell", p, 1)
    s1 = ex.submit_stop_market("buy", 100, 1).order_id      # fires at 100 -> buys 101
    s2 = ex.submit_stop_market("buy", 101, 1).order_id      # fires at 101 -> buys 102
    ex.submit_limit("buy", 100, 1)
    assert ex.get_stop_order(s1)["status"] == ex.get_stop_order(s2)["status"] == "triggered"
    assert [t.price for t in ex.trades()] == [100, 101, 102]
    assert ex.last_trade_price() == 102


def test_cancel_pending_stop():
    ex = nanobook.Exchange()
    s = ex.submit_stop_market("sell", 90, 4).order_id
    assert ex.cancel(s).cancelled_quantity == 4
    assert ex.get_stop_order(s)["status"] == "cancelled"
    assert ex.cancel(s).error == "OrderNotFound"
    assert ex.modify(s, 90, 1).error == "OrderNotFound"


@pytest.mark.parametrize("trail,value,period,expect", [
    ("fixed", 3.9, None, [97, 99, 99]),               # offset int(3.9) = 3
    ("percentage", 0.025, None, [97, 99, 99]),        # round(2.5) = 3 (half away), round(2.55) = 3
    # the first print only seeds the change history; then mean |change| of the
    # last 2 prints: 2 -> 102 - 2, then 1.5 -> int(1.5) = 1 -> 102 - 1
    ("sma_abs_change", 1.0, 2, [50, 100, 101]),
])
def test_trailing_sell_stop_only_tightens(trail, value, period, expect):
    ex = nanobook.Exchange()
    s = ex.submit_trailing_stop_market("sell", 50, 1, trail, value, period).order_id
    got = []
    for p in (100, 102, 101):
        ex.submit_limit("sell", p, 1)
        ex.submit_limit("buy", p, 1)
        got.append(ex.get_stop_order(s)["stop_price"])
    assert got == expect


def test_trailing_stop_needs_atr_period_for_sma():
    ex = nanobook.Exchange()
    with pytest.raises(ValueError, match="atr_period is required"):
        ex.submit_trailing_stop_market("sell", 50, 1, "atr", 1.0)
    with pytest.raises(ValueError, match="Invalid trail_type 'ema'"):
        ex.submit_trailing_stop_market("sell", 50, 1, "ema", 1.0)
    assert ex.events() == [] and ex.pending_stop_count() == 0


# -- history, trades, snapshots --------------------------------------------------

def test_clear_trades_keeps_counting_ids():
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 2)
    ex.submit_limit("buy", 100, 1)
    ex.clear_trades()
    assert ex.trades() == []
    r = ex.submit_limit("buy", 100, 1)
    assert r.trades[0].trade_id == 2


def test_clear_order_history_frees_finished_pages():
    ex = nanobook.Exchange(event_log=False)
    for _ in range(10_000):
        ex.submit_limit("buy", 100, 1)
        ex.submit_limit("sell", 100, 1)
    keep = ex.submit_limit("buy", 99, 1).order_id
    assert ex.clear_order_history() == 20_000
    assert ex.get_order(1) is None and ex.get_order(keep).status == "new"
    ex._check()


def test_level_totals_are_exact_beyond_64_bits():
    ex = nanobook.Exchange()
    big = 2**64 - 1
    ex.submit_limit("buy", 100, big)
    ex.submit_limit("buy", 100, big)
    lv = ex.depth(1).bids[0]
    assert (lv.quantity, lv.order_count) == (2 * big, 2)
    r = ex.submit_limit("sell", 100, big, "fok")       # the FOK check sums 128-bit totals
    assert r.status == "Filled"
    assert ex.depth(1).bids[0].quantity == big


def test_snapshot_metrics():
    ex = nanobook.Exchange()
    ex.submit_limit("buy", 96, 6)
    ex.submit_limit("sell", 100, 3)
    s = ex.depth(5)
    assert (s.spread(), s.mid_price(), s.imbalance(), s.weighted_mid()) == \
        (4, 98.0, 3 / 9, (3 * 96 + 6 * 100) / 9)
    bids, asks = s.to_numpy()
    assert bids.dtype == d.LEVEL_DTYPE and bids["price"].tolist() == [96]
    assert ex.depth(0).bids == [] and ex.depth(0).spread() is None


def test_reprs():
    ex = nanobook.Exchange()
    r = ex.submit_limit("sell", 10100, 100)
    assert repr(r) == "SubmitResult(order_id=1, status='New', filled=0, resting=100, cancelled=0, trades=0)"
    assert repr(ex) == "Exchange(bid=None, ask=$101.00, trades=0)"
    t = ex.submit_limit("buy", 10100, 30).trades[0]
    assert repr(t) == "Trade(id=1, price=$101.00, qty=30, side='buy')"
    assert repr(ex.get_order(1)) == "Order(id=1, side=sell, price=10100, qty=30/100, status=partiallyfilled)"
    assert repr(ex.cancel(1)) == "CancelResult(success=True, cancelled_quantity=70)"
    assert repr(ex.cancel(1)) == "CancelResult(success=False, error='OrderNotActive')"
    assert repr(ex.events()[0]) == \
        "SubmitLimit { side: Sell, price: Price(10100), quantity: 100, time_in_force: GTC }"
    assert repr(ex.events()[2]) == "Cancel { order_id: OrderId(1) }"


# -- copies and several instruments ---------------------------------------------

def test_copy_is_independent():
    ex = nanobook.Exchange()
    ex.submit_limit("buy", 100, 5)
    ex.submit_stop_market("sell", 90, 1)
    c = ex.copy()
    c.submit_limit("sell", 100, 5)
    assert book(ex) == ([(100, 5, 1)], []) and book(c) == ([], [])
    assert len(c.events()) == 3 and len(ex.events()) == 2
    c._check()
    ex._check()


def test_multi_exchange():
    m = nanobook.MultiExchange()
    m.submit_limit("AAPL", "sell", 150, 10)
    m.submit_limit("MSFT", "buy", 300, 5)
    assert m.symbols() == ["AAPL", "MSFT"] and m.len() == 2
    assert m.best_prices() == [("AAPL", None, 150), ("MSFT", 300, None)]
    copy = m.get_or_create("AAPL")
    copy.submit_limit("buy", 150, 10)
    assert m.best_prices()[0] == ("AAPL", None, 150)      # the copy is detached
    r = m.submit_limit("AAPL", "buy", 150, 4)
    assert r.filled_quantity == 4 and m.book("AAPL").best_ask() == 150
    assert m.cancel("NEW", 1).error == "OrderNotFound" and "NEW" in m.symbols()
    with pytest.raises(ValueError, match="Symbol 'TOOLONGSYM' exceeds 8 bytes"):
        m.submit_limit("TOOLONGSYM", "buy", 1, 1)
    with pytest.raises(ValueError, match="quantity must be positive, got 0"):
        m.submit_limit("ZERO", "buy", 1, 0)
    assert "TOOLONGSYM" not in m.symbols() and "ZERO" not in m.symbols()


# -- batch path --------------------------------------------------------------------

def ops_of(calls):
    ops = np.zeros(len(calls), dtype=d.EVENT_DTYPE)
    for i, fields in enumerate(calls):
        for k, v in fields.items():
            ops[i][k] = v
    return ops


def test_apply_equals_the_calls():
    calls = [dict(kind=d.SUBMIT_LIMIT, side=d.SELL, price=101, quantity=5),
             dict(kind=d.SUBMIT_LIMIT, side=d.SELL, price=100, quantity=5),
             dict(kind=d.SUBMIT_STOP_MARKET, side=d.BUY, price=100, quantity=1),
             dict(kind=d.SUBMIT_LIMIT, side=d.BUY, price=100, quantity=2, tif=d.IOC),
             dict(kind=d.MODIFY, order_id=1, price=102, quantity=3),
             dict(kind=d.CANCEL, order_id=2),
             dict(kind=d.SUBMIT_MARKET, side=d.BUY, quantity=1)]
    batch = nanobook.Exchange()
    fills = batch.apply(ops_of(calls))
    live = nanobook.Exchange()
    live.submit_limit("sell", 101, 5)
    live.submit_limit("sell", 100, 5)
    live.submit_stop_market("buy", 100, 1)
    live.submit_limit("buy", 100, 2, "ioc")
    live.modify(1, 102, 3)
    live.cancel(2)
    live.submit_market("buy", 1)
    assert fills.dtype == d.TRADE_DTYPE
    assert fills[["trade_id", "price", "quantity", "aggressor_order_id", "passive_order_id",
                  "timestamp"]].tolist() == \
        [(t.trade_id, t.price, t.quantity, t.aggressor_order_id, t.passive_order_id, t.timestamp)
         for t in live.trades()]
    assert book(batch) == book(live)
    assert (batch.events_array() == live.events_array()).all()


def test_apply_validates_everything_before_running():
    ex = nanobook.Exchange()
    ops = ops_of([dict(kind=d.SUBMIT_LIMIT, side=d.BUY, price=100, quantity=5),
                  dict(kind=d.SUBMIT_LIMIT, side=d.BUY, price=100, quantity=0)])
    with pytest.raises(ValueError, match=r"ops\[1\]: quantity must be positive"):
        ex.apply(ops)
    assert ex.event_count() == 0 and ex.best_bid() is None
    with pytest.raises(ValueError, match=r"ops\[0\]: side must be"):
        ex.apply(ops_of([dict(kind=d.SUBMIT_MARKET, side=7, quantity=1)]))
    with pytest.raises(ValueError, match=r"ops\[0\]: kind must be"):
        ex.apply(ops_of([dict(kind=9, quantity=1)]))
    with pytest.raises(ValueError, match=r"ops\[0\]: trail must be"):
        ex.apply(ops_of([dict(kind=d.SUBMIT_TRAILING_STOP_MARKET, quantity=1, trail=0)]))
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        ex.apply(np.zeros(3))
    assert ex.event_count() == 0


def test_event_log_can_be_switched_off():
    ex = nanobook.Exchange(event_log=False)
    ex.submit_limit("buy", 100, 1)
    assert ex.events() == [] and ex.event_count() == 0 and not ex.event_log


def test_calls_during_apply_on_another_thread_are_refused_not_racing():
    import threading

    n = 400_000
    ops = np.zeros(n, dtype=d.EVENT_DTYPE)
    ops["kind"] = d.SUBMIT_LIMIT
    ops["side"] = np.arange(n) % 2
    ops["price"] = np.where(ops["side"] == 0, 100 - np.arange(n) % 50, 101 + np.arange(n) % 50)
    ops["quantity"] = 1
    ex = nanobook.Exchange()
    worker = threading.Thread(target=ex.apply, args=(ops,))
    refused = accepted = 0
    worker.start()
    while worker.is_alive():
        for name, args in (("submit_limit", ("buy", 1, 1)), ("depth", (5,))):
            try:
                getattr(ex, name)(*args)
                accepted += name == "submit_limit"
            except RuntimeError as exc:
                assert "this Exchange is in apply() on another thread" in str(exc)
                refused += 1
    worker.join()
    ex._check()
    assert ex.event_count() == n + accepted
    # every concurrent call was either refused or fully applied

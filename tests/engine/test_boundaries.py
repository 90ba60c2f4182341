"""The documented comparisons of docs/engine.md, each at, just below and just
above its limit: input ranges, crossing, FOK, stop triggers (live and at
submission), the 100-round stop cascade and the 8-byte symbol.  Each test
fails when its comparison in ``_engine_*.pxi`` is flipped
(``tests/engine/mutation_check.py``)."""
import pytest

import nanobook

I64_MIN, I64_MAX, U64_MAX = -(2**63), 2**63 - 1, 2**64 - 1


@pytest.mark.parametrize("value,ok", [(0, False), (1, True), (U64_MAX, True), (U64_MAX + 1, False)])
def test_quantity_range(value, ok):
    ex = nanobook.Exchange()
    if ok:
        assert ex.submit_limit("buy", 1, value).resting_quantity == value
        ex._check()
    else:
        with pytest.raises((ValueError, OverflowError), match=f"quantity .*got {value}"):
            ex.submit_limit("buy", 1, value)
        assert ex.event_count() == 0


@pytest.mark.parametrize("value,ok", [(I64_MIN - 1, False), (I64_MIN, True), (I64_MIN + 1, True),
                                      (I64_MAX - 1, True), (I64_MAX, True), (I64_MAX + 1, False)])
def test_price_range(value, ok):
    ex = nanobook.Exchange()
    if ok:
        ex.submit_limit("sell", value, 1)
        assert ex.best_ask() == value
    else:
        with pytest.raises(OverflowError, match=f"price must fit in a signed 64-bit integer, got {value}"):
            ex.submit_limit("sell", value, 1)
        assert ex.event_count() == 0


@pytest.mark.parametrize("value,ok", [(-1, False), (0, True), (U64_MAX, True), (U64_MAX + 1, False)])
def test_order_id_range(value, ok):
    ex = nanobook.Exchange()
    if ok:
        assert ex.cancel(value).error == "OrderNotFound" and ex.get_order(value) is None
    else:
        with pytest.raises((ValueError, OverflowError), match=f"order_id must .*got {value}"):
            ex.cancel(value)
        assert ex.event_count() == 0


@pytest.mark.parametrize("levels,n", [(-1, None), (0, 0), (1, 1), (2, 2), (3, 2)])
def test_depth_levels(levels, n):
    ex = nanobook.Exchange()
    ex.submit_limit("buy", 99, 1)
    ex.submit_limit("buy", 98, 1)
    if n is None:
        with pytest.raises(ValueError, match="levels must be non-negative, got -1"):
            ex.depth(levels)
    else:
        assert len(ex.depth(levels).bids) == n


@pytest.mark.parametrize("side,price,trades", [
    # a buy at price >= best ask crosses; a sell at price <= best bid
    ("buy", 100, 1), ("buy", 99, 0), ("buy", 101, 1),
    ("sell", 90, 1), ("sell", 91, 0), ("sell", 89, 1),
])
def test_limit_crosses_at_the_touch(side, price, trades):
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 1)
    ex.submit_limit("buy", 90, 1)
    r = ex.submit_limit(side, price, 1)
    assert len(r.trades) == trades
    if trades:
        assert r.trades[0].price == (100 if side == "buy" else 90)   # the resting price
    ex._check()


@pytest.mark.parametrize("qty,filled", [(5, 5), (4, 4), (6, 0)])
def test_fok_fills_when_exactly_enough_rests(qty, filled):
    """FOK: executes only if the crossing quantity >= its quantity."""
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 2)
    ex.submit_limit("sell", 101, 3)
    ex.submit_limit("sell", 102, 7)           # beyond the FOK's limit price
    r = ex.submit_limit("buy", 101, qty, "fok")
    assert r.filled_quantity == filled
    assert r.status == ("Filled" if filled else "Cancelled")
    ex._check()


@pytest.mark.parametrize("side,stop,print_at,triggered", [
    # buy stops trigger when the last trade price is at or above the stop
    ("buy", 105, 105, True), ("buy", 105, 104, False), ("buy", 105, 106, True),
    # sell stops at or below
    ("sell", 95, 95, True), ("sell", 95, 96, False), ("sell", 95, 94, True),
])
def test_stop_triggers_at_the_stop_price(side, stop, print_at, triggered):
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 200, 10)        # liquidity for a triggered buy market
    ex.submit_limit("buy", 1, 10)           # and for a sell market
    oid = ex.submit_stop_market(side, stop, 1).order_id
    assert ex.get_stop_order(oid)["status"] == "pending"
    ex.submit_limit("sell", print_at, 1)
    ex.submit_limit("buy", print_at, 1)     # one print at print_at
    assert ex.trades()[0].price == print_at
    assert ex.get_stop_order(oid)["status"] == ("triggered" if triggered else "pending")
    ex._check()


@pytest.mark.parametrize("side,stop,triggered", [
    ("buy", 100, True), ("buy", 101, False), ("buy", 99, True),
    ("sell", 100, True), ("sell", 99, False), ("sell", 101, True),
])
def test_stop_already_through_at_submission(side, stop, triggered):
    ex = nanobook.Exchange()
    ex.submit_limit("sell", 100, 1)
    ex.submit_limit("buy", 100, 1)          # last trade price 100
    r = ex.submit_stop_market(side, stop, 1)
    assert r.status == ("Triggered" if triggered else "Pending")


@pytest.mark.parametrize("chain,pending", [(99, 0), (100, 0), (101, 1)])
def test_stop_cascade_stops_after_100_rounds(chain, pending):
    """Each round triggers exactly one buy stop, whose market buy prints one
    tick higher and triggers the next: a chain of 100 completes, the 101st
    stop waits for the next trade (the reference's 100-round cap)."""
    ex = nanobook.Exchange()
    for k in range(chain + 1):
        ex.submit_limit("sell", 101 + k, 1)
    for k in range(chain):
        ex.submit_stop_market("buy", 101 + k, 1)
    ex.submit_market("buy", 1)              # prints at 101: round 1
    assert ex.pending_stop_count() == pending
    assert ex.last_trade_price() == 101 + chain - pending
    ex._check()


@pytest.mark.parametrize("symbol,ok", [("ABCDEFG", True), ("ABCDEFGH", True), ("ABCDEFGHI", False),
                                       ("ÉÉÉÉ", True), ("ÉÉÉÉÉ", False)])
def test_symbol_at_most_8_utf8_bytes(symbol, ok):
    m = nanobook.MultiExchange()
    if ok:
        m.submit_limit(symbol, "buy", 1, 1)
        assert m.symbols() == [symbol]
    else:
        with pytest.raises(ValueError, match=f"Symbol '{symbol}' exceeds 8 bytes"):
            m.submit_limit(symbol, "buy", 1, 1)
        assert m.symbols() == []

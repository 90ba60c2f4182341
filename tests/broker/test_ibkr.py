"""IbkrBroker with the real ib_async client against the fake TWS on 127.0.0.1."""
import csv
import socket
import time

import pytest

pytest.importorskip("ib_async")

from nanobook_broker import (  # noqa: E402
    Broker,
    BrokerConnectionError,
    ClientIdInUse,
    ClientOrderIdConflict,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
)
from nanobook_broker.ibkr import IbkrBroker  # noqa: E402

from .fakes.tws import FakeTWS  # noqa: E402

ACCT = "DU1234567"


def _closes(data_dir):
    with open(data_dir / "sp100_last_close.csv") as fh:
        return {r["symbol"]: float(r["price"]) for r in csv.DictReader(fh)}


@pytest.fixture
def tws(data_dir):
    px = _closes(data_dir)
    with FakeTWS([ACCT]) as f:
        for i, sym in enumerate(("AAPL", "MSFT", "KO")):
            p = px[sym]
            f.add_stock(sym, 1000 + i, round(p - 0.01, 2), round(p + 0.01, 2), p, volume=12345, live=(sym == "AAPL"))
        f.set_position("MSFT", 100, 400.0)
        yield f


def make(tws, client_id=7, **kw):
    kw.setdefault("timeout", 3.0)
    return IbkrBroker("127.0.0.1", tws.port, client_id, **kw)


@pytest.fixture
def ibkr(tws):
    b = make(tws)
    b.connect()
    yield b
    b.disconnect()


def wait_until(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_constructor_and_not_connected():
    with pytest.raises(OverflowError, match="number too large to fit in target type"):
        IbkrBroker("127.0.0.1", 70000, 1)
    b = IbkrBroker("127.0.0.1", 1, 1)
    assert repr(b) == "IbkrBroker(host='127.0.0.1', port=1, client_id=1)"
    assert isinstance(b, Broker)
    with pytest.raises(NotConnected, match="not connected"):
        b.positions()
    # validation happens before the connection check, in the reference's order
    with pytest.raises(ValueError, match="Invalid side"):
        b.submit_order("AAPL", "hold", 1)
    with pytest.raises(ValueError, match="limit_price_cents required for limit orders"):
        b.submit_order("AAPL", "buy", 1, "limit")
    b.disconnect()  # no-op


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(BrokerConnectionError, match="connection error: failed to connect to 127.0.0.1"):
        IbkrBroker("127.0.0.1", port, 1, timeout=2.0).connect()


def test_connect_positions_account(ibkr, tws):
    [p] = ibkr.positions()
    assert p["symbol"] == "MSFT" and p["quantity"] == 100 and p["avg_cost_cents"] == 40000
    mark = (tws.stocks["MSFT"].bid + tws.stocks["MSFT"].ask) / 2
    assert p["market_value_cents"] == round(100 * mark * 100)
    acct = ibkr.account()
    assert acct["cash_cents"] == 100_000_000
    assert acct["equity_cents"] == 100_000_000 + p["market_value_cents"]
    assert acct["gross_position_value_cents"] == p["market_value_cents"]
    # the handshake negotiated a text-protocol version and the start-up sync ran
    ids = [int(f[0]) for f in tws.received]
    for msg in (71, 61, 5, 99, 6, 7):
        assert msg in ids, msg


def test_quotes_live_and_delayed(ibkr, tws):
    live = ibkr.quote("AAPL")
    st = tws.stocks["AAPL"]
    assert live == {"symbol": "AAPL", "bid_cents": round(st.bid * 100), "ask_cents": round(st.ask * 100),
                    "last_cents": round(st.last * 100), "volume": 12345}
    delayed = ibkr.quote("KO")  # not subscribed: 10167 then delayed ticks
    assert delayed["bid_cents"] == round(tws.stocks["KO"].bid * 100) and delayed["last_cents"] is not None
    assert any(e[2] == 10167 for e in ibkr._errors)
    with pytest.raises(InvalidOrder, match="no security definition for ZZZZ"):
        ibkr.quote("ZZZZ")


def test_limit_order_filled_with_execution_and_commission(ibkr, tws):
    ask = tws.stocks["AAPL"].ask
    oid = ibkr.submit_order("AAPL", "buy", 10, "limit", round(ask * 100) + 5, client_order_id="run1-aapl")
    assert wait_until(lambda: ibkr.order_status(oid)["status"] == "Filled")
    st = ibkr.order_status(oid)
    assert st["filled_quantity"] == 10 and st["remaining_quantity"] == 0
    assert st["avg_fill_price_cents"] == round(ask * 100) and st["client_order_id"] == "run1-aapl"
    assert wait_until(lambda: any(p["symbol"] == "AAPL" for p in ibkr.positions()))
    assert [p["quantity"] for p in ibkr.positions() if p["symbol"] == "AAPL"] == [10]
    fills = ibkr._ib.fills()
    assert fills and fills[0].commissionReport.commission == 1.0


def test_market_order(ibkr, tws):
    oid = ibkr.submit_order("MSFT", "sell", 40)
    assert wait_until(lambda: ibkr.order_status(oid)["status"] == "Filled")
    assert ibkr.order_status(oid)["avg_fill_price_cents"] == round(tws.stocks["MSFT"].bid * 100)


def test_resting_order_cancelled(ibkr, tws):
    oid = ibkr.submit_order("KO", "buy", 5, "limit", 5000)
    assert [o["id"] for o in ibkr.open_orders()] == [oid]
    ibkr.cancel_order(oid)
    assert ibkr.order_status(oid)["status"] == "Cancelled"
    assert ibkr.open_orders() == []
    ibkr.cancel_order(oid)  # final already: no-op
    with pytest.raises(OrderNotFound):
        ibkr.cancel_order(987654)


def test_rejection(ibkr, tws):
    tws.call(tws.reject_next.append, (201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE [0.00 USD] MUST EXCEED THE INITIAL MARGIN"))
    with pytest.raises(OrderRejected, match="201") as ei:
        ibkr.submit_order("AAPL", "buy", 1_000_000, "limit", 100)
    assert ei.value.order_id is not None
    assert ibkr.order_status(ei.value.order_id)["status"] in ("Cancelled", "Rejected")


def test_duplicate_client_order_id(ibkr, tws):
    a = ibkr.submit_order("KO", "buy", 5, "limit", 5000, client_order_id="dup-1")
    assert ibkr.submit_order("KO", "buy", 5, "limit", 5000, client_order_id="dup-1") == a
    with pytest.raises(ClientOrderIdConflict):
        ibkr.submit_order("KO", "buy", 6, "limit", 5000, client_order_id="dup-1")
    assert len([o for o in tws.orders.values() if o.order_ref == "dup-1"]) == 1


def test_partial_fill_disconnect_reconnect_recovers(tws):
    b = make(tws)
    b.connect()
    tws.fill_cap["AAPL"] = 4
    tws.drop_after_fills = 1  # the gateway goes away right after the first partial fill
    ask = tws.stocks["AAPL"].ask
    oid = b.submit_order("AAPL", "buy", 10, "limit", round(ask * 100), client_order_id="part-1")
    assert wait_until(lambda: not b.connected)
    # while we are away, the market comes to the order again: 4 more fill
    tws.set_quote("AAPL", tws.stocks["AAPL"].bid, ask)
    # the next call reconnects and re-synchronises orders and executions
    st = b.order_status(oid)
    assert b.reconnects == 1
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("PartiallyFilled", 8, 2)
    assert [o["id"] for o in b.open_orders()] == [oid]
    # idempotent resubmit after recovery: no second order at the venue
    assert b.submit_order("AAPL", "buy", 10, "limit", round(ask * 100), client_order_id="part-1") == oid
    assert len(tws.orders) == 1
    b.cancel_order(oid)
    assert b.order_status(oid)["status"] == "Cancelled"
    b.disconnect()


def test_fills_seen_by_a_later_process(tws):
    b = make(tws)
    b.connect()
    oid = b.submit_order("AAPL", "buy", 3, "market", client_order_id="later-1")
    assert wait_until(lambda: b.order_status(oid)["status"] == "Filled")
    b.disconnect()
    c = make(tws)  # a new process with the same client id
    c.connect()
    d = c.find_order("later-1")
    assert d is not None and d["id"] == oid and d["filled_quantity"] == 3 and d["status"] == "Filled"
    assert c.submit_order("AAPL", "buy", 3, "market", client_order_id="later-1") == oid
    assert len(tws.orders) == 1
    c.disconnect()


def test_client_id_in_use(tws):
    a = make(tws, client_id=11)
    a.connect()
    with pytest.raises(ClientIdInUse):
        make(tws, client_id=11, timeout=2.0).connect()
    c = make(tws, client_id=11, timeout=2.0, fallback_client_ids=[12])
    c.connect()
    assert c._active_client_id == 12
    c.disconnect()
    a.disconnect()


@pytest.mark.parametrize("rate,violations", [(15, False), (50, True)])
def test_throttle_keeps_under_pacing_limit(tws, rate, violations):
    """A burst of 30 requests: the adapter's throttle keeps it under the venue's 25/s, no throttle trips it."""
    tws.pacing_limit = 25
    b = make(tws, max_requests_per_sec=rate)
    b.connect()
    ib = b._ib

    async def burst():
        import asyncio

        for _ in range(30):
            ib.client.reqCurrentTime()
        await asyncio.sleep(30 / rate + 0.3)

    b._run(burst(), 10)
    assert (tws.pacing_violations > 0) == violations
    if violations:
        assert any(e[2] == 100 for e in b._errors)  # the venue told us (error 100)
    b.disconnect()


def test_accepted_but_unacknowledged_order_found_after_reconnect(tws):
    """The IBKR analogue of accepted-then-503: TWS takes the order and the socket dies before the ack."""
    b = make(tws, ack_timeout=1.0)
    b.connect()
    tws.drop_after_place = True
    with pytest.raises(OrderOutcomeUnknown) as ei:
        b.submit_order("KO", "buy", 7, "limit", 5000, client_order_id="ack-lost-1")
    assert ei.value.client_order_id == "ack-lost-1"
    assert len(tws.orders) == 1
    # retrying the same instruction reconnects, re-syncs and finds the order: no duplicate
    oid = b.submit_order("KO", "buy", 7, "limit", 5000, client_order_id="ack-lost-1")
    assert oid == next(iter(tws.orders))
    assert len(tws.orders) == 1 and b.order_status(oid)["status"] == "Submitted"
    b.disconnect()


def test_api_connection_refused_by_gateway(tws):
    """TWS rejecting the API client (untrusted IP / API disabled: the IBKR analogue of bad credentials)."""
    tws.accepting = False
    with pytest.raises(BrokerConnectionError):
        make(tws, timeout=1.5).connect()


def test_partial_fill_then_cancel_read_by_a_later_process(tws):
    """A later process rebuilds a partially filled then cancelled order from its executions and
    its completed-order record: Cancelled with 4 of 10 filled (not Filled with quantity 4)."""
    b = make(tws)
    b.connect()
    tws.fill_cap["AAPL"] = 4
    ask = tws.stocks["AAPL"].ask
    oid = b.submit_order("AAPL", "buy", 10, "limit", round(ask * 100), client_order_id="pfc-1")
    assert wait_until(lambda: b.order_status(oid)["filled_quantity"] == 4)
    b.cancel_order(oid)
    here = b.order_status(oid)
    assert (here["status"], here["filled_quantity"], here["remaining_quantity"]) == ("Cancelled", 4, 0)
    b.disconnect()

    c = make(tws)  # a new process with the same client id: the order is neither open nor in its session
    c.connect()
    st = c.order_status(oid)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"], st["quantity"]) == ("Cancelled", 4, 0, 10)
    assert (st["order_type"], st["limit_price_cents"], st["side"], st["symbol"]) == ("limit", round(ask * 100), "buy", "AAPL")
    assert st["avg_fill_price_cents"] == here["avg_fill_price_cents"] and st["client_order_id"] == "pfc-1"
    assert c.find_order("pfc-1") == st
    assert c.open_orders() == []
    # the idempotent resubmit returns the finished order and sends nothing
    assert c.submit_order("AAPL", "buy", 10, "limit", round(ask * 100), client_order_id="pfc-1") == oid
    assert len(tws.orders) == 1
    c.cancel_order(oid)  # already final: no-op
    assert any(m[0] == "99" for m in tws.received)  # reqCompletedOrders went over the wire
    c.disconnect()


def test_finished_orders_of_an_earlier_process_filled_and_unfilled(tws):
    b = make(tws)
    b.connect()
    full = b.submit_order("KO", "buy", 5, "market", client_order_id="done-full")
    ko_bid = tws.stocks["KO"].bid
    idle = b.submit_order("KO", "buy", 3, "limit", round(ko_bid * 100) - 500, client_order_id="done-idle")
    assert wait_until(lambda: b.order_status(full)["status"] == "Filled")
    b.cancel_order(idle)
    b.disconnect()
    c = make(tws)
    c.connect()
    st = c.order_status(full)
    assert (st["status"], st["filled_quantity"], st["quantity"], st["order_type"]) == ("Filled", 5, 5, "market")
    # cancelled without a fill: no execution, and completed orders carry no order id
    with pytest.raises(OrderNotFound):
        c.order_status(idle)
    d = c.find_order("done-idle")
    assert (d["id"], d["status"], d["filled_quantity"], d["quantity"]) == (0, "Cancelled", 0, 3)
    with pytest.raises(ClientOrderIdConflict, match="ended Cancelled without executions"):
        c.submit_order("KO", "buy", 3, "limit", round(ko_bid * 100) - 500, client_order_id="done-idle")
    assert len(tws.orders) == 2
    c.disconnect()


def test_order_ended_while_disconnected_gets_its_true_status_on_resync(tws):
    """The re-sync after a reconnect asks for completed orders: an order IBKR deactivated while we
    were away (Inactive, e.g. a margin check) reads Rejected, not a guess from its fills."""
    b = make(tws)
    b.connect()
    tws.fill_cap["AAPL"] = 4
    tws.drop_after_fills = 1
    ask = tws.stocks["AAPL"].ask
    oid = b.submit_order("AAPL", "buy", 10, "limit", round(ask * 100), client_order_id="away-1")
    assert wait_until(lambda: not b.connected)
    o = tws.orders[oid]
    tws.call(lambda: o.complete("Inactive", "Rejected: insufficient margin"))
    st = b.order_status(oid)  # reconnects, re-syncs open orders, executions, completed orders
    assert b.reconnects == 1
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("Rejected", 4, 0)
    assert b.open_orders() == []
    b.disconnect()


def test_finished_order_without_a_completed_record_is_final_unknown_not_filled(tws):
    """Issue 15 §4: a venue that does not report completed orders (a TWS restarted since). A
    cancelled order with 20 of 50 filled, read by a new process, is FinalUnknown with 20 filled:
    over, its fills known, its ending not -- never an invented Filled."""
    b = make(tws)
    b.connect()
    tws.fill_cap["AAPL"] = 20
    ask = tws.stocks["AAPL"].ask
    oid = b.submit_order("AAPL", "buy", 50, "limit", round(ask * 100), client_order_id="fu-1")
    assert wait_until(lambda: b.order_status(oid)["filled_quantity"] == 20)
    b.cancel_order(oid)
    assert b.order_status(oid)["status"] == "Cancelled"
    b.disconnect()
    tws.report_completed = False
    c = make(tws)
    c.connect()
    st = c.find_order("fu-1")
    assert (st["id"], st["status"], st["filled_quantity"], st["remaining_quantity"]) == (oid, "FinalUnknown", 20, 0)
    assert c.order_status(oid) == st and c.open_orders() == []
    assert st["status"] not in ("Filled", "Cancelled")
    # the idempotent resubmit sends nothing; a bigger fill than asked would be a different order
    assert c.submit_order("AAPL", "buy", 50, "limit", round(ask * 100), client_order_id="fu-1") == oid
    with pytest.raises(ClientOrderIdConflict):
        c.submit_order("AAPL", "sell", 50, "limit", round(ask * 100), client_order_id="fu-1")
    assert len(tws.orders) == 1
    c.cancel_order(oid)  # over: a no-op
    c.disconnect()
    # where the venue can say it, its answer is taken
    tws.report_completed = True
    d = make(tws)
    d.connect()
    assert (d.find_order("fu-1")["status"], d.find_order("fu-1")["quantity"]) == ("Cancelled", 50)
    d.disconnect()

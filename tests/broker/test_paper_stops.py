"""PaperBroker stop and stop-limit orders: trigger, execution, cancel, persistence, idempotency."""
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from nanobook_broker import ClientOrderIdConflict, InsufficientFunds, OrderRejected, PaperBroker

ROOT = str(pathlib.Path(__file__).resolve().parents[2])


def make(path=None, **kw):
    kw.setdefault("prices", {"X": (9995, 10005, 10000)})
    b = PaperBroker(path, **kw)
    b.connect()
    return b


def test_sell_stop_waits_then_fills_at_the_bid_when_last_falls_through():
    b = make()
    b.submit_order("X", "buy", 10)
    oid = b.submit_order("X", "sell", 10, "stop", stop_price_cents=9900)
    st = b.order_status(oid)
    assert (st["status"], st["triggered"], st["filled_quantity"], st["remaining_quantity"]) == ("Submitted", False, 0, 10)
    assert st["stop_price_cents"] == 9900 and st["limit_price_cents"] is None
    assert [o["id"] for o in b.open_orders()] == [oid]
    b.set_quote("X", 9950, 9960, 9901)  # last above the stop: still waiting
    assert b.order_status(oid)["triggered"] is False
    b.set_quote("X", 9880, 9890, 9900)  # last touches the stop: a market sell at the bid
    st = b.order_status(oid)
    assert (st["status"], st["triggered"], st["filled_quantity"], st["avg_fill_price_cents"]) == ("Filled", True, 10, 9880)
    assert b.open_orders() == [] and b.positions() == []
    assert b.quote("X")["last_cents"] == 9880  # our fill prints


def test_buy_stop_limit_rests_after_trigger_then_fills_at_its_limit():
    b = make()
    oid = b.submit_order("X", "buy", 5, "stop_limit", 10100, stop_price_cents=10080)
    b.set_quote("X", 10140, 10150, 10145)  # triggered, but the ask is above the limit: rests
    st = b.order_status(oid)
    assert (st["status"], st["triggered"], st["filled_quantity"]) == ("Submitted", True, 0)
    assert [o["id"] for o in b.open_orders()] == [oid]
    b.set_quote("X", 10050, 10060, 10055)  # the house ask comes under the limit
    st = b.order_status(oid)
    assert (st["status"], st["filled_quantity"], st["avg_fill_price_cents"]) == ("Filled", 5, 10100)


def test_marketable_stop_limit_fills_at_the_touch():
    b = make()
    oid = b.submit_order("X", "buy", 5, "stop_limit", 10300, stop_price_cents=10100)
    b.set_quote("X", 10190, 10200, 10195)
    st = b.order_status(oid)
    assert (st["status"], st["avg_fill_price_cents"]) == ("Filled", 10200)


def test_stop_already_through_the_last_triggers_on_submission():
    b = make()
    buy = b.submit_order("X", "buy", 3, "stop", stop_price_cents=9990)  # last 10000 >= 9990
    st = b.order_status(buy)
    assert (st["status"], st["triggered"], st["avg_fill_price_cents"]) == ("Filled", True, 10005)
    sell = b.submit_order("X", "sell", 3, "stop_limit", 9000, stop_price_cents=10006)  # last is now 10005
    st = b.order_status(sell)
    assert (st["status"], st["triggered"], st["avg_fill_price_cents"]) == ("Filled", True, 9995)


def test_trigger_modes_last_and_quote():
    # a two-sided quote without a last price moves the touch but not the last
    last = make()
    quote = make(stop_trigger="quote")
    ids = [b.submit_order("X", "buy", 1, "stop", stop_price_cents=10100) for b in (last, quote)]
    for b in (last, quote):
        b.set_quote("X", 10090, 10100)
    assert last.order_status(ids[0])["triggered"] is False
    st = quote.order_status(ids[1])
    assert (st["triggered"], st["status"], st["avg_fill_price_cents"]) == (True, "Filled", 10100)
    # a sell stop in quote mode looks at the bid
    sid = quote.submit_order("X", "sell", 1, "stop", stop_price_cents=10000)
    quote.set_quote("X", 10001, 10010, 9000)  # last far below, bid above the stop: waits
    assert quote.order_status(sid)["triggered"] is False
    quote.set_quote("X", 10000, 10010)
    assert quote.order_status(sid)["status"] == "Filled"
    with pytest.raises(ValueError, match="stop_trigger must be 'last' or 'quote', got 'mid'"):
        PaperBroker(None, stop_trigger="mid")


def test_cancel_pending_stop_and_triggered_resting_stop_limit():
    b = make()
    a = b.submit_order("X", "sell", 4, "stop", stop_price_cents=9900)
    c = b.submit_order("X", "sell", 4, "stop_limit", 9950, stop_price_cents=9960)
    b.cancel_order(a)
    assert b.order_status(a)["status"] == "Cancelled"
    b.set_quote("X", 9700, 9710, 9700)  # would have triggered both; c rests (bid 9700 < limit 9950)
    st = b.order_status(a)
    assert (st["status"], st["triggered"], st["filled_quantity"]) == ("Cancelled", False, 0)
    assert b.order_status(c)["triggered"] is True and [o["id"] for o in b.open_orders()] == [c]
    b.cancel_order(c)  # removed from the book: a later cross does not fill it
    b.set_quote("X", 9990, 10000, 9995)
    st = b.order_status(c)
    assert (st["status"], st["filled_quantity"]) == ("Cancelled", 0)
    assert b.fills() == []


def test_cascade_fill_price_triggers_the_next_stop():
    # the first stop's fill at the bid prints a lower last, which triggers the second
    b = make(prices={"X": (9900, 10100, 10000)})
    first = b.submit_order("X", "sell", 1, "stop", stop_price_cents=9990)
    second = b.submit_order("X", "sell", 1, "stop", stop_price_cents=9950)
    b.set_quote("X", 9900, 10100, 9990)
    assert b.order_status(first)["status"] == "Filled"
    st = b.order_status(second)
    assert (st["status"], st["avg_fill_price_cents"]) == ("Filled", 9900)


def test_stop_market_remainder_cancelled_with_finite_liquidity():
    b = make(liquidity=6)
    oid = b.submit_order("X", "buy", 10, "stop", stop_price_cents=10010)
    b.set_quote("X", 10000, 10010, 10010)
    st = b.order_status(oid)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("Cancelled", 6, 0)


def test_pending_stop_reserves_buying_power_and_is_rechecked_on_trigger():
    b = make(initial_cash_cents=100_000, allow_short=False)
    b.submit_order("X", "buy", 5, "stop", stop_price_cents=15000)  # reserves 5 * 150.00 = $750
    with pytest.raises(InsufficientFunds, match="less 75000 reserved"):
        b.submit_order("X", "buy", 3, "limit", 9000)  # $270 > $1000 - $750
    # a protective sell stop whose position is gone by the time it triggers is rejected, not a short
    b2 = make(initial_cash_cents=1_000_000, allow_short=False)
    b2.submit_order("X", "buy", 10)
    stop = b2.submit_order("X", "sell", 10, "stop", stop_price_cents=9000)
    b2.submit_order("X", "sell", 10)
    b2.set_quote("X", 8900, 8910, 8900)
    st = b2.order_status(stop)
    assert (st["status"], st["triggered"], st["filled_quantity"]) == ("Rejected", True, 0)
    assert "short selling not allowed" in st["reason"]
    assert b2.positions() == [] and b2.open_orders() == []


def test_stop_needs_a_quote_and_valid_prices():
    b = make()
    with pytest.raises(OrderRejected, match="no quote for Y"):
        b.submit_order("Y", "sell", 1, "stop", stop_price_cents=100)
    with pytest.raises(ValueError, match="stop_price_cents must be positive, got 0"):
        b.submit_order("X", "sell", 1, "stop", stop_price_cents=0)
    with pytest.raises(ValueError, match="stop_price_cents required for stop_limit orders"):
        b.submit_order("X", "sell", 1, "stop_limit", 9000)
    assert b.open_orders() == []


def test_idempotent_client_order_id_for_stops():
    b = make()
    a = b.submit_order("X", "sell", 2, "stop_limit", 9800, "sl-1", 9850)
    assert b.submit_order("X", "sell", 2, "stop_limit", 9800, "sl-1", 9850) == a
    with pytest.raises(ClientOrderIdConflict):
        b.submit_order("X", "sell", 2, "stop_limit", 9800, "sl-1", 9840)  # other stop price
    with pytest.raises(ClientOrderIdConflict):
        b.submit_order("X", "sell", 2, "stop", None, "sl-1", 9850)  # other type
    assert len(b.open_orders()) == 1
    b.set_quote("X", 9800, 9810, 9800)  # triggers and fills at the bid
    assert b.submit_order("X", "sell", 2, "stop_limit", 9800, "sl-1", 9850) == a  # still the same order
    assert len(b.fills()) == 1


def test_stops_persist_and_trigger_across_processes(tmp_path):
    path = tmp_path / "acct.json"
    b = make(path)
    pending = b.submit_order("X", "sell", 2, "stop", None, "p-stop", 9900)
    resting = b.submit_order("X", "buy", 3, "stop_limit", 10050, "r-stop", 10100)
    b.set_quote("X", 10150, 10160, 10155)  # triggers `resting`, which rests in the book
    before = b.open_orders()
    assert [(o["id"], o["triggered"]) for o in before] == [(pending, False), (resting, True)]
    b.disconnect()
    code = textwrap.dedent(f"""
        import json, sys
        from nanobook_broker import PaperBroker
        b = PaperBroker({str(path)!r}); b.connect()
        print(json.dumps(b.open_orders()))
        print(b.submit_order("X", "sell", 2, "stop", None, "p-stop", 9900))  # idempotent
        b.set_quote("X", 10000, 10010, 10005)  # the rebuilt resting stop-limit fills at 100.50
        b.set_quote("X", 9880, 9890, 9890)     # the pending stop triggers and sells at the bid
        print(json.dumps([b.order_status({pending}), b.order_status({resting})]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert json.loads(lines[0]) == before
    assert int(lines[1]) == pending
    sp, sr = json.loads(lines[2])
    assert (sp["status"], sp["avg_fill_price_cents"]) == ("Filled", 9880)
    assert (sr["status"], sr["avg_fill_price_cents"]) == ("Filled", 10050)
    b.connect()
    assert b.order_status(pending) == sp and b.order_status(resting) == sr
    assert b.positions()[0]["quantity"] == 1

"""PaperBroker: fills on nanobook.MultiExchange books, persistence, idempotency, faults."""
import json
import os
import subprocess
import sys
import textwrap
import pathlib

import pytest

import nanobook_broker as nb
from nanobook_broker import (
    Broker,
    ClientOrderIdConflict,
    InsufficientFunds,
    NotConnected,
    OrderNotFound,
    OrderRejected,
    PaperBroker,
)


ROOT = str(pathlib.Path(__file__).resolve().parents[2])


@pytest.fixture
def paper(tmp_path, data_dir):
    b = PaperBroker(tmp_path / "acct.json", price_file=data_dir / "sp100_last_close.csv", spread_bps=10.0)
    b.connect()
    yield b
    b.disconnect()


def test_protocol_and_not_connected(tmp_path):
    b = PaperBroker(tmp_path / "s.json", prices={"AAPL": 29268})
    assert isinstance(b, Broker)
    for call in (b.positions, b.account, b.open_orders, lambda: b.quote("AAPL"),
                 lambda: b.submit_order("AAPL", "buy", 1), lambda: b.order_status(1), lambda: b.cancel_order(1)):
        with pytest.raises(NotConnected, match="not connected"):
            call()
    b.disconnect()  # no-op
    assert not (tmp_path / "s.json").exists()


def test_price_file_quotes_real_closes(paper):
    q = paper.quote("AAPL")
    # $292.68 close, 10 bps spread -> 15 cents each side (half-away rounding of 14.634 -> 15)
    assert q == {"symbol": "AAPL", "bid_cents": 29268 - 15, "ask_cents": 29268 + 15, "last_cents": 29268, "volume": 0}
    assert paper.account() == {"equity_cents": 100_000_000, "buying_power_cents": 100_000_000,
                               "cash_cents": 100_000_000, "gross_position_value_cents": 0}


def test_market_buy_fills_at_ask_and_accounting(paper):
    oid = paper.submit_order("MSFT", "buy", 100)
    st = paper.order_status(oid)
    ask = paper.quote("MSFT")["ask_cents"]
    assert st["status"] == "Filled" and st["filled_quantity"] == 100 and st["remaining_quantity"] == 0
    assert st["avg_fill_price_cents"] == ask
    acct = paper.account()
    assert acct["cash_cents"] == 100_000_000 - 100 * ask
    [pos] = paper.positions()
    mid = (paper.quote("MSFT")["bid_cents"] + ask) // 2
    assert pos == {"symbol": "MSFT", "quantity": 100, "avg_cost_cents": ask,
                   "market_value_cents": 100 * mid, "unrealized_pnl_cents": 100 * mid - 100 * ask}
    assert acct["equity_cents"] == acct["cash_cents"] + 100 * mid
    # sell half at the bid: realised P&L stays in cash, cost basis scales
    sid = paper.submit_order("MSFT", "sell", 50)
    assert paper.order_status(sid)["avg_fill_price_cents"] == paper.quote("MSFT")["bid_cents"]
    assert paper.positions()[0]["quantity"] == 50 and paper.positions()[0]["avg_cost_cents"] == ask


def test_limit_rests_then_fills_when_market_moves(paper):
    q = paper.quote("KO")
    oid = paper.submit_order("KO", "buy", 10, "limit", q["bid_cents"] - 5)
    assert paper.order_status(oid)["status"] == "Submitted"
    assert [o["id"] for o in paper.open_orders()] == [oid]
    paper.set_quote("KO", q["bid_cents"] - 20, q["bid_cents"] - 5)  # ask comes down to our bid
    st = paper.order_status(oid)
    assert st["status"] == "Filled" and st["avg_fill_price_cents"] == q["bid_cents"] - 5
    assert paper.open_orders() == []


def test_crossing_limit_gets_price_improvement(paper):
    ask = paper.quote("PG")["ask_cents"]
    oid = paper.submit_order("PG", "buy", 3, "limit", ask + 100)
    assert paper.order_status(oid)["avg_fill_price_cents"] == ask


def test_partial_fill_with_finite_liquidity(tmp_path):
    b = PaperBroker(tmp_path / "p.json", prices={"X": (1000, 1010)}, liquidity=40)
    b.connect()
    m = b.submit_order("X", "buy", 100)  # market: 40 fill, remainder cancelled
    st = b.order_status(m)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("Cancelled", 40, 0)
    lim = b.submit_order("X", "buy", 100, "limit", 1010)  # house ask is exhausted: rests
    assert b.order_status(lim)["status"] == "Submitted"
    b.set_quote("X", 1000, 1010)  # house re-quotes 40 at the ask: partial
    st = b.order_status(lim)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("PartiallyFilled", 40, 60)
    b.cancel_order(lim)
    st = b.order_status(lim)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("Cancelled", 40, 0)
    b.cancel_order(lim)  # already final: no-op
    assert b.positions()[0]["quantity"] == 80


def test_state_survives_process_restart(tmp_path):
    path = tmp_path / "acct.json"
    b = PaperBroker(path, prices={"AAPL": (29000, 29010)}, commission_bps=1.0, min_commission_cents=100)
    b.connect()
    filled = b.submit_order("AAPL", "buy", 10, client_order_id="run1-aapl")
    resting = b.submit_order("AAPL", "sell", 5, "limit", 30000)
    before = (b.positions(), b.account(), b.open_orders(), b.order_status(filled))
    b.disconnect()
    code = textwrap.dedent(f"""
        import json, sys
        from nanobook_broker import PaperBroker
        b = PaperBroker({str(path)!r})
        b.connect()
        print(json.dumps([b.positions(), b.account(), b.open_orders(), b.order_status({filled})]))
        # idempotent resubmit from the later process returns the same order
        print(b.submit_order("AAPL", "buy", 10, client_order_id="run1-aapl"))
        b.set_quote("AAPL", 30000, 30010)   # the resting sell now fills
        print(json.dumps(b.order_status({resting})))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert json.loads(lines[0]) == json.loads(json.dumps(list(before)))
    assert int(lines[1]) == filled
    assert json.loads(lines[2])["status"] == "Filled"
    # and this process sees the other process's fill on its next call
    b.connect()
    assert b.order_status(resting)["status"] == "Filled"
    assert b.positions()[0]["quantity"] == 5
    # commission: 10 * 29010 * 1bp = 29.01 -> 29, raised to the 100-cent minimum
    assert b.order_status(filled)["commission_cents"] == 100
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_concurrent_processes_do_not_lose_updates(tmp_path):
    path = tmp_path / "acct.json"
    b = PaperBroker(path, prices={"X": (1000, 1001)})
    b.connect()
    code = textwrap.dedent(f"""
        import sys
        from nanobook_broker import PaperBroker
        b = PaperBroker({str(path)!r}); b.connect()
        for i in range(15):
            b.submit_order("X", "buy", 1, client_order_id=sys.argv[1] + str(i))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    assert b.positions()[0]["quantity"] == 30
    assert len({b.find_order(t + str(i))["id"] for t in "ab" for i in range(15)}) == 30


def test_idempotent_client_order_id(paper):
    a = paper.submit_order("JPM", "buy", 5, "limit", 29000, client_order_id="abc_1")
    assert paper.submit_order("JPM", "buy", 5, "limit", 29000, client_order_id="abc_1") == a
    assert len(paper.open_orders()) == 1
    with pytest.raises(ClientOrderIdConflict) as ei:
        paper.submit_order("JPM", "buy", 6, "limit", 29000, client_order_id="abc_1")
    assert ei.value.order_id == a
    assert paper.find_order("abc_1")["id"] == a and paper.find_order("zzz") is None


def test_rejections_leave_state_unchanged(tmp_path):
    b = PaperBroker(tmp_path / "r.json", initial_cash_cents=100_000, prices={"X": (1000, 1010)}, allow_short=False)
    b.connect()
    snap = (b.account(), b.positions(), b.open_orders())
    with pytest.raises(InsufficientFunds, match="insufficient buying power"):
        b.submit_order("X", "buy", 100)  # 100 * 10.10 > $1000
    with pytest.raises(InsufficientFunds, match="short selling not allowed"):
        b.submit_order("X", "sell", 1)
    with pytest.raises(OrderRejected, match="no quote for Y"):
        b.submit_order("Y", "buy", 1)
    with pytest.raises(InsufficientFunds, match="insufficient buying power"):
        b.submit_order("X", "buy", 100, "stop", stop_price_cents=1100)  # costed at max(stop, ask)
    # open orders reserve buying power
    b.submit_order("X", "buy", 90, "limit", 1000)
    with pytest.raises(InsufficientFunds):
        b.submit_order("X", "buy", 11, "limit", 1000)  # $1000 - $900 reserved < $110
    b.cancel_order(b.open_orders()[0]["id"])
    assert b.account() == snap[0] and b.positions() == snap[1]
    with pytest.raises(OrderNotFound):
        b.order_status(999)
    with pytest.raises(OrderNotFound):
        b.cancel_order(999)


@pytest.mark.parametrize(
    "args,exc,msg",
    [
        (("AAPL", "long", 1), ValueError, "Invalid side 'long'. Use 'buy' or 'sell'."),
        (("TOOLONGSYM", "buy", 1), ValueError, "exceeds 8 bytes"),
        (("AAPL", "buy", 1, "moc"), ValueError, "Invalid order_type 'moc'. Use 'market', 'limit', 'stop', or 'stop_limit'."),
        (("AAPL", "buy", 1, "limit"), ValueError, "limit_price_cents required for limit orders"),
        (("AAPL", "buy", 1, "stop"), ValueError, "stop_price_cents required for stop orders"),
        (("AAPL", "buy", 1, "STOP_LIMIT"), ValueError, "limit_price_cents required for stop_limit orders"),
        (("AAPL", "buy", 1, "stop_limit", 5), ValueError, "stop_price_cents required for stop_limit orders"),
        (("AAPL", "buy", 0), ValueError, "quantity must be positive, got 0"),
        (("AAPL", "buy", -1), OverflowError, "can't convert negative int to unsigned"),
        (("AAPL", "buy", 1, "limit", 0), ValueError, "limit_price_cents must be positive, got 0"),
        (("AAPL", "buy", 1, "market", None, "x" * 37), ValueError, "client_order_id must be 1..=36 ASCII-safe characters"),
        (("AAPL", "buy", 1, "market", None, ""), ValueError, "client_order_id must be 1..=36 ASCII-safe characters"),
        (("AAPL", "buy", 1, "market", None, "a b"), ValueError, "client_order_id contains unsafe query characters"),
        (("AAPL", "buy", 1.5), TypeError, "'float' object cannot be interpreted as an integer"),
    ],
)
def test_validation(paper, args, exc, msg):
    before = paper.account()
    with pytest.raises(exc) as ei:
        paper.submit_order(*args)
    assert msg in str(ei.value)
    assert paper.account() == before and paper.open_orders() == []


def test_corrupt_state_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(nb.BrokerError, match="corrupt"):
        PaperBroker(p).connect()


def test_short_position_and_cover_accounting(tmp_path):
    b = PaperBroker(None, prices={"X": (1000, 1002)})
    b.connect()
    b.submit_order("X", "sell", 10)  # short 10 at 1000
    pos = b.positions()[0]
    assert pos["quantity"] == -10 and pos["avg_cost_cents"] == 1000
    assert pos["market_value_cents"] == -10 * 1001 and pos["unrealized_pnl_cents"] == -10
    b.set_quote("X", 900, 902)
    b.submit_order("X", "buy", 15)  # cover 10 at 902 (+980 realised), open long 5 at 902
    pos = b.positions()[0]
    assert pos["quantity"] == 5 and pos["avg_cost_cents"] == 902
    assert b.account()["cash_cents"] == 100_000_000 + 10 * 1000 - 15 * 902

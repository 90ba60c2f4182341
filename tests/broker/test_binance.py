"""BinanceBroker with the real python-binance client against the fake REST venue on 127.0.0.1."""
import json
import logging
from decimal import Decimal

import pytest

pytest.importorskip("binance.client")

from nanobook_broker import (  # noqa: E402
    AuthenticationError,
    Broker,
    BrokerConnectionError,
    ClientOrderIdConflict,
    InsufficientFunds,
    InvalidOrder,
    NotConnected,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
)
from nanobook_broker.binance import BinanceBroker  # noqa: E402

from .fakes.binance_rest import FakeBinance, SymbolRules  # noqa: E402

KEY, SECRET = "k3yAAAA-test", "s3cretBBBB-test"
BTC = 100_000_000  # 1 BTC in quantity units


def _book_from_capture(data_dir, stream):
    for line in (data_dir / "binance_bookticker.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["stream"] == stream:
            return rec["data"]["b"], rec["data"]["a"]
    raise AssertionError(stream)


@pytest.fixture
def fake(data_dir):
    f = FakeBinance(KEY, SECRET)
    bid, ask = _book_from_capture(data_dir, "btcusdt@bookTicker")  # real 2024-08-08 quote
    f.add_symbol("BTCUSDT", SymbolRules("BTC", "USDT", tick=Decimal("0.01"), step=Decimal("0.00001"),
                                        min_qty=Decimal("0.00001"), min_notional=Decimal("5")), bid, ask)
    ebid, eask = _book_from_capture(data_dir, "ethusdt@bookTicker")
    f.add_symbol("ETHUSDT", SymbolRules("ETH", "USDT", tick=Decimal("0.01"), step=Decimal("0.0001"),
                                        min_qty=Decimal("0.0001"), min_notional=Decimal("10"),
                                        legacy_min_notional=True), ebid, eask)
    f.set_balance("USDT", "100000")
    f.set_balance("BTC", "0.5")
    with f:
        yield f


def make(fake, **kw):
    kw.setdefault("timeout", 1.0)
    kw.setdefault("max_retries", 3)
    kw.setdefault("sleep", lambda s: None)  # back-off waits are not slept for real (tests stay bounded)
    b = BinanceBroker(kw.pop("api_key", KEY), kw.pop("secret_key", SECRET), base_url=fake.base_url, **kw)
    return b


@pytest.fixture
def broker(fake):
    b = make(fake)
    b.connect()
    yield b
    b.disconnect()


def test_connect_positions_account_quote(broker, fake):
    assert isinstance(broker, Broker)
    bid, ask = fake.books["BTCUSDT"]
    q = broker.quote("BTC")
    assert q["bid_cents"] == int(bid * 100) and q["ask_cents"] == int(ask * 100) and q["symbol"] == "BTC"
    [pos] = broker.positions()
    mid = (bid + ask) / 2
    assert pos["symbol"] == "BTC" and pos["quantity"] == BTC // 2
    assert pos["market_value_cents"] == int(Decimal("0.5") * mid * 100)
    acct = broker.account()
    assert acct["cash_cents"] == 10_000_000 and acct["buying_power_cents"] == 10_000_000
    assert acct["equity_cents"] == 10_000_000 + pos["market_value_cents"]
    # signed requests carried the key header and a recvWindow of 5000
    assert fake.requests_to("/api/v3/account")[0]["recvWindow"] == "5000"


def test_not_connected_and_bad_args():
    b = BinanceBroker(KEY, SECRET, base_url="http://127.0.0.1:9")
    with pytest.raises(NotConnected):
        b.positions()
    b.disconnect()
    with pytest.raises(ValueError, match="client_order_id contains unsafe query characters"):
        b.submit_order("BTC", "buy", 1000, client_order_id="a.b")  # '.' is not allowed for Binance
    with pytest.raises(ValueError, match="base_url"):
        BinanceBroker(KEY, SECRET, base_url="127.0.0.1:1")


def test_clock_skew_is_corrected(fake):
    fake.skew_ms = 40_000  # server 40 s ahead: without the offset every signed call is -1021
    b = make(fake)
    b.connect()
    assert abs(b._client.timestamp_offset - 40_000) < 2_000
    assert b.account()["cash_cents"] == 10_000_000
    fake.skew_ms = -30_000  # clock jumps: -1021 once, resync, retry
    assert b.account()["cash_cents"] == 10_000_000


def test_bad_credentials(fake):
    with pytest.raises(AuthenticationError, match="-1022"):
        make(fake, secret_key="wrong-secret").connect()
    with pytest.raises(AuthenticationError, match="-2015"):
        make(fake, api_key="unknown-key").connect()


def test_limit_order_filled_and_market_order(broker, fake):
    bid, ask = fake.books["BTCUSDT"]
    oid = broker.submit_order("BTC", "buy", BTC // 100, "limit", int(ask * 100) + 500, client_order_id="run1-btc")
    st = broker.order_status(oid)
    assert st["status"] == "Filled" and st["filled_quantity"] == BTC // 100 and st["remaining_quantity"] == 0
    assert st["avg_fill_price_cents"] == int(ask * 100)  # price improvement to the ask
    assert st["client_order_id"] == "run1-btc"
    fake.set_balance("ETH", "1")
    mid = broker.submit_order("ETH", "sell", 10_000_000)  # 0.1 ETH at the bid
    st = broker.order_status(mid)
    assert st["status"] == "Filled" and st["avg_fill_price_cents"] == int(fake.books["ETHUSDT"][0] * 100)
    sent = fake.requests_to("/api/v3/order", "POST")[-1]
    assert sent["quantity"] == "0.1" and sent["type"] == "MARKET" and "price" not in sent


def test_resting_order_cancelled(broker, fake):
    bid, _ = fake.books["BTCUSDT"]
    oid = broker.submit_order("BTC", "buy", 100_000, "limit", int(bid * 100) - 10_000)
    assert [o["id"] for o in broker.open_orders()] == [oid]
    assert broker.account()["buying_power_cents"] < 10_000_000  # reserved at the venue
    broker.cancel_order(oid)
    assert broker.order_status(oid)["status"] == "Cancelled" and broker.open_orders() == []
    broker.cancel_order(oid)  # already final: no-op
    with pytest.raises(OrderNotFound):
        broker.order_status(999_999, symbol="BTC")
    assert broker.account()["buying_power_cents"] == 10_000_000


def test_partial_fill_disconnect_reconnect_recovers(fake):
    b = make(fake)
    b.connect()
    bid, ask = fake.books["BTCUSDT"]
    px = int(bid * 100) - 100
    oid = b.submit_order("BTC", "buy", 300_000, "limit", px, client_order_id="recover-1")
    fake.fill_cap["BTCUSDT"] = Decimal("0.001")
    fake.set_book("BTCUSDT", str(Decimal(px - 200) / 100), str(Decimal(px) / 100))  # ask down to our limit
    b.disconnect()
    # a new process: no local memory of the order
    b2 = make(fake)
    b2.connect()
    [o] = b2.open_orders()
    assert (o["id"], o["status"], o["filled_quantity"], o["remaining_quantity"]) == (oid, "PartiallyFilled", 100_000, 200_000)
    assert b2.find_order("recover-1", symbol="BTC")["id"] == oid
    # resubmitting the same instruction is idempotent: no second order
    assert b2.submit_order("BTC", "buy", 300_000, "limit", px, client_order_id="recover-1") == oid
    assert len(fake.orders) == 1
    b2.cancel_order(oid)
    st = b2.order_status(oid)
    assert (st["status"], st["filled_quantity"], st["remaining_quantity"]) == ("Cancelled", 100_000, 0)


def test_duplicate_client_order_id(broker, fake):
    bid, _ = fake.books["BTCUSDT"]
    px = int(bid * 100) - 5000
    a = broker.submit_order("BTC", "buy", 100_000, "limit", px, client_order_id="dup_1")
    assert broker.submit_order("BTC", "buy", 100_000, "limit", px, client_order_id="dup_1") == a
    assert len(fake.requests_to("/api/v3/order", "POST")) == 1
    with pytest.raises(ClientOrderIdConflict):
        broker.submit_order("BTC", "buy", 200_000, "limit", px, client_order_id="dup_1")
    assert len(fake.orders) == 1


def test_rejections(broker, fake):
    bid, ask = fake.books["BTCUSDT"]
    with pytest.raises(InsufficientFunds, match="insufficient balance"):
        broker.submit_order("BTC", "buy", 10 * BTC, "limit", int(ask * 100))  # ~$600k > $100k
    n = len(fake.requests_to("/api/v3/order", "POST"))
    with pytest.raises(InvalidOrder, match="LOT_SIZE"):
        broker.submit_order("BTC", "buy", 999, "limit", int(bid * 100))  # 0.00000999 BTC < minQty
    with pytest.raises(InvalidOrder, match="NOTIONAL"):
        broker.submit_order("BTC", "buy", 1000, "limit", int(bid * 100))  # 0.00001 BTC ~ $0.62 < $5
    with pytest.raises(InvalidOrder, match="MIN_NOTIONAL"):
        broker.submit_order("ETH", "buy", 10_000, "market")  # legacy filter: 0.0001 ETH ~ $0.25
    with pytest.raises(InvalidOrder, match="unknown symbol"):
        broker.submit_order("DOGE", "buy", BTC, "limit", 10)
    with pytest.raises(InvalidOrder, match="NOTIONAL"):  # a stop-market's notional is checked at its stop
        broker.submit_order("BTC", "buy", 1000, "stop", stop_price_cents=1)
    assert len(fake.requests_to("/api/v3/order", "POST")) == n  # none of these reached the venue


def test_filters_round_before_sending(broker, fake):
    bid, _ = fake.books["BTCUSDT"]
    oid = broker.submit_order("BTC", "buy", 123_456, "limit", int(bid * 100) - 1000)  # 0.00123456 -> 0.00123
    sent = fake.requests_to("/api/v3/order", "POST")[-1]
    assert sent["quantity"] == "0.00123" and Decimal(sent["price"]) == (Decimal(int(bid * 100) - 1000) / 100)
    assert broker.order_status(oid)["quantity"] == 123_000


@pytest.mark.parametrize("kind", ["accept_then_http", "accept_then_sleep"])
def test_accepted_but_503_or_timeout_is_found_by_query(broker, fake, kind):
    bid, _ = fake.books["BTCUSDT"]
    fake.inject("/api/v3/order", kind, method="POST", status=503, seconds=1.5)
    oid = broker.submit_order("BTC", "buy", 100_000, "limit", int(bid * 100) - 1000, client_order_id="maybe-1")
    assert len(fake.orders) == 1 and list(fake.orders)[0][1] == oid  # exactly one order exists
    assert len(fake.requests_to("/api/v3/order", "POST")) == 1  # and it was sent once
    assert broker.order_status(oid)["client_order_id"] == "maybe-1"


def test_503_not_accepted_is_sent_again_after_query(broker, fake):
    bid, _ = fake.books["BTCUSDT"]
    fake.inject("/api/v3/order", "http", method="POST", status=503)
    oid = broker.submit_order("BTC", "buy", 100_000, "limit", int(bid * 100) - 1000)
    posts = fake.requests_to("/api/v3/order", "POST")
    gets = fake.requests_to("/api/v3/order", "GET")
    assert len(posts) == 2 and posts[0]["newClientOrderId"] == posts[1]["newClientOrderId"]
    assert any(g.get("origClientOrderId") == posts[0]["newClientOrderId"] for g in gets)
    assert len(fake.orders) == 1 and broker.order_status(oid)["status"] == "Submitted"


def test_outcome_unknown_when_lookups_keep_failing(broker, fake):
    bid, _ = fake.books["BTCUSDT"]
    fake.inject("/api/v3/order", "accept_then_http", method="POST", status=502)
    fake.inject("/api/v3/order", "http", method="GET", status=503, times=10)
    fake.inject("/api/v3/allOrders", "http", method="GET", status=503, times=10)
    with pytest.raises(OrderOutcomeUnknown) as ei:
        broker.submit_order("BTC", "buy", 100_000, "limit", int(bid * 100) - 1000)  # id generated by the adapter
    cid = ei.value.client_order_id
    assert cid and len(fake.requests_to("/api/v3/order", "POST")) == 1  # never re-sent blind
    fake.faults.clear()
    assert broker.find_order(cid, symbol="BTC")["status"] == "Submitted"


def test_lookup_failure_before_sending_sends_nothing(broker, fake):
    fake.inject("/api/v3/order", "http", method="GET", status=503, times=10)
    with pytest.raises(BrokerConnectionError):
        broker.submit_order("BTC", "buy", 100_000, "limit", 5_000_000, client_order_id="pre-1")
    assert fake.requests_to("/api/v3/order", "POST") == []


def test_rate_limits_backoff_and_ban(fake):
    slept = []
    broker = make(fake, sleep=slept.append)
    broker.connect()
    fake.inject("/api/v3/account", "http", status=429, retry_after=1, body={"code": -1003, "msg": "Too many requests"})
    assert broker.account()["cash_cents"] == 10_000_000
    assert slept == [1.0]  # Retry-After honoured before the retry
    fake.inject("/api/v3/account", "http", status=418, retry_after=120, body={"code": -1003, "msg": "IP banned"})
    with pytest.raises(RateLimited) as ei:
        broker.account()
    assert ei.value.retry_after == 120
    assert broker.used_weight > 0


def test_weight_budget_exhausted_gives_429_without_pacing(fake):
    fake.weight_limit = 60
    b = make(fake, max_retries=0, pace_fraction=None)
    with pytest.raises(RateLimited):
        b.connect()
        for _ in range(10):
            b.account()
    assert fake.throttled and fake.throttled[0][2] == -1003


def test_dropped_connection_is_retried_for_queries(broker, fake):
    fake.inject("/api/v3/ticker/bookTicker", "drop")
    assert broker.quote("BTC")["symbol"] == "BTC"


def test_secrets_never_in_repr_or_logs(fake, caplog):
    b = make(fake, secret_key=SECRET)
    assert KEY not in repr(b) and SECRET not in repr(b)
    caplog.set_level(logging.DEBUG)
    b.connect()
    logging.getLogger("nanobook_broker").warning("leak test %s %s", KEY, SECRET)
    b.account()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in text and KEY not in text and "***" in text


def test_credentials_from_env_and_config(monkeypatch, tmp_path, fake):
    monkeypatch.setenv("NANOBOOK_BINANCE_API_KEY", KEY)
    monkeypatch.setenv("NANOBOOK_BINANCE_SECRET_KEY", SECRET)
    b = BinanceBroker.from_env(base_url=fake.base_url)
    b.connect()
    assert b.account()["cash_cents"] == 10_000_000
    monkeypatch.delenv("NANOBOOK_BINANCE_SECRET_KEY")
    with pytest.raises(ValueError, match="NANOBOOK_BINANCE_SECRET_KEY"):
        BinanceBroker.from_env()
    p = tmp_path / "creds.toml"
    p.write_text(f'[binance]\napi_key = "{KEY}"\nsecret_key = "{SECRET}"\nbase_url = "{fake.base_url}"\n')
    p.chmod(0o644)
    with pytest.raises(PermissionError):
        BinanceBroker.from_config(p)
    p.chmod(0o600)
    c = BinanceBroker.from_config(p)
    c.connect()
    assert c.positions()[0]["symbol"] == "BTC"

"""BinanceBroker stop (STOP_LOSS) and stop-limit (STOP_LOSS_LIMIT) orders, with the
real python-binance client against the fake REST venue on 127.0.0.1.

The fake triggers a waiting stop when its last trade price reaches the stop (a
buy at or above, a sell at or below), as Binance does; tests move the last price
with ``set_last`` (someone else's trade) and the touch with ``set_book``.
"""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("binance.client")

from nanobook_broker import (  # noqa: E402
    ClientOrderIdConflict,
    InvalidOrder,
    OrderRejected,
)
from nanobook_broker.base import validate_order  # noqa: E402
from nanobook_broker.binance import BinanceBroker  # noqa: E402

from .fakes.binance_rest import SymbolRules  # noqa: E402
from .test_binance import BTC, KEY, SECRET, broker, fake, make  # noqa: E402,F401  (fixtures)

D = Decimal


def cents(x: Decimal) -> int:
    return int(x * 100)


def posts(fake):
    return fake.requests_to("/api/v3/order", "POST")


def test_stop_market_sell_waits_then_triggers_and_fills(broker, fake):
    bid, ask = fake.books["BTCUSDT"]
    last = fake.last["BTCUSDT"]
    stop = cents(last) - 10_000  # $100 below the last trade
    oid = broker.submit_order("BTC", "sell", BTC // 10, "stop", stop_price_cents=stop, client_order_id="prot-1")
    sent = posts(fake)[-1]
    assert sent["type"] == "STOP_LOSS" and D(sent["stopPrice"]) == D(stop) / 100
    assert "price" not in sent and "timeInForce" not in sent
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["order_type"], st_["triggered"], st_["stop_price_cents"]) == ("Submitted", "stop", False, stop)
    assert st_["limit_price_cents"] is None and st_["remaining_quantity"] == BTC // 10
    assert [o["id"] for o in broker.open_orders()] == [oid]
    # the quote moves but no trade reaches the stop: still waiting
    fake.set_book("BTCUSDT", str(bid - 50), str(ask - 50))
    assert broker.order_status(oid)["triggered"] is False
    # the market falls through the stop: a trade prints below it, the stop sells at the bid
    new_bid = D(stop) / 100 - 20
    fake.set_book("BTCUSDT", str(new_bid), str(new_bid + D("0.01")))
    fake.set_last("BTCUSDT", str(D(stop) / 100 - D("0.01")))
    st_ = broker.order_status(oid)
    assert (st_["id"], st_["status"], st_["order_type"], st_["triggered"]) == (oid, "Filled", "stop", True)
    assert st_["filled_quantity"] == BTC // 10 and st_["avg_fill_price_cents"] == cents(new_bid)
    assert broker.open_orders() == []
    assert broker.positions()[0]["quantity"] == BTC // 2 - BTC // 10


def test_stop_market_buy_triggers_on_a_rise(broker, fake):
    last = fake.last["BTCUSDT"]
    stop = cents(last) + 5_000
    oid = broker.submit_order("BTC", "buy", BTC // 100, "stop", stop_price_cents=stop)
    assert broker.account()["buying_power_cents"] < 10_000_000  # the venue locks funds at the stop
    new_ask = D(stop) / 100 + 3
    fake.set_book("BTCUSDT", str(new_ask - D("0.01")), str(new_ask))
    fake.set_last("BTCUSDT", str(D(stop) / 100))  # exactly at the stop: triggers
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["triggered"], st_["avg_fill_price_cents"]) == ("Filled", True, cents(new_ask))


def test_triggered_stop_market_without_enough_liquidity_expires_partly_filled(broker, fake):
    stop = cents(fake.last["BTCUSDT"]) - 10_000
    oid = broker.submit_order("BTC", "sell", 300_000, "stop", stop_price_cents=stop)
    fake.fill_cap["BTCUSDT"] = D("0.001")
    fake.set_last("BTCUSDT", str(D(stop) / 100 - 1))
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["filled_quantity"], st_["remaining_quantity"]) == ("Cancelled", 100_000, 0)
    b = fake.balances["BTC"]
    assert b == [D("0.5") - D("0.001"), 0]  # the unfilled rest is unlocked


def test_stop_limit_triggers_rests_then_fills(broker, fake):
    last = fake.last["BTCUSDT"]
    stop = cents(last) + 10_000
    limit = stop + 2_000
    oid = broker.submit_order("BTC", "buy", BTC // 100, "stop_limit", limit, stop_price_cents=stop,
                              client_order_id="brk-1")
    sent = posts(fake)[-1]
    assert (sent["type"], sent["timeInForce"]) == ("STOP_LOSS_LIMIT", "GTC")
    assert D(sent["price"]) == D(limit) / 100 and D(sent["stopPrice"]) == D(stop) / 100
    reserved = 10_000_000 - broker.account()["buying_power_cents"]
    assert reserved == -(-limit // 100)  # 0.01 BTC locked at the limit (buying power floors to a cent)
    # the last trade reaches the stop but the touch is above the limit: it rests
    fake.set_book("BTCUSDT", str(D(limit) / 100 + 5), str(D(limit) / 100 + 6))
    fake.set_last("BTCUSDT", str(D(stop) / 100 + 1))
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["order_type"], st_["triggered"]) == ("Submitted", "stop_limit", True)
    assert (st_["limit_price_cents"], st_["stop_price_cents"], st_["filled_quantity"]) == (limit, stop, 0)
    [o] = broker.open_orders()
    assert o["id"] == oid and o["triggered"] is True
    # the ask comes down to the limit: the resting order fills at its limit
    fake.set_book("BTCUSDT", str(D(limit) / 100 - 1), str(D(limit) / 100))
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["filled_quantity"], st_["avg_fill_price_cents"]) == ("Filled", BTC // 100, limit)
    assert broker.open_orders() == []


def test_stop_limit_that_crosses_on_trigger_fills_at_the_touch(broker, fake):
    bid, ask = fake.books["BTCUSDT"]
    stop = cents(fake.last["BTCUSDT"]) - 5_000
    oid = broker.submit_order("BTC", "sell", BTC // 100, "stop_limit", stop - 1_000, stop_price_cents=stop)
    new_bid = D(stop) / 100 - 2
    fake.set_book("BTCUSDT", str(new_bid), str(new_bid + D("0.01")))
    fake.set_last("BTCUSDT", str(D(stop) / 100))
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["avg_fill_price_cents"]) == ("Filled", cents(new_bid))  # taker at the bid, above its limit


@pytest.mark.parametrize("typ", ["stop", "stop_limit"])
def test_cancel_while_waiting(broker, fake, typ):
    stop = cents(fake.last["BTCUSDT"]) - 10_000
    kw = {"limit_price_cents": stop - 500} if typ == "stop_limit" else {}
    oid = broker.submit_order("BTC", "sell", BTC // 10, typ, stop_price_cents=stop, **kw)
    assert fake.balances["BTC"] == [D("0.4"), D("0.1")]
    broker.cancel_order(oid)
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["triggered"], st_["filled_quantity"]) == ("Cancelled", False, 0)
    assert fake.balances["BTC"] == [D("0.5"), 0]
    fake.set_last("BTCUSDT", str(D(stop) / 100 - 50))  # a cancelled stop never triggers
    assert broker.order_status(oid)["status"] == "Cancelled" and broker.positions()[0]["quantity"] == BTC // 2
    broker.cancel_order(oid)  # already final: no-op


def test_cancel_a_triggered_resting_stop_limit(broker, fake):
    stop = cents(fake.last["BTCUSDT"]) - 10_000
    oid = broker.submit_order("BTC", "sell", BTC // 10, "stop_limit", stop + 50_000, stop_price_cents=stop)
    fake.set_last("BTCUSDT", str(D(stop) / 100))  # triggers; the limit is far above the bid
    assert broker.order_status(oid)["triggered"] is True
    broker.cancel_order(oid)
    assert broker.order_status(oid)["status"] == "Cancelled" and fake.balances["BTC"] == [D("0.5"), 0]


@pytest.mark.parametrize("side,delta,typ", [("buy", -100, "stop"), ("sell", +100, "stop"),
                                            ("buy", 0, "stop_limit"), ("sell", +1, "stop_limit")])
def test_stop_that_would_trigger_immediately_is_rejected(broker, fake, side, delta, typ):
    # the last is 61837.635: a buy stop at or below it, or a sell stop at or above it, triggers at once
    stop = cents(fake.last["BTCUSDT"]) + delta
    kw = {"limit_price_cents": stop + 100} if typ == "stop_limit" else {}
    with pytest.raises(OrderRejected, match="Stop price would trigger immediately") as ei:
        broker.submit_order("BTC", side, BTC // 100, typ, stop_price_cents=stop, **kw)
    assert ei.value.code == -2010
    assert len(posts(fake)) == 1 and fake.orders == {}  # refused once, never resent
    assert fake.balances["BTC"] == [D("0.5"), 0] and fake.balances["USDT"] == [D("100000"), 0]


@pytest.fixture
def coarse(fake):
    """A pair with a 0.1 tick, added before the broker loads exchangeInfo."""
    fake.add_symbol("BNBUSDT", SymbolRules("BNB", "USDT", tick=D("0.1"), min_price=D("0.1"), max_price=D("10000"),
                                           step=D("0.001"), min_qty=D("0.001")), "500.0", "500.1")
    fake.set_balance("BNB", "10")
    b = make(fake)
    b.connect()
    yield b
    b.disconnect()


def test_stop_price_is_rounded_to_the_tick_away_from_the_market(coarse, fake):
    oid = coarse.submit_order("BNB", "buy", 1_000_000_000, "stop_limit", 51_299, stop_price_cents=51_234)
    sent = posts(fake)[-1]
    assert (sent["stopPrice"], sent["price"]) == ("512.4", "512.9")  # buy: stop up, limit down
    st_ = coarse.order_status(oid)
    assert (st_["stop_price_cents"], st_["limit_price_cents"]) == (51_240, 51_290)
    coarse.submit_order("BNB", "sell", 1_000_000_000, "stop", stop_price_cents=48_766)
    assert posts(fake)[-1]["stopPrice"] == "487.6"  # sell: stop down
    n = len(posts(fake))
    with pytest.raises(InvalidOrder, match="PRICE_FILTER: stop price"):
        coarse.submit_order("BNB", "buy", 1_000_000_000, "stop", stop_price_cents=2_000_000)  # > maxPrice
    with pytest.raises(InvalidOrder, match="NOTIONAL"):
        coarse.submit_order("BNB", "sell", 100_000, "stop", stop_price_cents=40_000)  # 0.001 BNB at the stop < $5
    assert len(posts(fake)) == n  # nothing sent


def test_pair_without_stop_orders_refuses_before_sending(fake):
    fake.add_symbol("XRPUSDT", SymbolRules("XRP", "USDT", tick=D("0.0001"), min_price=D("0.0001"), step=D("1"),
                                           min_qty=D("1"), order_types=("LIMIT", "LIMIT_MAKER", "MARKET")),
                    "0.5", "0.5001")
    b = make(fake)
    b.connect()
    with pytest.raises(InvalidOrder, match="does not accept STOP_LOSS_LIMIT"):
        b.submit_order("XRP", "sell", 100 * BTC, "stop_limit", 40, stop_price_cents=45)
    assert posts(fake) == []


def test_idempotent_resubmit_of_stops(coarse, fake):
    a = coarse.submit_order("BNB", "sell", 1_000_000_000, "stop_limit", 48_000, stop_price_cents=49_000,
                            client_order_id="stop-idem-1")
    assert coarse.submit_order("BNB", "sell", 1_000_000_000, "stop_limit", 48_000, stop_price_cents=49_000,
                               client_order_id="stop-idem-1") == a
    # a stop that rounds to the same tick is the same instruction
    assert coarse.submit_order("BNB", "sell", 1_000_000_000, "stop_limit", 48_000, stop_price_cents=49_009,
                               client_order_id="stop-idem-1") == a
    assert len(posts(fake)) == 1
    with pytest.raises(ClientOrderIdConflict):  # another stop price
        coarse.submit_order("BNB", "sell", 1_000_000_000, "stop_limit", 48_000, stop_price_cents=49_100,
                            client_order_id="stop-idem-1")
    with pytest.raises(ClientOrderIdConflict):  # another type
        coarse.submit_order("BNB", "sell", 1_000_000_000, "stop", stop_price_cents=49_000,
                            client_order_id="stop-idem-1")
    # still the same order after it has triggered and rests
    fake.set_last("BNBUSDT", "48.0")
    assert coarse.order_status(a)["triggered"] is True
    assert coarse.submit_order("BNB", "sell", 1_000_000_000, "stop_limit", 48_000, stop_price_cents=49_000,
                               client_order_id="stop-idem-1") == a
    assert len(posts(fake)) == 1 and len(fake.orders) == 1


def test_waiting_stop_recovered_by_a_new_process(fake):
    b = make(fake)
    b.connect()
    stop = cents(fake.last["BTCUSDT"]) - 10_000
    oid = b.submit_order("BTC", "sell", BTC // 10, "stop", stop_price_cents=stop, client_order_id="recover-stop")
    b.disconnect()
    b2 = make(fake)
    b2.connect()
    [o] = b2.open_orders()
    assert (o["id"], o["order_type"], o["stop_price_cents"], o["triggered"]) == (oid, "stop", stop, False)
    assert b2.submit_order("BTC", "sell", BTC // 10, "stop", stop_price_cents=stop, client_order_id="recover-stop") == oid
    b2.cancel_order(oid)
    assert b2.order_status(oid)["status"] == "Cancelled"


@pytest.mark.parametrize("kind", ["accept_then_http", "accept_then_sleep"])
def test_stop_accepted_but_503_or_timeout_is_found_by_query(broker, fake, kind):
    stop = cents(fake.last["BTCUSDT"]) - 10_000
    fake.inject("/api/v3/order", kind, method="POST", status=503, seconds=1.5)
    oid = broker.submit_order("BTC", "sell", BTC // 10, "stop_limit", stop - 500, stop_price_cents=stop,
                              client_order_id="stop-maybe-1")
    assert len(posts(fake)) == 1 and list(fake.orders)[0][1] == oid and len(fake.orders) == 1
    gets = fake.requests_to("/api/v3/order", "GET")
    assert any(g.get("origClientOrderId") == "stop-maybe-1" for g in gets)
    st_ = broker.order_status(oid)
    assert (st_["status"], st_["order_type"], st_["stop_price_cents"], st_["triggered"]) == ("Submitted", "stop_limit", stop, False)


def test_stop_503_not_accepted_is_sent_again_with_the_same_id(broker, fake):
    stop = cents(fake.last["BTCUSDT"]) + 10_000
    fake.inject("/api/v3/order", "http", method="POST", status=503)
    oid = broker.submit_order("BTC", "buy", BTC // 100, "stop", stop_price_cents=stop)
    p = posts(fake)
    assert len(p) == 2 and p[0]["newClientOrderId"] == p[1]["newClientOrderId"] and p[1]["type"] == "STOP_LOSS"
    assert len(fake.orders) == 1 and broker.order_status(oid)["triggered"] is False


# ---------------------------------------------------------------- rounding property, no venue

def _offline(tick: str, lo: str = "0.01", hi: str = "1000000") -> BinanceBroker:
    b = BinanceBroker(KEY, SECRET, base_url="http://127.0.0.1:9")
    b._rules["BTCUSDT"] = {"status": "TRADING", "order_types": None, "filters": {
        "PRICE_FILTER": {"minPrice": lo, "maxPrice": hi, "tickSize": tick},
        "LOT_SIZE": {"minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"}}}
    return b


@settings(max_examples=200, deadline=None)
@given(tick=st.sampled_from(["0.01", "0.1", "0.5", "1", "10"]), stop=st.integers(1_000, 10**8),
       side=st.sampled_from(["buy", "sell"]), with_limit=st.booleans())
def test_stop_rounding_property(tick, stop, side, with_limit):
    """The stop sent is on the tick grid, within one tick of the request, and never
    triggers earlier than asked (buy at or above, sell at or below the request)."""
    b = _offline(tick, lo=tick)
    typ = "stop_limit" if with_limit else "stop"
    req = validate_order("BTC", side, 100_000, typ, stop if with_limit else None, None, stop)
    _, price, sent = b.apply_stop_filters(req)
    asked, t = D(stop) / 100, D(tick)
    assert sent % t == 0 and abs(sent - asked) < t
    assert (sent >= asked) if side == "buy" else (sent <= asked)
    if with_limit:
        assert (price <= asked) if side == "buy" else (price >= asked)

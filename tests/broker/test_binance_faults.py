"""BinanceBroker under venue faults (issue 15 §1): after an ambiguous order POST the order is
never sent again until its absence is established beyond a lagging read.

Every fault runs against the fake venue on 127.0.0.1 with the real python-binance client. The
back-off waits are recorded, not slept (``sleep=waits.append``), so the window is virtual."""
from decimal import Decimal

import pytest

pytest.importorskip("binance.client")

from nanobook_broker import OrderOutcomeUnknown  # noqa: E402
from nanobook_broker.binance import BinanceBroker  # noqa: E402

from .fakes.binance_rest import FakeBinance, SymbolRules  # noqa: E402

KEY, SECRET = "k3yAAAA-test", "s3cretBBBB-test"
ORDER = "/api/v3/order"
ETH = 10_000_000  # 0.1 ETH in quantity units


@pytest.fixture
def fake():
    f = FakeBinance(KEY, SECRET)
    f.add_symbol("ETHUSDT", SymbolRules("ETH", "USDT", step=Decimal("0.0001"), min_qty=Decimal("0.0001"),
                                        min_notional=Decimal("10")), "2651.06", "2651.07")
    f.set_balance("USDT", "10000")
    f.set_balance("ETH", "1")
    with f:
        yield f


@pytest.fixture
def waits():
    return []


@pytest.fixture
def broker(fake, waits):
    b = BinanceBroker(KEY, SECRET, base_url=fake.base_url, timeout=0.5, max_retries=2, sleep=waits.append)
    b.connect()
    yield b
    b.disconnect()


def posts(fake):
    return fake.requests_to(ORDER, "POST")


def buy_market(broker, cid="amb-1"):
    """A market buy of 0.1 ETH; ``cid=None`` lets the adapter generate the id (then nothing is
    looked up before the first send, so lookup faults hit only the lookups after it)."""
    return broker.submit_order("ETH", "buy", ETH, "market", client_order_id=cid)


def test_5xx_before_accept_is_sent_again_only_after_absence_is_established(broker, fake, waits):
    fake.inject(ORDER, "http", method="POST", status=503)
    oid = buy_market(broker)
    assert len(posts(fake)) == 2 and len(fake.orders) == 1  # resent once, one order at the venue
    assert broker.order_status(oid)["filled_quantity"] == ETH
    # before the second POST: lookups whose waits add up to the window, then allOrders and myTrades
    kinds = [(m, p) for m, p, _ in fake.log]
    first, second = [i for i, k in enumerate(kinds) if k == ("POST", ORDER)]
    before = kinds[first:second]
    # waits 0.25, 0.5, 1, 2, 2, 2, 2, 0.25 (= 10 s): nine lookups
    assert before.count(("GET", ORDER)) == 9 and ("GET", "/api/v3/allOrders") in before \
        and ("GET", "/api/v3/myTrades") in before
    assert sum(waits) == pytest.approx(broker.unknown_outcome_window)
    assert max(waits) <= 2.0 and waits[:3] == [0.25, 0.5, 1.0]


@pytest.mark.parametrize("kind", ["accept_then_http", "accept_then_drop", "accept_then_sleep"])
def test_accepted_then_ambiguous_is_found_not_resent(broker, fake, waits, kind):
    # 5xx after accept, dropped connection after accept, an answer slower than the client's timeout
    fake.inject(ORDER, kind, method="POST", status=502, seconds=0.8)
    oid = buy_market(broker)
    assert len(posts(fake)) == 1 and len(fake.orders) == 1
    assert broker.order_status(oid)["status"] == "Filled" and waits == []  # the first lookup found it


@pytest.mark.parametrize("lag", [1, 3, 7])
def test_lagging_lookup_finds_the_true_outcome(broker, fake, waits, lag):
    """The issue's case: 5xx after accept, then the single-order query answers -2013 for a while.
    The filled order is found, never bought twice (asked 0.1 ETH, bought 0.1)."""
    fake.inject(ORDER, "accept_then_http", method="POST", status=503)
    fake.inject(ORDER, "lag", method="GET", times=lag)
    oid = buy_market(broker)
    assert len(posts(fake)) == 1 and len(fake.orders) == 1
    st = broker.order_status(oid)
    assert (st["status"], st["filled_quantity"]) == ("Filled", ETH)
    assert fake.balances["ETH"][0] == Decimal("1.1")
    assert len(waits) == lag


def test_lookup_lagging_beyond_the_window_is_found_through_all_orders(broker, fake, waits):
    fake.inject(ORDER, "accept_then_http", method="POST", status=503)
    fake.inject(ORDER, "lag", method="GET", times=100)
    oid = buy_market(broker)
    assert len(posts(fake)) == 1 and len(fake.orders) == 1
    assert fake.requests_to("/api/v3/allOrders") and sum(waits) == pytest.approx(broker.unknown_outcome_window)
    fake.faults.clear()
    assert broker.order_status(oid)["filled_quantity"] == ETH


def test_all_orders_lagging_too_but_my_trades_shows_a_fill_is_unknown(broker, fake, waits):
    fake.inject(ORDER, "accept_then_http", method="POST", status=503)
    fake.inject(ORDER, "lag", method="GET", times=100)
    fake.inject("/api/v3/allOrders", "lag", method="GET", times=100)
    with pytest.raises(OrderOutcomeUnknown, match="myTrades shows trades") as ei:
        buy_market(broker, "amb-2")
    assert ei.value.client_order_id == "amb-2"
    assert len(posts(fake)) == 1 and len(fake.orders) == 1  # nothing sent again
    fake.faults.clear()
    assert broker.find_order("amb-2", symbol="ETH")["filled_quantity"] == ETH


def test_5xx_on_single_lookups_after_accept_is_found_through_all_orders(broker, fake, waits):
    fake.inject(ORDER, "accept_then_http", method="POST", status=500)
    fake.inject(ORDER, "http", method="GET", status=503, times=100)
    oid = buy_market(broker, None)
    assert len(posts(fake)) == 1 and [k[1] for k in fake.orders] == [oid]


def test_5xx_on_every_lookup_after_accept_is_unknown_and_never_resent(broker, fake, waits):
    fake.inject(ORDER, "accept_then_http", method="POST", status=500)
    fake.inject(ORDER, "http", method="GET", status=503, times=100)
    fake.inject("/api/v3/allOrders", "http", method="GET", status=503, times=100)
    with pytest.raises(OrderOutcomeUnknown, match="could not establish") as ei:
        buy_market(broker, None)
    cid = ei.value.client_order_id
    assert cid == posts(fake)[0]["newClientOrderId"]
    assert len(posts(fake)) == 1 and len(fake.orders) == 1
    assert sum(waits) == pytest.approx(broker.unknown_outcome_window)
    fake.faults.clear()
    assert broker.find_order(cid, symbol="ETH")["status"] == "Filled"


def test_one_failed_lookup_among_not_founds_is_unknown(broker, fake, waits):
    """5xx before accept, and one lookup in the window fails: absence is not established."""
    fake.inject(ORDER, "http", method="POST", status=503)
    fake.inject(ORDER, "http", method="GET", status=503, times=1)
    with pytest.raises(OrderOutcomeUnknown, match="lookup 1: "):
        buy_market(broker, None)
    assert len(posts(fake)) == 1 and fake.orders == {}


def test_forced_429_on_the_post_is_retried_after_retry_after(broker, fake, waits):
    fake.inject(ORDER, "http", method="POST", status=429, retry_after=2,
                body={"code": -1015, "msg": "Too many new orders"})
    oid = buy_market(broker)
    assert waits == [2.0] and len(posts(fake)) == 2 and len(fake.orders) == 1
    assert len(fake.requests_to(ORDER, "GET")) == 1  # only the lookup before the first send: a 429 is not ambiguous
    assert broker.order_status(oid)["status"] == "Filled"


def test_delayed_lookup_answers_are_waited_for(fake, waits):
    b = BinanceBroker(KEY, SECRET, base_url=fake.base_url, timeout=1.0, max_retries=2, sleep=waits.append)
    b.connect()
    fake.inject(ORDER, "accept_then_http", method="POST", status=503)
    fake.inject(ORDER, "sleep", method="GET", seconds=0.3)  # slow, but within the client's timeout
    buy_market(b)
    assert len(posts(fake)) == 1 and len(fake.orders) == 1
    b.disconnect()


@pytest.mark.parametrize("window, lookups", [(0.0, 1), (0.25, 2), (0.75, 3), (2.5, 5)])
def test_window_arithmetic(fake, window, lookups):
    waits = []
    b = BinanceBroker(KEY, SECRET, base_url=fake.base_url, timeout=0.5, max_retries=0, sleep=waits.append,
                      unknown_outcome_window=window)
    b.connect()
    fake.inject(ORDER, "http", method="POST", status=503)
    with pytest.raises(OrderOutcomeUnknown, match="not accepted after 1 attempts"):
        buy_market(b)
    assert len(fake.requests_to(ORDER, "GET")) == 1 + lookups and sum(waits) == pytest.approx(window)
    b.disconnect()


@pytest.mark.parametrize("bad", [-0.001, 600.001, float("nan"), float("inf")])
def test_window_must_be_in_range(bad):
    with pytest.raises(ValueError, match="unknown_outcome_window"):
        BinanceBroker(KEY, SECRET, unknown_outcome_window=bad)
    BinanceBroker(KEY, SECRET, unknown_outcome_window=600.0)
    BinanceBroker(KEY, SECRET, unknown_outcome_window=0.0)

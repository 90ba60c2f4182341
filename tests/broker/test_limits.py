"""The documented limits of docs/brokers.md, each tested at, just below and just above it
(issue 11 §3): argument ranges, the stop triggers, pacing and back-off caps."""
from decimal import Decimal

import pytest

from nanobook_broker import PaperBroker, RateLimited
from nanobook_broker.base import validate_client_order_id, validate_order

KEY, SECRET = "k3yAAAA-test", "s3cretBBBB-test"


@pytest.mark.parametrize("cid, ok", [("a" * 36, True), ("a", True), ("a" * 37, False), ("", False)])
def test_client_order_id_1_to_36_characters(cid, ok):
    if ok:
        assert validate_client_order_id(cid) == cid
    else:
        with pytest.raises(ValueError, match="client_order_id must be 1..=36 ASCII-safe characters"):
            validate_client_order_id(cid)


@pytest.mark.parametrize("sym, ok", [("ABCDEFGH", True), ("ÄÄÄÄ", True), ("ABCDEFGHI", False), ("ÄÄÄÄA", False)])
def test_symbol_at_most_8_utf8_bytes(sym, ok):
    if ok:
        assert validate_order(sym, "buy", 1).symbol == sym
    else:
        with pytest.raises(ValueError):
            validate_order(sym, "buy", 1)


@pytest.mark.parametrize("qty, ok", [(1, True), (0, False)])
def test_quantity_positive(qty, ok):
    if ok:
        assert validate_order("X", "buy", qty).quantity == 1
    else:
        with pytest.raises(ValueError, match="quantity must be positive, got 0"):
            validate_order("X", "buy", qty)


@pytest.mark.parametrize("px, ok", [(1, True), (0, False), (-1, False)])
def test_prices_positive(px, ok):
    for kind, kw in (("limit", {"limit_price_cents": px}), ("stop", {"stop_price_cents": px})):
        if ok:
            validate_order("X", "buy", 1, kind, **kw)
        else:
            with pytest.raises(ValueError, match="price_cents must be positive"):
                validate_order("X", "buy", 1, kind, **kw)


def test_ibkr_max_requests_per_sec_1_to_50():
    pytest.importorskip("ib_async")
    from nanobook_broker.ibkr import IbkrBroker

    for ok in (1, 50):
        IbkrBroker("127.0.0.1", 1, 1, max_requests_per_sec=ok)
    for bad in (0, 51):
        with pytest.raises(ValueError, match="max_requests_per_sec"):
            IbkrBroker("127.0.0.1", 1, 1, max_requests_per_sec=bad)


@pytest.mark.parametrize("kw, good, bad", [
    ("timeout", [120.0, 0.001], [0.0, 120.001]),
    ("recv_window_ms", [1, 60_000], [0, 60_001]),
    ("quantity_decimals", [0, 18], [19]),
    ("pace_fraction", [1.0, 0.001], [0.0, 1.0001]),
    ("unknown_outcome_window", [0.0, 600.0], [-0.001, 600.001]),
])
def test_binance_constructor_ranges(kw, good, bad):
    pytest.importorskip("binance.client")
    from nanobook_broker.binance import BinanceBroker

    for v in good:
        BinanceBroker(KEY, SECRET, **{kw: v})
    for v in bad:
        with pytest.raises((ValueError, OverflowError), match=kw):
            BinanceBroker(KEY, SECRET, **{kw: v})


# ------------------------------------------------------------------ paper stop triggers (last price)
@pytest.mark.parametrize("side, last, triggered", [
    ("buy", 10100, True),    # a buy stop triggers when last >= stop: at it
    ("buy", 10099, False),   # just below
    ("buy", 10101, True),    # just above
    ("sell", 9900, True),    # a sell stop when last <= stop: at it
    ("sell", 9901, False),
    ("sell", 9899, True),
])
def test_paper_stop_triggers_at_the_stop(side, last, triggered):
    b = PaperBroker(None, prices={"X": (9995, 10005, 10000)})
    b.connect()
    b.submit_order("X", "buy", 10)
    stop = 10100 if side == "buy" else 9900
    oid = b.submit_order("X", side, 1, "stop", stop_price_cents=stop)
    b.set_quote("X", last - 5, last + 5, last)
    assert b.order_status(oid)["triggered"] is triggered


@pytest.mark.parametrize("side, bid, ask, triggered", [
    ("buy", 10090, 10100, True), ("buy", 10089, 10099, False), ("buy", 10091, 10101, True),
    ("sell", 9900, 9910, True), ("sell", 9901, 9911, False), ("sell", 9899, 9909, True),
])
def test_paper_stop_quote_trigger_at_the_stop(side, bid, ask, triggered):
    b = PaperBroker(None, prices={"X": (9995, 10005, 10000)}, stop_trigger="quote")
    b.connect()
    b.submit_order("X", "buy", 10)
    stop = 10100 if side == "buy" else 9900
    oid = b.submit_order("X", side, 1, "stop", stop_price_cents=stop)
    b.set_quote("X", bid, ask)
    assert b.order_status(oid)["triggered"] is triggered


# ------------------------------------------------------------------ pacing and back-off caps
@pytest.mark.parametrize("max_wait, sleeps", [(60.25, True), (60.24, False), (60.26, True)])
def test_pacing_wait_longer_than_max_pace_wait_raises(max_wait, sleeps):
    pytest.importorskip("binance.client")
    from nanobook_broker.binance import _Pacer

    clock, slept = [120.0], []

    def sleep(s):
        slept.append(s)
        clock[0] += s

    p = _Pacer(0.5, lambda: clock[0], sleep, max_wait=max_wait)
    p.load_limits([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 100}])
    now = lambda: int(clock[0] * 1000)  # noqa: E731
    p.observe({"X-MBX-USED-WEIGHT-1M": "50"}, now())
    # 50 + 1 > 0.5 * 100: the window ends at 180 s, 60 s away, plus the 0.25 s margin = 60.25 s
    if sleeps:
        p.before(1, 0, now)
        assert slept == [pytest.approx(60.25)]
    else:
        with pytest.raises(RateLimited) as ei:
            p.before(1, 0, now)
        assert ei.value.retry_after == pytest.approx(60.25) and slept == []


@pytest.mark.parametrize("max_backoff, retried", [(2.0, True), (1.999, False), (2.001, True)])
def test_retry_after_longer_than_max_backoff_raises(max_backoff, retried):
    pytest.importorskip("binance.client")
    from nanobook_broker.binance import BinanceBroker

    from .fakes.binance_rest import FakeBinance, SymbolRules

    with FakeBinance(KEY, SECRET) as f:
        f.add_symbol("BTCUSDT", SymbolRules("BTC", "USDT"), "60000", "60000.01")
        f.set_balance("USDT", "100")
        slept = []
        b = BinanceBroker(KEY, SECRET, base_url=f.base_url, sleep=slept.append, max_backoff=max_backoff,
                          timeout=2.0)
        b.connect()
        f.inject("/api/v3/account", "http", status=429, retry_after=2, body={"code": -1003, "msg": "slow down"})
        if retried:
            assert b.account()["cash_cents"] == 10_000 and slept == [2.0]
        else:
            with pytest.raises(RateLimited):
                b.account()
            assert slept == [] and Decimal(f.balances["USDT"][0]) == 100

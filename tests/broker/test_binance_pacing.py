"""BinanceBroker paces itself from the venue's usage headers: bursts that would
exceed the weight or order limits wait for the window to roll over instead of
provoking a 429. Time is virtual: the fake's rate windows and the broker's clock
share one clock that sleeping moves forward, so no test sleeps for real."""
import time
from decimal import Decimal

import pytest

pytest.importorskip("binance.client")

from nanobook_broker import RateLimited  # noqa: E402
from nanobook_broker.binance import BinanceBroker, _Pacer  # noqa: E402

from .fakes.binance_rest import FakeBinance, SymbolRules  # noqa: E402

KEY, SECRET = "k3yAAAA-test", "s3cretBBBB-test"


class VirtualTime:
    """Real time plus an offset that ``sleep`` advances instantly."""

    def __init__(self, at_second_of_minute: float = 1.0) -> None:
        now = time.time()
        self.offset = (at_second_of_minute - now % 60) % 60
        self.slept: list[float] = []

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.offset += s


@pytest.fixture
def vt():
    return VirtualTime()


def venue(vt, **kw):
    f = FakeBinance(KEY, SECRET, clock=vt.now, **kw)
    f.add_symbol("BTCUSDT", SymbolRules("BTC", "USDT", step=Decimal("0.00001"), min_qty=Decimal("0.00001")),
                  "60000.00", "60000.01")
    f.set_balance("USDT", "100000")
    return f


def broker(f, vt, **kw):
    b = BinanceBroker(KEY, SECRET, base_url=f.base_url, timeout=2.0, sleep=vt.sleep, clock=vt.now, **kw)
    b.connect()
    return b


def test_weight_burst_without_pacing_is_throttled(vt):
    with venue(vt, weight_limit=100) as f:
        b = broker(f, vt, pace_fraction=None, max_retries=0)  # connect: 1 + 1 + 20 + 20 = 42
        with pytest.raises(RateLimited):
            for _ in range(40):  # 4 weight each: 42 + 160 > 100
                b.quote("BTC")
        assert f.throttled and {c for _m, _p, c in f.throttled} == {-1003}


def test_weight_burst_with_pacing_provokes_no_429(vt):
    with venue(vt, weight_limit=100) as f:
        b = broker(f, vt)
        quotes = [b.quote("BTC") for _ in range(40)]
        assert len(quotes) == 40 and quotes[-1]["bid_cents"] == 6_000_000
        assert f.throttled == []
        assert f.peak_weight <= 90  # never past 0.9 of the limit in any minute
        # 42 + 160 = 202 weight at <= 90 a minute: three windows, so two waits, each to a minute boundary
        assert len(vt.slept) == 2 and b.pacing_waits == vt.slept
        assert all(0 < s <= 60.25 for s in vt.slept)
        assert (vt.now() - sum(vt.slept)) < vt.now()  # virtual time moved, real time did not


def test_pacing_follows_the_header_when_others_share_the_ip(vt):
    with venue(vt, weight_limit=100) as f:
        b = broker(f, vt)  # 42 used
        with f.lock:
            f.used_weight += 44  # another process on the same IP: unseen until the next answer
        b.quote("BTC")  # bookTicker sent at 42 (+2 fits); its answer says 88; 24hr: 88 + 2 <= 90
        assert vt.slept == [] and b.used_weight == 90
        b.quote("BTC")  # 86 + 2 > 90: waits for the next minute first
        assert len(vt.slept) == 1 and f.throttled == [] and b.used_weight == 4


def test_order_burst_paced_by_the_10s_order_count(vt):
    with venue(vt, order_limit_10s=5) as f:
        b = broker(f, vt)
        ids = [b.submit_order("BTC", "buy", 100_000, "limit", 5_000_000) for _ in range(12)]  # resting buys
        assert len(set(ids)) == 12 and f.throttled == []
        # at most 0.9 * 5 = 4 orders per 10 s window: 12 orders need 3 windows
        assert len(vt.slept) == 2 and all(s <= 10.25 for s in vt.slept)
        with venue(vt, order_limit_10s=5) as g:
            nb = broker(g, vt, pace_fraction=None, max_retries=0)
            with pytest.raises(RateLimited):
                for _ in range(12):
                    nb.submit_order("BTC", "buy", 100_000, "limit", 5_000_000)
            assert [c for _m, _p, c in g.throttled] == [-1015]
            assert len(g.requests_to("/api/v3/order", "POST")) == 6


def test_daily_order_limit_raises_instead_of_sleeping(vt):
    with venue(vt, order_limit_1d=3) as f:
        b = broker(f, vt)
        b.submit_order("BTC", "buy", 100_000, "limit", 5_000_000)
        b.submit_order("BTC", "buy", 100_000, "limit", 5_000_000)
        with pytest.raises(RateLimited) as ei:  # 2 + 1 > 2.7: the day window ends hours away
            b.submit_order("BTC", "buy", 100_000, "limit", 5_000_000)
        assert ei.value.retry_after > 61 and vt.slept == []
        assert len(f.requests_to("/api/v3/order", "POST")) == 2 and f.throttled == []


def test_pacer_unit_windows_and_limits():
    clock = [120.0]  # seconds; the pacer reads server milliseconds from now_ms
    slept = []
    p = _Pacer(0.5, lambda: clock[0], lambda s: (slept.append(s), clock.__setitem__(0, clock[0] + s)), max_wait=61)
    p.load_limits([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 100},
                   {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 4},
                   {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 10}])
    assert p.limits == {("weight", 60): 100, ("orders", 10): 4}
    now = lambda: int(clock[0] * 1000)  # noqa: E731
    p.observe({"x-mbx-used-weight-1m": "45", "X-MBX-ORDER-COUNT-10S": "1", "Content-Type": "x"}, now())
    assert p.count(("weight", 60), now()) == 45 and p.count(("orders", 10), now()) == 1
    p.before(5, 0, now)  # 45 + 5 <= 50
    assert slept == [] and p.count(("weight", 60), now()) == 50
    p.before(1, 1, now)  # 50 + 1 > 50: to the end of the minute (180 s) plus the margin
    assert slept == [pytest.approx(60.25)] and p.count(("weight", 60), now()) == 1
    p.before(1, 1, now)  # orders 1 + 1 <= 2
    p.before(1, 1, now)  # 2 + 1 > 2: the 10 s window [180, 190) ends 9.75 s later, plus the margin
    assert slept[1] == pytest.approx(10.0) and p.count(("orders", 10), now()) == 1
    # a request larger than the whole share waits for a fresh window once, then goes (no endless wait)
    p.before(1000, 0, now)
    assert slept[2] == pytest.approx(240.25 - 190.25) and p.count(("weight", 60), now()) == 1000
    # a count observed in an older window does not hold the new one back
    clock[0] += 60
    p.before(40, 0, now)
    assert len(slept) == 3
    with pytest.raises(ValueError, match="pace_fraction must be in"):
        BinanceBroker(KEY, SECRET, pace_fraction=0)

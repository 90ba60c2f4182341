"""Every limit documented in docs/risk.md, pinned at the limit, just below and
just above it (and each test fails when its comparison is flipped: the
mutation check in docs/risk.md "Validation and boundaries")."""
import math

import pytest

from nanobook_risk import ReasonCode, RiskConfigError, RiskEngine, Status

P, W, F = Status.PASS, Status.WARN, Status.FAIL
EQ = 1_000_000          # equity in cents for the ratio checks


def one(report, code):
    got = [d for d in report if d.code is code]
    assert len(got) <= 1, got
    return got[0].status if got else None


# (id, engine kwargs, function(engine, x) -> report, code, [(x, expected status), ...])
# x runs over at / just below / just above the documented comparison.
CASES = [
    # max_order_value: FAIL if limit > 0 and notional > limit
    ("order value", dict(max_order_value_cents=10_000),
     lambda e, x: e.evaluate_order("A", "buy", x, 1, 10**12, []), ReasonCode.MAX_ORDER_VALUE,
     [(10_000, P), (9_999, P), (10_001, F)]),
    # max_position (order): pct = |post|*price/equity; FAIL if pct > max_position_pct
    ("position order", dict(max_position_pct=0.25),
     lambda e, x: e.evaluate_order("A", "buy", x, 1, EQ, []), ReasonCode.MAX_POSITION,
     [(250_000, P), (249_999, P), (250_001, F)]),
    # the same through the current position (post = current + qty)
    ("position order with holding", dict(max_position_pct=0.25),
     lambda e, x: e.evaluate_order("A", "sell", 1, 1, EQ, [("A", x)]), ReasonCode.MAX_POSITION,
     [(250_001, P), (250_000, P), (250_002, F)]),
    # order_size: WARN if notional > trunc(max_trade_usd * 100)
    ("order size", dict(max_trade_usd=100.0),
     lambda e, x: e.evaluate_order("A", "buy", x, 1, 10**12, []), ReasonCode.ORDER_SIZE,
     [(10_000, P), (9_999, P), (10_001, W)]),
    # short_selling (order): a sell with post < 0 when shorting is off
    ("short sale order", dict(allow_short=False),
     lambda e, x: e.evaluate_order("A", "sell", 10, 1, 10**12, [("A", x)]), ReasonCode.SHORT_SELLING,
     [(10, None), (11, None), (9, F)]),
    # max_position (batch): largest |target weight| > max_position_pct
    ("position weights", dict(max_position_pct=0.25),
     lambda e, x: e.evaluate_batch([], EQ, [], [("A", x)]), ReasonCode.MAX_POSITION,
     [(0.25, P), (math.nextafter(0.25, 0), P), (math.nextafter(0.25, 1), F),
      (-0.25, P), (math.nextafter(-0.25, -1), F)]),
    # leverage: gross / equity > max_leverage
    ("leverage", dict(max_leverage=1.5, max_position_pct=1.0, max_order_value_cents=0,
                      max_batch_value_cents=0),
     lambda e, x: e.evaluate_batch([("A", "buy", x, 1)], EQ, [], []), ReasonCode.LEVERAGE,
     [(1_500_000, P), (1_499_999, P), (1_500_001, F)]),
    # short exposure: short value / equity > max_short_pct
    ("short exposure", dict(max_short_pct=0.3, max_position_pct=1.0),
     lambda e, x: e.evaluate_batch([("A", "sell", x, 1)], EQ, [], []), ReasonCode.SHORT_EXPOSURE,
     [(300_000, P), (299_999, P), (300_001, F)]),
    # max_order_value (batch): one FAIL per order with notional > cap
    ("order value batch", dict(max_order_value_cents=10_000),
     lambda e, x: e.evaluate_batch([("A", "buy", x, 1)], 10**12, [], []), ReasonCode.MAX_ORDER_VALUE,
     [(10_000, None), (9_999, None), (10_001, F)]),
    # max_batch_value: sum of notionals > cap
    ("batch value", dict(max_batch_value_cents=10_000),
     lambda e, x: e.evaluate_batch([("A", "buy", 5_000, 1), ("B", "buy", x, 1)], 10**12, [], []),
     ReasonCode.MAX_BATCH_VALUE, [(5_000, None), (4_999, None), (5_001, F)]),
    # max_trade_size: WARN per order with notional > trunc(max_trade_usd * 100)
    ("trade size batch", dict(max_trade_usd=100.0),
     lambda e, x: e.evaluate_batch([("A", "buy", x, 1)], 10**12, [], []), ReasonCode.MAX_TRADE_SIZE,
     [(10_000, None), (9_999, None), (10_001, W)]),
    # post_trade_position: each order alone against the running exposure
    ("post-trade position", dict(max_position_pct=0.25, max_leverage=10.0),
     lambda e, x: e.evaluate_batch([("A", "buy", 200_000, 1), ("A", "buy", x, 1)], EQ, [], []),
     ReasonCode.POST_TRADE_POSITION, [(50_000, None), (49_999, None), (50_001, F)]),
    # price collar: |p - r| * 1e4 > bps * r, both sides of the reference
    ("collar above", dict(price_collar_bps=50.0),
     lambda e, x: e.evaluate_order("A", "buy", 1, x, 10**12, [], reference_price_cents=10_000),
     ReasonCode.PRICE_COLLAR, [(10_050, P), (10_049, P), (10_051, F)]),
    ("collar below", dict(price_collar_bps=50.0),
     lambda e, x: e.evaluate_order("A", "buy", 1, x, 10**12, [], reference_price_cents=10_000),
     ReasonCode.PRICE_COLLAR, [(9_950, P), (9_951, P), (9_949, F)]),
    ("collar batch", dict(price_collar_bps=50.0),
     lambda e, x: e.evaluate_batch([("A", "buy", 1, x)], 10**12, [], [], reference_prices={"A": 10_000}),
     ReasonCode.PRICE_COLLAR, [(10_050, None), (10_049, None), (10_051, F)]),
    # max_open_orders: open + new > limit
    ("open orders", dict(max_open_orders=5),
     lambda e, x: e.evaluate_order("A", "buy", 1, 1, 10**12, [], open_orders=x), ReasonCode.MAX_OPEN_ORDERS,
     [(4, P), (3, P), (5, F)]),
    ("open orders batch", dict(max_open_orders=5),
     lambda e, x: e.evaluate_batch([("A", "buy", 1, 1)] * 2, 10**12, [], [], open_orders=x),
     ReasonCode.MAX_OPEN_ORDERS, [(3, P), (2, P), (4, F)]),
]


def daily(e, equity):
    e.mark_equity(EQ, "2026-01-02")
    return e.evaluate_order("A", "buy", 1, 1, equity, [])


def drawdown(e, equity):
    e.mark_equity(EQ, "2026-01-02")
    e.mark_equity(EQ // 2, "2026-01-03")        # the high-water mark stays EQ
    return e.evaluate_order("A", "buy", 1, 1, equity, [])


CASES += [
    # daily loss: start - equity > pct * start (the start is the day's first mark);
    # 0.25 is exact in binary, so "at" is exactly at the limit
    ("daily loss", dict(max_daily_loss_pct=0.25), daily, ReasonCode.DAILY_LOSS,
     [(EQ - 250_000, P), (EQ - 249_999, P), (EQ - 250_001, F)]),
    # drawdown: hwm - equity > pct * hwm
    ("drawdown", dict(max_drawdown_pct=0.25), drawdown, ReasonCode.DRAWDOWN,
     [(EQ - 250_000, P), (EQ - 249_999, P), (EQ - 250_001, F)]),
]


@pytest.mark.parametrize("name,kw,fn,code,points", CASES, ids=[c[0] for c in CASES])
def test_documented_limit_at_below_and_above(name, kw, fn, code, points):
    for x, expect in points:
        eng = RiskEngine(**kw)         # fresh: a loss FAIL engages the kill switch
        assert one(fn(eng, x), code) is expect, (name, x)


def test_kill_switch_follows_the_boundary():
    kw = dict(max_daily_loss_pct=0.25, max_drawdown_pct=1.0)   # only the daily loss can trip
    at, above = RiskEngine(**kw), RiskEngine(**kw)
    daily(at, EQ - 250_000)
    daily(above, EQ - 250_001)
    assert not at.kill_switch_engaged and above.kill_switch_engaged


def test_max_position_zero_equity_is_zero_pct():
    """``pct`` is 0 when equity <= 0 (documented), so the order check passes."""
    for eq in (0, -1):
        assert one(RiskEngine().evaluate_order("A", "buy", 10**9, 10**6, eq, []),
                   ReasonCode.MAX_POSITION) is P
    assert one(RiskEngine().evaluate_order("A", "buy", 1, 1, 1, []), ReasonCode.MAX_POSITION) is F


# config bounds (docs/risk.md, RiskConfig): (key, valid values, invalid values)
CONFIG = [
    ("max_position_pct", [1.0, 5e-324, 0.25], [0.0, math.nextafter(1.0, 2), -0.1, math.nan]),
    ("max_leverage", [1.0, 1e300], [math.nextafter(1.0, 0), math.inf, math.nan]),
    ("max_drawdown_pct", [0.0, 1.0], [-5e-324, math.nextafter(1.0, 2), math.nan]),
    ("max_short_pct", [0.0, 1e300], [-5e-324, math.inf, math.nan]),
    ("max_trade_usd", [0.0, 1e300], [-5e-324, math.inf, math.nan]),
    ("max_order_value_cents", [0, 1], [-1]),
    ("max_batch_value_cents", [0, 1], [-1]),
    ("max_daily_loss_pct", [0.0, 1.0, None], [-5e-324, math.nextafter(1.0, 2), math.nan]),
    ("price_collar_bps", [0.0, 1e300, None], [-5e-324, math.inf, math.nan]),
]


@pytest.mark.parametrize("key,good,bad", CONFIG, ids=[c[0] for c in CONFIG])
def test_config_bounds(key, good, bad):
    for v in good:
        RiskEngine(**{key: v})
    for v in bad:
        with pytest.raises(RiskConfigError) as info:
            RiskEngine(**{key: v})
        assert key in str(info.value)

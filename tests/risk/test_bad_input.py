"""The risk bad-input matrix (issue 11): for every malformed argument, the
exception type, a message naming the parameter and the value, and the engine
(marks, kill switch, config) and the caller's inputs exactly as they were.
A business breach is a decision, never an exception; these are not breaches."""
import copy
import math

import pytest

from nanobook_risk import RiskEngine


def engine():
    e = RiskEngine(price_collar_bps=50.0, max_daily_loss_pct=0.1)
    e.mark_equity(1_000_000, "2026-01-02")
    return e


def state(e):
    return (e.config, e.high_water_mark_cents, e.day_start_equity_cents, e.kill_switch_engaged,
            e.kill_switch_reason)


POS = [("AAPL", 10), ("MSFT", -3)]
ORD = [("AAPL", "buy", 5, 15_000), ("MSFT", "sell", 1, 40_000)]
TW = [("AAPL", 0.1), ("MSFT", -0.05)]

# (call on engine e, exception, message fragment naming the parameter and value)
ORDER_CASES = [
    # the case: a pass from the single-order check where the batch failed
    (lambda e: e.check_order("AAPL", "buy", 2**64 - 1, -2**63, 10**8, POS), ValueError,
     "price_cents must be positive, got -9223372036854775808"),
    (lambda e: e.evaluate_order("AAPL", "buy", 2**64 - 1, -2**63, 10**8, POS), ValueError,
     "price_cents must be positive, got -9223372036854775808"),
    (lambda e: e.check_order("AAPL", "buy", 1, 0, 10**8, POS), ValueError, "price_cents must be positive, got 0"),
    (lambda e: e.check_order("AAPL", "buy", 1, -1, 10**8, POS), ValueError, "price_cents must be positive, got -1"),
    (lambda e: e.check_order("AAPL", "buy", 1, 2**63, 10**8, POS), OverflowError, "price_cents=9223372036854775808"),
    (lambda e: e.check_order("AAPL", "buy", 1, 1.5, 10**8, POS), TypeError, "price_cents=1.5"),
    (lambda e: e.check_order("AAPL", "buy", 1, 100, 10**8, POS, reference_price_cents=0), ValueError,
     "reference_price_cents must be positive, got 0"),
    (lambda e: e.check_order("AAPL", "buy", 1, 100, 10**8, POS, reference_price_cents=-5), ValueError,
     "reference_price_cents must be positive, got -5"),
    (lambda e: e.check_order("AAPL", "buy", -1, 100, 10**8, POS), OverflowError, "quantity=-1"),
    (lambda e: e.check_order("AAPL", "buy", 2**64, 100, 10**8, POS), OverflowError, "quantity=18446744073709551616"),
    (lambda e: e.check_order("AAPL", "buy", 1, 100, 1e8, POS), TypeError, "equity_cents=100000000.0"),
    (lambda e: e.check_order("AAPL", "long", 1, 100, 10**8, POS), ValueError, "Invalid side 'long'"),
    (lambda e: e.check_order("TOOLONGSYM", "buy", 1, 100, 10**8, POS), ValueError, "Symbol 'TOOLONGSYM' exceeds 8 bytes"),
    (lambda e: e.check_order("AAPL", "buy", 1, 100, 10**8, POS, open_orders=-1), OverflowError, "open_orders=-1"),
    (lambda e: e.check_order("AAPL", "buy", 1, 100, 10**8, [("AAPL", 1.5)]), TypeError, "positions=1.5"),
]

BATCH_CASES = [
    (lambda e: e.check_batch([("AAPL", "buy", 2**64 - 1, -2**63)], 10**8, POS, TW), ValueError,
     "orders[0] price_cents must be positive, got -9223372036854775808"),
    (lambda e: e.evaluate_batch(ORD + [("X", "buy", 1, 0)], 10**8, POS, TW), ValueError,
     "orders[2] price_cents must be positive, got 0"),
    (lambda e: e.check_batch(ORD, 10**8, POS, [("AAPL", math.nan)]), ValueError,
     "target_weights[0] weight must be finite, got nan"),
    (lambda e: e.check_batch(ORD, 10**8, POS, TW + [("X", math.inf)]), ValueError,
     "target_weights[2] weight must be finite, got inf"),
    (lambda e: e.check_batch(ORD, 10**8, POS, [("X", -math.inf)]), ValueError,
     "target_weights[0] weight must be finite, got -inf"),
    (lambda e: e.check_batch(ORD, 10**8, POS, [("X", "0.1")]), TypeError, "target_weights[0] weight='0.1'"),
    (lambda e: e.check_batch(ORD, 10**8, POS, TW, reference_prices={"AAPL": 0}), ValueError,
     "reference_prices['AAPL'] must be positive, got 0"),
    (lambda e: e.check_batch(ORD, 10**8, POS, TW, reference_prices=[("MSFT", -1)]), ValueError,
     "reference_prices['MSFT'] must be positive, got -1"),
    (lambda e: e.check_batch([("AAPL", "buy", 1)], 10**8, POS, TW), ValueError,
     "expected tuple of length 4, but got tuple of length 3 (orders)"),
    (lambda e: e.check_batch(ORD, 10**8, POS, TW, open_orders=1.0), TypeError, "open_orders=1.0"),
]

MARK_CASES = [
    (lambda e: e.mark_equity("100"), TypeError, "equity_cents='100'"),
    (lambda e: e.mark_equity(2**63), OverflowError, "equity_cents=9223372036854775808"),
    (lambda e: e.mark_equity(100, "2026-13-01"), ValueError, "day must be an ISO date (YYYY-MM-DD), got '2026-13-01'"),
    (lambda e: e.mark_equity(100, 20260101), TypeError, "day must be a date or ISO date string, got int"),
]

CASES = ORDER_CASES + BATCH_CASES + MARK_CASES


@pytest.mark.parametrize("call,exc,msg", CASES, ids=[m for _, _, m in CASES])
def test_bad_input_raises_and_changes_nothing(call, exc, msg):
    e = engine()
    before = state(e)
    inputs = copy.deepcopy((POS, ORD, TW))
    with pytest.raises(exc) as info:
        call(e)
    assert msg in str(info.value), str(info.value)
    assert state(e) == before
    assert (POS, ORD, TW) == inputs
    # the engine still works exactly as before
    assert e.evaluate_order("AAPL", "buy", 1, 100, 10**8, POS, reference_price_cents=100).passed


def test_a_zero_price_is_an_error_not_a_pass():
    """Before: a zero/negative price made every ratio 0 or negative and the
    order PASSED every check."""
    e = RiskEngine()
    for px in (0, -1, -2**63):
        with pytest.raises(ValueError, match=f"price_cents must be positive, got {px}"):
            e.check_order("A", "buy", 10**9, px, 1, [])


def test_nan_weight_is_not_zero_percent():
    """Before: ``[("A", nan)]`` gave 'Max position 0.0% (?) PASS'."""
    with pytest.raises(ValueError, match="target_weights\\[0\\] weight must be finite, got nan"):
        RiskEngine().evaluate_batch([], 10**6, [], [("A", float("nan"))])

"""Hypothesis properties of the risk engine."""

from hypothesis import given, settings
from hypothesis import strategies as st

from nanobook_risk import ReasonCode, RiskEngine, Status

SYMS = st.sampled_from(["A", "B", "C"])
U64 = st.integers(0, 2**64 - 1)
I64 = st.integers(-(2**63), 2**63 - 1)
PRICE = st.integers(1, 2**63 - 1)          # prices are positive (zero/negative: ValueError)
order_st = st.tuples(SYMS, st.sampled_from(["buy", "sell"]), st.integers(1, 10**7), st.integers(1, 10**8))
engine_st = st.builds(
    RiskEngine,
    max_position_pct=st.sampled_from([0.05, 0.25, 1.0]),
    max_leverage=st.sampled_from([1.0, 1.5, 4.0]),
    allow_short=st.booleans(),
    max_short_pct=st.sampled_from([0.0, 0.3, 2.0]),
    max_trade_usd=st.sampled_from([0.0, 1e5]),
    max_order_value_cents=st.sampled_from([0, 10**7, 10**12]),
    max_batch_value_cents=st.sampled_from([0, 10**8, 10**14]),
)


def _unique_positions(draw_list):
    out = {}
    for s, q in draw_list:
        out.setdefault(s, q)
    return list(out.items())


@settings(max_examples=300, deadline=None)
@given(engine_st, st.lists(order_st, max_size=5), st.integers(1, 10**12),
       st.lists(st.tuples(SYMS, st.integers(-10**6, 10**6)), max_size=3),
       st.lists(st.tuples(SYMS, st.floats(-0.3, 0.3)), max_size=3))
def test_batch_passes_only_if_each_order_passes_alone_against_running_exposure(eng, orders, equity, pos, targets):
    pos = _unique_positions(pos)
    rep = eng.evaluate_batch(orders, equity, pos, targets)
    if not rep.passed:
        return
    running = dict(pos)
    for sym, side, qty, px in orders:
        alone = eng.evaluate_order(sym, side, qty, abs(px), equity, list(running.items()))
        assert alone.passed, (sym, side, qty, px, alone.format(), rep.format())
        running[sym] = running.get(sym, 0) + (qty if side == "buy" else -qty)


@settings(max_examples=300, deadline=None)
@given(SYMS, st.sampled_from(["buy", "sell"]), U64, PRICE, I64, st.lists(st.tuples(SYMS, I64), max_size=3))
def test_no_wrap_on_huge_values_single(sym, side, qty, px, equity, pos):
    eng = RiskEngine()
    rep = eng.evaluate_order(sym, side, qty, px, equity, pos)
    notional = qty * px  # exact
    d = rep[0]
    assert d.detail.startswith(f"${format(float(notional) / 100.0, '.0f')} ")
    expect = Status.FAIL if notional > 10_000_000 else Status.PASS
    assert d.status is expect
    # a positive huge notional can never look small (the reference wraps to negative)
    if qty > 0 and px > 0:
        assert not d.detail.startswith("$-")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SYMS, st.sampled_from(["buy", "sell"]), U64, PRICE), min_size=1, max_size=6), I64)
def test_no_wrap_on_huge_values_batch(orders, equity):
    eng = RiskEngine()
    rep = eng.evaluate_batch(orders, equity, [], [])
    total = sum(q * abs(p) for _, _, q, p in orders)
    mb = [d for d in rep if d.code is ReasonCode.MAX_BATCH_VALUE]
    assert bool(mb) == (total > 100_000_000)
    if mb:
        assert mb[0].detail == f"${format(float(total) / 100.0, '.0f')} > $1000000 max_batch_value_cents"
    lev = [d for d in rep if d.code is ReasonCode.LEVERAGE][0]
    value = lev.detail.split("x ")[0]
    assert value == "inf" or float(value) >= 0.0


@settings(max_examples=200, deadline=None)
@given(engine_st, order_st, st.integers(1, 10**12))
def test_adding_orders_never_turns_a_failure_into_a_pass(eng, order, equity):
    """Appending an order with a failing stand-alone check keeps the batch failing."""
    alone = eng.evaluate_order(*order, equity, [])
    batch = eng.evaluate_batch([order], equity, [], [])
    if alone.has_failures:
        assert batch.has_failures


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 500), st.integers(1, 10**9), st.integers(1, 10**9))
def test_price_collar_exact(bps, ref, px):
    eng = RiskEngine(price_collar_bps=bps)
    d = [x for x in eng.evaluate_order("A", "buy", 1, px, 10**12, [], reference_price_cents=ref) if x.code is ReasonCode.PRICE_COLLAR][0]
    from fractions import Fraction

    assert (d.status is Status.FAIL) == (Fraction(abs(px - ref)) * 10_000 / ref > Fraction(bps))

"""Plan maths: exact examples and Hypothesis properties."""
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from nanobook_rebalancer.plan import (
    PlanParams, build_plan, estimate_cost, limit_price, round_to_lot, weight_fraction,
)

FREE = dict(commission_per_share=0.0, commission_min=0.0, slippage_bps=0.0)


def test_worked_example():
    # $100,000 equity; hold 100 AAPL @ $150 and 50 XOM @ $100 (not targeted)
    p = PlanParams(min_order_value_cents=10_000, limit_offset_bps=10, **FREE)
    plan = build_plan(10_000_000, {"AAPL": 100, "XOM": 50},
                      {"AAPL": 15_000, "MSFT": 40_000, "XOM": 10_000},
                      {"AAPL": 0.25, "MSFT": 0.20}, p)
    got = [(o.symbol, o.side, o.quantity, o.limit_cents) for o in plan.orders]
    # sells first (XOM close), then buys by symbol; AAPL: 25000/150 = 166.67 -> 166 -> +66
    assert got == [("XOM", "sell", 50, 9_990), ("AAPL", "buy", 66, 15_015), ("MSFT", "buy", 50, 40_040)]
    assert plan.orders[0].action == "sell (close long)"
    assert plan.orders[1].action == "buy (increase long)"
    assert plan.buy_notional_cents == 66 * 15_000 + 50 * 40_000
    assert [r.symbol for r in plan.rows] == ["AAPL", "MSFT", "XOM"]


def test_shorts_flips_and_zero_weight():
    p = PlanParams(min_order_value_cents=0, **FREE)
    plan = build_plan(1_000_000, {"A": 10, "B": -5, "C": 3}, {"A": 1000, "B": 1000, "C": 1000},
                      {"A": -0.1, "B": 0.05, "C": 0.0}, p)
    by = {o.symbol: o for o in plan.orders}
    assert (by["A"].side, by["A"].quantity, by["A"].action) == ("sell", 110, "sell (flip to short)")
    assert (by["B"].side, by["B"].quantity, by["B"].action) == ("buy", 55, "buy (flip to long)")
    assert (by["C"].side, by["C"].quantity, by["C"].target_qty) == ("sell", 3, 0)


def test_band_and_minimum_skip_with_a_reason():
    p = PlanParams(min_order_value_cents=50_000, no_trade_band_bps=20, **FREE)
    plan = build_plan(10_000_000, {"A": 99}, {"A": 10_000, "B": 10_000}, {"A": 0.1, "B": 0.003}, p)
    notes = {r.symbol: r.note for r in plan.rows}
    assert plan.orders == ()
    assert notes == {"A": "within no-trade band", "B": "below minimum order value"}


def test_lots_and_rounding_modes():
    assert round_to_lot(Fraction(257, 1), 100, "down") == 200
    assert round_to_lot(Fraction(-257, 1), 100, "down") == -200
    assert round_to_lot(Fraction(250, 1), 100, "nearest") == 200   # half to even
    assert round_to_lot(Fraction(350, 1), 100, "nearest") == 400
    with pytest.raises(ValueError, match="lot must be positive"):
        round_to_lot(Fraction(1), 0)


def test_limit_price_rounds_toward_mid_on_the_tick():
    assert limit_price(10_000, "buy", 5) == 10_005
    assert limit_price(10_000, "sell", 5) == 9_995
    assert limit_price(10_003, "buy", 5, tick_cents=5) == 10_010   # 10008.0015 -> 10010
    assert limit_price(10_003, "sell", 5, tick_cents=5) == 9_995   # 9997.99 -> 9995
    assert limit_price(1, "sell", 9_999) == 1
    assert limit_price(1_000, "buy", 5) == 1_001   # half a cent still moves one tick
    with pytest.raises(ValueError, match="side must be"):
        limit_price(100, "hold", 1)


def test_weights_are_taken_as_written():
    assert weight_fraction(0.3) == Fraction(3, 10)
    plan = build_plan(10_000_000, {}, {"A": 10_000}, {"A": 0.3}, PlanParams(**FREE))
    assert plan.orders[0].quantity == 300   # not 299 from the binary 0.2999...


def test_fractional_units():
    # Binance-style: quantities in 1e-8 BTC, price in cents per BTC
    p = PlanParams(quantity_scale=10**8, min_order_value_cents=1_000, **FREE)
    plan = build_plan(1_000_000, {}, {"BTC": 6_000_000}, {"BTC": 0.5}, p)
    (o,) = plan.orders
    assert o.quantity == 8_333_333          # 0.08333333 BTC = $5,000 / $60,000
    assert o.notional_cents == 500_000 and abs(plan.rows[0].post_weight - 0.5) < 1e-7


def test_cost_estimate():
    p = PlanParams(commission_per_share=0.0035, commission_min=0.35, commission_bps=1, slippage_bps=5)
    # 1000 shares: 3.50 $ per share part; notional $100,000 -> 1 bp = $10; slippage 5 bp = $50
    assert estimate_cost(1000, 10_000_000, p) == (350 + 1000, 5000)
    assert estimate_cost(10, 100_000, p) == (35 + 10, 50)   # minimum commission


@pytest.mark.parametrize("kwargs, needle", [
    (dict(lot_size=0), "lot_size must be a positive integer, got 0"),
    (dict(rounding="up"), "rounding must be"),
    (dict(slippage_bps=float("nan")), "slippage_bps must be finite"),
    (dict(min_order_value_cents=-1), "min_order_value_cents"),
    (dict(lot_sizes={"A": -1}), "lot_sizes['A']"),
])
def test_bad_params(kwargs, needle):
    with pytest.raises(ValueError) as ei:
        PlanParams(**kwargs)
    assert needle in str(ei.value)


def test_bad_market_data():
    p = PlanParams()
    with pytest.raises(ValueError, match="equity_cents must be a positive integer, got 0"):
        build_plan(0, {}, {"A": 1}, {"A": 0.1}, p)
    with pytest.raises(ValueError, match=r"prices\['A'\] must be a positive integer"):
        build_plan(100, {}, {}, {"A": 0.1}, p)
    with pytest.raises(ValueError, match=r"prices\['B'\]"):
        build_plan(100, {"B": 1}, {"A": 5}, {"A": 0.1}, p)


# ---------------------------------------------------------------- properties
symbols = st.sampled_from(["A", "B", "C", "D", "E"])
market = st.fixed_dictionaries({
    "equity": st.integers(10_000, 10**11),
    "prices": st.fixed_dictionaries({s: st.integers(1, 10**7) for s in "ABCDE"}),
    "positions": st.dictionaries(symbols, st.integers(-10**5, 10**5), max_size=5),
    "targets": st.dictionaries(symbols, st.floats(-0.3, 0.3, allow_nan=False), max_size=5),
    "lot": st.sampled_from([1, 10, 100]),
    "rounding": st.sampled_from(["down", "nearest"]),
    "min_cents": st.sampled_from([0, 10_000, 1_000_000]),
    "band": st.sampled_from([0.0, 10.0, 100.0]),
    "scale": st.sampled_from([1, 1, 1000]),
})


def _plan(m):
    p = PlanParams(lot_size=m["lot"], rounding=m["rounding"], min_order_value_cents=m["min_cents"],
                   no_trade_band_bps=m["band"], quantity_scale=m["scale"])
    return p, build_plan(m["equity"], m["positions"], m["prices"], m["targets"], p)


@settings(max_examples=300, deadline=None)
@given(market)
def test_orders_are_well_formed(m):
    p, plan = _plan(m)
    sides = [o.side for o in plan.orders]
    assert sides == sorted(sides, key=lambda s: s != "sell")          # sells before buys
    assert len({o.symbol for o in plan.orders}) == len(plan.orders)   # one order per symbol
    for o in plan.orders:
        assert o.quantity > 0
        assert abs(o.notional_cents - Fraction(o.quantity * o.mid_cents, m["scale"])) <= Fraction(1, 2)
        assert o.target_qty == o.current_qty + o.signed_quantity
        if o.side == "buy":
            assert o.mid_cents <= o.limit_cents
        else:
            assert 1 <= o.limit_cents <= o.mid_cents
        if m["targets"].get(o.symbol, 0.0) != 0.0:
            assert o.quantity % m["lot"] == 0
            assert Fraction(o.quantity * o.mid_cents, m["scale"]) >= m["min_cents"]
    # every held symbol that is not targeted (or targeted at zero) is closed
    for s, q in m["positions"].items():
        if q and m["targets"].get(s, 0.0) == 0.0:
            assert any(o.symbol == s and o.target_qty == 0 for o in plan.orders)


@settings(max_examples=300, deadline=None)
@given(market)
def test_post_trade_is_within_one_lot_of_target(m):
    assume(m["min_cents"] == 0 and m["band"] == 0.0)
    p, plan = _plan(m)
    for r in plan.rows:
        w = m["targets"].get(r.symbol, 0.0)
        exact = Fraction(m["equity"]) * weight_fraction(w) * m["scale"] / r.mid_cents
        slack = m["lot"] if m["rounding"] == "down" else Fraction(m["lot"], 2)
        assert abs(exact - r.post_qty) <= slack
        if m["rounding"] == "down" and w != 0:
            # never overshoots the target in the direction of the trade
            assert abs(r.post_qty - r.current_qty) <= abs(exact - r.current_qty)


@settings(max_examples=300, deadline=None)
@given(market)
def test_replanning_after_a_perfect_fill_is_empty(m):
    p, plan = _plan(m)
    after = dict(m["positions"])
    for o in plan.orders:
        after[o.symbol] = o.target_qty
    again = build_plan(m["equity"], after, m["prices"], m["targets"], p)
    assert again.orders == ()

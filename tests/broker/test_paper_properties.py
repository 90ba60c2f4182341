"""Hypothesis: the paper account's books balance after any sequence of orders and quote moves."""
from hypothesis import given, settings
from hypothesis import strategies as st

from nanobook_broker import InsufficientFunds, PaperBroker

SYMS = ["A", "B"]
action = st.one_of(
    st.tuples(st.just("market"), st.sampled_from(SYMS), st.sampled_from(["buy", "sell"]), st.integers(1, 500)),
    st.tuples(st.just("limit"), st.sampled_from(SYMS), st.sampled_from(["buy", "sell"]), st.integers(1, 500),
              st.integers(900, 1100)),
    st.tuples(st.just("quote"), st.sampled_from(SYMS), st.integers(900, 1100), st.integers(1, 20)),
    st.tuples(st.just("cancel"), st.integers(1, 30)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(action, max_size=25), st.sampled_from([None, 50, 300]), st.sampled_from([0.0, 2.5]))
def test_cash_positions_and_pnl_balance(actions, liquidity, bps):
    b = PaperBroker(None, initial_cash_cents=10_000_000, prices={"A": (1000, 1002), "B": (995, 1005)},
                    liquidity=liquidity, commission_bps=bps, min_commission_cents=3, leverage=2.0)
    b.connect()
    for a in actions:
        try:
            if a[0] == "market":
                b.submit_order(a[1], a[2], a[3])
            elif a[0] == "limit":
                b.submit_order(a[1], a[2], a[3], "limit", a[4])
            elif a[0] == "quote":
                b.set_quote(a[1], a[2], a[2] + a[3])
            elif b.open_orders():
                b.cancel_order(b.open_orders()[0]["id"])
        except InsufficientFunds:
            pass
    fills = b.fills()
    acct = b.account()
    # cash = initial - signed notional - commissions, exactly
    flow = sum((-1 if f["side"] == "buy" else 1) * f["quantity"] * f["price_cents"] - f["commission_cents"] for f in fills)
    assert acct["cash_cents"] == 10_000_000 + flow
    # positions are the signed sum of fills
    held = {p["symbol"]: p["quantity"] for p in b.positions()}
    for s in SYMS:
        q = sum((1 if f["side"] == "buy" else -1) * f["quantity"] for f in fills if f["symbol"] == s)
        assert held.get(s, 0) == q
    # equity = cash + market value; orders never over-fill; open orders have remaining > 0
    assert acct["equity_cents"] == acct["cash_cents"] + sum(p["market_value_cents"] for p in b.positions())
    for o in b.open_orders():
        assert 0 < o["remaining_quantity"] <= o["quantity"] and o["filled_quantity"] + o["remaining_quantity"] == o["quantity"]
    for f in fills:
        o = b.order_status(f["order_id"])
        assert o["filled_quantity"] <= o["quantity"]
        if o["order_type"] == "limit":
            lim = o["limit_price_cents"]
            assert (f["price_cents"] <= lim) if o["side"] == "buy" else (f["price_cents"] >= lim)

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
    st.tuples(st.just("stop"), st.sampled_from(SYMS), st.sampled_from(["buy", "sell"]), st.integers(1, 500),
              st.integers(900, 1100)),
    st.tuples(st.just("stop_limit"), st.sampled_from(SYMS), st.sampled_from(["buy", "sell"]), st.integers(1, 500),
              st.integers(900, 1100), st.integers(900, 1100)),
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
            elif a[0] == "stop":
                b.submit_order(a[1], a[2], a[3], "stop", stop_price_cents=a[4])
            elif a[0] == "stop_limit":
                b.submit_order(a[1], a[2], a[3], "stop_limit", a[5], stop_price_cents=a[4])
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
        if o["order_type"] in ("limit", "stop_limit"):
            lim = o["limit_price_cents"]
            assert (f["price_cents"] <= lim) if o["side"] == "buy" else (f["price_cents"] >= lim)


# ---------------------------------------------------------------- stops
stop_action = st.one_of(
    st.tuples(st.just("quote"), st.integers(950, 1050), st.integers(1, 10), st.booleans()),
    st.tuples(st.just("stop"), st.sampled_from(["buy", "sell"]), st.integers(1, 20), st.integers(950, 1050)),
    st.tuples(st.just("stop_limit"), st.sampled_from(["buy", "sell"]), st.integers(1, 20), st.integers(950, 1050),
              st.integers(-20, 20)),
    st.tuples(st.just("market"), st.sampled_from(["buy", "sell"]), st.integers(1, 20)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
)


def _due(o, q, mode):
    stop = o["stop_price_cents"]
    if mode == "quote":
        return q["ask_cents"] >= stop if o["side"] == "buy" else q["bid_cents"] <= stop
    last = q["last_cents"]
    return last is not None and (last >= stop if o["side"] == "buy" else last <= stop)


@settings(max_examples=80, deadline=None)
@given(st.lists(stop_action, max_size=30), st.sampled_from(["last", "quote"]), st.sampled_from([None, 7]))
def test_stops_trigger_exactly_when_crossed_and_survive_reload(actions, mode, liquidity):
    """After every call: no waiting stop is due; a stop that triggered in a call saw a
    price during that call that crossed it (never early); a waiting stop has no fill;
    a triggered stop fills only as its market/limit order would; a fresh broker on
    the same file sees the same orders."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "acct.json")
        b = PaperBroker(path, initial_cash_cents=10**9, prices={"X": (995, 1005, 1000)}, liquidity=liquidity,
                        stop_trigger=mode)
        b.connect()
        ids: list[int] = []
        for a in actions:
            q0 = b.quote("X")
            nfills = len(b.fills())
            before = {o["id"]: o for o in b.open_orders()}
            prev = {i: b.order_status(i) for i in ids}
            if a[0] == "quote":
                b.set_quote("X", a[1], a[1] + a[2], a[1] if a[3] else None)
            elif a[0] == "stop":
                ids.append(b.submit_order("X", a[1], a[2], "stop", stop_price_cents=a[3]))
            elif a[0] == "stop_limit":
                ids.append(b.submit_order("X", a[1], a[2], "stop_limit", a[3] + a[4], stop_price_cents=a[3]))
            elif a[0] == "market":
                ids.append(b.submit_order("X", a[1], a[2]))
            elif before:
                b.cancel_order(sorted(before)[a[1] % len(before)])
            q1 = b.quote("X")
            new_fills = b.fills()[nfills:]
            # the prices seen during this call: the quote before/after and every print
            seen = [q0, q1] + [{"bid_cents": f["price_cents"], "ask_cents": f["price_cents"],
                                "last_cents": f["price_cents"]} for f in new_fills]
            orders = [b.order_status(i) for i in ids]
            for o in b.open_orders():
                if o["order_type"] in ("stop", "stop_limit") and not o["triggered"]:
                    assert not _due(o, q1, mode), (o, q1)
                    assert o["filled_quantity"] == 0
            for o in orders:
                if o["order_type"] not in ("stop", "stop_limit"):
                    continue
                was = prev.get(o["id"])
                if o["triggered"] and (was is None or not was["triggered"]):
                    assert any(_due(o, p, mode) for p in seen), (o, seen)
                if not o["triggered"]:
                    assert o["filled_quantity"] == 0
                if o["order_type"] == "stop" and o["triggered"]:
                    assert o["status"] not in ("Submitted", "PartiallyFilled")  # market: final at once
            for f in new_fills:
                o = b.order_status(f["order_id"])
                if o["order_type"] == "stop_limit":
                    lim = o["limit_price_cents"]
                    assert (f["price_cents"] <= lim) if o["side"] == "buy" else (f["price_cents"] >= lim)
        again = PaperBroker(path)
        again.connect()
        assert again.open_orders() == b.open_orders()
        assert again.fills() == b.fills() and again.account() == b.account()

"""Every documented limit of docs/rebalancer.md, tested at, just below and just above it (issue 11
§3). Each comparison was checked to fail when flipped (`<` for `<=`, `>` for `>=`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from nanobook_rebalancer.cli import Snapshot, plan_and_check, take_snapshot
from nanobook_rebalancer.config import parse_config
from nanobook_rebalancer.errors import BrokerCallError, ConfigError, TargetError
from nanobook_rebalancer.plan import PlanParams, build_plan
from nanobook_rebalancer.targets import TargetWeights, parse_targets_csv, parse_targets_json
from nanobook_rebalancer._session import Account, Quote

E, P = 1_000_000, 1_000  # equity and the price, cents: one share is 0.1 % of equity


def plan_one(q: int, w: float, **kw):
    kw.setdefault("min_order_value_cents", 0)
    return build_plan(E, {"A": q} if q else {}, {"A": P}, {"A": w}, PlanParams(**kw))


# ---------------------------------------------------------------- plan.no_trade_band_bps
@pytest.mark.parametrize("held, trades", [
    (490, 10),    # drift exactly the band (1 %): not strictly below it, so it trades
    (491, 0),     # 0.9 %: inside the band, skipped
    (489, 11),    # 1.1 %: outside
    (510, -10),   # from above: at the band
    (509, 0),
    (511, -11),
])
def test_no_trade_band_skips_only_strictly_below(held, trades):
    plan = plan_one(held, 0.5, no_trade_band_bps=100)
    (row,) = plan.rows
    assert row.trade_qty == trades
    if trades == 0:
        assert row.note == "within no-trade band"


# ---------------------------------------------------------------- plan.min_order_value_usd
@pytest.mark.parametrize("w, kept", [(0.01, True), (0.009, False), (0.011, True)])
def test_minimum_order_value_skips_only_strictly_below(w, kept):
    plan = plan_one(0, w, min_order_value_cents=10_000)  # $100; 10 shares are exactly $100
    assert bool(plan.orders) is kept
    if not kept:
        assert plan.rows[0].note == "below minimum order value"


# ---------------------------------------------------------------- plan.lot_size
@pytest.mark.parametrize("w, qty", [(0.1, 100), (0.099, 0), (0.101, 100), (0.2, 200)])
def test_lot_rounding_down_at_the_lot(w, qty):
    plan = plan_one(0, w, lot_size=100)
    assert [o.quantity for o in plan.orders] == ([qty] if qty else [])


# ---------------------------------------------------------------- execution.max_orders
def _cfg(tmp_path: Path, **tables):
    return parse_config(tables, base_dir=tmp_path)


@pytest.mark.parametrize("n, passed", [(2, True), (1, True), (3, False)])
def test_max_orders_fails_only_above(tmp_path, n, passed):
    cfg = _cfg(tmp_path, execution={"max_orders": 2}, plan={"min_order_value_usd": 0.0})
    syms = ["A", "B", "C"][:n]
    snap = Snapshot(Account(E, E, E), {}, {s: P for s in syms})
    targets = TargetWeights({s: 0.05 for s in syms})
    plan, checks, ok = plan_and_check(cfg, snap, targets, [], 0)
    assert len(plan.orders) == n and ok is passed
    (mx,) = [c for c in checks if c.code == "max_orders"]
    assert mx.status == ("PASS" if passed else "FAIL")


# ---------------------------------------------------------------- target files
@pytest.mark.parametrize("weights, ok", [
    ([0.5, 0.5], True),                      # gross exactly plan.max_gross_weight = 1
    ([0.5, 0.4999], True),
    ([0.5, 0.5000001], False),
    ([-0.5, 0.5], True),                     # gross counts absolute weights
    ([-0.5, 0.5000001], False),
])
def test_gross_weight_refused_only_above_the_limit(weights, ok):
    text = "symbol,weight\n" + "".join(f"S{i},{w}\n" for i, w in enumerate(weights))
    if ok:
        assert parse_targets_csv(text, max_gross=1.0).gross == pytest.approx(sum(map(abs, weights)))
    else:
        with pytest.raises(TargetError, match="exceeds the configured limit plan.max_gross_weight = 1"):
            parse_targets_csv(text, max_gross=1.0)


@pytest.mark.parametrize("w, ok", [(1.0, True), (-1.0, True), (0.999999, True), (1.000001, False),
                                   (-1.000001, False)])
def test_weight_range_is_closed(w, ok):
    text = f'{{"targets": [{{"symbol": "A", "weight": {w}}}]}}'
    if ok:
        assert parse_targets_json(text, max_gross=10).weights == {"A": w}
    else:
        with pytest.raises(TargetError, match=r"weight must be in \[-1, 1\]"):
            parse_targets_json(text, max_gross=10)


@pytest.mark.parametrize("sym, ok", [("A", True), ("ABCDEFGH", True), ("ABCDEFGHI", False), ("", False)])
def test_symbol_length_1_to_8(sym, ok):
    text = f"symbol,weight\n{sym},0.1\n"
    if ok:
        assert list(parse_targets_csv(text).weights) == [sym]
    else:
        with pytest.raises(TargetError, match="symbol must be 1-8"):
            parse_targets_csv(text)


# ---------------------------------------------------------------- execution.quote_staleness_secs
class _Stub:
    def __init__(self, age):
        self.age = age

    def account(self):
        return Account(E, E, E)

    def positions(self):
        return {}

    def quote(self, sym, unknown_is_target_error=True):
        return Quote(sym, P - 1, P + 1, None, self.age)


@pytest.mark.parametrize("age, ok", [(30.0, True), (29.999, True), (30.001, False)])
def test_quote_staleness_fails_only_above(tmp_path, age, ok):
    cfg = _cfg(tmp_path, execution={"quote_staleness_secs": 30.0})
    if ok:
        assert take_snapshot(_Stub(age), cfg, ["A"], None).mids == {"A": P}
    else:
        with pytest.raises(BrokerCallError, match=r"stale quote for A: 30 s old > execution.quote_staleness_secs = 30"):
            take_snapshot(_Stub(age), cfg, ["A"], None)


# ---------------------------------------------------------------- configuration ranges
# (table, key, values at and inside the documented bounds, values just outside them)
RANGES = [
    ("paper", "initial_cash_usd", [1e12, 0.01], [0.0, 1.000001e12]),
    ("paper", "spread_bps", [0.0, 9999.99], [-0.01, 10_000.0]),
    ("paper", "commission_bps", [0.0, 9999.99], [-0.01, 10_000.0]),
    ("paper", "liquidity", [0, 2**63 - 1], [-1, 2**63]),
    ("paper", "leverage", [1.0, 100.0], [0.99, 100.01]),
    ("ibkr", "port", [1, 65535], [0, 65536]),
    ("ibkr", "client_id", [0, 2**31 - 1], [-1, 2**31]),
    ("ibkr", "timeout_secs", [0.001, 3600.0], [0.0, 3600.001]),
    ("binance", "quantity_decimals", [0, 18], [-1, 19]),
    ("binance", "unknown_outcome_window_secs", [0.0, 600.0], [-0.001, 600.001]),
    ("execution", "limit_offset_bps", [0.0, 1000.0], [-0.001, 1000.001]),
    ("execution", "order_timeout_secs", [0.2, 86_400.0], [0.0, 86_400.001]),
    ("execution", "max_orders", [1, 2**63 - 1], [0, 2**63]),
    ("execution", "pause_between_orders_secs", [0.0, 3600.0], [-0.001, 3600.001]),
    ("execution", "quote_staleness_secs", [0.001, 86_400.0], [0.0, 86_400.001]),
    ("plan", "lot_size", [1, 2**63 - 1], [0, 2**63]),
    ("plan", "min_order_value_usd", [0.0], [-0.01]),
    ("plan", "no_trade_band_bps", [0.0, 10_000.0], [-0.001, 10_000.001]),
    ("plan", "max_gross_weight", [0.001, 10.0], [0.0, 10.001]),
    ("plan", "tick_size_cents", [1], [0]),
    ("cost", "slippage_bps", [0.0], [-0.001]),
    ("metrics", "port", [0, 65535], [-1, 65536]),
]


@pytest.mark.parametrize("table, key, good, bad", RANGES, ids=[f"{t}.{k}" for t, k, _, _ in RANGES])
def test_config_ranges_at_and_just_outside(tmp_path, table, key, good, bad):
    for v in good:
        cfg = _cfg(tmp_path, **{table: {key: v}})
        assert getattr(getattr(cfg, table), key) == v
    for v in bad:
        with pytest.raises(ConfigError, match=rf"{table}\.{key} must .*got {v!r}"):
            _cfg(tmp_path, **{table: {key: v}})


@pytest.mark.parametrize("poll, ok", [(5.0, True), (5.001, False), (0.001, True), (0.0, False)])
def test_poll_interval_within_the_order_timeout(tmp_path, poll, ok):
    t = {"execution": {"order_timeout_secs": 5.0, "poll_interval_secs": poll}}
    if ok:
        assert _cfg(tmp_path, **t).execution.poll_interval_secs == poll
    else:
        with pytest.raises(ConfigError, match=r"execution.poll_interval_secs must be in \(0, order_timeout_secs\]"):
            _cfg(tmp_path, **t)


# ---------------------------------------------------------------- trade caps through the risk bridge
BINANCE_ENV = {"NANOBOOK_BINANCE_API_KEY": "k3y-limits", "NANOBOOK_BINANCE_API_SECRET": "s3cret-limits"}


@pytest.mark.parametrize("kind, mid", [("paper", 1), ("binance", 5_000_000)])
@pytest.mark.parametrize("w, passed", [(0.01, True), (0.0099999, True), (0.0100001, False)])
def test_order_value_cap_at_the_cap_in_both_units(tmp_path, kind, mid, w, passed):
    """risk.max_order_value_cents = $1000 on a $100k account: an order of exactly $1000 passes, a few
    cents more fails -- also for Binance, whose quantities are 1e-8 units (the bridge scales the
    money limits). A 1-cent paper stock makes whole shares fine enough to land on the cap."""
    cfg = parse_config({"broker": {"kind": kind}, "execution": {"order_type": "market"},
                        "plan": {"min_order_value_usd": 0.0}, "risk": {"max_order_value_cents": 100_000}},
                       base_dir=tmp_path, env=BINANCE_ENV)
    snap = Snapshot(Account(10_000_000, 10_000_000, 10_000_000), {}, {"X": mid})
    plan, checks, ok = plan_and_check(cfg, snap, TargetWeights({"X": w}), [], 0)
    (o,) = plan.orders
    assert (o.notional_cents == 100_000) is (w == 0.01)
    assert (o.notional_cents <= 100_000) is passed and ok is passed
    fails = [c for c in checks if str(getattr(c.code, "value", c.code)) == "max_order_value"
             and str(getattr(c.status, "value", c.status)) == "FAIL"]
    assert bool(fails) is (not passed)


@pytest.mark.parametrize("open_orders, passed", [(1, True), (0, True), (2, False)])
def test_open_orders_cap_counts_the_brokers_working_orders(tmp_path, open_orders, passed):
    cfg = _cfg(tmp_path, plan={"min_order_value_usd": 0.0}, risk={"max_open_orders": 3})
    snap = Snapshot(Account(E, E, E), {}, {"A": P, "B": P})
    plan, checks, ok = plan_and_check(cfg, snap, TargetWeights({"A": 0.05, "B": 0.05}), [], open_orders)
    assert len(plan.orders) == 2 and ok is passed   # 2 new + open_orders against 3


@pytest.mark.parametrize("sym, ok", [("BTC", True), ("ABCDEFGH", True), ("a b", False), ("ABCDEFGHI", False)])
def test_lot_sizes_keys_are_symbols(tmp_path, sym, ok):
    if ok:
        assert _cfg(tmp_path, plan={"lot_sizes": {sym: 10}}).plan.lot_sizes == {sym: 10}
    else:
        with pytest.raises(ConfigError, match=r"plan.lot_sizes keys must be symbols .*got " + repr(sym)):
            _cfg(tmp_path, plan={"lot_sizes": {sym: 10}})

"""Smaller pieces: exported names, status normalisation, quotes, metrics, reconcile."""
import socket
import urllib.request

import pytest

import nanobook_rebalancer
from nanobook_rebalancer._session import BrokerSession, Quote, normalize_status
from nanobook_rebalancer.errors import BrokerCallError, TargetError
from nanobook_rebalancer.metrics import Metrics, start_metrics
from nanobook_rebalancer.plan import PlanParams
from nanobook_rebalancer.reconcile import reconcile, tracking_error


def test_exported_members():
    assert sorted(nanobook_rebalancer.__all__) == sorted([
        "AuditLog", "AuditLogError", "BrokerCallError", "Config", "ConfigError", "Interrupted",
        "KillSwitchEngaged", "LockHeldError", "Plan", "PlanParams", "PlannedOrder",
        "RebalancerError", "RecoveryError", "RunLock", "Secret", "TargetError", "TargetWeights",
        "build_plan", "client_order_id", "engage_kill_switch", "estimate_cost", "kill_switch_info",
        "limit_price", "load_config", "load_targets", "new_run_id", "read_records",
        "release_kill_switch", "round_to_lot", "unfinished_runs"])
    for name in nanobook_rebalancer.__all__:
        assert getattr(nanobook_rebalancer, name) is not None


@pytest.mark.parametrize("raw, want", [
    ("PendingSubmit", "open"), ("Submitted", "open"), ("PreSubmitted", "open"),
    ("PendingCancel", "open"), ("PartiallyFilled", "partially_filled"), ("Filled", "filled"),
    ("Cancelled", "cancelled"), ("CANCELED", "cancelled"), ("Inactive", "rejected"),
    ("Rejected", "rejected"), ("EXPIRED", "expired"), ("NEW", "open"),
    ("PARTIALLY_FILLED", "partially_filled"), ("FinalUnknown", "final_unknown"),
])
def test_normalize_status(raw, want):
    assert normalize_status(raw) == want
    from nanobook_rebalancer._session import TERMINAL
    assert (want in TERMINAL) is (want not in ("open", "partially_filled"))


def test_quote_mid_fallbacks():
    assert Quote("A", 100, 104, 50, None).mid_cents == 102
    assert Quote("A", None, 104, 50, None).mid_cents == 104
    assert Quote("A", 0, 0, 50, None).mid_cents == 50
    assert Quote("A", None, None, None, None).mid_cents is None


class _Broker:
    def quote(self, symbol):
        if symbol == "BAD":
            raise RuntimeError("no quote for BAD")
        if symbol == "DOWN":
            raise ConnectionError("connection reset")
        return {"symbol": symbol, "bid_cents": 99, "ask_cents": 101, "last_cents": 100,
                "timestamp": "2000-01-01T00:00:00Z"}


def test_session_maps_errors():
    s = BrokerSession(_Broker(), None)
    q = s.quote("OK")
    assert q.mid_cents == 100 and q.age_secs > 1e8          # 2000-01-01 is old: stale
    with pytest.raises(TargetError, match="unknown symbol 'BAD'"):
        s.quote("BAD")
    with pytest.raises(BrokerCallError, match="connection reset") as ei:
        s.quote("DOWN")
    assert isinstance(ei.value.__cause__, ConnectionError)
    with pytest.raises(BrokerCallError, match="cannot look up orders by client order id"):
        s.find_order("nb123")
    with pytest.raises(BrokerCallError, match="has no account"):
        s.account()


def test_reconcile_and_tracking_error():
    rows = reconcile(1_000_000, {"A": 50, "Z": 10}, {"A": 10_000, "Z": 1_000}, {"A": 0.6},
                     PlanParams())
    assert [(r.symbol, r.target_qty, r.actual_qty) for r in rows] == [("A", 60, 50), ("Z", 0, 10)]
    assert rows[0].diff_weight == pytest.approx(-0.1) and rows[1].diff_weight == pytest.approx(0.01)
    assert tracking_error(rows) == pytest.approx(((0.01 + 0.0001) / 2) ** 0.5)
    assert tracking_error([]) == 0.0


def test_metrics_disabled_is_a_no_op_and_enabled_serves():
    m = Metrics()
    m.sent(), m.rejected(), m.filled(3), m.latency(0.1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    live = start_metrics(port)
    live.sent()
    live.filled(7)
    live.latency(0.25)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "nanobook_rebalance_orders_sent_total 1.0" in body
    assert "nanobook_rebalance_filled_quantity_total 7.0" in body
    assert "nanobook_rebalance_order_latency_seconds_count 1.0" in body

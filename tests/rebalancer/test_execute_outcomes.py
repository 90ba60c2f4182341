"""What the audit log records when a submit's answer and the venue disagree (issue 15 §2): the log
follows the venue. A stub broker plays the venue; the executor runs in-process."""
from __future__ import annotations

import pytest

from nanobook_broker import InsufficientFunds, OrderOutcomeUnknown
from nanobook_broker.errors import BrokerConnectionError
from nanobook_rebalancer.audit import AuditLog, read_records, summarize_runs
from nanobook_rebalancer.config import ExecutionSection
from nanobook_rebalancer.errors import BrokerCallError
from nanobook_rebalancer.execute import StopFlag, execute_plan
from nanobook_rebalancer.metrics import Metrics
from nanobook_rebalancer.plan import PlanParams, build_plan
from nanobook_rebalancer._session import BrokerSession


class Venue:
    """The submit call fails with ``submit_error``; the venue's book says ``held`` (None: nothing)."""

    def __init__(self, submit_error, held=None, lookup_error=None):
        self.submit_error, self.held, self.lookup_error = submit_error, held, lookup_error
        self.submitted = []

    def submit_order(self, symbol, side, quantity, order_type="market", limit_price_cents=None,
                     client_order_id=None, stop_price_cents=None):
        self.submitted.append(client_order_id)
        if self.held is not None:
            self.held = dict(self.held, client_order_id=client_order_id)
        raise self.submit_error

    def find_order(self, client_order_id):
        if self.lookup_error is not None:
            raise self.lookup_error
        return self.held

    def order_status(self, order_id):
        return self.held

    def cancel_order(self, order_id):
        self.held = dict(self.held, status="Cancelled")


FILLED = {"id": 7, "status": "Filled", "filled_quantity": 300, "remaining_quantity": 0,
          "avg_fill_price_cents": 10_000}


def run(tmp_path, venue):
    plan = build_plan(100_000_00, {"AAA": 300}, {"AAA": 10_000}, {"AAA": 0.0}, PlanParams())  # sell 300
    ex = ExecutionSection(poll_interval_secs=0.01, order_timeout_secs=1.0, pause_between_orders_secs=0)
    with AuditLog(tmp_path / "audit.jsonl", "run1") as audit:
        audit.write("run_started", mode="run")
        return execute_plan(BrokerSession(venue, audit), audit, "run1", plan, ex, StopFlag(), Metrics())


def events(tmp_path):
    return [(r["event"], r.get("status"), r.get("via")) for r in read_records(tmp_path / "audit.jsonl")
            if r["event"].startswith("order_")]


def test_rejected_resend_of_a_filled_order_is_logged_as_the_fill(tmp_path):
    """The issue's sell: the adapter's resend was refused for insufficient balance, but the venue
    filled the first send under the same id. The log shows the fill, not a rejection."""
    rep = run(tmp_path, Venue(InsufficientFunds("binance error -2010: insufficient balance"), FILLED))
    (o,) = rep.outcomes
    assert (o.status, o.filled_qty, o.category) == ("filled", 300, "filled")
    assert events(tmp_path) == [("order_intent", None, None), ("order_ack", None, "lookup"),
                                ("order_fill", "filled", None), ("order_done", "filled", None)]


def test_rejection_the_venue_confirms_is_logged_as_rejected(tmp_path):
    for held in (None, dict(FILLED, status="Rejected", filled_quantity=0)):
        d = tmp_path / str(held is None)
        d.mkdir()
        rep = run(d, Venue(InsufficientFunds("insufficient balance"), held))
        assert rep.rejected == 1 and rep.outcomes[0].category == "rejected"
        assert [e[0] for e in events(d)] == ["order_intent", "order_rejected"]


def test_unknown_outcome_found_working_is_followed(tmp_path):
    working = dict(FILLED, status="Submitted", filled_quantity=0, remaining_quantity=300)
    v = Venue(OrderOutcomeUnknown("no answer", client_order_id="x"), working)
    rep = run(tmp_path, v)
    (o,) = rep.outcomes
    assert o.timed_out and o.category == "timed_out" and v.held["status"] == "Cancelled"
    ev = events(tmp_path)
    assert ev[:3] == [("order_intent", None, None), ("order_unknown", None, None), ("order_ack", None, "lookup")]
    assert ev[-1] == ("order_done", "cancelled", None)
    assert len(v.submitted) == 1


@pytest.mark.parametrize("venue", [
    Venue(OrderOutcomeUnknown("no answer", client_order_id="x"), None),
    Venue(OrderOutcomeUnknown("no answer", client_order_id="x"), FILLED, BrokerConnectionError("down")),
    Venue(InsufficientFunds("insufficient balance"), FILLED, BrokerConnectionError("down")),
], ids=["not shown", "lookup fails", "rejection unverifiable"])
def test_unknown_outcome_stays_unknown_in_the_log(tmp_path, venue):
    with pytest.raises(BrokerCallError, match="rebalance recover"):
        run(tmp_path, venue)
    assert [e[0] for e in events(tmp_path)] == ["order_intent", "order_unknown"]
    (order,) = summarize_runs(read_records(tmp_path / "audit.jsonl"))["run1"].orders.values()
    assert order.status == "unknown" and not order.terminal and len(venue.submitted) == 1


def test_client_order_id_conflict_is_a_rejection_never_followed(tmp_path):
    from nanobook_broker import ClientOrderIdConflict

    v = Venue(ClientOrderIdConflict("already used by order 7 (buy 5 AAA limit)"), FILLED)
    rep = run(tmp_path, v)
    assert rep.rejected == 1 and [e[0] for e in events(tmp_path)] == ["order_intent", "order_rejected"]

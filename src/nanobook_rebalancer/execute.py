"""Sending the plan: one order at a time, write-ahead logged, never resubmitted.

For each planned order (sells first):

1. stop if a stop was requested (signal) or the kill-switch file exists;
2. ``order_intent`` (with the deterministic client order id) is written and
   fsync'd, *then* the order is submitted (limit at mid ± offset, or market);
3. ``order_ack`` with the broker's order id; if the submit call fails with a
   rejection, ``order_rejected`` and the next order; if it fails any other way
   the outcome is unknown: the order is looked up by client order id, and if
   the broker does not know it the run stops (exit 3) and ``recover`` settles
   it later -- it is never sent again blindly;
4. the order is polled until it is final; every increase of the filled
   quantity writes ``order_fill`` (``partially_filled`` / ``filled``);
5. on timeout or stop request: ``cancel_intent``, cancel, ``cancel_result``,
   then poll until final;
6. ``order_done`` with the final status and filled quantity.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .audit import AuditLog, client_order_id
from .config import ExecutionSection
from .errors import BrokerCallError
from .metrics import Metrics
from .plan import Plan, PlannedOrder
from ._session import BrokerSession, OrderState

__all__ = ["StopFlag", "OrderOutcome", "ExecutionReport", "execute_plan", "cancel_and_settle"]


class StopFlag:
    """Set by signal handlers; also trips when the kill-switch file appears."""

    def __init__(self, kill_switch: Path | None = None) -> None:
        self.kill_switch = kill_switch
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def check(self) -> str | None:
        if self.reason is None and self.kill_switch is not None and self.kill_switch.exists():
            self.reason = f"kill-switch file {self.kill_switch} exists"
        return self.reason

    def sleep(self, secs: float) -> None:
        """Sleep up to ``secs``, waking early on a stop request."""
        end = time.monotonic() + secs
        while self.check() is None:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))


@dataclass
class OrderOutcome:
    client_order_id: str
    symbol: str
    side: str
    quantity: int
    limit_cents: int | None
    broker_order_id: Any = None
    status: str = "not_sent"
    filled_qty: int = 0
    avg_fill_price_cents: int | None = None
    error: str | None = None


@dataclass
class ExecutionReport:
    outcomes: list[OrderOutcome] = field(default_factory=list)
    interrupted: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self) -> int:
        return self.count("rejected")


def _is_rejection(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    names = [c.__name__.lower() for c in type(exc).__mro__]
    return any("reject" in n or n in ("invalidorder", "ordervalidationerror") for n in names) or \
        isinstance(exc, (ValueError, TypeError))


def _progress(audit: AuditLog, outcome: OrderOutcome, st: OrderState, metrics: Metrics) -> None:
    if st.filled_qty > outcome.filled_qty:
        status = "filled" if st.filled_qty >= outcome.quantity else "partially_filled"
        audit.write("order_fill", client_order_id=outcome.client_order_id, symbol=outcome.symbol,
                    filled_qty=st.filled_qty, status=status,
                    avg_fill_price_cents=st.avg_fill_price_cents)
        metrics.filled(st.filled_qty - outcome.filled_qty)
        outcome.filled_qty = st.filled_qty
    if st.avg_fill_price_cents is not None:
        outcome.avg_fill_price_cents = st.avg_fill_price_cents
    outcome.status = st.status


def cancel_and_settle(session: BrokerSession, audit: AuditLog, outcome: OrderOutcome, reason: str,
                      poll_secs: float, settle_secs: float, metrics: Metrics) -> None:
    """Cancel a working order and poll it until final (write-ahead logged).

    Raises
    ------
    BrokerCallError
        If the order is still working after ``settle_secs``.
    """
    audit.write("cancel_intent", client_order_id=outcome.client_order_id,
                broker_order_id=outcome.broker_order_id, reason=reason)
    try:
        session.cancel(outcome.broker_order_id, outcome.symbol)
        audit.write("cancel_result", client_order_id=outcome.client_order_id, ok=True)
    except BrokerCallError as exc:
        # typically "already filled/cancelled": the status poll below tells
        audit.write("cancel_result", client_order_id=outcome.client_order_id, ok=False, error=str(exc))
    deadline = time.monotonic() + settle_secs
    while True:
        st = session.order_status(outcome.broker_order_id, outcome.symbol)
        _progress(audit, outcome, st, metrics)
        if st.terminal:
            return
        if time.monotonic() >= deadline:
            raise BrokerCallError(
                f"order {outcome.client_order_id} ({outcome.symbol}) is still {st.status} after cancel; "
                "check the broker, then run `rebalance recover`")
        time.sleep(poll_secs)


def _work_order(session: BrokerSession, audit: AuditLog, run_id: str, o: PlannedOrder,
                ex: ExecutionSection, stop: StopFlag, metrics: Metrics) -> OrderOutcome:
    cid = client_order_id(run_id, o.symbol, o.side, o.quantity)
    out = OrderOutcome(cid, o.symbol, o.side, o.quantity, o.limit_cents)
    audit.write("order_intent", client_order_id=cid, symbol=o.symbol, side=o.side,
                quantity=o.quantity, order_type=ex.order_type, limit_cents=o.limit_cents,
                mid_cents=o.mid_cents, current_qty=o.current_qty, target_qty=o.target_qty)
    metrics.sent()
    t0 = time.monotonic()
    kwargs: dict[str, Any] = {"order_type": ex.order_type, "client_order_id": cid}
    if ex.order_type == "limit":
        kwargs["limit_price_cents"] = o.limit_cents
    try:
        res = session.raw("submit_order", session.broker.submit_order, o.symbol, o.side, o.quantity,
                          log=False, **kwargs)
    except BrokerCallError as exc:
        if _is_rejection(exc.__cause__):
            audit.write("order_rejected", client_order_id=cid, symbol=o.symbol, error=str(exc))
            metrics.rejected()
            out.status, out.error = "rejected", str(exc)
            return out
        # unknown outcome: ask the broker, never resubmit
        found = session.find_order(cid, o.symbol)
        if found is None:
            raise BrokerCallError(
                f"submitting {o.side} {o.quantity} {o.symbol} failed and the broker does not "
                f"know client order id {cid}: {exc}; run `rebalance recover`") from exc
        res = found
    if isinstance(res, (int, str)):
        oid, first = res, None
    else:
        first = session.order_state(res)
        oid = first.order_id
    out.broker_order_id = oid
    audit.write("order_ack", client_order_id=cid, symbol=o.symbol, broker_order_id=oid)
    deadline = t0 + ex.order_timeout_secs
    st = first
    while True:
        if st is None or not st.terminal:
            st = session.order_status(oid, o.symbol)
        _progress(audit, out, st, metrics)
        if st.terminal:
            break
        reason = stop.check()
        if reason is None and time.monotonic() >= deadline:
            reason = f"timeout after {ex.order_timeout_secs:g} s"
        if reason is not None:
            cancel_and_settle(session, audit, out, reason, ex.poll_interval_secs,
                              max(5.0, 10 * ex.poll_interval_secs), metrics)
            break
        time.sleep(ex.poll_interval_secs)
        st = None
    if out.status == "rejected":
        metrics.rejected()
    metrics.latency(time.monotonic() - t0)
    audit.write("order_done", client_order_id=cid, symbol=o.symbol, status=out.status,
                filled_qty=out.filled_qty, avg_fill_price_cents=out.avg_fill_price_cents)
    return out


def execute_plan(session: BrokerSession, audit: AuditLog, run_id: str, plan: Plan,
                 ex: ExecutionSection, stop: StopFlag, metrics: Metrics,
                 on_done: Callable[[OrderOutcome], None] | None = None) -> ExecutionReport:
    """Send the plan's orders one by one (see module docstring).

    Raises
    ------
    BrokerCallError
        When an order's outcome cannot be established; the log then holds an
        unfinished order that ``recover`` resolves by client order id.
    """
    report = ExecutionReport()
    for i, o in enumerate(plan.orders):
        reason = stop.check()
        if reason is not None:
            report.interrupted = reason
            break
        outcome = _work_order(session, audit, run_id, o, ex, stop, metrics)
        report.outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
        if stop.check() is not None:
            report.interrupted = stop.reason
            break
        if i + 1 < len(plan.orders) and ex.pause_between_orders_secs > 0:
            stop.sleep(ex.pause_between_orders_secs)
    return report

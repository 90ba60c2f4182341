"""Sending the plan: one order at a time, write-ahead logged, never resubmitted.

For each planned order (sells first):

1. stop if a stop was requested (signal) or the kill-switch file exists;
2. ``order_intent`` (with the deterministic client order id) is written and
   fsync'd, *then* the order is submitted (limit at mid ± offset, or market);
3. ``order_ack`` with the broker's order id. If the submit call fails with a
   rejection, the order is looked up by client order id: a venue that holds a
   working or (partly) filled order under that id has it (the rejection was
   of a resend), so it is followed like an acknowledged one; otherwise
   ``order_rejected`` and the next order. If the call fails any other way the
   outcome is unknown: ``order_unknown`` is written, the order is looked up
   by client order id, and if the broker does not show it the run stops
   (exit 3) with the order still unknown in the log until ``recover`` asks the
   venue -- it is never sent again;
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

__all__ = ["StopFlag", "OrderOutcome", "ExecutionReport", "SUMMARY_CATEGORIES", "execute_plan",
           "cancel_and_settle"]


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
    timed_out: bool = False     # cancelled because execution.order_timeout_secs passed

    @property
    def category(self) -> str:
        """For the run's summary: filled, partially_filled, timed_out, cancelled, rejected or unknown."""
        if self.status == "rejected":
            return "rejected"
        if self.status == "filled" or (self.quantity and self.filled_qty >= self.quantity):
            return "filled"
        if self.filled_qty > 0:
            return "partially_filled"
        if self.status not in ("cancelled", "expired", "final_unknown"):
            return "unknown"
        return "timed_out" if self.timed_out else "cancelled"


@dataclass
class ExecutionReport:
    outcomes: list[OrderOutcome] = field(default_factory=list)
    interrupted: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self) -> int:
        return self.count("rejected")

    def categories(self) -> dict[str, int]:
        """Orders per summary category (see :attr:`OrderOutcome.category`), every category present."""
        out = dict.fromkeys(SUMMARY_CATEGORIES, 0)
        for o in self.outcomes:
            out[o.category] += 1
        return out

    @property
    def filled_nothing(self) -> bool:
        """Orders were sent and not one unit filled."""
        return bool(self.outcomes) and all(o.filled_qty == 0 for o in self.outcomes)

    def summary_line(self) -> str:
        c = self.categories()
        n = len(self.outcomes)
        parts = [f"{c[k]} {k.replace('_', ' ')}" for k in SUMMARY_CATEGORIES if c[k] or k != "unknown"]
        tail = "; nothing filled" if self.filled_nothing else ""
        return f"summary: {n} order{'s' if n != 1 else ''} sent: {', '.join(parts)}{tail}"


SUMMARY_CATEGORIES = ("filled", "partially_filled", "timed_out", "cancelled", "rejected", "unknown")


def _is_rejection(exc: BaseException | None) -> bool:
    """The venue (or the adapter's validation) refused the order: nothing was placed by this call."""
    from nanobook_broker.errors import OrderRejected  # loaded with the broker already

    return isinstance(exc, (OrderRejected, ValueError, TypeError))


def _rejected(audit: AuditLog, out: OrderOutcome, metrics: Metrics, exc: BaseException) -> OrderOutcome:
    audit.write("order_rejected", client_order_id=out.client_order_id, symbol=out.symbol, error=str(exc))
    metrics.rejected()
    out.status, out.error = "rejected", str(exc)
    return out


def _is_conflict(exc: BaseException | None) -> bool:
    """The broker's idempotent-submit rule (``nanobook_broker.existing_order_id``) found our client
    order id on a different instruction."""
    from nanobook_broker.errors import ClientOrderIdConflict

    return isinstance(exc, ClientOrderIdConflict)


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
    via = "submit"
    if ex.order_type == "limit":
        kwargs["limit_price_cents"] = o.limit_cents
    try:
        res = session.raw("submit_order", session.broker.submit_order, o.symbol, o.side, o.quantity,
                          log=False, **kwargs)
    except BrokerCallError as exc:
        rejection = _is_rejection(exc.__cause__)
        if _is_conflict(exc.__cause__):
            # the id names a different instruction at the venue: never follow that order as ours
            return _rejected(audit, out, metrics, exc)
        if not rejection:
            # unknown outcome: it stays unknown in the log until the venue says otherwise
            audit.write("order_unknown", client_order_id=cid, symbol=o.symbol, error=str(exc))
        try:
            found = session.find_order(cid, o.symbol)
        except BrokerCallError as qexc:
            if rejection:
                audit.write("order_unknown", client_order_id=cid, symbol=o.symbol,
                            error=f"{exc}; and the lookup failed: {qexc}")
            raise BrokerCallError(
                f"submitting {o.side} {o.quantity} {o.symbol} failed ({exc}) and the order could not be "
                f"looked up by client order id {cid} ({qexc}); run `rebalance recover`") from exc
        if rejection and (found is None or (found.terminal and found.filled_qty == 0)):
            return _rejected(audit, out, metrics, exc)
        if found is None:
            raise BrokerCallError(
                f"submitting {o.side} {o.quantity} {o.symbol} failed and the broker does not show "
                f"client order id {cid}: {exc}; its outcome stays unknown until `rebalance recover` "
                "asks the broker again") from exc
        # the venue holds an order under our id (what it did is what counts, whatever the call said)
        res, via = found, "lookup"
    if isinstance(res, OrderState):  # found by client order id
        first, oid = res, res.order_id
    else:  # the broker's order id
        oid, first = res, None
    out.broker_order_id = oid
    audit.write("order_ack", client_order_id=cid, symbol=o.symbol, broker_order_id=oid, via=via)
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
            out.timed_out = True
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
                filled_qty=out.filled_qty, avg_fill_price_cents=out.avg_fill_price_cents,
                timed_out=out.timed_out)
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

"""Resolving a run that died: ask the broker about every order intent.

For each order of the unfinished run that the log does not show as final,
the broker is asked by **client order id** (never by guessing):

* unknown to the broker -> the intent never reached it: ``not_found``;
* still working -> cancelled (write-ahead logged) and polled until final;
* final -> its status and filled quantity are recorded; a fill the log did
  not have yet (an order whose outcome was unknown) is first written as an
  ``order_fill`` record.

Each answer is an ``order_resolved`` record; the run is closed by a
``recovered`` record.  Nothing is ever resubmitted: the next run plans again
from the broker's positions, under a new run id (so new client order ids).
If the broker cannot be asked, the run stays unfinished and the error
propagates (exit 3); the next attempt starts over.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .audit import AuditLog, RunRecord
from .execute import OrderOutcome, cancel_and_settle
from .metrics import Metrics
from ._session import BrokerSession

__all__ = ["Resolution", "resolve_run"]


@dataclass
class Resolution:
    run_id: str
    orders: list[dict[str, Any]] = field(default_factory=list)


def resolve_run(session: BrokerSession, audit: AuditLog, run: RunRecord, *,
                poll_secs: float = 0.2, settle_secs: float = 10.0) -> Resolution:
    """Resolve every non-final order of ``run`` and mark it recovered.

    Raises
    ------
    BrokerCallError
        If the broker cannot be queried or an order cannot be cancelled.
    """
    res = Resolution(run.run_id)
    audit.write("recovery_started", recovered_run_id=run.run_id,
                open_orders=[o.client_order_id for o in run.open_orders])
    for o in run.open_orders:
        st = session.find_order(o.client_order_id, o.symbol)
        if st is None:
            status, filled, avg = "not_found", 0, None
        else:
            out = OrderOutcome(o.client_order_id, o.symbol, o.side, o.quantity, o.limit_cents,
                               broker_order_id=st.order_id, status=st.status,
                               filled_qty=o.filled_qty)
            if not st.terminal:
                cancel_and_settle(session, audit, out, f"recovery of run {run.run_id}",
                                  poll_secs, settle_secs, Metrics())
            else:
                if st.filled_qty > out.filled_qty:
                    # the fill the venue made and the log does not have yet (e.g. an order whose
                    # outcome was unknown): written as a fill, like the run would have
                    audit.write("order_fill", recovered_run_id=run.run_id,
                                client_order_id=o.client_order_id, symbol=o.symbol,
                                filled_qty=st.filled_qty,
                                status="filled" if st.filled_qty >= o.quantity else "partially_filled",
                                avg_fill_price_cents=st.avg_fill_price_cents)
                out.filled_qty = max(out.filled_qty, st.filled_qty)
                out.avg_fill_price_cents = st.avg_fill_price_cents
                out.status = st.status
            status, filled, avg = out.status, out.filled_qty, out.avg_fill_price_cents
        rec = dict(client_order_id=o.client_order_id, symbol=o.symbol, side=o.side,
                   quantity=o.quantity, status=status, filled_qty=filled,
                   avg_fill_price_cents=avg)
        audit.write("order_resolved", recovered_run_id=run.run_id, **rec)
        res.orders.append(rec)
    audit.write("recovered", recovered_run_id=run.run_id, orders=len(res.orders))
    return res
